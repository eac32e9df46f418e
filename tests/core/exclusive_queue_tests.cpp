// Queues configured with `producers: single` or `consumers: single`: one
// thread of one client holds each such side at a time, by a lease in the
// queue's control block (docs/crash-safety.md, "Single producer, single
// consumer"). Everyone else is refused with exclusive_held, nothing is ever
// lost when a holder detaches or is killed, and no value written into a
// lease word crashes or wedges the broker.
#define BOOST_TEST_MODULE exclusive_queue_tests
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>
#include <unistd.h>
#include <utility>

#include "common/layout.hpp"
#include "shmq/client.hpp"
#include "tests/support/programs.hpp"
#include "tests/support/test_support.hpp"

using namespace shmq;
using namespace std::chrono_literals;

namespace {

config::BrokerConfig single_queue_config(const std::string& tag, config::Sharing producers,
                                         config::Sharing consumers) {
    auto config = test::make_config(tag);
    auto& queue = test::add_queue(config, "q", 8, 64);
    queue.producers = producers;
    queue.consumers = consumers;
    return config;
}

std::string received(Queue& queue) {
    std::string out;
    BOOST_TEST_REQUIRE(queue.receive(out, 5s) == Status::ok);
    return out;
}

// Two clients of one broker, each with queue "q" open.
struct TwoClients {
    explicit TwoClients(const std::string& broker)
        : first(test::attach(broker)),
          second(test::attach(broker)),
          first_queue(test::open_queue(*first, "q")),
          second_queue(test::open_queue(*second, "q")) {}
    std::unique_ptr<Client> first, second;
    Queue first_queue, second_queue;
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_single_producer_queue_admits_one_producing_thread_at_a_time) {
    const auto config = single_queue_config("oneproducer", config::Sharing::single, config::Sharing::many);
    test::InProcessBroker broker(config);
    TwoClients clients(broker.name());
    auto& [first, second, first_queue, second_queue] = clients;
    BOOST_TEST_REQUIRE(first_queue.send("a1", 1s) == Status::ok);
    // Another client, by any kind of send, and whatever its timeout: the
    // answer comes at once, and nothing is sent.
    BOOST_TEST(second_queue.send("b1", no_wait) == Status::exclusive_held);
    BOOST_TEST(second_queue.send("b1", wait_forever) == Status::exclusive_held);
    const OutgoingMessage batch[] = {{"b2", 2}, {"b3", 2}};
    std::size_t sent = 9;
    BOOST_TEST(second_queue.send_batch(batch, 2, sent, 1s) == Status::exclusive_held);
    BOOST_TEST(sent == 0u);
    // Another thread of the holder: its plain stores would race the first's.
    Status from_another_thread = Status::ok;
    std::thread([&] { from_another_thread = first_queue.send("a-other", 1s); }).join();
    BOOST_TEST(from_another_thread == Status::exclusive_held);
    // Consumers are many: any client receives.
    BOOST_TEST(received(second_queue) == "a1");
    BOOST_TEST(first_queue.send("a2", 1s) == Status::ok);
    // A detach hands the side over at once, without waiting for the broker.
    first.reset();
    BOOST_TEST(second_queue.send("b4", no_wait) == Status::ok);
    BOOST_TEST(received(second_queue) == "a2");
    BOOST_TEST(received(second_queue) == "b4");
    BOOST_TEST(test::queue_stats(*second, "q").depth == 0u);
}

// Who holds a single side is in the stats, `shmq list` and its JSON: the
// operator's answer to an exclusive_held.
BOOST_AUTO_TEST_CASE(the_stats_and_shmq_list_name_the_holder_of_a_single_side) {
    const auto config = single_queue_config("leasestats", config::Sharing::single, config::Sharing::many);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    auto stats = test::queue_stats(*client, "q");
    BOOST_TEST(stats.producers_sharing == "single");
    BOOST_TEST(stats.consumers_sharing == "many");
    BOOST_TEST(stats.producer_lease_pid == 0);
    BOOST_TEST_REQUIRE(queue.send("m", 1s) == Status::ok);
    stats = test::queue_stats(*client, "q");
    BOOST_TEST(stats.producer_lease_pid == ::getpid());
    BOOST_TEST(stats.consumer_lease_pid == 0);
    const std::string shmq_cli = SHMQ_BINARY_DIR "/cli/shmq";
    const auto listed = test::run_program({shmq_cli, "--broker", broker.name(), "list"});
    BOOST_TEST(listed.exit_code == 0, listed.err);
    BOOST_TEST(listed.out.find("SINGLE") != std::string::npos, listed.out);
    BOOST_TEST(listed.out.find("producer(pid " + std::to_string(::getpid()) + ")") != std::string::npos, listed.out);
    const auto json = test::run_program({shmq_cli, "--broker", broker.name(), "list", "--json"});
    BOOST_TEST(json.exit_code == 0, json.err);
    BOOST_TEST(json.out.find("\"producer_lease_pid\": " + std::to_string(::getpid())) != std::string::npos, json.out);
    BOOST_TEST(json.out.find("\"producers_sharing\": \"single\"") != std::string::npos, json.out);
}

BOOST_AUTO_TEST_CASE(a_single_consumer_queue_admits_one_consuming_thread_at_a_time) {
    const auto config = single_queue_config("oneconsumer", config::Sharing::many, config::Sharing::single);
    test::InProcessBroker broker(config);
    TwoClients clients(broker.name());
    auto& [first, second, first_queue, second_queue] = clients;
    // Producers are many.
    for (const char* text : {"m1", "m2", "m3", "m4"}) BOOST_TEST_REQUIRE(second_queue.send(text, 1s) == Status::ok);
    BOOST_TEST(received(first_queue) == "m1");
    std::string out;
    BOOST_TEST(second_queue.receive(out, 1s) == Status::exclusive_held);
    char buffer[64];
    IncomingMessage batch[] = {{buffer, sizeof buffer, 0, 0}};
    std::size_t count = 9;
    BOOST_TEST(second_queue.receive_batch(batch, 1, count, 1s) == Status::exclusive_held);
    BOOST_TEST(count == 0u);
    Status from_another_thread = Status::ok;
    std::thread([&] {
        std::string theirs;
        from_another_thread = first_queue.receive(theirs, 1s);
    }).join();
    BOOST_TEST(from_another_thread == Status::exclusive_held);
    BOOST_TEST(received(first_queue) == "m2");
    first.reset();
    BOOST_TEST(received(second_queue) == "m3");
    BOOST_TEST(received(second_queue) == "m4");
}

// A holder of both leases killed with SIGKILL: until the broker has reaped
// it the sides are refused, then the next client takes them over, and
// every message the dead one sent and did not take is delivered, in order.
BOOST_AUTO_TEST_CASE(a_killed_lease_holder_hands_its_sides_on_and_loses_nothing) {
    const auto config = single_queue_config("leasekill", config::Sharing::single, config::Sharing::single);
    test::InProcessBroker broker(config);
    const pid_t holder = test::start_in_place(broker.name(), [](Client& child) {
        Queue queue;
        if (child.open_queue("q", queue) != Status::ok) return false;
        for (const char* text : {"d1", "d2", "d3"}) {
            if (queue.send(text, 1s) != Status::ok) return false;
        }
        std::string out;
        return queue.receive(out, 1s) == Status::ok && out == "d1";
    });
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    BOOST_TEST(queue.send("late", 1s) == Status::exclusive_held);
    std::string out;
    BOOST_TEST(queue.receive(out, 1s) == Status::exclusive_held);
    ::kill(holder, SIGKILL);
    BOOST_TEST(test::wait_child(holder, 5s) == 128 + SIGKILL);
    BOOST_TEST(test::once_the_lease_is_free([&] { return queue.send("mine", 1s); }) == Status::ok);
    BOOST_TEST(test::once_the_lease_is_free([&] { return queue.receive(out, 1s); }) == Status::ok);
    BOOST_TEST(out == "d2");
    BOOST_TEST(received(queue) == "d3");
    BOOST_TEST(received(queue) == "mine");
    const auto stats = test::queue_stats(*client, "q");
    BOOST_TEST(stats.depth == 0u);
    BOOST_TEST(stats.abandoned == 0u);
    BOOST_TEST(!stats.quarantined);
}

// Any value in a lease word: the broker reads it once, frees it unless it
// names the current tenant of an active client record, and carries on.
BOOST_AUTO_TEST_CASE(scribbled_lease_words_are_freed_and_crash_nothing) {
    const auto config = single_queue_config("leasescribble", config::Sharing::single, config::Sharing::single);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    test::RawSegment raw(broker.name());
    auto& control = raw.view.ring(0).control();
    const std::uint64_t scribbles[] = {
        ~0ull,                                   // every bit
        layout::lease_of(0xFFFF, 1, 1),          // a record index beyond the table
        layout::lease_of(3, 77, 5),              // a free record
        layout::lease_of(0, 0, 9),               // generation 0: nobody
        0x8000'0000'0000'0000ull,                // only a thread
    };
    for (const auto scribble : scribbles) {
        BOOST_TEST_CONTEXT("lease words scribbled to " << std::hex << scribble) {
            control.producer_lease.store(scribble);
            control.consumer_lease.store(scribble);
            BOOST_TEST(test::once_the_lease_is_free([&] { return queue.send("m", 1s); }) == Status::ok);
            std::string out;
            BOOST_TEST(test::once_the_lease_is_free([&] { return queue.receive(out, 1s); }) == Status::ok);
            BOOST_TEST(out == "m");
            // Given back, so that the next scribble lands on free words.
            client.reset();
            client = test::attach(broker.name());
            queue = test::open_queue(*client, "q");
        }
    }
    BOOST_TEST(!test::queue_stats(*client, "q").quarantined);
}

namespace {

// A client of `broker` whose waits sleep at once, and never wake on their own
// before their timeout (SHMQ_TEST_SLEEP_SLICE_MS, set in this child alone),
// with queue "q" open.
bool open_blocking(const std::string& broker, std::unique_ptr<Client>& client, Queue& queue) {
    ::setenv("SHMQ_TEST_SLEEP_SLICE_MS", "3600000", 1);
    AttachOptions options;
    options.broker = broker;
    options.wait = WaitStrategy::block;
    return Client::attach(options, client) == Status::ok && client->open_queue("q", queue) == Status::ok;
}

// A child's side of the wake-up test: `count` messages, each its number, sent
// or received one by one. 0 when every one went through in order; otherwise
// which step failed.
int send_numbers(const std::string& broker, std::uint32_t count) {
    std::unique_ptr<Client> client;
    Queue queue;
    if (!open_blocking(broker, client, queue)) return 40;
    for (std::uint32_t number = 0; number < count; ++number) {
        if (queue.send(&number, sizeof number, 60s) != Status::ok) return 41;
    }
    return 0;
}

int receive_numbers(const std::string& broker, std::uint32_t count) {
    std::unique_ptr<Client> client;
    Queue queue;
    if (!open_blocking(broker, client, queue)) return 50;
    for (std::uint32_t expected = 0; expected < count; ++expected) {
        std::uint32_t number = 0;
        std::size_t size = 0;
        if (queue.receive(&number, sizeof number, size, 60s) != Status::ok) return 51;
        if (size != sizeof number || number != expected) return 52;
    }
    return 0;
}

}  // namespace

// A single side's lease holder moves its counter by a plain store and wakes
// the other side with no fence; a waiter on such a queue fences for it
// before it sleeps (platform::fence_registered_processes; docs/crash-safety.md,
// "Wake-ups"). Here a producer and a consumer, in processes of their own,
// sleep at nearly every message (a ring of two, `block`), and their sleeps
// never end on their own (SHMQ_TEST_SLEEP_SLICE_MS): a wake-up missed even
// once leaves a side asleep until its 60 s timeout, which fails its child.
BOOST_AUTO_TEST_CASE(a_single_side_that_wakes_the_other_with_no_fence_never_leaves_it_asleep) {
    constexpr std::uint32_t count = 20'000;
    const std::pair<config::Sharing, config::Sharing> sharings[] = {
        {config::Sharing::single, config::Sharing::single},
        {config::Sharing::single, config::Sharing::many},
        {config::Sharing::many, config::Sharing::single},
    };
    for (const auto& [producers, consumers] : sharings) {
        BOOST_TEST_CONTEXT("producers: " << (producers == config::Sharing::single ? "single" : "many")
                                         << ", consumers: "
                                         << (consumers == config::Sharing::single ? "single" : "many")) {
            auto config = test::make_config("wakeups");
            auto& queue = test::add_queue(config, "q", 2, 64);
            queue.producers = producers;
            queue.consumers = consumers;
            test::InProcessBroker broker(config);
            const pid_t consumer = test::fork_child([&] { return receive_numbers(broker.name(), count); });
            const pid_t producer = test::fork_child([&] { return send_numbers(broker.name(), count); });
            BOOST_TEST(test::wait_child(producer, 240s) == 0);
            BOOST_TEST(test::wait_child(consumer, 240s) == 0);
        }
    }
}
