// Access per queue and topic (issue 17, item 4): a queue or topic restricted
// to a group lives in a segment of its own (NAME.access-GROUP, mode 0660,
// that group), so a user outside the group can neither use it through the
// library nor open its memory, while it keeps using the open queues. Runs as
// root (CI does): the fixture creates a group and two real users, a member
// and an outsider, and removes them again; without root it checks nothing.
#define BOOST_TEST_MODULE access_tests
#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <grp.h>
#include <pwd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "common/access_listing.hpp"
#include "common/segment_mapping.hpp"
#include "shmq/client.hpp"
#include "tests/support/test_support.hpp"

using namespace shmq;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string cli_binary = SHMQ_BINARY_DIR "/cli/shmq";

// Names of this test's own, so that it never touches a real account. Each
// run suffixes them with its process id, so that two runs on one machine
// (two build trees, two engineers) never create or delete each other's.
const std::vector<std::string> user_bases{"shmqtmember", "shmqtoutsider", "shmqtreader"};
const std::vector<std::string> group_bases{"shmqtpay", "shmqtall", "shmqtaudit"};
const std::string run_suffix = std::to_string(::getpid());
const std::string group_name = "shmqtpay" + run_suffix;
const std::string everyone_group = "shmqtall" + run_suffix;
const std::string readers_group = "shmqtaudit" + run_suffix;
const std::string member_name = "shmqtmember" + run_suffix;
const std::string outsider_name = "shmqtoutsider" + run_suffix;
const std::string reader_name = "shmqtreader" + run_suffix;

int run(const std::string& command) { return std::system((command + " >/dev/null 2>&1").c_str()); }

void remove_accounts(const std::string& suffix) {
    for (const auto& user : user_bases) run("userdel " + user + suffix);
    for (const auto& group : group_bases) run("groupdel " + group + suffix);
}

// The process id a leftover group name of this test ends in, or 0.
pid_t run_of(const std::string& name) {
    for (const auto& base : group_bases) {
        if (name.size() <= base.size() || name.compare(0, base.size(), base) != 0) continue;
        const auto digits = name.substr(base.size());
        if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9) continue;
        return static_cast<pid_t>(std::stol(digits));
    }
    return 0;
}

// Accounts left by runs killed midway, whose process is gone (a live one is
// another run's: never touched). Users are created after every group and
// deleted before any, so a leftover user always has its groups beside it.
void remove_dead_runs_accounts() {
    std::set<pid_t> dead;
    ::setgrent();
    while (const group* entry = ::getgrent()) {
        const pid_t pid = run_of(entry->gr_name);
        if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) dead.insert(pid);
    }
    ::endgrent();
    for (const pid_t pid : dead) remove_accounts(std::to_string(pid));
}

// Creates the group and users, or says why not (no root, no useradd).
struct Accounts {
    bool ready = false;
    Accounts() {
        if (::getuid() != 0) {
            BOOST_TEST_MESSAGE("not root: cannot create users; nothing checked");
            return;
        }
        remove_dead_runs_accounts();
        remove_accounts(run_suffix);  // a dead run that had this process id
        ready = run("groupadd " + group_name) == 0 && run("groupadd " + everyone_group) == 0 &&
                run("groupadd " + readers_group) == 0 &&
                run("useradd -M -N -g " + everyone_group + " -G " + group_name + " " + member_name) == 0 &&
                run("useradd -M -N -g " + everyone_group + " " + outsider_name) == 0 &&
                run("useradd -M -N -g " + everyone_group + " -G " + readers_group + " " + reader_name) == 0;
        BOOST_TEST_REQUIRE(ready, "could not create the test's users and groups (useradd, groupadd)");
    }
    ~Accounts() {
        if (ready) remove_accounts(run_suffix);
    }
};

// Becomes user `name` with its groups, as a login would.
bool become(const std::string& name) {
    const passwd* entry = ::getpwnam(name.c_str());
    if (entry == nullptr) return false;
    const uid_t uid = entry->pw_uid;
    const gid_t gid = entry->pw_gid;
    return ::initgroups(name.c_str(), gid) == 0 && ::setgid(gid) == 0 && ::setuid(uid) == 0;
}

