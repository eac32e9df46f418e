// Several real Unix users against one another (issue 17): an impostor's
// segment is refused, a squatted name does not stop a service broker, and a
// set-aside segment is kept from other users. Runs as root (CI does), so that
// it can become the system users `daemon` (a service broker) and `nobody`
// (another local user); without root it says so and checks nothing else.
#define BOOST_TEST_MODULE security_tests
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <pwd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>

#include "common/segment_mapping.hpp"
#include "shmq/client.hpp"
#include "tests/support/test_support.hpp"

using namespace shmq;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string cli_binary = SHMQ_BINARY_DIR "/cli/shmq";

struct SharedFlags {
    std::atomic<int> ready{0};
    std::atomic<int> failed{0};
};

SharedFlags* make_shared_flags() {
    void* memory = ::mmap(nullptr, sizeof(SharedFlags), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return new (memory) SharedFlags();
}

// A copy: getpwnam's result is overwritten by the next call.
struct User {
    uid_t uid;
    gid_t gid;
};

User user(const char* name) {
    const passwd* entry = ::getpwnam(name);
    BOOST_TEST_REQUIRE(entry != nullptr, "no user " << name);
    return User{entry->pw_uid, entry->pw_gid};
}

bool become(const User& who) { return ::setgid(who.gid) == 0 && ::setuid(who.uid) == 0; }

// A broker running as `who` in a child process until killed; with
// `runtime_dir` its named segment lives there (as under the systemd unit).
pid_t broker_as(const User& who, const config::BrokerConfig& config, const std::string& runtime_dir,
                SharedFlags* flags) {
    return test::fork_child([who, config, runtime_dir, flags] {
        if (!runtime_dir.empty()) ::setenv("SHMQ_RUNTIME_DIR", runtime_dir.c_str(), 1);
        if (!become(who)) return 30;
        try {
            daemon::Broker broker(config);
            broker.start();
            flags->ready.store(1);
            for (;;) ::pause();
        } catch (const std::exception&) {
            flags->failed.store(1);
        }
        return 31;
    });
}

bool running_as_root() {
    if (::getuid() == 0) return true;
    BOOST_TEST_MESSAGE("not root: cannot become other users; nothing checked");
    return false;
}

AttachOptions options_for(const std::string& broker) {
    AttachOptions options;
    options.broker = broker;
    return options;
}

}  // namespace

// The impostor of issue 17: another user's broker with the victim's name.
// The producer is told whose segment it is and sends nothing into it.
BOOST_AUTO_TEST_CASE(a_producer_refuses_an_impostors_segment_and_says_whose_it_is) {
    if (!running_as_root()) return;
    auto config = test::make_config("victim");
    config.permissions = 0660;
    test::add_queue(config, "orders", 4, 64);
    auto* flags = make_shared_flags();
    const pid_t impostor = broker_as(user("nobody"), config, "", flags);
    BOOST_TEST_REQUIRE(test::eventually([&] { return flags->ready.load() == 1; }, 10s));

    std::unique_ptr<Client> producer;
    std::string error;
    BOOST_TEST(Client::attach(options_for(config.name), producer, &error) == Status::untrusted_segment);
    BOOST_TEST(error.find("nobody") != std::string::npos, error);
    // The command-line tool says the same, and trusts it once told to.
    const auto cli = [&](const std::vector<std::string>& extra) {
        const pid_t child = test::fork_child([&] {
            if (std::freopen("/dev/null", "w", stdout) == nullptr || std::freopen("/dev/null", "w", stderr) == nullptr) {
                return 126;
            }
            std::vector<std::string> arguments{"shmq"};
            arguments.insert(arguments.end(), extra.begin(), extra.end());
            std::vector<char*> argv;
            for (auto& argument : arguments) argv.push_back(argument.data());
            argv.push_back(nullptr);
            ::execv(cli_binary.c_str(), argv.data());
            return 127;
        });
        return test::wait_child(child, 10s);
    };
    BOOST_TEST(cli({"--broker", config.name, "publish", "orders", "secret"}) == 1);
    BOOST_TEST(cli({"--broker-owner", "nobody", "--broker", config.name, "list"}) == 0);
    // Nothing reached the impostor's queue.
    auto trusting = options_for(config.name);
    trusting.broker_owner = "nobody";
    BOOST_TEST_REQUIRE(Client::attach(trusting, producer, &error) == Status::ok, error);
    BOOST_TEST(test::queue_stats(*producer, "orders").depth == 0u);
    producer.reset();
    ::kill(impostor, SIGKILL);
    test::wait_child(impostor, 10s);
    SegmentMapping::remove(config.name);
    fs::remove(SegmentMapping::file_system_path(config.name) + ".lock");
}

