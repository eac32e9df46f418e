// The segment file against everything another process can do to it: truncate
// it under a running broker and its clients, leave it empty, half-built or
// full of garbage, scribble on its header, put something that is not a file
// at its name, or start two brokers on it at once. Nobody but the culprit may
// crash or hang; every refusal says what is wrong.
#define BOOST_TEST_MODULE segment_file_tests
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <random>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/layout.hpp"
#include "common/segment_mapping.hpp"
#include "shmq/client.hpp"
#include "tests/support/test_support.hpp"

using namespace shmq;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string cli_binary = SHMQ_BINARY_DIR "/cli/shmq";

AttachOptions options_for(const std::string& broker) {
    AttachOptions options;
    options.broker = broker;
    return options;
}

using test::read_file;

// A real shmqd process on a configuration file of its own, its log in a file.
class DaemonProcess {
public:
    DaemonProcess(const test::TempDir& dir, const std::string& name, const std::string& persist_path = "",
                  const std::string& tag = "a")
        : address_(persist_path.empty() ? name : persist_path), log_(dir.path() + "/shmqd-" + tag + ".log") {
        std::string yaml = "broker:\n  name: " + name + "\n  liveness_interval_ms: 50\n";
        if (!persist_path.empty()) yaml += "  persist_path: " + persist_path + "\n  flush_interval_ms: 50\n";
        yaml += "queues:\n  - name: q\n    capacity: 64\n    max_message_size: 64\n";
        config_ = dir.write("shmqd-" + tag + ".yaml", yaml);
    }
    ~DaemonProcess() {
        if (running()) stop();
    }

    void start() {
        // Its stderr (the log) added to the log file; stdout stays the test's.
        process_ = std::make_unique<test::ShmqdProcess>(config_, test::Redirections{"/dev/null", "", log_, true});
    }
    // True once a client can attach.
    bool ready() const {
        return test::eventually(
            [&] {
                std::unique_ptr<Client> client;
                return Client::attach(options_for(address_), client) == Status::ok;
            },
            10s);
    }
    // Exit status after SIGTERM (-1 if it did not stop in time: it is killed then).
    int stop() {
        const auto status = process_->stop(10s);
        if (!status) process_->kill();
        return status.value_or(-1);
    }
    int kill_hard() { return process_->kill(); }
    // Exit status once it ends on its own (-1 if it is still running then: it is killed).
    int wait_exit(std::chrono::milliseconds timeout) {
        const auto status = process_->wait_exit(timeout);
        if (!status) process_->kill();
        return status.value_or(-1);
    }
    // False once it has exited (its exit status is then kept for wait_exit).
    bool running() { return process_ && process_->running(); }
    std::string log() const { return read_file(log_); }

private:
    std::string address_;  // what clients attach to
    std::string log_;
    std::string config_;
    std::unique_ptr<test::ShmqdProcess> process_;
};

// Runs `shmq ARGS`, its output discarded, and returns its exit status (-1 when it hung).
int run_cli(const std::vector<std::string>& arguments, std::chrono::milliseconds limit = 10s) {
    std::vector<std::string> command{cli_binary};
    command.insert(command.end(), arguments.begin(), arguments.end());
    return test::wait_child(test::spawn_program(command, {"/dev/null", "/dev/null", "/dev/null"}), limit);
}

void truncate_file(const std::string& path, off_t length) { BOOST_TEST_REQUIRE(::truncate(path.c_str(), length) == 0); }

// A consumer blocked on the queue in a child process: it must receive
// `expected` and exit 0, whatever happens to the file meanwhile.
pid_t blocked_consumer(const std::string& broker, const std::string& expected) {
    return test::fork_child([broker, expected] {
        auto client = test::attach_or_exit(broker);
        Queue queue;
        if (client->open_queue("q", queue) != Status::ok) return 41;
        std::string message;
        const Status status = queue.receive(message, 20s);
        if (status != Status::ok) return 42;
        return message == expected ? 0 : 43;
    });
}