// The main segment lets every test user in (group everyone_group);
// "payments" and "prices" only the members of group_name.
config::BrokerConfig restricted_config(const std::string& tag) {
    auto config = test::make_config(tag);
    config.group = everyone_group;
    config.permissions = 0660;
    test::add_queue(config, "orders", 8, 64);
    test::add_queue(config, "payments", 8, 64).access_group = group_name;
    test::add_topic(config, "prices", 8, 64).access_group = group_name;
    return config;
}

std::string restricted_path(const config::BrokerConfig& config) {
    return access_segment_path(SegmentMapping::file_system_path(config.name), group_name);
}

AttachOptions options_for(const std::string& broker) {
    AttachOptions options;
    options.broker = broker;
    return options;
}

// Runs `shmq ARGS...` as user `who`; its output goes to `output`.
int cli_as(const std::string& who, const std::vector<std::string>& arguments, const std::string& output) {
    const pid_t child = test::fork_child([&] {
        if (!become(who)) return 30;
        if (std::freopen(output.c_str(), "w", stdout) == nullptr) return 31;
        if (std::freopen(output.c_str(), "a", stderr) == nullptr) return 31;
        std::vector<std::string> all{"shmq"};
        all.insert(all.end(), arguments.begin(), arguments.end());
        std::vector<char*> argv;
        for (auto& argument : all) argv.push_back(argument.data());
        argv.push_back(nullptr);
        ::execv(cli_binary.c_str(), argv.data());
        return 127;
    });
    return test::wait_child(child, 20s);
}

std::string read_text(const std::string& path) {
    std::ifstream file(path);
    return std::string(std::istreambuf_iterator<char>(file), {});
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// restricted_config, with readers_group among the readers of group_name's segment.
config::BrokerConfig config_with_readers(const std::string& tag) {
    auto config = restricted_config(tag);
    for (auto& queue : config.queues) {
        if (!queue.access_group.empty()) queue.access_readers = readers_group;
    }
    for (auto& topic : config.topics) topic.access_readers = readers_group;
    return config;
}

// How many mappings of the file at `path` this process has.
std::size_t mappings_of(const std::string& path) {
    std::size_t count = 0;
    std::ifstream maps("/proc/self/maps");
    for (std::string line; std::getline(maps, line);) count += contains(line, path) ? 1 : 0;
    return count;
}

// What the kernel lets the current user do with the file at `path`: 0 when
// it may read it but neither open it for writing nor map it writable.
int read_but_never_write(const std::string& path) {
    errno = 0;
    if (::open(path.c_str(), O_RDWR | O_NOFOLLOW) >= 0 || errno != EACCES) return 1;
    const int descriptor = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW);
    if (descriptor < 0) return 2;
    struct stat facts {};
    if (::fstat(descriptor, &facts) != 0) return 3;
    const auto length = static_cast<std::size_t>(facts.st_size);
    void* readable = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, descriptor, 0);
    if (readable == MAP_FAILED) return 4;
    ::munmap(readable, length);
    errno = 0;
    void* writable = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0);
    ::close(descriptor);
    return writable == MAP_FAILED && errno == EACCES ? 0 : 5;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_restricted_segment_belongs_to_the_group_alone) {
    Accounts accounts;
    if (!accounts.ready) return;
    test::InProcessBroker broker(restricted_config("access-mode"));
    struct stat facts {};
    BOOST_TEST_REQUIRE(::stat(restricted_path(broker.broker().config()).c_str(), &facts) == 0);
    BOOST_TEST((facts.st_mode & 0777) == 0660u);
    BOOST_TEST(facts.st_gid == ::getgrnam(group_name.c_str())->gr_gid);
    BOOST_TEST(facts.st_uid == ::getuid());
}

