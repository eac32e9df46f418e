// A batch producer that finds its queue full waits for room for a run of its
// messages while it spins (client/queue.cpp, room_worth_waiting_for). These
// prove, with a forked producer process and each wait strategy, that this is
// only a hint: room a consumer frees a slot at a time, or fewer slots than
// the run, is still used, in order, and nothing is lost or wedged.
#define BOOST_TEST_MODULE batch_wait_tests
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/take_word.hpp"
#include "shmq/client.hpp"
#include "tests/support/test_support.hpp"

using namespace shmq;
using namespace std::chrono_literals;

BOOST_TEST_DONT_PRINT_LOG_VALUE(shmq::WaitStrategy)

namespace {

constexpr std::uint32_t capacity = 8;

std::string message(std::uint32_t index) { return "message " + std::to_string(index); }

// In a forked child: sends messages [first, first + count) in one send_batch
// with `wait`. Exits with 0 when all of them were sent, how many were sent
// when the call timed out, 100 + status otherwise.
int send_in_one_batch(const std::string& broker, WaitStrategy wait, std::uint32_t first, std::uint32_t count,
                      Timeout timeout) {
    std::unique_ptr<Client> client;
    AttachOptions options;
    options.broker = broker;
    options.wait = wait;
    if (Client::attach(options, client) != Status::ok) return 40;
    Queue queue;
    if (client->open_queue("q", queue) != Status::ok) return 41;
    std::vector<std::string> payloads;
    std::vector<OutgoingMessage> batch;
    for (std::uint32_t i = 0; i < count; ++i) payloads.push_back(message(first + i));
    for (const auto& payload : payloads) batch.push_back({payload.data(), payload.size()});
    std::size_t sent = 0;
    const Status status = queue.send_batch(batch.data(), batch.size(), sent, timeout);
    if (status == Status::ok) return sent == count ? 0 : 99;
    if (status == Status::timeout) return static_cast<int>(sent);
    return 100 + static_cast<int>(status);
}

// Sends messages [0, capacity): the queue is then full.
void fill(Queue& queue) {
    for (std::uint32_t i = 0; i < capacity; ++i) {
        BOOST_TEST_REQUIRE(queue.send(message(i).data(), message(i).size(), no_wait) == Status::ok);
    }
}

std::string receive_one(Queue& queue) {
    std::string received;
    BOOST_TEST_REQUIRE(queue.receive(received, 10s) == Status::ok);
    return received;
}

// at_least_once: receives messages [first, first + count), in order,
// acknowledging each.
void receive_and_acknowledge(Queue& queue, std::uint32_t first, std::uint32_t count) {
    for (std::uint32_t i = first; i < first + count; ++i) {
        std::uint64_t delivery = 0;
        std::string received;
        BOOST_TEST_REQUIRE(queue.receive(received, 10s, &delivery) == Status::ok);
        BOOST_TEST(received == message(i));
        BOOST_TEST_REQUIRE(queue.acknowledge(delivery) == Status::ok);
    }
}

const WaitStrategy strategies[] = {WaitStrategy::spin_then_block, WaitStrategy::busy_poll, WaitStrategy::block};

}  // namespace

BOOST_DATA_TEST_CASE(a_batch_on_a_full_queue_drained_one_slot_at_a_time_sends_everything_in_order,
                     boost::unit_test::data::make(strategies), wait) {
    auto config = test::make_config("batchwait");
    test::add_queue(config, "q", capacity, 32);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    constexpr std::uint32_t count = 100;
    const pid_t producer = test::fork_child([&] { return send_in_one_batch(broker.name(), wait, 0, count, 60s); });
    // Slowly, so that the producer finds the queue full at nearly every step
    // and each time only one slot is free.
    for (std::uint32_t i = 0; i < count; ++i) {
        BOOST_TEST_REQUIRE(receive_one(queue) == message(i));
        std::this_thread::sleep_for(1ms);
    }
    BOOST_TEST(test::wait_child(producer, 60s) == 0);
    BOOST_TEST(test::queue_stats(*client, "q").depth == 0u);
}

BOOST_DATA_TEST_CASE(a_batch_waiting_for_room_uses_fewer_free_slots_than_its_run,
                     boost::unit_test::data::make(strategies), wait) {
    auto config = test::make_config("batchfew");
    test::add_queue(config, "q", capacity, 32);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    fill(queue);
    // A run of 16 waits for room for 4 (half the ring) while it spins; only 3
    // slots are ever freed, and they must still be filled.
    const pid_t producer =
        test::fork_child([&] { return send_in_one_batch(broker.name(), wait, capacity, 16, 60s); });
    // Most likely the producer is waiting by now; should it start later, its
    // first try takes the 3 slots at once and the outcome is the same.
    std::this_thread::sleep_for(200ms);
    for (std::uint32_t i = 0; i < 3; ++i) BOOST_TEST_REQUIRE(receive_one(queue) == message(i));
    // Published, not just claimed (peek shows only ready messages): a kill
    // between a claim and its copy would abandon the slot.
    BOOST_TEST_REQUIRE(test::eventually([&] {
        std::vector<std::string> ready;
        return queue.peek(capacity, ready) == Status::ok && ready.size() == capacity;
    }, 30s));
    // Still waiting for room for the rest of its run: it holds no slot.
    test::kill_and_reap(producer);
    for (std::uint32_t i = 3; i < capacity + 3; ++i) BOOST_TEST(receive_one(queue) == message(i));
    BOOST_TEST(test::queue_stats(*client, "q").depth == 0u);
}