// Sends `text` on a fresh client, retrying while the broker repairs the
// segment (a client attaching in that moment is told so and may retry).
bool send_eventually(const std::string& broker, const std::string& text) {
    return test::eventually(
        [&] {
            std::unique_ptr<Client> client;
            Queue queue;
            return Client::attach(options_for(broker), client) == Status::ok &&
                   client->open_queue("q", queue) == Status::ok && queue.send(text, 1s) == Status::ok;
        },
        10s);
}

// Everything a broker of `name` leaves in /dev/shm, set-aside files included.
void remove_leftovers(const std::string& name) {
    for (const auto& entry : fs::directory_iterator("/dev/shm")) {
        if (entry.path().filename().string().rfind(name, 0) == 0) fs::remove_all(entry.path());
    }
}

bool has_set_aside_file(const std::string& name) {
    for (const auto& entry : fs::directory_iterator("/dev/shm")) {
        if (entry.path().filename().string().rfind(name + ".stale-", 0) == 0) return true;
    }
    return false;
}

}  // namespace

// Item 1 of the reliability review: `truncate -s 0` on the segment killed the
// broker and a blocked consumer with SIGBUS.
BOOST_AUTO_TEST_CASE(a_truncated_memory_segment_kills_neither_the_broker_nor_a_blocked_consumer) {
    test::TempDir dir;
    const auto name = test::unique_broker_name("trunc");
    DaemonProcess broker(dir, name);
    broker.start();
    BOOST_TEST_REQUIRE(broker.ready());
    const pid_t consumer = blocked_consumer(name, "after the truncation");
    std::this_thread::sleep_for(200ms);  // let it block on the queue
    truncate_file(SegmentMapping::file_system_path(name), 0);
    BOOST_TEST(send_eventually(name, "after the truncation"));
    BOOST_TEST(test::wait_child(consumer, 20s) == 0);
    BOOST_TEST(broker.running());
    BOOST_TEST(test::eventually([&] { return broker.log().find("was damaged by another process") != std::string::npos; },
                                5s),
               broker.log());
    // Every tool still works on the repaired segment, and a clean stop is clean.
    BOOST_TEST(run_cli({"--broker", name, "list"}) == 0);
    BOOST_TEST(broker.stop() == 0);
    remove_leftovers(name);
}

BOOST_AUTO_TEST_CASE(a_persistent_segment_truncated_to_one_page_kills_nobody) {
    test::TempDir dir;
    const auto name = test::unique_broker_name("ptrunc");
    const auto file = dir.path() + "/segment";
    DaemonProcess broker(dir, name, file);
    broker.start();
    BOOST_TEST_REQUIRE(broker.ready());
    const pid_t consumer = blocked_consumer(file, "still here");
    std::this_thread::sleep_for(200ms);
    truncate_file(file, 4096);
    BOOST_TEST(send_eventually(file, "still here"));
    BOOST_TEST(test::wait_child(consumer, 20s) == 0);
    BOOST_TEST(broker.running());
    BOOST_TEST(test::eventually([&] { return broker.log().find("was damaged by another process") != std::string::npos; },
                                5s),
               broker.log());
    BOOST_TEST(broker.stop() == 0);
    // The file has its length back: a later broker maps all of it.
    struct stat facts {};
    BOOST_TEST_REQUIRE(::stat(file.c_str(), &facts) == 0);
    BOOST_TEST(facts.st_size > 4096);
}

// Item 2: Boost's open_only spun forever on a 0-byte segment, so a restarted
// broker and every `shmq list` hung.
BOOST_AUTO_TEST_CASE(an_empty_file_at_the_name_is_refused_at_once_and_set_aside_by_the_broker) {
    test::TempDir dir;
    const auto name = test::unique_broker_name("empty");
    const auto path = SegmentMapping::file_system_path(name);
    test::write_file(path, "");
    std::unique_ptr<Client> client;
    std::string error;
    BOOST_TEST(Client::attach(options_for(name), client, &error) == Status::corrupt_segment);
    BOOST_TEST(error.find("empty or half-created") != std::string::npos, error);
    BOOST_TEST(run_cli({"--broker", name, "list"}, 10s) == 1);

    DaemonProcess broker(dir, name);
    broker.start();
    BOOST_TEST(broker.ready());
    BOOST_TEST(has_set_aside_file(name));
    BOOST_TEST(broker.log().find("empty or half-created") != std::string::npos, broker.log());
    BOOST_TEST(broker.stop() == 0);
    remove_leftovers(name);
}