// The outsider: permission_denied for the group's queue and topic, with the
// group named, while the open queue works for the same client; and the
// group's file itself cannot be opened, for reading or writing.
BOOST_AUTO_TEST_CASE(an_outsider_is_refused_the_restricted_queue_and_topic_but_keeps_the_others) {
    Accounts accounts;
    if (!accounts.ready) return;
    const auto config = restricted_config("access-out");
    test::InProcessBroker broker(config);
    const std::string path = restricted_path(broker.broker().config());
    const pid_t outsider = test::fork_child([&] {
        if (!become(outsider_name)) return 30;
        std::unique_ptr<Client> client;
        std::string error;
        if (Client::attach(options_for(config.name), client, &error) != Status::ok) return 31;
        Queue payments;
        if (client->open_queue("payments", payments) != Status::permission_denied) return 32;
        const std::string why = client->access_error("payments");
        if (!contains(why, group_name) || !contains(why, "payments")) return 33;
        Topic prices;
        if (client->open_topic("prices", prices) != Status::permission_denied) return 34;
        Subscription subscription;
        if (client->subscribe("prices", subscription) != Status::permission_denied) return 35;
        Queue orders;
        if (client->open_queue("orders", orders) != Status::ok || orders.send("open to all", 1s) != Status::ok) {
            return 36;
        }
        // Nor through the file: the kernel refuses to open it at all.
        for (const int mode : {O_RDONLY, O_RDWR}) {
            errno = 0;
            const int descriptor = ::open(path.c_str(), mode | O_NOFOLLOW);
            if (descriptor >= 0 || errno != EACCES) return 37;
        }
        // Shown as restricted and denied, not hidden.
        bool listed = false;
        for (const auto& queue : client->stats().queues) {
            if (queue.name == "payments") listed = !queue.accessible && queue.access_group == group_name;
        }
        return listed ? 0 : 38;
    });
    BOOST_TEST(test::wait_child(outsider, 20s) == 0);
    auto client = test::attach(config.name);
    BOOST_TEST(test::queue_stats(*client, "orders").depth == 1u);
    BOOST_TEST(test::queue_stats(*client, "payments").depth == 0u);

    // The command-line tool: list shows the queue as denied; publish says why.
    test::TempDir dir;
    const std::string output = dir.path() + "/out";
    BOOST_TEST_REQUIRE(::chmod(dir.path().c_str(), 0777) == 0);
    BOOST_TEST(cli_as(outsider_name, {"--broker", config.name, "list"}, output) == 0);
    BOOST_TEST(contains(read_text(output), std::string("group:") + group_name + "(denied)"), read_text(output));
    BOOST_TEST(cli_as(outsider_name, {"--broker", config.name, "publish", "payments", "x"}, output) == 1);
    BOOST_TEST(contains(read_text(output), "permission"), read_text(output));
    BOOST_TEST(contains(read_text(output), group_name), read_text(output));
}

// The member sends and receives on the restricted queue and topic, and the
// broker counts it there.
BOOST_AUTO_TEST_CASE(a_member_sends_and_receives_on_the_restricted_queue_and_topic) {
    Accounts accounts;
    if (!accounts.ready) return;
    const auto config = restricted_config("access-in");
    test::InProcessBroker broker(config);
    const pid_t member = test::fork_child([&] {
        if (!become(member_name)) return 30;
        std::unique_ptr<Client> client;
        if (Client::attach(options_for(config.name), client) != Status::ok) return 31;
        Queue payments;
        if (client->open_queue("payments", payments) != Status::ok) return 32;
        if (payments.send("pay 10", 1s) != Status::ok) return 33;
        std::string message;
        if (payments.receive(message, 1s) != Status::ok || message != "pay 10") return 34;
        if (!client->access_error("payments").empty()) return 35;
        Subscription subscription;
        if (client->subscribe("prices", subscription) != Status::ok) return 36;
        Topic prices;
        if (client->open_topic("prices", prices) != Status::ok || prices.publish("42", 1s) != Status::ok) return 37;
        if (subscription.receive(message, 1s) != Status::ok || message != "42") return 38;
        if (payments.send("left for root", 1s) != Status::ok) return 39;
        return 0;
    });
    BOOST_TEST(test::wait_child(member, 20s) == 0);
    auto client = test::attach(config.name);
    const auto stats = test::queue_stats(*client, "payments");
    BOOST_TEST(stats.access_group == group_name);
    BOOST_TEST(stats.enqueued == 2u);
    BOOST_TEST(stats.depth == 1u);
    BOOST_TEST(test::topic_stats(*client, "prices").published == 1u);
}

