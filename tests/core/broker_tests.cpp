// The broker's life cycle against real processes: stopping wakes every
// blocked client, names are exclusive, leftovers are adopted or set aside, and
// a foreign, stale or forbidden segment gets its own clear status.
#define BOOST_TEST_MODULE broker_tests
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <pwd.h>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>

#include "common/layout.hpp"
#include "common/segment_mapping.hpp"
#include "common/segment_view.hpp"
#include "shmq/client.hpp"
#include "tests/support/test_support.hpp"

using namespace shmq;
using namespace std::chrono_literals;

namespace {

AttachOptions options_for(const std::string& broker) {
    AttachOptions options;
    options.broker = broker;
    return options;
}

// A flag in memory shared with forked children.
struct SharedFlags {
    std::atomic<int> ready{0};
};

SharedFlags* make_shared_flags() {
    void* memory = ::mmap(nullptr, sizeof(SharedFlags), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return new (memory) SharedFlags();
}

}  // namespace

BOOST_AUTO_TEST_CASE(stopping_the_broker_wakes_blocked_producers_and_consumers_in_other_processes) {
    auto config = test::make_config("stopwake");
    test::add_queue(config, "empty", 4, 16);
    test::add_queue(config, "full", 1, 16);
    test::InProcessBroker broker(config);
    auto* flags = make_shared_flags();
    const auto name = broker.name();
    auto blocked_child = [&](bool produce) {
        return test::fork_child([&, produce] {
            std::unique_ptr<Client> client;
            if (Client::attach(options_for(name), client) != Status::ok) return 10;
            Queue queue;
            client->open_queue(produce ? "full" : "empty", queue);
            if (produce && queue.send("fills the queue") != Status::ok) return 11;
            flags->ready.fetch_add(1);
            std::string out;
            const Status status = produce ? queue.send("blocks") : queue.receive(out);
            return status == Status::broker_stopped ? 0 : 12;
        });
    };
    const pid_t consumer = blocked_child(false);
    BOOST_TEST_REQUIRE(test::eventually([&] { return flags->ready.load() == 1; }, 5s));
    const pid_t producer = blocked_child(true);
    BOOST_TEST_REQUIRE(test::eventually([&] { return flags->ready.load() == 2; }, 5s));
    std::this_thread::sleep_for(200ms);  // let both fall asleep on their futex
    const auto stop_started = std::chrono::steady_clock::now();
    broker.stop();
    BOOST_TEST(test::wait_child(consumer, 3s) == 0);
    BOOST_TEST(test::wait_child(producer, 3s) == 0);
    BOOST_TEST((std::chrono::steady_clock::now() - stop_started < 1s));
    BOOST_TEST(!test::segment_exists(name));
}

BOOST_AUTO_TEST_CASE(operations_after_a_stop_report_broker_stopped) {
    auto config = test::make_config("afterstop");
    test::add_queue(config, "q", 4, 16);
    test::InProcessBroker broker(config);
    std::unique_ptr<Client> client;
    BOOST_TEST_REQUIRE(Client::attach(options_for(broker.name()), client) == Status::ok);
    Queue queue;
    BOOST_TEST_REQUIRE(client->open_queue("q", queue) == Status::ok);
    broker.stop();
    BOOST_TEST(queue.send("lost?", 1s) == Status::broker_stopped);
    std::string out;
    BOOST_TEST(queue.receive(out, 1s) == Status::broker_stopped);
}

BOOST_AUTO_TEST_CASE(two_brokers_with_different_names_run_side_by_side) {
    auto first_config = test::make_config("sideA");
    test::add_queue(first_config, "q", 4, 16);
    auto second_config = test::make_config("sideB");
    test::add_queue(second_config, "q", 4, 16);
    test::InProcessBroker first(first_config);
    test::InProcessBroker second(second_config);
    std::unique_ptr<Client> a, b;
    BOOST_TEST_REQUIRE(Client::attach(options_for(first.name()), a) == Status::ok);
    BOOST_TEST_REQUIRE(Client::attach(options_for(second.name()), b) == Status::ok);
    Queue qa, qb;
    a->open_queue("q", qa);
    b->open_queue("q", qb);
    BOOST_TEST(qa.send("to A", 1s) == Status::ok);
    BOOST_TEST(qb.send("to B", 1s) == Status::ok);
    std::string out;
    BOOST_TEST(qa.receive(out, 1s) == Status::ok);
    BOOST_TEST(out == "to A");
    BOOST_TEST(qb.receive(out, 1s) == Status::ok);
    BOOST_TEST(out == "to B");
}

BOOST_AUTO_TEST_CASE(a_second_broker_on_a_live_brokers_name_is_refused_and_harms_nothing) {
    auto config = test::make_config("samename");
    test::add_queue(config, "q", 4, 16);
    test::InProcessBroker first(config);
    std::unique_ptr<Client> client;
    BOOST_TEST_REQUIRE(Client::attach(options_for(first.name()), client) == Status::ok);
    Queue queue;
    client->open_queue("q", queue);
    BOOST_TEST(queue.send("kept", 1s) == Status::ok);
    // The second broker lives in another process, as it would in real life.
    const pid_t second = test::fork_child([&] {
        daemon::Broker broker(config);
        try {
            broker.start();
        } catch (const daemon::StartError& refused) {
            const std::string why = refused.what();
            return why.find("already running") != std::string::npos && why.find(config.name) != std::string::npos ? 0 : 20;
        }
        return 21;
    });
    BOOST_TEST(test::wait_child(second, 10s) == 0);
    std::string out;
    BOOST_TEST(queue.receive(out, 1s) == Status::ok);
    BOOST_TEST(out == "kept");
}

BOOST_AUTO_TEST_CASE(a_killed_brokers_segment_is_adopted_with_its_messages) {
    auto config = test::make_config("adopt");
    test::add_queue(config, "q", 8, 32);
    const pid_t doomed = test::fork_child([&] {
        daemon::Broker broker(config);
        broker.start();
        std::unique_ptr<Client> client;
        if (Client::attach(options_for(config.name), client) != Status::ok) return 1;
        Queue queue;
        client->open_queue("q", queue);
        for (int i = 0; i < 5; ++i) queue.send("survivor " + std::to_string(i), 1s);
        ::kill(::getpid(), SIGKILL);  // the broker dies with the segment in place
        return 2;
    });
    BOOST_TEST(test::wait_child(doomed, 10s) == 128 + SIGKILL);
    BOOST_TEST_REQUIRE(test::segment_exists(config.name));
    test::InProcessBroker successor(config);
    BOOST_TEST(successor.broker().adopted());
    std::unique_ptr<Client> client;
    BOOST_TEST_REQUIRE(Client::attach(options_for(config.name), client) == Status::ok);
    Queue queue;
    client->open_queue("q", queue);
    for (int i = 0; i < 5; ++i) {
        std::string out;
        BOOST_TEST(queue.receive(out, 1s) == Status::ok);
        BOOST_TEST(out == "survivor " + std::to_string(i));
    }
    // The dead client's record was reclaimed along the way.
    BOOST_TEST(client->stats().clients.size() == 1u);
}

// The reaper recognises the broker's own process by pid and start time
// without asking /proc every tick. A record with the broker's pid but another
// start time (a dead predecessor whose pid came back, as after a reboot) is
// still reaped; the live process's records are not.
BOOST_AUTO_TEST_CASE(a_record_with_the_brokers_pid_but_another_start_time_is_reaped) {
    auto config = test::make_config("ownpid");
    test::add_queue(config, "q", 8, 32);
    test::InProcessBroker broker(config);
    auto alive = test::attach(config.name);
    AttachOptions forged_options = options_for(config.name);
    forged_options.program = "forged";
    std::unique_ptr<Client> forged;
    BOOST_TEST_REQUIRE(Client::attach(forged_options, forged) == Status::ok);
    const auto programs = [&] {
        std::vector<std::string> names;
        for (const auto& client : alive->stats().clients) names.push_back(client.program);
        return names;
    };
    const auto has = [](const std::vector<std::string>& names, const std::string& name) {
        return std::find(names.begin(), names.end(), name) != names.end();
    };
    std::uint32_t record = UINT32_MAX;
    for (const auto& client : alive->stats().clients) {
        if (client.program == "forged") record = client.record;
    }
    BOOST_TEST_REQUIRE(record != UINT32_MAX);
    BOOST_TEST(alive->stats().clients.size() == 2u);
    {
        test::RawSegment raw(config.name);
        auto& start_time = raw.view.client(record).start_time;
        start_time.store(start_time.load() - 1);
    }
    BOOST_TEST(test::eventually([&] { return !has(programs(), "forged"); }, 5s));
    // Several more liveness ticks: the live records of this very process stay.
    std::this_thread::sleep_for(std::chrono::milliseconds(5 * config.liveness_interval_ms));
    const auto left = programs();
    BOOST_TEST(left.size() == 1u);
    BOOST_TEST(alive->stats().broker_alive);
    std::string out;
    Queue queue;
    BOOST_TEST_REQUIRE(alive->open_queue("q", queue) == Status::ok);
    BOOST_TEST(queue.send("still attached", 1s) == Status::ok);
    BOOST_TEST(queue.receive(out, 1s) == Status::ok);
    BOOST_TEST(out == "still attached");
}

// Laid out for another configuration: not reused as it is, but migrated to
// the configured layout (migration_tests prove the messages are carried);
// the old segment, with no message a removed queue held, is removed.
BOOST_AUTO_TEST_CASE(a_leftover_segment_laid_out_differently_is_migrated_not_reused) {
    auto config = test::make_config("setaside");
    test::add_queue(config, "q", 8, 32);
    const pid_t doomed = test::fork_child([&] {
        daemon::Broker broker(config);
        broker.start();
        ::kill(::getpid(), SIGKILL);
        return 2;
    });
    BOOST_TEST(test::wait_child(doomed, 10s) == 128 + SIGKILL);
    auto changed = config;
    changed.queues[0].capacity = 16;
    {
        test::InProcessBroker successor(changed);
        BOOST_TEST(!successor.broker().adopted());
        BOOST_TEST(successor.broker().migrated());
        std::unique_ptr<Client> client;
        BOOST_TEST_REQUIRE(Client::attach(options_for(config.name), client) == Status::ok);
        Queue queue;
        client->open_queue("q", queue);
        BOOST_TEST(queue.capacity() == 16u);
    }
    bool found_stale = false;
    for (const auto& entry : std::filesystem::directory_iterator("/dev/shm")) {
        const auto file = entry.path().filename().string();
        if (file.rfind(config.name + ".stale-", 0) == 0 || file == config.name + ".migrating") {
            found_stale = true;
            std::filesystem::remove(entry.path());
        }
    }
    BOOST_TEST(!found_stale);
}

BOOST_AUTO_TEST_CASE(a_foreign_segment_is_refused_with_version_mismatch) {
    const auto name = test::unique_broker_name("foreign");
    layout::SegmentRoot future{};
    future.magic = layout::magic;
    future.layout_version = layout::version + 1;  // a future shmq
    future.root_size = sizeof(layout::SegmentRoot);
    std::string image(65536, '\0');
    std::memcpy(image.data(), &future, sizeof future);
    test::write_file(SegmentMapping::file_system_path(name), image);
    std::unique_ptr<Client> client;
    std::string error;
    BOOST_TEST(Client::attach(options_for(name), client, &error) == Status::version_mismatch);
    BOOST_TEST(error.find("layout version") != std::string::npos, error);
    BOOST_TEST(error.find(name) != std::string::npos, error);
    SegmentMapping::remove(name);

    const auto garbage = test::unique_broker_name("garbage");
    test::write_file(SegmentMapping::file_system_path(garbage), std::string(4096, '\x5A'));
    const auto status = Client::attach(options_for(garbage), client, &error);
    BOOST_TEST((status == Status::version_mismatch || status == Status::corrupt_segment), error);
    BOOST_TEST(error.find(garbage) != std::string::npos, error);
    SegmentMapping::remove(garbage);
}

BOOST_AUTO_TEST_CASE(a_user_without_permission_gets_permission_denied_naming_the_segment) {
    auto config = test::make_config("perm");
    config.permissions = 0600;
    test::add_queue(config, "q", 4, 16);
    test::InProcessBroker broker(config);
    if (::getuid() != 0) {
        // Only root can become another user to be refused; CI runs as root.
        BOOST_TEST_MESSAGE("not root: cannot switch to another user, permission check not exercised");
        return;
    }
    const passwd* nobody = ::getpwnam("nobody");
    BOOST_TEST_REQUIRE(nobody != nullptr);
    const auto name = broker.name();
    const pid_t child = test::fork_child([&] {
        if (::setuid(nobody->pw_uid) != 0) return 30;
        std::unique_ptr<Client> client;
        std::string error;
        const Status status = Client::attach(options_for(name), client, &error);
        return status == Status::permission_denied && error.find(name) != std::string::npos ? 0 : 31;
    });
    BOOST_TEST(test::wait_child(child, 10s) == 0);
}

// Another local user can run a broker of any name; a client must not take it
// for its own broker (issue 17: the impostor).
BOOST_AUTO_TEST_CASE(a_segment_of_an_untrusted_user_is_refused_naming_its_owner) {
    if (::getuid() != 0) {
        BOOST_TEST_MESSAGE("not root: cannot run a broker as another user, owner check not exercised");
        return;
    }
    const passwd* nobody = ::getpwnam("nobody");
    BOOST_TEST_REQUIRE(nobody != nullptr);
    auto config = test::make_config("impostor");
    test::add_queue(config, "orders", 4, 16);
    auto* flags = make_shared_flags();
    const pid_t impostor = test::fork_child([&] {
        if (::setgid(nobody->pw_gid) != 0 || ::setuid(nobody->pw_uid) != 0) return 30;
        daemon::Broker broker(config);
        broker.start();
        flags->ready.store(1);
        for (;;) ::pause();
        return 0;
    });
    BOOST_TEST_REQUIRE(test::eventually([&] { return flags->ready.load() == 1; }, 10s));
    std::unique_ptr<Client> client;
    std::string error;
    BOOST_TEST(Client::attach(options_for(config.name), client, &error) == Status::untrusted_segment);
    BOOST_TEST(error.find("nobody") != std::string::npos, error);
    BOOST_TEST(!client);
    // Trusted once named, through the options or the environment.
    auto trusting = options_for(config.name);
    trusting.broker_owner = "nobody";
    BOOST_TEST(Client::attach(trusting, client, &error) == Status::ok, error);
    client.reset();
    ::setenv("SHMQ_BROKER_OWNER", std::to_string(nobody->pw_uid).c_str(), 1);
    BOOST_TEST(Client::attach(options_for(config.name), client, &error) == Status::ok, error);
    client.reset();
    ::setenv("SHMQ_BROKER_OWNER", "no-such-user-here", 1);
    BOOST_TEST(Client::attach(options_for(config.name), client, &error) == Status::invalid_argument);
    ::unsetenv("SHMQ_BROKER_OWNER");
    ::kill(impostor, SIGKILL);
    test::wait_child(impostor, 10s);
    SegmentMapping::remove(config.name);
}