// Item 2: a file of random bytes whose first word made Boost believe it was
// initialised crashed every client; scribbles below offset 280 crashed 4 of 40.
BOOST_AUTO_TEST_CASE(garbage_files_and_scribbled_headers_never_crash_a_client_or_the_broker) {
    std::mt19937_64 random(20261129);
    const auto name = test::unique_broker_name("garbage");
    const auto path = SegmentMapping::file_system_path(name);
    std::string noise(1 << 20, '\0');
    for (auto& byte : noise) byte = static_cast<char>(random());
    std::uint64_t two = 2;
    std::memcpy(noise.data(), &two, sizeof two);
    test::write_file(path, noise);
    std::unique_ptr<Client> client;
    std::string error;
    const Status status = Client::attach(options_for(name), client, &error);
    BOOST_TEST((status == Status::version_mismatch || status == Status::corrupt_segment), error);
    BOOST_TEST(run_cli({"--broker", name, "list"}) == 1);
    SegmentMapping::remove(name);

    // A real segment; each round scribbles 8 random bytes somewhere in the
    // root and the tables after it, then a fresh client attaches in a child.
    auto config = test::make_config("scribble");
    test::add_queue(config, "q", 8, 32);
    test::InProcessBroker broker(config);
    for (int round = 0; round < 40; ++round) {
        {
            // Mapped, not validated: an earlier round may have left it damaged.
            std::unique_ptr<SegmentMapping> mapping;
            std::string why;
            BOOST_TEST_REQUIRE((SegmentMapping::open(broker.name(), mapping, why) == platform::FileError::none), why);
            const std::uint64_t offset = random() % 4096 / 8 * 8;
            const std::uint64_t value = random();
            std::memcpy(mapping->base() + offset, &value, sizeof value);
        }
        const auto target = broker.name();
        const pid_t child = test::fork_child([target] {
            std::unique_ptr<Client> scribbled;
            Client::attach(options_for(target), scribbled);
            if (scribbled) {
                Queue queue;
                if (scribbled->open_queue("q", queue) == Status::ok) {
                    std::string out;
                    queue.send("x", 100ms);
                    queue.receive(out, 100ms);
                }
            }
            return 0;
        });
        BOOST_TEST(test::wait_child(child, 10s) == 0, "round " << round);
    }
    // The broker repaired what it owns: a client attaches and works.
    BOOST_TEST(test::eventually(
        [&] {
            std::unique_ptr<Client> healthy;
            return Client::attach(options_for(broker.name()), healthy) == Status::ok;
        },
        5s));
}

BOOST_AUTO_TEST_CASE(things_that_are_not_regular_files_are_named_as_such) {
    test::TempDir dir;
    const auto fifo = test::unique_broker_name("fifo");
    BOOST_TEST_REQUIRE(::mkfifo(SegmentMapping::file_system_path(fifo).c_str(), 0600) == 0);
    std::unique_ptr<Client> client;
    std::string error;
    BOOST_TEST(Client::attach(options_for(fifo), client, &error) == Status::corrupt_segment);
    BOOST_TEST(error.find("not a regular file") != std::string::npos, error);
    // The broker moves it aside rather than blocking on it or giving up.
    DaemonProcess broker(dir, fifo);
    broker.start();
    BOOST_TEST(broker.ready());
    BOOST_TEST(has_set_aside_file(fifo));
    BOOST_TEST(broker.stop() == 0);
    remove_leftovers(fifo);

    const auto directory = test::unique_broker_name("dir");
    fs::create_directory(SegmentMapping::file_system_path(directory));
    BOOST_TEST(Client::attach(options_for(directory), client, &error) == Status::corrupt_segment);
    BOOST_TEST(error.find("not a regular file") != std::string::npos, error);
    remove_leftovers(directory);
}