// A broker killed with kill -9 leaves the group's segment; the next one
// adopts it with its messages, as it does the main one.
BOOST_AUTO_TEST_CASE(a_restarted_broker_adopts_the_restricted_segment_with_its_messages) {
    auto config = restricted_config("access-adopt");
    config.group.clear();  // no test users needed: root uses both segments
    for (auto& queue : config.queues) {
        if (!queue.access_group.empty()) queue.access_group = "root";
    }
    for (auto& topic : config.topics) topic.access_group = "root";
    if (::getgrnam("root") == nullptr) return;
    const pid_t first = test::start_broker_process(config);
    {
        auto client = test::attach(config.name);
        auto payments = test::open_queue(*client, "payments");
        for (const char* message : {"a", "b", "c"}) BOOST_TEST_REQUIRE(payments.send(message, 1s) == Status::ok);
    }
    ::kill(first, SIGKILL);
    BOOST_TEST(test::wait_child(first, 10s) == 128 + SIGKILL);
    test::InProcessBroker second(config);
    BOOST_TEST(second.broker().adopted());
    auto client = test::attach(config.name);
    auto payments = test::open_queue(*client, "payments");
    std::string received;
    for (const char* expected : {"a", "b", "c"}) {
        BOOST_TEST_REQUIRE(payments.receive(received, 1s) == Status::ok);
        BOOST_TEST(received == expected);
    }
}

// Issue 11, item 3: restarted with a changed file (the restricted queue
// resized, another restricted queue added), the group's segment is migrated,
// its messages carried in order. The main segment, which differs only by the
// restricted name added, is adopted and its AccessTable appended to (issue
// 11, item 2: the table is append-only).
BOOST_AUTO_TEST_CASE(a_restart_with_a_changed_file_carries_the_restricted_segments_messages) {
    auto config = restricted_config("access-migrate");
    config.group.clear();  // no test users needed: root uses both segments
    for (auto& queue : config.queues) {
        if (!queue.access_group.empty()) queue.access_group = "root";
    }
    for (auto& topic : config.topics) topic.access_group = "root";
    if (::getgrnam("root") == nullptr) return;
    const pid_t first = test::start_broker_process(config);
    {
        auto client = test::attach(config.name);
        auto payments = test::open_queue(*client, "payments");
        for (const char* message : {"a", "b", "c"}) BOOST_TEST_REQUIRE(payments.send(message, 1s) == Status::ok);
    }
    ::kill(first, SIGKILL);
    BOOST_TEST(test::wait_child(first, 10s) == 128 + SIGKILL);
    auto changed = config;
    for (auto& queue : changed.queues) {
        if (queue.name == "payments") queue.capacity = 16;
    }
    test::add_queue(changed, "refunds", 4, 64).access_group = "root";
    test::InProcessBroker second(changed);
    BOOST_TEST(second.broker().adopted());
    auto client = test::attach(config.name);
    auto payments = test::open_queue(*client, "payments");
    BOOST_TEST(payments.capacity() == 16u);
    std::string received;
    for (const char* expected : {"a", "b", "c"}) {
        BOOST_TEST_REQUIRE(payments.receive(received, 1s) == Status::ok);
        BOOST_TEST(received == expected);
    }
    BOOST_TEST(payments.receive(received, 100ms) == Status::timeout);
    test::open_queue(*client, "refunds");
}

