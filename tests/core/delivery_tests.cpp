// at_least_once delivery: a delivery stays in flight until acknowledged, is
// redelivered when its consumer dies or its ack times out, and moves to the
// dead-letter queue after max_deliveries.
#define BOOST_TEST_MODULE delivery_tests
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>
#include <vector>

#include <sys/mman.h>

#include "common/monotonic_clock.hpp"
#include "shmq/client.hpp"
#include "tests/support/test_support.hpp"

using namespace shmq;
using namespace std::chrono_literals;

namespace {

config::BrokerConfig reliable_config(const std::string& tag, std::uint32_t ack_timeout_ms, std::uint32_t max_deliveries,
                                     bool with_dead_letter) {
    auto config = test::make_config(tag);
    auto& jobs = test::add_queue(config, "jobs", 8, 64);
    jobs.delivery = config::DeliveryMode::at_least_once;
    jobs.ack_timeout_ms = ack_timeout_ms;
    jobs.max_deliveries = max_deliveries;
    if (with_dead_letter) {
        jobs.dead_letter = "jobs.dead";
        test::add_queue(config, "jobs.dead", 8, 64);
    }
    return config;
}

// Fills the 8 slots of `jobs` and takes every message without acknowledging
// it: the queue is full of deliveries in flight, whose tokens are returned.
std::vector<std::uint64_t> fill_and_hold(Queue& jobs) {
    std::vector<std::uint64_t> deliveries;
    for (int i = 0; i < 8; ++i) BOOST_TEST(jobs.send("m" + std::to_string(i), 1s) == Status::ok);
    for (int i = 0; i < 8; ++i) {
        std::string out;
        std::uint64_t delivery = 0;
        BOOST_TEST(jobs.receive(out, 1s, &delivery) == Status::ok);
        deliveries.push_back(delivery);
    }
    return deliveries;
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_acknowledged_delivery_is_gone_for_good) {
    test::InProcessBroker broker(reliable_config("ackok", 200, 3, false));
    auto client = test::attach(broker.name());
    auto jobs = test::open_queue(*client, "jobs");
    BOOST_TEST(jobs.send("job", 1s) == Status::ok);
    std::string out;
    std::uint64_t delivery = 0;
    BOOST_TEST(jobs.receive(out, 1s, &delivery) == Status::ok);
    BOOST_TEST(out == "job");
    BOOST_TEST(jobs.acknowledge(delivery) == Status::ok);
    BOOST_TEST(jobs.acknowledge(delivery) == Status::not_acknowledgeable);  // twice is an error
    BOOST_TEST(jobs.receive(out, 500ms) == Status::timeout);               // well past the ack timeout
    BOOST_TEST(test::queue_stats(*client, "jobs").redelivered == 0u);
}

BOOST_AUTO_TEST_CASE(an_unacknowledged_delivery_is_redelivered_after_the_ack_timeout) {
    test::InProcessBroker broker(reliable_config("acktimeout", 150, 5, false));
    auto client = test::attach(broker.name());
    auto jobs = test::open_queue(*client, "jobs");
    BOOST_TEST(jobs.send("job", 1s) == Status::ok);
    std::string out;
    std::uint64_t first = 0, second = 0;
    BOOST_TEST(jobs.receive(out, 1s, &first) == Status::ok);
    const auto taken = std::chrono::steady_clock::now();
    BOOST_TEST(jobs.receive(out, 2s, &second) == Status::ok);
    BOOST_TEST(out == "job");
    BOOST_TEST((std::chrono::steady_clock::now() - taken >= 150ms));
    BOOST_TEST(jobs.acknowledge(first) == Status::not_acknowledgeable);  // that delivery expired
    BOOST_TEST(jobs.acknowledge(second) == Status::ok);
    BOOST_TEST(test::queue_stats(*client, "jobs").redelivered == 1u);
}

// A receive marks its delivery copied out and reads no clock; the broker's
// next tick starts the ack clock from its own (docs/crash-safety.md, "Ack
// clocks"): the deadline is never before the copy plus the timeout, and at
// most a tick after it.
BOOST_AUTO_TEST_CASE(the_broker_starts_the_ack_clock_after_the_copy) {
    constexpr std::uint64_t timeout_ns = 150'000'000;
    test::InProcessBroker broker(reliable_config("ackclock", 150, 5, false));
    test::RawSegment raw(broker.name());
    auto client = test::attach(broker.name());
    auto jobs = test::open_queue(*client, "jobs");
    BOOST_TEST_REQUIRE(jobs.send("job", 1s) == Status::ok);
    std::string out;
    std::uint64_t delivery = 0, position = 0;
    const auto before = monotonic_now_ns();
    BOOST_TEST_REQUIRE(jobs.receive(out, 1s, &delivery) == Status::ok);
    const auto copied = monotonic_now_ns();
    BOOST_TEST_REQUIRE(jobs.delivery_position(delivery, position) == Status::ok);
    const auto& deadline = raw.view.ring(0).slot_at(position).ack_deadline_ns;
    const auto first = deadline.load();
    // Still marked (no tick since the copy), or started by a tick after it.
    BOOST_TEST((first == layout::ack_clock_copied(position, 1) || first >= before + timeout_ns));
    test::wait_for_a_broker_tick_after(raw.view.root(), copied);
    const auto started = deadline.load();
    BOOST_TEST(!layout::is_ack_clock_copied(started));
    BOOST_TEST(started >= before + timeout_ns);
    BOOST_TEST(started <= monotonic_now_ns() + timeout_ns);
    // Handed out again once that deadline passed, not before.
    std::uint64_t again = 0;
    BOOST_TEST_REQUIRE(jobs.receive(out, 5s, &again) == Status::ok);
    BOOST_TEST(monotonic_now_ns() >= started);
    BOOST_TEST(jobs.acknowledge(delivery) == Status::not_acknowledgeable);
    BOOST_TEST(jobs.acknowledge(again) == Status::ok);
}

BOOST_AUTO_TEST_CASE(a_delivery_keeps_its_full_ring_position_across_redeliveries_and_laps) {
    // Eight slots, 20 messages: positions pass the ring's capacity, and the
    // redelivery of the last one must name the same position as its first.
    test::InProcessBroker broker(reliable_config("position", 150, 5, false));
    auto client = test::attach(broker.name());
    auto jobs = test::open_queue(*client, "jobs");
    std::string out;
    for (std::uint64_t expected = 0; expected < 20; ++expected) {
        BOOST_TEST(jobs.send("job", 1s) == Status::ok);
        std::uint64_t delivery = 0, position = 0;
        BOOST_TEST(jobs.receive(out, 1s, &delivery) == Status::ok);
        BOOST_TEST(jobs.delivery_position(delivery, position) == Status::ok);
        BOOST_TEST(position == expected);
        if (expected + 1 < 20) {
            BOOST_TEST(jobs.acknowledge(delivery) == Status::ok);
            BOOST_TEST(jobs.delivery_position(delivery, position) == Status::not_acknowledgeable);
        }
    }
    std::uint64_t again = 0, position = 0;
    BOOST_TEST(jobs.receive(out, 5s, &again) == Status::ok);  // the last one, after its ack timeout
    BOOST_TEST(jobs.delivery_position(again, position) == Status::ok);
    BOOST_TEST(position == 19u);
    BOOST_TEST(jobs.acknowledge(again) == Status::ok);
}

BOOST_AUTO_TEST_CASE(a_delivery_held_by_a_killed_consumer_goes_to_another_consumer) {
    test::InProcessBroker broker(reliable_config("consdeath", 60'000, 5, false));
    auto client = test::attach(broker.name());
    auto jobs = test::open_queue(*client, "jobs");
    BOOST_TEST(jobs.send("precious", 1s) == Status::ok);
    void* memory = ::mmap(nullptr, sizeof(std::atomic<int>), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    auto* taken = new (memory) std::atomic<int>(0);
    const auto name = broker.name();
    const pid_t doomed = test::fork_child([&] {
        std::unique_ptr<Client> own;
        AttachOptions options;
        options.broker = name;
        if (Client::attach(options, own) != Status::ok) return 1;
        Queue queue;
        own->open_queue("jobs", queue);
        std::string message;
        if (queue.receive(message, 1s) != Status::ok) return 2;
        taken->store(1);
        for (;;) ::pause();  // dies holding the delivery, unacknowledged
        return 0;
    });
    BOOST_TEST_REQUIRE(test::eventually([&] { return taken->load() == 1; }, 5s));
    std::string out;
    std::size_t size = 0;
    BOOST_TEST(jobs.try_receive(out.data(), 0, size) == Status::empty);
    ::kill(doomed, SIGKILL);
    test::wait_child(doomed, 5s);
    const auto killed = std::chrono::steady_clock::now();
    std::uint64_t delivery = 0;
    BOOST_TEST(jobs.receive(out, 2s, &delivery) == Status::ok);
    BOOST_TEST((std::chrono::steady_clock::now() - killed < 1s));
    BOOST_TEST(out == "precious");
    BOOST_TEST(jobs.acknowledge(delivery) == Status::ok);
}

BOOST_AUTO_TEST_CASE(a_message_that_fails_max_deliveries_moves_to_the_dead_letter_queue) {
    test::InProcessBroker broker(reliable_config("deadletter", 100, 2, true));
    auto client = test::attach(broker.name());
    auto jobs = test::open_queue(*client, "jobs");
    auto dead = test::open_queue(*client, "jobs.dead");
    BOOST_TEST(jobs.send("poison", 1s) == Status::ok);
    std::string out;
    for (int attempt = 0; attempt < 2; ++attempt) {
        std::uint64_t delivery = 0;
        BOOST_TEST_REQUIRE(jobs.receive(out, 2s, &delivery) == Status::ok);
        BOOST_TEST(out == "poison");  // and never acknowledged
    }
    BOOST_TEST(dead.receive(out, 2s) == Status::ok);
    BOOST_TEST(out == "poison");
    BOOST_TEST(jobs.receive(out, 300ms) == Status::timeout);
    const auto stats = test::queue_stats(*client, "jobs");
    BOOST_TEST(stats.dead_lettered == 1u);
    BOOST_TEST(stats.redelivered == 1u);
}

BOOST_AUTO_TEST_CASE(unacknowledged_deliveries_hold_their_slots_so_nothing_is_overwritten) {
    test::InProcessBroker broker(reliable_config("holdslots", 60'000, 5, false));
    auto client = test::attach(broker.name());
    auto jobs = test::open_queue(*client, "jobs");
    const auto deliveries = fill_and_hold(jobs);
    BOOST_TEST(jobs.send("no room yet", 100ms) == Status::timeout);
    BOOST_TEST(jobs.acknowledge(deliveries[0]) == Status::ok);
    BOOST_TEST(jobs.send("room now", 1s) == Status::ok);
}

BOOST_AUTO_TEST_CASE(a_batch_acknowledgement_frees_the_slots_it_names_and_counts_the_ones_not_held) {
    test::InProcessBroker broker(reliable_config("ackbatch", 60'000, 5, false));
    auto client = test::attach(broker.name());
    auto jobs = test::open_queue(*client, "jobs");
    const auto deliveries = fill_and_hold(jobs);
    // Five held, one twice, and a token that names nothing.
    std::vector<std::uint64_t> batch(deliveries.begin(), deliveries.begin() + 5);
    batch.push_back(deliveries[0]);
    batch.push_back(0);
    std::size_t acknowledged = 99;
    BOOST_TEST(jobs.acknowledge_batch(batch.data(), batch.size(), acknowledged) == Status::not_acknowledgeable);
    BOOST_TEST(acknowledged == 5u);
    for (int i = 0; i < 5; ++i) BOOST_TEST(jobs.send("room " + std::to_string(i), 1s) == Status::ok);
    BOOST_TEST(jobs.send("no more room", 100ms) == Status::timeout);  // the other three stay held
    BOOST_TEST(jobs.acknowledge_batch(deliveries.data() + 5, 3, acknowledged) == Status::ok);
    BOOST_TEST(acknowledged == 3u);
    BOOST_TEST(jobs.acknowledge_batch(nullptr, 0, acknowledged) == Status::ok);
    BOOST_TEST(acknowledged == 0u);
    BOOST_TEST(test::queue_stats(*client, "jobs").redelivered == 0u);
}

BOOST_AUTO_TEST_CASE(a_producer_waiting_for_room_gets_every_slot_a_batch_acknowledgement_frees) {
    const auto config = reliable_config("ackbatchwake", 60'000, 5, false);
    // The producer is a process of its own, forked before the broker's
    // threads start (test::HeldChild); it waits for room (asleep or still
    // spinning when the batch comes, it must get all eight slots) and exits
    // with how many it sent.
    test::HeldChild producer([&] {
        std::unique_ptr<Client> own;
        AttachOptions options;
        options.broker = config.name;
        if (Client::attach(options, own) != Status::ok) return 100;
        Queue queue;
        if (own->open_queue("jobs", queue) != Status::ok) return 101;
        int sent = 0;
        for (int i = 0; i < 8; ++i) sent += queue.send("again " + std::to_string(i), 30s) == Status::ok ? 1 : 0;
        return sent;
    });
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto jobs = test::open_queue(*client, "jobs");
    const auto deliveries = fill_and_hold(jobs);
    producer.release();
    std::size_t acknowledged = 0;
    BOOST_TEST(jobs.acknowledge_batch(deliveries.data(), deliveries.size(), acknowledged) == Status::ok);
    BOOST_TEST(acknowledged == 8u);
    BOOST_TEST(producer.wait(40s) == 8);
}

BOOST_AUTO_TEST_CASE(a_consumer_that_detaches_hands_back_its_unacknowledged_deliveries_at_once) {
    test::InProcessBroker broker(reliable_config("detach", 60'000, 5, false));
    auto producer = test::attach(broker.name());
    auto jobs = test::open_queue(*producer, "jobs");
    BOOST_TEST(jobs.send("unfinished", 1s) == Status::ok);
    {
        auto consumer = test::attach(broker.name());
        auto mine = test::open_queue(*consumer, "jobs");
        std::string out;
        std::uint64_t delivery = 0;
        BOOST_TEST(mine.receive(out, 1s, &delivery) == Status::ok);
    }  // detaches without acknowledging
    std::string out;
    std::uint64_t delivery = 0;
    const auto start = std::chrono::steady_clock::now();
    BOOST_TEST(jobs.receive(out, 2s, &delivery) == Status::ok);
    BOOST_TEST((std::chrono::steady_clock::now() - start < 1s));  // not the 60 s ack timeout
    BOOST_TEST(out == "unfinished");
    BOOST_TEST(delivery_attempt(delivery) == 2u);
    BOOST_TEST(jobs.acknowledge(delivery) == Status::ok);
}
