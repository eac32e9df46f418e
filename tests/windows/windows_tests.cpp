// The core behaviours on Windows, through real processes: a shmqd.exe started
// by the test, clients in the test process and in shmq.exe children, and
// TerminateProcess, the Windows kill -9, for the crash cases. Every wait is a
// wait for a condition with a generous bound: Wine on a loaded machine is slow.
#define BOOST_TEST_MODULE windows_tests
#include <boost/test/included/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <ostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "platform/child_process.hpp"
#include "platform/environment.hpp"
#include "platform/process.hpp"
#include "platform/service_control.hpp"
#include "platform/wine_console.hpp"
#include "shmq/client.hpp"

namespace shmq {
// So Boost.Test can print a Status in a failed assertion.
inline std::ostream& operator<<(std::ostream& out, Status status) { return out << to_string(status); }
}  // namespace shmq

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using tcp = boost::asio::ip::tcp;

namespace {

const std::string binary_dir = SHMQ_BINARY_DIR;

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

// A directory of its own for each test: the broker's configuration, its
// segment (SHMQ_RUNTIME_DIR points here, for the broker and every child)
// and the children's output.
class Scene {
public:
    // `broker_settings`: more lines of the broker section; `more_queues`,
    // `more_topics`: more entries of its queues and topics lists (YAML, as
    // the file's own lines).
    explicit Scene(const std::string& tag, const std::string& broker_settings = {},
                   const std::string& more_queues = {}, const std::string& more_topics = {})
        : name_("win-" + tag + "-" + std::to_string(shmq::platform::current_process_id())),
          address_(name_),
          directory_(fs::temp_directory_path() / name_) {
        fs::remove_all(directory_);
        fs::create_directories(directory_);
        BOOST_REQUIRE(shmq::platform::set_environment("SHMQ_RUNTIME_DIR", directory_.string()));
        BOOST_REQUIRE(shmq::platform::set_environment("SHMQ_BROKER", address_));
        broker_settings_ = broker_settings;
        more_topics_ = more_topics;
        write_configuration(broker_settings, more_queues);
    }
    // Makes the broker a persistent one, its segment the file
    // DIRECTORY\\segment (a path with a drive letter and backslashes), which
    // clients are given as the broker's address. `more_settings`: more
    // lines of the broker section.
    void persist(const std::string& more_settings = {}) {
        address_ = (directory_ / "segment").string();
        BOOST_REQUIRE(shmq::platform::set_environment("SHMQ_BROKER", address_));
        broker_settings_ = "  persist_path: '" + address_ + "'\n  flush_interval_ms: 50\n" + more_settings;
        write_configuration(broker_settings_, {});
    }
    // Rewrites the configuration with `more_queues` (what a reload then adds).
    void rewrite_configuration(const std::string& more_queues) { write_configuration(broker_settings_, more_queues); }
    // Rewrites the configuration with queue jobs of another capacity (what
    // a restart migrates the segment to).
    void resize_jobs(int capacity) {
        jobs_capacity_ = capacity;
        write_configuration(broker_settings_, {});
    }
    const std::string& address() const { return address_; }
    ~Scene() {
        broker_.reset();
        std::error_code ignored;
        fs::remove_all(directory_, ignored);
    }

    // Starts shmqd.exe and returns once a client can attach.
    shmq::platform::ChildProcess& start_broker() {
        launch_broker();
        const bool ready = eventually([&] { return attach() != nullptr; }, 120s);
        BOOST_REQUIRE_MESSAGE(ready, "shmqd.exe did not accept clients; its log:\n" + broker_log());
        return *broker_;
    }
    // Starts shmqd.exe without waiting for it.
    shmq::platform::ChildProcess& launch_broker() {
        broker_ = std::make_unique<shmq::platform::ChildProcess>(
            binary_dir + "/shmqd.exe", std::vector<std::string>{"--config", configuration().string()},
            (directory_ / ("shmqd-" + std::to_string(++brokers_started_) + ".log")).string());
        return *broker_;
    }
    void kill_broker() {
        int status = 0;
        broker_->kill();
        BOOST_REQUIRE(broker_->wait(60s, status));
    }
    std::unique_ptr<shmq::Client> attach() const {
        std::unique_ptr<shmq::Client> client;
        shmq::AttachOptions options;
        options.broker = address_;
        return shmq::Client::attach(options, client) == shmq::Status::ok ? std::move(client) : nullptr;
    }

    // Runs shmq.exe with `arguments` to its end; returns its standard output.
    std::string run_cli(const std::vector<std::string>& arguments, int expected_status = 0) {
        return run_program(binary_dir + "/shmq.exe", arguments, expected_status);
    }
    // Runs `program` (a path, or a program of the system's path such as
    // sc.exe) to its end; returns its standard output and error.
    std::string run_program(const std::string& program, const std::vector<std::string>& arguments,
                            int expected_status = 0) {
        const fs::path output = directory_ / ("shmq-" + std::to_string(++cli_runs_) + ".out");
        shmq::platform::ChildProcess child(program, arguments, output.string());
        int status = -1;
        BOOST_REQUIRE_MESSAGE(child.wait(120s, status), program << " did not finish");
        BOOST_TEST(status == expected_status, program << " exited with " << status << ": " << read_file(output));
        return read_file(output);
    }
    std::unique_ptr<shmq::platform::ChildProcess> start_cli(const std::vector<std::string>& arguments) {
        const fs::path output = directory_ / ("shmq-" + std::to_string(++cli_runs_) + ".out");
        return std::make_unique<shmq::platform::ChildProcess>(binary_dir + "/shmq.exe", arguments, output.string());
    }

    const fs::path& directory() const { return directory_; }
    // Unique to this test: the directory's name holds the test's process id.
    fs::path configuration() const { return directory_ / "shmqd.yaml"; }
    // Where a broker that is not persistent keeps its segment.
    fs::path segment() const { return directory_ / name_; }

    std::string broker_log() const {
        return read_file(directory_ / ("shmqd-" + std::to_string(brokers_started_) + ".log"));
    }

private:
    void write_configuration(const std::string& broker_settings, const std::string& more_queues) {
        std::ofstream(configuration()) << "broker:\n  name: " << name_ << "\n  liveness_interval_ms: 20\n"
                                       << broker_settings << "queues:\n  - name: jobs\n    capacity: " << jobs_capacity_
                                       << "\n    max_message_size: 1KiB\n"
                                       << more_queues
                                       << "topics:\n  - name: news\n    capacity: 64\n"
                                          "    max_message_size: 1KiB\n"
                                       << more_topics_;
    }