// Issue 17, item 2: a file another user put at the broker's name.
BOOST_AUTO_TEST_CASE(a_squatted_name_does_not_stop_a_service_broker) {
    if (!running_as_root()) return;
    const User service = user("daemon");
    const User squatter = user("nobody");
    auto config = test::make_config("squat");
    test::add_queue(config, "orders", 4, 64);
    // The squatter's file in /dev/shm, where a hand-started broker would go.
    const std::string squatted = "/dev/shm/" + config.name;
    const pid_t planted = test::fork_child([&] {
        if (!become(squatter)) return 30;
        test::write_file(squatted, "not a segment");
        return 0;
    });
    BOOST_TEST_REQUIRE(test::wait_child(planted, 10s) == 0);

    // The service broker's own directory, as the unit's RuntimeDirectory=
    // makes it: the service user's alone to write.
    test::TempDir dir;
    const std::string runtime = dir.path() + "/run-shmq";
    fs::create_directory(runtime);
    BOOST_TEST_REQUIRE(::chown(runtime.c_str(), service.uid, service.gid) == 0);
    BOOST_TEST_REQUIRE(::chmod(runtime.c_str(), 0755) == 0);
    BOOST_TEST_REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
    auto* flags = make_shared_flags();
    const pid_t broker = broker_as(service, config, runtime, flags);
    BOOST_TEST_REQUIRE(test::eventually([&] { return flags->ready.load() == 1 || flags->failed.load() == 1; }, 10s));
    BOOST_TEST(flags->ready.load() == 1);
    BOOST_TEST(fs::exists(runtime + "/" + config.name));

    // A client that looks where the service broker is finds it, and trusts it
    // once told whose it is.
    ::setenv("SHMQ_RUNTIME_DIR", runtime.c_str(), 1);
    auto options = options_for(config.name);
    options.broker_owner = "daemon";
    std::unique_ptr<Client> client;
    std::string error;
    BOOST_TEST(Client::attach(options, client, &error) == Status::ok, error);
    if (client) {
        auto queue = test::open_queue(*client, "orders");
        BOOST_TEST(queue.send("to the real broker", 1s) == Status::ok);
    }
    client.reset();
    ::unsetenv("SHMQ_RUNTIME_DIR");
    ::kill(broker, SIGKILL);
    test::wait_child(broker, 10s);

    // A broker started by hand as another user on the squatted name stops,
    // and says that the name is squatted and by whom.
    const pid_t by_hand = test::fork_child([&] {
        if (!become(service)) return 30;
        try {
            daemon::Broker refused(config);
            refused.start();
        } catch (const daemon::StartError& failure) {
            const std::string why = failure.what();
            return why.find("squatting") != std::string::npos && why.find("nobody") != std::string::npos ? 0 : 32;
        }
        return 33;
    });
    BOOST_TEST(test::wait_child(by_hand, 10s) == 0);
    fs::remove(squatted);
}

// Issue 17, item 3: what a set-aside segment holds stays the broker's user's,
// and set-aside segments do not pile up: only the newest set_aside.keep stay
// (issue 11, item 3).
BOOST_AUTO_TEST_CASE(set_aside_segments_are_private_and_few) {
    auto config = test::make_config("aside");
    config.set_aside_keep = 2;
    test::add_queue(config, "q", 4, 64);
    const std::string path = SegmentMapping::file_system_path(config.name);
    for (int round = 0; round < 5; ++round) {
        test::write_file(path, std::string(8192, 'x'));  // not a segment: set aside at start
        test::InProcessBroker broker(config);
    }
    std::size_t kept = 0;
    for (const auto& entry : fs::directory_iterator(fs::path(path).parent_path())) {
        if (entry.path().filename().string().rfind(config.name + ".stale-", 0) != 0) continue;
        ++kept;
        struct stat facts {};
        BOOST_TEST_REQUIRE(::stat(entry.path().c_str(), &facts) == 0);
        BOOST_TEST((facts.st_mode & 0777) == 0600u, entry.path());
        fs::remove(entry.path());
    }
    BOOST_TEST(kept == 2u);
}

// Issue 17, item 3: set-aside segments older than a week go at the next
// start, whether or not that start sets another aside.
BOOST_AUTO_TEST_CASE(set_aside_segments_older_than_a_week_go_at_start) {
    auto config = test::make_config("aside-age");
    test::add_queue(config, "q", 4, 64);
    const std::string path = SegmentMapping::file_system_path(config.name);
    const long long now = static_cast<long long>(std::time(nullptr));
    const std::string old = path + ".stale-" + std::to_string(now - 8 * 24 * 3600) + ".000000";
    const std::string recent = path + ".stale-" + std::to_string(now - 3600) + ".000000";
    test::write_file(old, "old");
    test::write_file(recent, "recent");
    { test::InProcessBroker broker(config); }
    BOOST_TEST(!fs::exists(old));
    BOOST_TEST(fs::exists(recent));
    fs::remove(recent);
}

// Root sets aside another user's symbolic link at the segment's name: the
// link moves, and what it points to keeps its mode and owner (in a directory
// that is not sticky, where the kernel's protected_symlinks would not step in).
BOOST_AUTO_TEST_CASE(setting_aside_a_planted_link_leaves_its_target_alone) {
    if (!running_as_root()) return;
    const User squatter = user("nobody");
    test::TempDir dir;
    const std::string target = dir.path() + "/someone-else's";
    test::write_file(target, "not the broker's");
    BOOST_TEST_REQUIRE(::chown(target.c_str(), squatter.uid, squatter.gid) == 0);
    BOOST_TEST_REQUIRE(::chmod(target.c_str(), 0644) == 0);
    ::setenv("SHMQ_RUNTIME_DIR", dir.path().c_str(), 1);
    auto config = test::make_config("link");
    test::add_queue(config, "q", 4, 64);
    const std::string path = SegmentMapping::file_system_path(config.name);
    BOOST_TEST_REQUIRE(::symlink(target.c_str(), path.c_str()) == 0);
    BOOST_TEST_REQUIRE(::lchown(path.c_str(), squatter.uid, squatter.gid) == 0);
    {
        test::InProcessBroker broker(config);
        BOOST_TEST(fs::is_regular_file(fs::symlink_status(path)));  // its own segment, not the link
    }
    ::unsetenv("SHMQ_RUNTIME_DIR");
    struct stat facts {};
    BOOST_TEST_REQUIRE(::stat(target.c_str(), &facts) == 0);
    BOOST_TEST((facts.st_mode & 0777) == 0644u);
    BOOST_TEST(facts.st_uid == squatter.uid);
}