// Issue 17, item 5: a clean stop leaves no file of the broker behind (no
// segment, no lock, no half-built file, in any group), and a client that
// detached keeps no mapping or descriptor of any segment.
BOOST_AUTO_TEST_CASE(a_clean_stop_leaves_no_file_and_a_detached_client_no_mapping) {
    auto config = restricted_config("access-clean");
    config.group.clear();
    for (auto& queue : config.queues) {
        if (!queue.access_group.empty()) queue.access_group = "root";
    }
    for (auto& topic : config.topics) topic.access_group = "root";
    if (::getgrnam("root") == nullptr) return;
    const std::string main_path = SegmentMapping::file_system_path(config.name);
    const auto files_of_broker = [&] {
        std::vector<std::string> found;
        for (const auto& entry : fs::directory_iterator(fs::path(main_path).parent_path())) {
            if (entry.path().filename().string().rfind(config.name, 0) == 0) found.push_back(entry.path().string());
        }
        return found;
    };
    // The broker runs in this process and maps both segments itself: a
    // client's mappings and descriptors are what it adds to those.
    const auto mappings_and_descriptors = [&] {
        std::size_t count = 0;
        std::ifstream maps("/proc/self/maps");
        for (std::string line; std::getline(maps, line);) count += contains(line, main_path) ? 1 : 0;
        for (const auto& entry : fs::directory_iterator("/proc/self/fd")) {
            std::error_code ignored;
            count += contains(fs::read_symlink(entry.path(), ignored).string(), main_path) ? 1 : 0;
        }
        return count;
    };
    {
        test::InProcessBroker broker(config);
        BOOST_TEST(files_of_broker().size() == 4u);  // two segments, two locks
        const auto brokers_own = mappings_and_descriptors();
        {
            auto client = test::attach(config.name);
            auto payments = test::open_queue(*client, "payments");
            BOOST_TEST_REQUIRE(payments.send("secret", 1s) == Status::ok);
            auto orders = test::open_queue(*client, "orders");
            BOOST_TEST_REQUIRE(orders.send("secret too", 1s) == Status::ok);
            BOOST_TEST(mappings_and_descriptors() >= brokers_own + 4);  // both segments: mapped and open
        }
        BOOST_TEST(mappings_and_descriptors() == brokers_own);
    }
    const auto left = files_of_broker();
    BOOST_TEST(left.empty(), (left.empty() ? "" : left.front()));
}

// Issue 17, roles: a reader of the group (access.readers) maps its segment
// read-only, sees the queue's and topic's figures, and is refused sending,
// receiving, publishing and subscribing; the kernel lets it read the file
// but neither open it for writing nor map it writable. An outsider still
// cannot even read it.
BOOST_AUTO_TEST_CASE(a_reader_sees_the_figures_but_may_neither_send_nor_receive_nor_write_the_file) {
    Accounts accounts;
    if (!accounts.ready) return;
    const auto config = config_with_readers("access-read");
    const std::string path = restricted_path(config);
    test::HeldChild reader([&] {
        if (!become(reader_name)) return 30;
        const auto inherited = mappings_of(path);  // none: forked before the broker started
        std::unique_ptr<Client> client;
        if (Client::attach(options_for(config.name), client) != Status::ok) return 31;
        if (mappings_of(path) != inherited + 1) return 39;
        bool seen = false;
        for (const auto& queue : client->stats().queues) {
            if (queue.name == "payments") seen = queue.accessible && queue.read_only && queue.depth == 2;
        }
        if (!seen) return 32;
        bool topic_seen = false;
        for (const auto& topic : client->stats().topics) {
            if (topic.name == "prices") topic_seen = topic.accessible && topic.read_only && topic.capacity == 8;
        }
        if (!topic_seen) return 33;
        Queue payments;
        if (client->open_queue("payments", payments) != Status::permission_denied) return 34;
        const std::string why = client->access_error("payments");
        if (!contains(why, "may only read") || !contains(why, group_name)) return 35;
        Topic prices;
        if (client->open_topic("prices", prices) != Status::permission_denied) return 36;
        Subscription subscription;
        if (client->subscribe("prices", subscription) != Status::permission_denied) return 37;
        Queue orders;
        if (client->open_queue("orders", orders) != Status::ok || orders.send("open to all", 1s) != Status::ok) {
            return 38;
        }
        orders = Queue();
        client.reset();
        if (mappings_of(path) != inherited) return 39;  // detached: the read-only mapping is gone too
        return 40 + read_but_never_write(path);
    });
    test::InProcessBroker broker(config);
    {
        auto client = test::attach(config.name);
        auto payments = test::open_queue(*client, "payments");
        for (const char* message : {"pay 1", "pay 2"}) BOOST_TEST_REQUIRE(payments.send(message, 1s) == Status::ok);
    }
    BOOST_TEST(reader.release_and_wait(20s) == 40);
    const pid_t outsider = test::fork_child([&] {
        if (!become(outsider_name)) return 30;
        errno = 0;
        return ::open(path.c_str(), O_RDONLY | O_NOFOLLOW) < 0 && errno == EACCES ? 0 : 31;
    });
    BOOST_TEST(test::wait_child(outsider, 20s) == 0);
    auto client = test::attach(config.name);
    BOOST_TEST(test::queue_stats(*client, "payments").depth == 2u);  // the reader took nothing

    test::TempDir dir;
    const std::string output = dir.path() + "/out";
    BOOST_TEST_REQUIRE(::chmod(dir.path().c_str(), 0777) == 0);
    BOOST_TEST(cli_as(reader_name, {"--broker", config.name, "list"}, output) == 0);
    BOOST_TEST(contains(read_text(output), std::string("group:") + group_name + "(read-only)"), read_text(output));
    BOOST_TEST(cli_as(reader_name, {"--broker", config.name, "consume", "payments"}, output) == 1);
    BOOST_TEST(contains(read_text(output), "may only read"), read_text(output));
}

