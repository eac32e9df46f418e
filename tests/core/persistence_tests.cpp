// A broker with persist_path keeps its segment in a file: messages survive a
// clean stop, a crash, and a reboot (simulated: another boot id and a lock
// held by a thread of the old boot).
#define BOOST_TEST_MODULE persistence_tests
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

#include "common/segment_view.hpp"
#include "shmq/client.hpp"
#include "tests/support/test_support.hpp"

using namespace shmq;
using namespace std::chrono_literals;

namespace {

config::BrokerConfig persistent_config(const test::TempDir& dir, const std::string& tag) {
    auto config = test::make_config(tag);
    config.persist_path = dir.path() + "/" + tag + ".segment";
    config.flush_interval_ms = 50;
    test::add_queue(config, "orders", 16, 64);
    return config;
}

Queue open(std::unique_ptr<Client>& client, const std::string& address, const std::string& queue_name) {
    AttachOptions options;
    options.broker = address;
    std::string error;
    BOOST_TEST_REQUIRE(Client::attach(options, client, &error) == Status::ok, error);
    Queue queue;
    BOOST_TEST_REQUIRE(client->open_queue(queue_name, queue) == Status::ok);
    return queue;
}

}  // namespace

BOOST_AUTO_TEST_CASE(messages_survive_a_clean_stop_in_the_file) {
    test::TempDir dir;
    const auto config = persistent_config(dir, "cleanstop");
    {
        test::InProcessBroker broker(config);
        std::unique_ptr<Client> client;
        auto orders = open(client, config.persist_path, "orders");
        for (int i = 0; i < 5; ++i) BOOST_TEST(orders.send("kept " + std::to_string(i), 1s) == Status::ok);
    }
    BOOST_TEST(std::filesystem::exists(config.persist_path));
    BOOST_TEST(!test::segment_exists(config.name));  // nothing in /dev/shm
    struct stat info {};
    BOOST_TEST_REQUIRE(::stat(config.persist_path.c_str(), &info) == 0);
    BOOST_TEST((info.st_mode & 0777) == 0600u);

    test::InProcessBroker successor(config);
    BOOST_TEST(successor.broker().adopted());
    std::unique_ptr<Client> client;
    auto orders = open(client, config.persist_path, "orders");
    for (int i = 0; i < 5; ++i) {
        std::string out;
        BOOST_TEST(orders.receive(out, 1s) == Status::ok);
        BOOST_TEST(out == "kept " + std::to_string(i));
    }
}

BOOST_AUTO_TEST_CASE(messages_survive_a_broker_crash_in_the_file) {
    test::TempDir dir;
    const auto config = persistent_config(dir, "crash");
    const pid_t doomed = test::fork_child([&] {
        daemon::Broker broker(config);
        broker.start();
        std::unique_ptr<Client> client;
        AttachOptions options;
        options.broker = config.persist_path;
        if (Client::attach(options, client) != Status::ok) return 1;
        Queue orders;
        client->open_queue("orders", orders);
        orders.send("written before the crash", 1s);
        ::kill(::getpid(), SIGKILL);
        return 2;
    });
    BOOST_TEST(test::wait_child(doomed, 10s) == 128 + SIGKILL);
    test::InProcessBroker successor(config);
    std::unique_ptr<Client> client;
    auto orders = open(client, config.persist_path, "orders");
    std::string out;
    BOOST_TEST(orders.receive(out, 1s) == Status::ok);
    BOOST_TEST(out == "written before the crash");
}

BOOST_AUTO_TEST_CASE(after_a_reboot_stale_locks_and_clients_of_the_old_boot_are_reset) {
    test::TempDir dir;
    const auto config = persistent_config(dir, "reboot");
    {
        test::InProcessBroker broker(config);
        // A client of the old boot that never detaches: its record stays
        // active, as after a power cut.
        const pid_t old_client = test::fork_child([&] {
            std::unique_ptr<Client> client;
            AttachOptions options;
            options.broker = config.persist_path;
            if (Client::attach(options, client) != Status::ok) return 1;
            Queue orders;
            client->open_queue("orders", orders);
            if (orders.send("from the old boot", 1s) != Status::ok) return 2;
            ::_exit(0);  // no detach
        });
        BOOST_TEST(test::wait_child(old_client, 10s) == 0);
    }
    test::simulate_reboot(config.persist_path, [](SegmentView& view) -> RobustMutex& {
        return view.ring(0).control().producer_lock;
    });
    test::InProcessBroker successor(config);
    std::unique_ptr<Client> client;
    auto orders = open(client, config.persist_path, "orders");
    BOOST_TEST(orders.send("after the reboot", 1s) == Status::ok);
    std::string out;
    BOOST_TEST(orders.receive(out, 1s) == Status::ok);
    BOOST_TEST(out == "from the old boot");
    BOOST_TEST(orders.receive(out, 1s) == Status::ok);
    BOOST_TEST(out == "after the reboot");
    BOOST_TEST(client->stats().clients.size() == 1u);  // the old boot's client was reclaimed
}