    std::string name_;
    std::string address_;  // what clients are given: the name, or a persistent broker's file
    std::string broker_settings_;
    std::string more_topics_;
    int jobs_capacity_ = 64;
    fs::path directory_;
    std::unique_ptr<shmq::platform::ChildProcess> broker_;
    int brokers_started_ = 0;
    int cli_runs_ = 0;
};

// Whether the broker lists a client of process `pid` as attached.
bool is_attached(const shmq::Client& observer, std::int32_t pid) {
    for (const auto& client : observer.stats().clients) {
        if (client.pid == pid) return true;
    }
    return false;
}

shmq::Queue open_jobs(shmq::Client& client) {
    shmq::Queue queue;
    BOOST_REQUIRE(client.open_queue("jobs", queue) == shmq::Status::ok);
    return queue;
}

// Sends `prefix`0 to `prefix`N-1 to queue jobs, through a client of its own
// that detaches after.
void send_numbered(const Scene& scene, const std::string& prefix, int count) {
    auto producer = scene.attach();
    BOOST_REQUIRE(producer);
    auto out = open_jobs(*producer);
    for (int i = 0; i < count; ++i) BOOST_REQUIRE(out.send(prefix + std::to_string(i), 10s) == shmq::Status::ok);
}

// Receives what send_numbered() sent, in order; a message missing fails the
// test with the broker's log.
void receive_numbered(const Scene& scene, shmq::Queue& in, const std::string& prefix, int count) {
    for (int i = 0; i < count; ++i) {
        std::string message;
        BOOST_REQUIRE_MESSAGE(in.receive(message, 10s) == shmq::Status::ok,
                              "'" << prefix << i << "' lost; broker log:\n" << scene.broker_log());
        BOOST_TEST(message == prefix + std::to_string(i));
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(queue_messages_pass_through_a_real_broker_in_order) {
    Scene scene("queue");
    scene.start_broker();
    auto producer = scene.attach();
    auto consumer = scene.attach();
    BOOST_REQUIRE(producer && consumer);
    auto out = open_jobs(*producer);
    auto in = open_jobs(*consumer);
    // Fewer than the queue's capacity (64): the sends never wait for room.
    for (int i = 0; i < 50; ++i) BOOST_REQUIRE(out.send("message " + std::to_string(i), 10s) == shmq::Status::ok);
    for (int i = 0; i < 50; ++i) {
        std::string message;
        BOOST_REQUIRE(in.receive(message, 10s) == shmq::Status::ok);
        BOOST_TEST(message == "message " + std::to_string(i));
    }
    std::string none;
    BOOST_TEST(in.receive(none, shmq::no_wait) != shmq::Status::ok);
}

BOOST_AUTO_TEST_CASE(a_blocked_receiver_wakes_for_a_message_sent_later) {
    Scene scene("wake");
    scene.start_broker();
    auto consumer = scene.attach();
    BOOST_REQUIRE(consumer);
    auto in = open_jobs(*consumer);
    std::thread sender([&] {
        std::this_thread::sleep_for(200ms);
        auto producer = scene.attach();
        auto out = open_jobs(*producer);
        out.send("late", 10s);
    });
    std::string message;
    const shmq::Status status = in.receive(message, 60s);
    sender.join();
    BOOST_TEST(status == shmq::Status::ok);
    BOOST_TEST(message == "late");
}

BOOST_AUTO_TEST_CASE(topic_subscribers_each_get_every_message) {
    Scene scene("topic");
    scene.start_broker();
    auto client = scene.attach();
    BOOST_REQUIRE(client);
    shmq::Subscription first, second;
    BOOST_REQUIRE(client->subscribe("news", first) == shmq::Status::ok);
    BOOST_REQUIRE(client->subscribe("news", second) == shmq::Status::ok);
    shmq::Topic topic;
    BOOST_REQUIRE(client->open_topic("news", topic) == shmq::Status::ok);
    for (int i = 0; i < 10; ++i) BOOST_REQUIRE(topic.publish("news " + std::to_string(i), 10s) == shmq::Status::ok);
    for (auto* subscription : {&first, &second}) {
        for (int i = 0; i < 10; ++i) {
            std::string message;
            BOOST_REQUIRE(subscription->receive(message, 10s) == shmq::Status::ok);
            BOOST_TEST(message == "news " + std::to_string(i));
        }
    }
}

BOOST_AUTO_TEST_CASE(cli_publishes_and_consumes_through_the_broker) {
    Scene scene("cli");
    scene.start_broker();
    scene.run_cli({"publish", "jobs", "first", "second"});
    const std::string output = scene.run_cli({"consume", "jobs", "--count", "2", "--timeout", "60000"});
    BOOST_TEST(output == "first\nsecond\n");
}

BOOST_AUTO_TEST_CASE(a_terminated_client_wedges_nothing) {
    Scene scene("killed-client");
    scene.start_broker();
    // A consumer blocked in receive, ended by TerminateProcess mid-wait.
    auto waiting = scene.start_cli({"consume", "jobs", "--count", "1"});
    auto observer = scene.attach();
    BOOST_REQUIRE(observer);
    const auto attached = [&] { return is_attached(*observer, waiting->id()); };
    BOOST_REQUIRE_MESSAGE(eventually(attached, 120s), "the consumer never attached");
    waiting->kill();
    int status = 0;
    BOOST_REQUIRE(waiting->wait(60s, status));
    // The broker notices the dead client and gives its record back.
    BOOST_TEST(eventually([&] { return !attached(); }, 120s));
    // The queue still works for everyone else.
    auto out = open_jobs(*observer);
    BOOST_REQUIRE(out.send("after the crash", 10s) == shmq::Status::ok);
    BOOST_TEST(scene.run_cli({"consume", "jobs", "--count", "1", "--timeout", "60000"}) == "after the crash\n");
}

BOOST_AUTO_TEST_CASE(a_terminated_brokers_segment_is_adopted_with_every_message) {
    Scene scene("adoption");
    scene.start_broker();
    send_numbered(scene, "kept ", 20);
    scene.kill_broker();
    scene.start_broker();
    auto consumer = scene.attach();
    BOOST_REQUIRE(consumer);
    auto in = open_jobs(*consumer);
    receive_numbered(scene, in, "kept ", 20);
}

// Persistence with a Windows path (C:\\...\\segment): the messages survive
// brokers ended by TerminateProcess, adopted from the file each time. (Its
// clean stop, which keeps the file and its messages too, is the service's:
// the_service_runs_under_the_service_control_manager.)
BOOST_AUTO_TEST_CASE(a_persistent_segment_keeps_its_messages_across_broker_crashes) {
    Scene scene("persist");
    scene.persist();
    const fs::path segment = scene.address();
    BOOST_TEST_REQUIRE(segment.has_root_name(), segment.string() << " has no drive: not a Windows path");
    scene.start_broker();
    send_numbered(scene, "before the first crash ", 10);
    scene.kill_broker();
    BOOST_TEST_REQUIRE(fs::exists(segment), segment.string() << " is gone after the crash");
    scene.start_broker();
    send_numbered(scene, "before the second crash ", 10);
    scene.kill_broker();
    scene.start_broker();
    auto consumer = scene.attach();
    BOOST_REQUIRE(consumer);
    auto in = open_jobs(*consumer);
    receive_numbered(scene, in, "before the first crash ", 10);
    receive_numbered(scene, in, "before the second crash ", 10);
}

// Ctrl-C in a console broker's console stops it as SIGINT does on Linux: a
// receiver blocked in another process wakes with broker_stopped, the
// segment is removed, the broker exits 0. Wine 8.0 cannot send a console
// control event between Windows processes; its Ctrl-C is a Unix SIGINT to the
// broker's Wine process (platform/wine_console.hpp), what a user's Ctrl-C in
// the terminal Wine runs in does. Ctrl-Break and the console's closing are
// not tested: Wine has no way to deliver them (docs/guarantees.md,
// "Windows").
BOOST_AUTO_TEST_CASE(ctrl_c_stops_a_console_broker_cleanly) {
    // The broker's process is found by its configuration's path among every
    // process of the machine, those of other Wine prefixes too (other runs of
    // this suite), which number their processes alike: the path holds the
    // time as well as this process's id.
    Scene scene("ctrl-c-" + std::to_string(std::chrono::system_clock::now().time_since_epoch().count()));
    auto& broker = scene.start_broker();
    BOOST_TEST_REQUIRE(fs::exists(scene.segment()), scene.segment().string() << " is not the broker's segment");
    // The blocked receiver is a shmq.exe of its own: its process outlives
    // nothing of this test's.
    auto waiting = scene.start_cli({"consume", "jobs", "--count", "1"});
    auto observer = scene.attach();
    BOOST_REQUIRE(observer);
    const auto attached = [&] { return is_attached(*observer, waiting->id()); };
    BOOST_REQUIRE_MESSAGE(eventually(attached, 120s), "the consumer never attached");

    // The observer stays attached through the stop: the segment's name must
    // be gone even while a client still maps the file (Windows would keep a
    // mapped file's name until its last mapping goes; the next broker could
    // not create it).
    const std::string error = shmq::platform::send_ctrl_c_under_wine(scene.configuration().string());
    BOOST_REQUIRE_MESSAGE(error.empty(), error);
    int status = -1;
    BOOST_REQUIRE_MESSAGE(broker.wait(120s, status), "shmqd.exe did not stop on Ctrl-C; its log:\n"
                                                         << scene.broker_log());
    BOOST_TEST(status == 0, "shmqd.exe exited with " << status << "; its log:\n" << scene.broker_log());
    const std::string log = scene.broker_log();
    BOOST_TEST(log.find("received Ctrl-C, stopping") != std::string::npos, log);
    BOOST_TEST(log.find("' stopped; segment removed") != std::string::npos, log);
    BOOST_TEST(!fs::exists(scene.segment()), scene.segment().string() << " is still there after a clean stop");
    observer.reset();

    int consumer_status = -1;
    BOOST_REQUIRE_MESSAGE(waiting->wait(120s, consumer_status), "the blocked consumer never woke");
    BOOST_TEST(consumer_status == 1);
    const std::string said = read_file(scene.directory() / "shmq-1.out");
    BOOST_TEST(said.find("broker_stopped") != std::string::npos, said);
    // With every mapping gone, the file renamed aside is gone too (the
    // broker's lock file stays, as it always does on Windows).
    const std::string lock = scene.segment().filename().string() + ".lock";
    for (const auto& entry : fs::directory_iterator(scene.segment().parent_path())) {
        const auto name = entry.path().filename().string();
        BOOST_TEST((name.rfind(scene.segment().filename().string(), 0) != 0 || name == lock),
                   name << " is left after every client left");
    }
}

BOOST_AUTO_TEST_CASE(cli_subscribes_lists_and_reports_stats_as_json) {
    Scene scene("cli-topic");
    scene.start_broker();
    auto subscriber = scene.start_cli({"subscribe", "news", "--count", "2", "--timeout", "120000"});
    auto observer = scene.attach();
    BOOST_REQUIRE(observer);
    const auto subscribed = [&] {
        for (const auto& topic : observer->stats().topics) {
            if (topic.name == "news" && !topic.subscribers.empty()) return true;
        }
        return false;
    };
    BOOST_REQUIRE_MESSAGE(eventually(subscribed, 120s), "shmq.exe subscribe never subscribed");
    scene.run_cli({"publish", "--topic", "news", "one", "two"});
    int status = -1;
    BOOST_REQUIRE_MESSAGE(subscriber->wait(120s, status), "shmq.exe subscribe did not end");
    BOOST_TEST(status == 0);
    BOOST_TEST(read_file(scene.directory() / "shmq-1.out") == "one\ntwo\n");

    scene.run_cli({"publish", "jobs", "a", "b", "c"});
    const std::string listing = scene.run_cli({"list"});
    BOOST_TEST(listing.find("jobs") != std::string::npos, listing);
    BOOST_TEST(listing.find("news") != std::string::npos, listing);
    const auto stats = nlohmann::json::parse(scene.run_cli({"stats", "--json"}));
    bool found = false;
    for (const auto& queue : stats.at("queues")) {
        if (queue.at("name") == "jobs") {
            found = true;
            BOOST_TEST(queue.at("depth").get<std::uint64_t>() == 3u);
        }
    }
    BOOST_TEST(found, "stats --json lists no queue jobs: " << stats.dump());
}

// The segment's DACL names the configured group and, for an access group's
// segment, its readers: BUILTIN\Users and BUILTIN\Administrators, the groups
// every Windows (and Wine) has.
BOOST_AUTO_TEST_CASE(segments_with_configured_groups_are_created_and_used) {
    Scene scene("groups", "  group: Users\n",
                "  - name: audited\n    capacity: 8\n    max_message_size: 1KiB\n"
                "    access: { group: Users, readers: Administrators }\n");
    scene.start_broker();
    bool group_segment = false;
    for (const auto& entry : fs::directory_iterator(scene.directory())) {
        if (entry.path().filename().string().find(".access-Users") != std::string::npos) group_segment = true;
    }
    BOOST_TEST(group_segment, "no access group segment in " << scene.directory());
    scene.run_cli({"publish", "audited", "for the group"});
    BOOST_TEST(scene.run_cli({"consume", "audited", "--count", "1", "--timeout", "60000"}) == "for the group\n");
    // A client of the library maps the group's segment (its part of the
    // broker) beside the main one, and uses its queue in both directions
    // with a shmq.exe.
    auto client = scene.attach();
    BOOST_REQUIRE(client);
    shmq::Queue audited;
    BOOST_REQUIRE_MESSAGE(client->open_queue("audited", audited) == shmq::Status::ok,
                          client->access_error("audited"));
    BOOST_REQUIRE(audited.send("from the library", 10s) == shmq::Status::ok);
    BOOST_TEST(scene.run_cli({"consume", "audited", "--count", "1", "--timeout", "60000"}) == "from the library\n");
    scene.run_cli({"publish", "audited", "from shmq.exe"});
    std::string message;
    BOOST_REQUIRE(audited.receive(message, 10s) == shmq::Status::ok);
    BOOST_TEST(message == "from shmq.exe");
    bool listed = false;
    for (const auto& queue : client->stats().queues) {
        if (queue.name != "audited") continue;
        listed = true;
        BOOST_TEST(queue.access_group == "Users");
        BOOST_TEST(queue.accessible);
        BOOST_TEST(!queue.read_only);
        BOOST_TEST(queue.enqueued == 3u);
    }
    BOOST_TEST(listed, "the broker's stats list no queue audited");
}

BOOST_AUTO_TEST_CASE(an_unknown_group_is_refused_by_name) {
    Scene scene("no-group", "  group: no-such-group-anywhere\n");
    auto& broker = scene.launch_broker();
    int status = 0;
    BOOST_REQUIRE_MESSAGE(broker.wait(120s, status), "shmqd.exe ran with a group that does not exist");
    BOOST_TEST(status != 0);
    const std::string log = scene.broker_log();
    BOOST_TEST(log.find("no-such-group-anywhere") != std::string::npos, log);
}

// A reload (shmq.exe reload) adds a queue in a live segment
// (NAME.live-1): a client attached before the reload opens and uses it. A
// second reload removes it live: that client's next send is refused with
// queue_removed, as is a new open.
BOOST_AUTO_TEST_CASE(a_reload_adds_and_removes_a_queue_live_for_a_client_attached_before) {
    Scene scene("live");
    scene.start_broker();
    auto client = scene.attach();
    BOOST_REQUIRE(client);
    shmq::Queue added;
    BOOST_REQUIRE(client->open_queue("added", added) != shmq::Status::ok);

    scene.rewrite_configuration("  - name: added\n    capacity: 8\n    max_message_size: 1KiB\n");
    const std::string reloaded = scene.run_cli({"reload"});
    BOOST_TEST(reloaded.find("queue 'added' added") != std::string::npos, reloaded);
    bool live_segment = false;
    for (const auto& entry : fs::directory_iterator(scene.directory())) {
        if (entry.path().filename().string().find(".live-1") != std::string::npos) live_segment = true;
    }
    BOOST_TEST(live_segment, "no live segment in " << scene.directory());
    BOOST_REQUIRE_MESSAGE(client->open_queue("added", added) == shmq::Status::ok,
                          "the client attached before the reload cannot open 'added'; broker log:\n"
                              << scene.broker_log());
    BOOST_REQUIRE(added.send("live", 10s) == shmq::Status::ok);
    std::string message;
    BOOST_REQUIRE(added.receive(message, 10s) == shmq::Status::ok);
    BOOST_TEST(message == "live");

    scene.rewrite_configuration({});
    const std::string removed = scene.run_cli({"reload"});
    BOOST_TEST(removed.find("applied: queue 'added' removed") != std::string::npos, removed);
    BOOST_TEST(added.send("too late", 10s) == shmq::Status::queue_removed);
    shmq::Queue reopened;
    BOOST_TEST(client->open_queue("added", reopened) == shmq::Status::queue_removed);
    // The queues of the main segment go on.
    auto jobs = open_jobs(*client);
    BOOST_TEST(jobs.send("still here", 10s) == shmq::Status::ok);
}

// A broker restarted on a configuration that lays the segment out otherwise
// (queue jobs twice as large) migrates the segment its predecessor left and
// keeps every message.
BOOST_AUTO_TEST_CASE(a_restart_with_a_changed_configuration_keeps_the_messages) {
    Scene scene("migrate");
    scene.start_broker();
    send_numbered(scene, "kept ", 20);
    scene.kill_broker();
    scene.resize_jobs(128);
    // Not start_broker(): a client attaches to the dead broker's segment
    // before its successor has migrated it.
    scene.launch_broker();
    const auto migrated = [&] {
        return scene.broker_log().find("migrated to the configured layout") != std::string::npos &&
               scene.broker_log().find("' ready") != std::string::npos;
    };
    BOOST_REQUIRE_MESSAGE(eventually(migrated, 120s), "no migration; broker log:\n" << scene.broker_log());
    auto consumer = scene.attach();
    BOOST_REQUIRE(consumer);
    auto in = open_jobs(*consumer);
    BOOST_TEST(in.capacity() == 128u);
    receive_numbered(scene, in, "kept ", 20);
}

namespace {

// A loopback port nobody listens on now (Winsock's choice).
std::uint16_t free_port() {
    boost::asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    return acceptor.local_endpoint().port();
}

// GET `target` from 127.0.0.1:`port`, over Winsock; throws when nobody
// answers.
std::pair<unsigned, std::string> http_get(std::uint16_t port, const std::string& target) {
    namespace http = boost::beast::http;
    boost::asio::io_context io;
    tcp::socket socket(io);
    socket.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, "127.0.0.1");
    request.set(http::field::connection, "close");
    http::write(socket, request);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(socket, buffer, response);
    return {response.result_int(), response.body()};
}

}  // namespace

// metrics_listen on 127.0.0.1: the broker serves Prometheus text over HTTP.
BOOST_AUTO_TEST_CASE(the_metrics_endpoint_answers_an_http_get_on_loopback) {
    const std::uint16_t port = free_port();
    Scene scene("metrics", "  metrics_listen: \"127.0.0.1:" + std::to_string(port) + "\"\n");
    scene.start_broker();
    scene.run_cli({"publish", "jobs", "one", "two", "three"});
    std::pair<unsigned, std::string> answer;
    const auto scraped = [&] {
        try {
            answer = http_get(port, "/metrics");
            return true;
        } catch (const std::exception&) {
            return false;  // not listening yet
        }
    };
    BOOST_REQUIRE_MESSAGE(eventually(scraped, 120s), "nothing answers on port " << port << "; broker log:\n"
                                                                                << scene.broker_log());
    BOOST_TEST(answer.first == 200u);
    const std::string sample = "shmq_queue_depth{broker=\"win-metrics-" +
                               std::to_string(shmq::platform::current_process_id()) + "\",queue=\"jobs\"} 3\n";
    BOOST_TEST(answer.second.find(sample) != std::string::npos, answer.second);
    BOOST_TEST(http_get(port, "/elsewhere").first == 404u);
}

// The broker logs each client's attach and detach, with its process id.
BOOST_AUTO_TEST_CASE(client_attach_and_detach_are_logged) {
    Scene scene("attach-log");
    scene.start_broker();
    auto publisher = scene.start_cli({"publish", "jobs", "logged"});
    int status = -1;
    BOOST_REQUIRE(publisher->wait(120s, status));
    BOOST_TEST(status == 0);
    const std::string pid = "client pid " + std::to_string(publisher->id()) + " (";
    const auto logged = [&](const std::string& what) {
        return [&scene, pid, what] {
            const std::string log = scene.broker_log();
            const auto line = log.find(pid);
            return line != std::string::npos && log.find(what, line) != std::string::npos;
        };
    };
    BOOST_TEST(eventually(logged(") attached as record"), 120s), scene.broker_log());
    BOOST_TEST(eventually(logged(") detached from record"), 120s), scene.broker_log());
}

namespace {

// The service of a test, removed when the test ends however it ends, so that
// no service of a failed run stays registered in the Wine prefix.
class InstalledService {
public:
    explicit InstalledService(std::string name) : name_(std::move(name)) {}
    ~InstalledService() {
        if (removed_) return;
        shmq::platform::ChildProcess uninstall(binary_dir + "/shmqd.exe",
                                               {"--uninstall-service", "--service-name", name_},
                                               (fs::temp_directory_path() / (name_ + "-cleanup.out")).string());
        int status = 0;
        uninstall.wait(120s, status);
    }
    const std::string& name() const { return name_; }
    void removed() { removed_ = true; }

private:
    std::string name_;
    bool removed_ = false;
};

}  // namespace

// What Wine's advapi32 traced of the events reported through ReportEventW
// (WINEDEBUG=+eventlog), in the Wine debug output of the session the service
// runs in: scripts/run-windows-tests sends it to the file
// SHMQ_WINE_DEBUG_OUTPUT names. Empty when that variable is not set.
std::string wine_event_trace() {
    const char* path = std::getenv("SHMQ_WINE_DEBUG_OUTPUT");
    return path == nullptr ? std::string() : read_file(path);
}

// Whether Wine traced an event of `type` ("trace" for information, "warn",
// "err") whose text holds each of `texts`. (The trace escapes a
// backslash: a text holds none.)
bool event_reported(const std::string& type, const std::vector<std::string>& texts) {
    std::istringstream trace(wine_event_trace());
    for (std::string line; std::getline(trace, line);) {
        if (line.find(":" + type + ":eventlog:ReportEventW L\"") == std::string::npos) continue;
        bool holds_all = true;
        for (const auto& text : texts) holds_all = holds_all && line.find(text) != std::string::npos;
        if (holds_all) return true;
    }
    return false;
}

// Whether sc.exe query shows service `name` in `state` (RUNNING, STOPPED).
bool service_in_state(Scene& scene, const std::string& name, const std::string& state) {
    return scene.run_program("sc.exe", {"query", name}).find(state) != std::string::npos;
}

// shmqd.exe as a Windows service, through Wine's Service Control Manager:
// installed by --install-service (with its Event Log source), started and
// stopped with sc.exe, serving shmq.exe's publish and consume, logging to
// the Event Log, reloading on the paramchange control, removed by
// --uninstall-service. The service does not see this test's environment
// (the SCM starts it), so its broker is a persistent one, which clients find
// by its file.
BOOST_AUTO_TEST_CASE(the_service_runs_under_the_service_control_manager) {
    Scene scene("service");
    // Segment access for everyone: a warning at every start, for the Event Log.
    scene.persist("  permissions: 0666\n  allow_world_access: true\n");
    InstalledService service("shmq-test-" + std::to_string(shmq::platform::current_process_id()));
    const fs::path log = scene.directory() / "service.log";
    const std::string shmqd = binary_dir + "/shmqd.exe";
    const std::string installed =
        scene.run_program(shmqd, {"--install-service", "--service-name", service.name(), "--config",
                                  scene.configuration().string(), "--log-file", log.string()});

    shmq::platform::ServiceFacts facts;
    std::string error;
    BOOST_REQUIRE_MESSAGE(shmq::platform::read_service_facts(service.name(), facts, error), error);
    BOOST_TEST(facts.automatic_start);
    BOOST_TEST(facts.command_line.find("--run-service") != std::string::npos, facts.command_line);
    if (facts.recovery_known) {
        BOOST_TEST(facts.restart_actions == 3u);
        BOOST_TEST(facts.recovery_on_any_failure);
    } else {
        // Wine's limit, not skipped silently: its SCM has no recovery
        // actions (docs/guarantees.md, "Windows"); the installation says so.
        BOOST_TEST(installed.find("will not be restarted when it fails") != std::string::npos, installed);
        BOOST_TEST_MESSAGE("recovery actions not checked, this SCM (Wine's) has none: " << facts.recovery_unknown_why);
    }

    // Its Event Log source, with shmqd.exe's message table.
    const std::string event_source =
        "HKLM\\SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\" + service.name();
    const std::string source = scene.run_program("reg.exe", {"query", event_source, "/v", "EventMessageFile"});
    BOOST_TEST(source.find("shmqd.exe") != std::string::npos, source);

    scene.run_program("sc.exe", {"start", service.name()});
    const auto state_is = [&](const std::string& state) {
        return [&scene, &service, state] { return service_in_state(scene, service.name(), state); };
    };
    BOOST_REQUIRE_MESSAGE(eventually(state_is("RUNNING"), 120s),
                          "the service never ran; its log:\n" << read_file(log));
    // RUNNING is reported once the segment is ready: a client attaches at once.
    BOOST_TEST(static_cast<bool>(scene.attach()), "RUNNING before the segment was ready");
    scene.run_cli({"publish", "jobs", "through", "the service"});
    BOOST_TEST(scene.run_cli({"consume", "jobs", "--count", "2", "--timeout", "60000"}) == "through\nthe service\n");

    // Its log lines are events: information, warning and (a reload of a
    // file that does not load) error. Wine keeps no event a program could
    // read back (ReadEventLogW is a stub), but traces each ReportEventW call
    // on its eventlog debug channel, with the event's type as the trace's.
    std::ofstream(scene.configuration()) << "broker: [not, a, broker, section\n";
    BOOST_REQUIRE_MESSAGE(shmq::platform::send_service_paramchange(service.name(), error), error);
    if (std::getenv("SHMQ_WINE_DEBUG_OUTPUT") != nullptr) {
        const std::string ready =
            "broker 'win-service-" + std::to_string(shmq::platform::current_process_id()) + "' ready";
        BOOST_TEST(eventually([&] { return event_reported("trace", {ready}); }, 120s), wine_event_trace());
        BOOST_TEST(event_reported("warn", {"lets every account on this machine read and write"}), wine_event_trace());
        BOOST_TEST(eventually([&] { return event_reported("err", {"was not reloaded, nothing changed"}); }, 120s),
                   wine_event_trace());
    } else {
        BOOST_TEST_MESSAGE("Event Log events not checked: SHMQ_WINE_DEBUG_OUTPUT names no Wine debug output "
                           "(scripts/run-windows-tests sets it)");
    }

    // PARAMCHANGE reloads the configuration: the queue it adds appears.
    scene.rewrite_configuration("  - name: added\n    capacity: 8\n    max_message_size: 1KiB\n");
    BOOST_REQUIRE_MESSAGE(shmq::platform::send_service_paramchange(service.name(), error), error);
    const auto has_added_queue = [&] {
        auto client = scene.attach();
        shmq::Queue queue;
        return client && client->open_queue("added", queue) == shmq::Status::ok;
    };
    BOOST_TEST(eventually(has_added_queue, 120s), "no queue 'added' after paramchange; the log:\n" << read_file(log));

    // A producer's message waits in the persistent segment across the stop.
    scene.run_cli({"publish", "jobs", "kept"});
    scene.run_program("sc.exe", {"stop", service.name()});
    BOOST_REQUIRE_MESSAGE(eventually(state_is("STOPPED"), 120s), "the service never stopped");
    const std::string stopped = scene.run_program("sc.exe", {"query", service.name()});
    BOOST_TEST(stopped.find("WIN32_EXIT_CODE    : 0") != std::string::npos, "not a clean stop:\n" << stopped);
    const std::string logged = read_file(log);
    BOOST_TEST(logged.find("the service's stop control") != std::string::npos, logged);
    BOOST_TEST(fs::exists(scene.address()), "the persistent segment is gone after the stop");

    scene.run_program(shmqd, {"--uninstall-service", "--service-name", service.name()});
    service.removed();
    BOOST_TEST(!shmq::platform::read_service_facts(service.name(), facts, error), "the service is still registered");
    scene.run_program("reg.exe", {"query", event_source}, 1);  // its event source is gone too

    // The message published before the stop is still there for a broker run
    // in a console.
    scene.start_broker();
    BOOST_TEST(scene.run_cli({"consume", "jobs", "--count", "1", "--timeout", "60000"}) == "kept\n");
}

// A log file the service cannot open (its folder does not exist) does not
// stop it: the reason reaches the Event Log as an error event and the broker
// serves on, logging to the Event Log alone (daemon/main.cpp,
// serve_as_service, says why it goes on rather than stop).
BOOST_AUTO_TEST_CASE(a_service_whose_log_file_cannot_be_opened_says_why_in_the_event_log) {
    Scene scene("service-log");
    scene.persist();
    InstalledService service("shmq-test-log-" + std::to_string(shmq::platform::current_process_id()));
    const fs::path log = scene.directory() / "no-such-folder" / "service.log";
    scene.run_program(binary_dir + "/shmqd.exe", {"--install-service", "--service-name", service.name(), "--config",
                                                  scene.configuration().string(), "--log-file", log.string()});
    scene.run_program("sc.exe", {"start", service.name()});
    BOOST_REQUIRE_MESSAGE(eventually([&] { return service_in_state(scene, service.name(), "RUNNING"); }, 120s),
                          "the service never ran; the Event Log trace:\n" << wine_event_trace());
    BOOST_TEST(static_cast<bool>(scene.attach()), "the service runs but serves no client");
    if (std::getenv("SHMQ_WINE_DEBUG_OUTPUT") != nullptr) {
        const auto reported = [] {
            return event_reported("err", {"cannot open log file '", "no-such-folder",
                                          "' does not exist; logging to the Event Log alone"});
        };
        BOOST_TEST(eventually(reported, 120s), wine_event_trace());
    } else {
        BOOST_TEST_MESSAGE("Event Log events not checked: SHMQ_WINE_DEBUG_OUTPUT names no Wine debug output "
                           "(scripts/run-windows-tests sets it)");
    }
    scene.run_program("sc.exe", {"stop", service.name()});
    BOOST_REQUIRE_MESSAGE(eventually([&] { return service_in_state(scene, service.name(), "STOPPED"); }, 120s),
                          "the service never stopped");
    const std::string stopped = scene.run_program("sc.exe", {"query", service.name()});
    BOOST_TEST(stopped.find("WIN32_EXIT_CODE    : 0") != std::string::npos, "not a clean stop:\n" << stopped);
    BOOST_TEST(!fs::exists(log.parent_path()), "the service made the log file's folder");
    scene.run_program(binary_dir + "/shmqd.exe", {"--uninstall-service", "--service-name", service.name()});
    service.removed();
}

namespace {

// Queue `name` as the broker's stats show it to `client`.
shmq::QueueStats queue_stats(const shmq::Client& client, const std::string& name) {
    for (const auto& queue : client.stats().queues) {
        if (queue.name == name) return queue;
    }
    BOOST_FAIL("the broker's stats list no queue " << name);
    return {};
}

// Topic `name`'s subscribers as the broker's stats show them to `client`.
std::vector<shmq::SubscriberStats> subscribers_of(const shmq::Client& client, const std::string& name) {
    for (const auto& topic : client.stats().topics) {
        if (topic.name == name) return topic.subscribers;
    }
    BOOST_FAIL("the broker's stats list no topic " << name);
    return {};
}

}  // namespace

// The three overflow policies of a full queue (capacity 2): reject refuses
// at once with queue_full and counts it; drop_oldest makes room by dropping
// the oldest message and counts it; block holds a sender (a shmq.exe of its
// own) until a consumer in another process makes room.
BOOST_AUTO_TEST_CASE(a_full_queue_rejects_drops_its_oldest_or_blocks_as_configured) {
    Scene scene("overflow", {},
                "  - name: refusing\n    capacity: 2\n    max_message_size: 1KiB\n    overflow: reject\n"
                "  - name: newest\n    capacity: 2\n    max_message_size: 1KiB\n    overflow: drop_oldest\n"
                "  - name: waiting\n    capacity: 2\n    max_message_size: 1KiB\n    overflow: block\n");
    scene.start_broker();
    auto client = scene.attach();
    BOOST_REQUIRE(client);
    shmq::Queue refusing, newest, waiting;
    BOOST_REQUIRE(client->open_queue("refusing", refusing) == shmq::Status::ok);
    BOOST_REQUIRE(client->open_queue("newest", newest) == shmq::Status::ok);
    BOOST_REQUIRE(client->open_queue("waiting", waiting) == shmq::Status::ok);

    // reject: a timeout is no reason to wait, the refusal is immediate.
    for (const char* message : {"a", "b"}) BOOST_REQUIRE(refusing.send(message, 10s) == shmq::Status::ok);
    BOOST_TEST(refusing.send("c", 60s) == shmq::Status::queue_full);
    BOOST_TEST(queue_stats(*client, "refusing").rejected == 1u);
    std::string message;
    for (const char* kept : {"a", "b"}) {
        BOOST_REQUIRE(refusing.receive(message, 10s) == shmq::Status::ok);
        BOOST_TEST(message == kept);
    }

    // drop_oldest: every send succeeds; the newest two are what is left.
    for (const char* sent : {"old", "middle", "new"}) BOOST_REQUIRE(newest.send(sent, 10s) == shmq::Status::ok);
    BOOST_TEST(queue_stats(*client, "newest").dropped == 1u);
    for (const char* kept : {"middle", "new"}) {
        BOOST_REQUIRE(newest.receive(message, 10s) == shmq::Status::ok);
        BOOST_TEST(message == kept);
    }
    BOOST_TEST(newest.receive(message, shmq::no_wait) == shmq::Status::empty);

    // block: the sender's process waits while the queue is full.
    for (const char* sent : {"first", "second"}) BOOST_REQUIRE(waiting.send(sent, 10s) == shmq::Status::ok);
    auto sender = scene.start_cli({"publish", "waiting", "third", "--timeout", "120000"});
    BOOST_REQUIRE_MESSAGE(eventually([&] { return is_attached(*client, sender->id()); }, 120s),
                          "shmq.exe publish never attached");
    int status = -1;
    // Still waiting for room (however slow the machine: nothing makes room yet).
    BOOST_TEST(!sender->wait(200ms, status), "the sender ended with " << status << " on a full queue");
    BOOST_TEST(queue_stats(*client, "waiting").rejected == 0u);
    BOOST_REQUIRE(waiting.receive(message, 10s) == shmq::Status::ok);
    BOOST_TEST(message == "first");
    BOOST_REQUIRE_MESSAGE(sender->wait(120s, status), "the blocked sender never woke");
    BOOST_TEST(status == 0);
    for (const char* kept : {"second", "third"}) {
        BOOST_REQUIRE(waiting.receive(message, 10s) == shmq::Status::ok);
        BOOST_TEST(message == kept);
    }
}

namespace {

// The at_least_once queues of the delivery tests: `tasks`, whose ack timeout
// (ten minutes) no test waits out, and `retried`, whose deliveries time out
// at once and move to `retried.dead` after two.
const std::string at_least_once_queues =
    "  - name: tasks\n    capacity: 8\n    max_message_size: 1KiB\n    delivery: at_least_once\n"
    "    ack_timeout_ms: 600000\n"
    "  - name: retried\n    capacity: 8\n    max_message_size: 1KiB\n    delivery: at_least_once\n"
    "    ack_timeout_ms: 100\n    max_deliveries: 2\n    dead_letter: retried.dead\n"
    "  - name: retried.dead\n    capacity: 8\n    max_message_size: 1KiB\n";

}  // namespace

// Not a test of its own (disabled; run by name): the consumer process of
// an_unacknowledged_delivery_of_a_terminated_consumer_is_redelivered. It
// takes one message of queue tasks, says so on its standard output, and
// holds the delivery unacknowledged until it is ended.
BOOST_AUTO_TEST_CASE(consumer_holding_a_delivery, *boost::unit_test::disabled()) {
    shmq::AttachOptions options;
    options.broker = std::getenv("SHMQ_BROKER");
    std::unique_ptr<shmq::Client> client;
    BOOST_REQUIRE(shmq::Client::attach(options, client) == shmq::Status::ok);
    shmq::Queue tasks;
    BOOST_REQUIRE(client->open_queue("tasks", tasks) == shmq::Status::ok);
    std::string message;
    std::uint64_t delivery = 0;
    BOOST_REQUIRE(tasks.receive(message, 120s, &delivery) == shmq::Status::ok);
    std::cout << "holding '" << message << "'" << std::endl;
    // The test ends this process long before; a bound all the same, so that
    // no stray process outlives a failed test for long.
    std::this_thread::sleep_for(300s);
}

// receive + acknowledge: an acknowledged delivery is gone, a second
// acknowledgement of it is refused; an ack timeout redelivers the message
// (the same one, a new delivery); once max_deliveries are used up it moves
// to its dead_letter queue.
BOOST_AUTO_TEST_CASE(at_least_once_deliveries_are_acknowledged_redelivered_and_dead_lettered) {
    Scene scene("ack", {}, at_least_once_queues);
    scene.start_broker();
    auto client = scene.attach();
    BOOST_REQUIRE(client);
    shmq::Queue tasks, retried, dead;
    BOOST_REQUIRE(client->open_queue("tasks", tasks) == shmq::Status::ok);
    BOOST_REQUIRE(client->open_queue("retried", retried) == shmq::Status::ok);
    BOOST_REQUIRE(client->open_queue("retried.dead", dead) == shmq::Status::ok);

    BOOST_REQUIRE(tasks.send("done once", 10s) == shmq::Status::ok);
    std::string message;
    std::uint64_t delivery = 0;
    BOOST_REQUIRE(tasks.receive(message, 10s, &delivery) == shmq::Status::ok);
    BOOST_TEST(message == "done once");
    BOOST_TEST(tasks.acknowledge(delivery) == shmq::Status::ok);
    BOOST_TEST(tasks.acknowledge(delivery) == shmq::Status::not_acknowledgeable);
    BOOST_TEST(tasks.receive(message, shmq::no_wait) == shmq::Status::empty);
    BOOST_TEST(queue_stats(*client, "tasks").depth == 0u);

    BOOST_REQUIRE(retried.send("never acknowledged", 10s) == shmq::Status::ok);
    std::uint64_t first = 0, second = 0;
    BOOST_REQUIRE(retried.receive(message, 10s, &first) == shmq::Status::ok);
    // Unacknowledged, it comes back once its ack timeout has passed.
    BOOST_REQUIRE_MESSAGE(retried.receive(message, 120s, &second) == shmq::Status::ok,
                          "no redelivery; broker log:\n" << scene.broker_log());
    BOOST_TEST(message == "never acknowledged");
    BOOST_TEST(second != first);
    BOOST_TEST(retried.acknowledge(first) == shmq::Status::not_acknowledgeable);
    BOOST_TEST(queue_stats(*client, "retried").redelivered == 1u);
    // Its second and last delivery times out too: the broker moves it.
    BOOST_REQUIRE_MESSAGE(dead.receive(message, 120s) == shmq::Status::ok,
                          "nothing dead-lettered; broker log:\n" << scene.broker_log());
    BOOST_TEST(message == "never acknowledged");
    BOOST_TEST(queue_stats(*client, "retried").dead_lettered == 1u);
    BOOST_TEST(retried.receive(message, shmq::no_wait) == shmq::Status::empty);
}

// A consumer process ended by TerminateProcess while it holds an
// unacknowledged delivery: the broker reclaims its record and hands the
// message to another consumer, long before the ack timeout (ten minutes).
BOOST_AUTO_TEST_CASE(an_unacknowledged_delivery_of_a_terminated_consumer_is_redelivered) {
    Scene scene("ack-kill", {}, at_least_once_queues);
    scene.start_broker();
    auto client = scene.attach();
    BOOST_REQUIRE(client);
    shmq::Queue tasks;
    BOOST_REQUIRE(client->open_queue("tasks", tasks) == shmq::Status::ok);
    BOOST_REQUIRE(tasks.send("survives its consumer", 10s) == shmq::Status::ok);

    const fs::path said = scene.directory() / "consumer.out";
    shmq::platform::ChildProcess consumer(binary_dir + "/windows_tests.exe",
                                          {"--run_test=consumer_holding_a_delivery"}, said.string());
    const auto holding = [&] { return read_file(said).find("holding 'survives its consumer'") != std::string::npos; };
    BOOST_REQUIRE_MESSAGE(eventually(holding, 120s), "the consumer never took the message:\n" << read_file(said));
    std::string message;
    BOOST_TEST(tasks.receive(message, shmq::no_wait) == shmq::Status::empty, "the held delivery was handed out");
    consumer.kill();
    int status = 0;
    BOOST_REQUIRE(consumer.wait(60s, status));

    BOOST_REQUIRE_MESSAGE(tasks.receive(message, 120s) == shmq::Status::ok,
                          "the dead consumer's delivery was never redelivered; broker log:\n" << scene.broker_log());
    BOOST_TEST(message == "survives its consumer");
    BOOST_TEST(queue_stats(*client, "tasks").redelivered == 1u);
    BOOST_TEST(client->stats().reclaimed_clients == 1u);
}

// Zero copy across processes: a message written in place through a loan and
// published reaches a shmq.exe subscriber and an in-process one, which reads
// it in place through a view that pins it until released.
BOOST_AUTO_TEST_CASE(a_loaned_message_is_published_and_read_in_place_through_a_view) {
    Scene scene("loan");
    scene.start_broker();
    auto subscriber = scene.start_cli({"subscribe", "news", "--count", "1", "--timeout", "120000"});
    auto client = scene.attach();
    BOOST_REQUIRE(client);
    BOOST_REQUIRE_MESSAGE(eventually([&] { return !subscribers_of(*client, "news").empty(); }, 120s),
                          "shmq.exe subscribe never subscribed");
    shmq::Subscription subscription;
    BOOST_REQUIRE(client->subscribe("news", subscription) == shmq::Status::ok);

    shmq::Topic news;
    BOOST_REQUIRE(client->open_topic("news", news) == shmq::Status::ok);
    const std::string text = "written in place";
    shmq::Loan loan;
    BOOST_REQUIRE(news.loan(text.size(), loan, 10s) == shmq::Status::ok);
    BOOST_REQUIRE(loan.capacity() >= text.size());
    std::copy(text.begin(), text.end(), static_cast<char*>(loan.data()));
    BOOST_REQUIRE(news.publish(loan) == shmq::Status::ok);
    BOOST_TEST(!loan.is_active());

    shmq::View view;
    BOOST_REQUIRE(subscription.read(view, 10s) == shmq::Status::ok);
    BOOST_TEST(view.text() == text);
    const auto views_held = [&](std::uint32_t count) {
        for (const auto& entry : subscribers_of(*client, "news")) {
            if (entry.pid == shmq::platform::current_process_id()) return entry.views == count;
        }
        return false;
    };
    BOOST_TEST(views_held(1));
    view.release();
    BOOST_TEST(views_held(0));

    int status = -1;
    BOOST_REQUIRE_MESSAGE(subscriber->wait(120s, status), "shmq.exe subscribe did not end");
    BOOST_TEST(status == 0);
    BOOST_TEST(read_file(scene.directory() / "shmq-1.out") == text + "\n");
}

// A subscriber a whole ring behind a topic whose slow_subscriber policy is
// drop: publishers never wait, it loses its oldest unread messages, and
// counts them (lost(), and the broker's stats).
BOOST_AUTO_TEST_CASE(a_slow_subscriber_under_the_drop_policy_counts_what_it_lost) {
    Scene scene("drop", {}, {}, "  - name: ticks\n    capacity: 4\n    max_message_size: 1KiB\n"
                                "    slow_subscriber: drop\n");
    scene.start_broker();
    auto client = scene.attach();
    BOOST_REQUIRE(client);
    shmq::Subscription slow;
    BOOST_REQUIRE(client->subscribe("ticks", slow) == shmq::Status::ok);
    shmq::Topic ticks;
    BOOST_REQUIRE(client->open_topic("ticks", ticks) == shmq::Status::ok);
    // Ten messages into a ring of four: a publish never waits under drop.
    for (int i = 0; i < 10; ++i) {
        BOOST_REQUIRE(ticks.publish("tick " + std::to_string(i), shmq::no_wait) == shmq::Status::ok);
    }
    std::vector<std::string> read;
    std::string message;
    while (slow.receive(message, shmq::no_wait) == shmq::Status::ok) read.push_back(message);
    BOOST_TEST(read.size() + slow.lost() == 10u);
    BOOST_TEST(slow.lost() >= 6u);
    BOOST_REQUIRE(!read.empty());
    BOOST_TEST(read.back() == "tick 9");
    const auto subscribers = subscribers_of(*client, "ticks");
    BOOST_REQUIRE(subscribers.size() == 1u);
    BOOST_TEST(subscribers.front().lost == slow.lost());
}

// The CLI's other queue commands and its health check: peek shows without
// taking, move hands messages to another queue, purge empties a queue,
// stats --prometheus shows the depths, health says healthy while the broker
// runs and fails once TerminateProcess has ended it.
BOOST_AUTO_TEST_CASE(cli_peeks_moves_purges_and_checks_health) {
    Scene scene("cli-tools", {}, "  - name: elsewhere\n    capacity: 8\n    max_message_size: 1KiB\n");
    scene.start_broker();
    scene.run_cli({"publish", "jobs", "one", "two", "three", "four"});
    BOOST_TEST(scene.run_cli({"peek", "jobs", "--count", "2"}) == "one\ntwo\n");
    auto observer = scene.attach();
    BOOST_REQUIRE(observer);
    BOOST_TEST(queue_stats(*observer, "jobs").depth == 4u);

    scene.run_cli({"move", "jobs", "elsewhere", "--count", "2"});
    BOOST_TEST(scene.run_cli({"consume", "elsewhere", "--count", "2", "--timeout", "60000"}) == "one\ntwo\n");
    scene.run_cli({"purge", "jobs"});
    BOOST_TEST(queue_stats(*observer, "jobs").depth == 0u);
    BOOST_TEST(queue_stats(*observer, "elsewhere").depth == 0u);

    const std::string metrics = scene.run_cli({"stats", "--prometheus"});
    BOOST_TEST(metrics.find("queue=\"jobs\"} 0\n") != std::string::npos, metrics);
    const std::string healthy = scene.run_cli({"health"});
    BOOST_TEST(healthy.find("is healthy") != std::string::npos, healthy);
    observer.reset();
    scene.kill_broker();
    const std::string unhealthy = scene.run_cli({"health"}, 1);
    BOOST_TEST(unhealthy.find("not running") != std::string::npos, unhealthy);
}