// Issue 11, item 2: a reload changes a restricted queue's capacity live, its
// successor in a live segment of the group's segment (with the segment's
// group, mode and readers). A reader of the group maps that live segment
// read-only too and takes no client record in it (a write would fault): it
// sees the successor's figures, and may neither send nor write the file.
BOOST_AUTO_TEST_CASE(a_reader_sees_the_figures_of_a_restricted_queue_changed_live) {
    Accounts accounts;
    if (!accounts.ready) return;
    const auto config = config_with_readers("access-live");
    const std::string live_path = restricted_path(config) + ".live-1";
    test::HeldChild reader([&] {
        if (!become(reader_name)) return 30;
        const auto inherited = mappings_of(live_path);  // none: forked before the broker started
        std::unique_ptr<Client> client;
        if (Client::attach(options_for(config.name), client) != Status::ok) return 31;
        // The old ring (superseded, still holding two) beside its successor.
        int rings = 0;
        for (const auto& queue : client->stats().queues) {
            if (queue.name != "payments" || !queue.accessible || !queue.read_only) continue;
            if (queue.removed && queue.capacity == 8 && queue.depth == 2) rings |= 1;
            if (!queue.removed && queue.capacity == 16 && queue.depth == 1) rings |= 2;
        }
        if (rings != 3) return 32;
        // Mapped read-only: this user may not map it writable.
        if (mappings_of(live_path) != inherited + 1) return 33;
        Queue refused;
        if (client->open_queue("payments", refused) != Status::permission_denied) return 34;
        client.reset();
        if (mappings_of(live_path) != inherited) return 35;
        return 40 + read_but_never_write(live_path);
    });
    test::InProcessBroker broker(config);
    test::TempDir dir;
    const std::string file = dir.path() + "/broker.yaml";
    {
        const std::string access = "    access: { group: " + group_name + ", readers: " + readers_group + " }\n";
        std::ofstream out(file);
        out << "broker:\n  name: " << config.name << "\n  group: " << everyone_group
            << "\n  permissions: 0660\n  max_clients: 64\n  liveness_interval_ms: 50\n"
            << "queues:\n  - name: orders\n    capacity: 8\n    max_message_size: 64\n"
            << "  - name: payments\n    capacity: 16\n    max_message_size: 64\n" << access
            << "topics:\n  - name: prices\n    capacity: 8\n    max_message_size: 64\n" << access;
    }
    auto client = test::attach(config.name);
    auto payments = test::open_queue(*client, "payments");
    for (const char* message : {"pay 1", "pay 2"}) BOOST_TEST_REQUIRE(payments.send(message, 1s) == Status::ok);
    broker.broker().set_configuration_file(file, config::Format::automatic);
    broker.broker().request_reload();
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    while (payments.capacity() != 16u && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(10ms);
    }
    BOOST_TEST_REQUIRE(payments.capacity() == 16u);
    BOOST_TEST_REQUIRE(payments.send("pay 3", 1s) == Status::ok);  // into the successor
    struct stat facts {};
    BOOST_TEST_REQUIRE(::stat(live_path.c_str(), &facts) == 0);
    BOOST_TEST((facts.st_mode & 0777) == 0660u);

    BOOST_TEST(reader.release_and_wait(20s) == 40);
    std::vector<std::string> received;
    std::string message;
    while (payments.receive(message, no_wait) == Status::ok) received.push_back(message);
    BOOST_TEST(received == (std::vector<std::string>{"pay 1", "pay 2", "pay 3"}), boost::test_tools::per_element());
}