// A single send that finds the queue full also waits, while it spins, for
// room for a run (client/queue.cpp, send_room); one freed slot must still
// take it, in each wait strategy.
BOOST_DATA_TEST_CASE(a_single_send_on_a_full_queue_takes_the_one_slot_freed,
                     boost::unit_test::data::make(strategies), wait) {
    auto config = test::make_config("sendone");
    test::add_queue(config, "q", capacity, 32);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    fill(queue);
    // One message, with send() (send_in_one_batch would go through send_batch).
    const pid_t producer = test::fork_child([&] {
        std::unique_ptr<Client> child;
        AttachOptions options;
        options.broker = broker.name();
        options.wait = wait;
        Queue full;
        if (Client::attach(options, child) != Status::ok || child->open_queue("q", full) != Status::ok) return 40;
        const auto text = message(capacity);
        return full.send(text.data(), text.size(), 60s) == Status::ok ? 0 : 41;
    });
    std::this_thread::sleep_for(200ms);  // most likely waiting by now; either way the outcome is the same
    BOOST_TEST_REQUIRE(receive_one(queue) == message(0));
    BOOST_TEST(test::wait_child(producer, 60s) == 0);
    for (std::uint32_t i = 1; i <= capacity; ++i) BOOST_TEST(receive_one(queue) == message(i));
}

// Under at_least_once a consumer moves head when it takes a message, and the
// slot stays its own until it acknowledges. A spin_then_block producer
// waiting on such slots must spin only for its budget and then sleep: it
// arms the queue's not_full event then, which a producer that spins (the hint
// said "room" while every try failed) never does. Then the acknowledgements
// wake it, and everything arrives in order.
BOOST_AUTO_TEST_CASE(a_producer_waiting_on_taken_unacknowledged_slots_sleeps_after_its_spin) {
    auto config = test::make_config("batchack");
    test::add_queue(config, "q", capacity, 32).delivery = config::DeliveryMode::at_least_once;
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    std::vector<std::uint64_t> deliveries(capacity);
    fill(queue);
    for (std::uint32_t i = 0; i < capacity; ++i) {
        std::string received;
        BOOST_TEST_REQUIRE(queue.receive(received, no_wait, &deliveries[i]) == Status::ok);
        BOOST_TEST_REQUIRE(received == message(i));
    }
    const pid_t producer = test::fork_child(
        [&] { return send_in_one_batch(broker.name(), WaitStrategy::spin_then_block, capacity, capacity, 60s); });
    test::RawSegment raw(broker.name());
    const bool slept = test::eventually([&] { return raw.view.ring(0).control().not_full.armed(); }, 30s);
    BOOST_TEST(slept, "the producer never went to sleep on the full queue");
    for (const auto delivery : deliveries) BOOST_TEST_REQUIRE(queue.acknowledge(delivery) == Status::ok);
    receive_and_acknowledge(queue, capacity, capacity);
    BOOST_TEST(test::wait_child(producer, 60s) == 0);
}

// Under at_least_once a producer spinning for room does not read head while
// the slot it watches holds the previous lap's message still ready: every
// take there marks the slot's word first (QueueRing::may_claim,
// HeadLook::unless_marked). A message decided without a mark (withdrawn by
// its producer, here every message in the ring) leaves the word as it was,
// so only the wait's periodic tries find the room: a busy-polling producer,
// which never sleeps, still sends everything, and only its messages arrive.
BOOST_AUTO_TEST_CASE(a_busy_polling_producer_finds_the_room_of_messages_withdrawn_while_it_waits) {
    auto config = test::make_config("batchwithdrawn");
    test::add_queue(config, "q", capacity, 32).delivery = config::DeliveryMode::at_least_once;
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    fill(queue);
    const pid_t producer = test::fork_child(
        [&] { return send_in_one_batch(broker.name(), WaitStrategy::busy_poll, capacity, capacity, 60s); });
    std::this_thread::sleep_for(200ms);  // most likely waiting by now; either way it must find the room
    test::RawSegment raw(broker.name());
    auto& ring = raw.view.ring(0);
    for (std::uint64_t position = 0; position < capacity; ++position) {
        ring.take_word_at(position).store(TakeWord::make(TakeState::withdrawn, {}, 0));
    }
    BOOST_TEST(test::wait_child(producer, 60s) == 0);
    receive_and_acknowledge(queue, capacity, capacity);
    std::string extra;
    BOOST_TEST(queue.receive(extra, no_wait) == Status::empty);
}