// Item 2: a segment file truncated to 4096 bytes reported Boost's stored size
// (142,208), and new clients read past the end of their mapping.
BOOST_AUTO_TEST_CASE(a_segment_shorter_than_it_claims_is_refused_by_a_new_client) {
    auto config = test::make_config("short");
    test::add_queue(config, "q", 64, 1024);
    const auto name = config.name;
    const pid_t doomed = test::fork_child([&] {
        daemon::Broker broker(config);
        broker.start();
        ::kill(::getpid(), SIGKILL);
        return 2;
    });
    BOOST_TEST_REQUIRE(test::wait_child(doomed, 10s) == 128 + SIGKILL);
    truncate_file(SegmentMapping::file_system_path(name), 4096);
    std::unique_ptr<Client> client;
    std::string error;
    BOOST_TEST(Client::attach(options_for(name), client, &error) == Status::corrupt_segment);
    BOOST_TEST(error.find("are mapped") != std::string::npos, error);
    remove_leftovers(name);
}

// Exactly one of two brokers started together keeps running; the other
// stops at once, saying why. Returns the one that runs.
DaemonProcess& only_one_runs(DaemonProcess& first, DaemonProcess& second) {
    BOOST_TEST_REQUIRE(test::eventually([&] { return !first.running() || !second.running(); }, 10s));
    BOOST_TEST_REQUIRE((first.running() || second.running()));
    DaemonProcess& loser = first.running() ? second : first;
    BOOST_TEST(loser.wait_exit(1s) == 1);
    BOOST_TEST(loser.log().find("already running") != std::string::npos, loser.log());
    return first.running() ? first : second;
}

// Item 4: two brokers started together both reported ready on one name.
BOOST_AUTO_TEST_CASE(of_two_brokers_started_together_exactly_one_runs) {
    test::TempDir dir;
    const auto name = test::unique_broker_name("twice");
    for (int round = 0; round < 3; ++round) {
        BOOST_TEST_CONTEXT("round " << round) {
            DaemonProcess first(dir, name, "", "first" + std::to_string(round));
            DaemonProcess second(dir, name, "", "second" + std::to_string(round));
            first.start();
            second.start();
            DaemonProcess& winner = only_one_runs(first, second);
            BOOST_TEST(winner.ready());
            BOOST_TEST(winner.stop() == 0);
        }
    }
    remove_leftovers(name);
}

BOOST_AUTO_TEST_CASE(after_a_broker_dies_two_successors_started_together_adopt_once) {
    test::TempDir dir;
    const auto name = test::unique_broker_name("adopt2");
    {
        DaemonProcess dead(dir, name, "", "dead");
        dead.start();
        BOOST_TEST_REQUIRE(dead.ready());
        BOOST_TEST_REQUIRE(send_eventually(name, "kept"));
        BOOST_TEST(dead.kill_hard() == 128 + SIGKILL);
    }
    DaemonProcess first(dir, name, "", "first");
    DaemonProcess second(dir, name, "", "second");
    first.start();
    second.start();
    DaemonProcess& winner = only_one_runs(first, second);
    BOOST_TEST_REQUIRE(test::eventually([&] { return winner.log().find("ready") != std::string::npos; }, 10s));
    const std::string logs = first.log() + second.log();
    std::size_t adoptions = 0;
    for (auto at = logs.find("adopted segment"); at != std::string::npos; at = logs.find("adopted segment", at + 1)) {
        ++adoptions;
    }
    BOOST_TEST(adoptions == 1u, logs);
    // The message the dead broker held is still there, once.
    auto client = test::attach(name);
    auto queue = test::open_queue(*client, "q");
    std::string out;
    BOOST_TEST(queue.receive(out, 2s) == Status::ok);
    BOOST_TEST(out == "kept");
    BOOST_TEST(queue.receive(out, std::chrono::milliseconds(0)) != Status::ok);
    client.reset();
    BOOST_TEST(winner.stop() == 0);
    remove_leftovers(name);
}