namespace {

// A broker whose only restricted names are those of restricted_config (or
// none, for `new_group`) is reloaded with a file that adds `invoices` to
// group_name.
void added_live_admits_members_and_refuses_outsiders(bool new_group) {
    auto config = restricted_config(new_group ? "access-add-group" : "access-add");
    if (new_group) {
        config.queues.resize(1);  // orders
        config.topics.clear();
    }
    test::InProcessBroker broker(config);
    test::TempDir dir;
    const std::string file = dir.path() + "/broker.yaml";
    {
        const std::string access = "    access: { group: " + group_name + " }\n";
        std::ofstream out(file);
        out << "broker:\n  name: " << config.name << "\n  group: " << everyone_group
            << "\n  permissions: 0660\n  max_clients: 64\n  liveness_interval_ms: 50\n"
            << "queues:\n  - name: orders\n    capacity: 8\n    max_message_size: 64\n";
        if (!new_group) out << "  - name: payments\n    capacity: 8\n    max_message_size: 64\n" << access;
        out << "  - name: invoices\n    capacity: 8\n    max_message_size: 64\n" << access;
        if (!new_group) out << "topics:\n  - name: prices\n    capacity: 8\n    max_message_size: 64\n" << access;
    }
    // Each child attaches, says so through its pipe, then waits (up to 20 s)
    // for the reload to make `invoices` known.
    const auto attached_then = [&](const std::string& who, const std::function<int(Client&, Status)>& check) {
        int ready[2];
        BOOST_REQUIRE(::pipe(ready) == 0);
        const pid_t child = test::fork_child([&] {
            ::close(ready[0]);
            if (!become(who)) return 30;
            std::unique_ptr<Client> client;
            if (Client::attach(options_for(config.name), client) != Status::ok) return 31;
            Queue invoices;
            if (client->open_queue("invoices", invoices) != Status::queue_not_found) return 32;
            const char byte = 1;
            if (::write(ready[1], &byte, 1) != 1) return 33;
            const auto give_up = std::chrono::steady_clock::now() + 20s;
            Status status = Status::queue_not_found;
            while (status == Status::queue_not_found && std::chrono::steady_clock::now() < give_up) {
                std::this_thread::sleep_for(10ms);
                status = client->open_queue("invoices", invoices);
            }
            return check(*client, status);
        });
        ::close(ready[1]);
        char byte = 0;
        BOOST_REQUIRE(::read(ready[0], &byte, 1) == 1);
        ::close(ready[0]);
        return child;
    };
    const pid_t member = attached_then(member_name, [](Client& client, Status status) {
        Queue invoices;
        if (status != Status::ok || client.open_queue("invoices", invoices) != Status::ok) return 34;
        std::string message;
        if (invoices.send("inv 1", 1s) != Status::ok || invoices.receive(message, 1s) != Status::ok) return 35;
        return message == "inv 1" ? 40 : 36;
    });
    const pid_t outsider = attached_then(outsider_name, [](Client& client, Status status) {
        if (status != Status::permission_denied) return 34;
        const std::string why = client.access_error("invoices");
        return contains(why, group_name) && contains(why, "invoices") ? 40 : 35;
    });
    broker.broker().set_configuration_file(file, config::Format::automatic);
    broker.broker().request_reload();
    BOOST_TEST(test::wait_child(member, 30s) == 40);
    BOOST_TEST(test::wait_child(outsider, 30s) == 40);
    struct stat facts {};
    BOOST_TEST_REQUIRE(::stat(restricted_path(config).c_str(), &facts) == 0);
    BOOST_TEST((facts.st_mode & 0777) == 0660u);
    BOOST_TEST(facts.st_gid == ::getgrnam(group_name.c_str())->gr_gid);
}

}  // namespace

// Issue 11, item 2: a reload adds a restricted queue, to a group the broker
// runs or to a new one (whose segment the reload makes, with the group's
// mode). A member and an outsider attached before it: the member opens it,
// sends and receives at once; the outsider gets permission_denied, and
// access_error names the queue and the group, as for a name known at attach.
BOOST_AUTO_TEST_CASE(a_restricted_queue_added_live_admits_members_and_refuses_outsiders) {
    Accounts accounts;
    if (!accounts.ready) return;
    for (const bool new_group : {false, true}) {
        BOOST_TEST_CONTEXT((new_group ? "a new group" : "a group the broker runs")) {
            added_live_admits_members_and_refuses_outsiders(new_group);
        }
    }
}
// A broker that adopts a segment gives it the permissions of its own
// configuration: readers removed from the file lose their access at the
// restart, rather than keep what an older configuration granted.
BOOST_AUTO_TEST_CASE(a_restart_without_readers_takes_their_access_away) {
    Accounts accounts;
    if (!accounts.ready) return;
    const auto with_readers = config_with_readers("access-revoke");
    const pid_t first = test::start_broker_process(with_readers);
    const std::string path = access_segment_path(SegmentMapping::file_system_path(with_readers.name), group_name);
    const auto reader_can_read = [&] {
        const pid_t reader = test::fork_child([&] {
            if (!become(reader_name)) return 30;
            const int descriptor = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW);
            return descriptor >= 0 ? 0 : errno == EACCES ? 1 : 31;
        });
        return test::wait_child(reader, 20s);
    };
    BOOST_TEST(reader_can_read() == 0);
    {
        auto client = test::attach(with_readers.name);
        auto payments = test::open_queue(*client, "payments");
        BOOST_TEST_REQUIRE(payments.send("kept", 1s) == Status::ok);
    }
    ::kill(first, SIGKILL);
    BOOST_TEST(test::wait_child(first, 10s) == 128 + SIGKILL);
    auto without_readers = with_readers;
    for (auto& queue : without_readers.queues) queue.access_readers.clear();
    for (auto& topic : without_readers.topics) topic.access_readers.clear();
    test::InProcessBroker second(without_readers);
    BOOST_TEST(second.broker().adopted());
    BOOST_TEST(reader_can_read() == 1);
    auto client = test::attach(with_readers.name);
    BOOST_TEST(test::queue_stats(*client, "payments").depth == 1u);
}

// Issue 17: access groups with persist_path. Each group's segment is a file
// beside the broker's own (PERSIST_PATH.access-GROUP) with the group's mode
// and its readers' ACL; a clean stop keeps it, closed to outsiders, and the
// next broker adopts it with its messages.
BOOST_AUTO_TEST_CASE(a_persistent_broker_keeps_the_restricted_segment_in_a_file_of_the_group) {
    Accounts accounts;
    if (!accounts.ready) return;
    test::TempDir dir;
    BOOST_TEST_REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);  // the test users must reach the files
    auto config = config_with_readers("access-persist");
    config.persist_path = dir.path() + "/broker.segment";
    const std::string path = access_segment_path(config.persist_path, group_name);
    const auto as_member = [&](const std::function<int(Queue&)>& body) {
        const pid_t member = test::fork_child([&] {
            if (!become(member_name)) return 30;
            std::unique_ptr<Client> client;
            if (Client::attach(options_for(config.persist_path), client) != Status::ok) return 31;
            Queue payments;
            if (client->open_queue("payments", payments) != Status::ok) return 32;
            return body(payments);
        });
        return test::wait_child(member, 20s);
    };
    {
        test::InProcessBroker broker(config);
        BOOST_TEST(as_member([](Queue& payments) { return payments.send("kept", 1s) == Status::ok ? 0 : 33; }) == 0);
    }
    struct stat facts {};
    BOOST_TEST_REQUIRE(::stat(path.c_str(), &facts) == 0);
    BOOST_TEST((facts.st_mode & 0777) == 0660u);
    BOOST_TEST(facts.st_gid == ::getgrnam(group_name.c_str())->gr_gid);
    const pid_t reader = test::fork_child([&] { return become(reader_name) ? read_but_never_write(path) : 30; });
    BOOST_TEST(test::wait_child(reader, 20s) == 0);
    const pid_t outsider = test::fork_child([&] {
        if (!become(outsider_name)) return 30;
        errno = 0;
        return ::open(path.c_str(), O_RDONLY | O_NOFOLLOW) < 0 && errno == EACCES ? 0 : 31;
    });
    BOOST_TEST(test::wait_child(outsider, 20s) == 0);

    test::InProcessBroker second(config);
    BOOST_TEST(second.broker().adopted());
    BOOST_TEST(as_member([](Queue& payments) {
                   std::string message;
                   return payments.receive(message, 1s) == Status::ok && message == "kept" ? 0 : 33;
               }) == 0);
}
