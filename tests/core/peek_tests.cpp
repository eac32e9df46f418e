// Queue::peek (issue 14): copies of waiting messages, read without taking
// them. It must write nothing to shared memory, and while other processes
// produce and consume it must never return a message torn by a slot's reuse.
#define BOOST_TEST_MODULE peek_tests
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "tests/support/test_support.hpp"

using namespace shmq;
using namespace std::chrono_literals;

namespace {

constexpr std::uint32_t max_size = 64;

// Message `sequence`: its number, a colon, then a filler whose letter and
// length both follow from the number, so that a message mixing two is seen.
std::string message_of(std::uint32_t sequence) {
    const auto number = std::to_string(sequence) + ":";
    return number + std::string(8 + sequence % (max_size - 8 - number.size()), static_cast<char>('a' + sequence % 26));
}

bool whole(const std::string& message, std::uint32_t& sequence) {
    const auto colon = message.find(':');
    if (colon == std::string::npos || colon == 0) return false;
    sequence = static_cast<std::uint32_t>(std::stoul(message.substr(0, colon)));
    return message == message_of(sequence);
}

}  // namespace

BOOST_AUTO_TEST_CASE(peek_writes_nothing_and_takes_nothing) {
    auto config = test::make_config("peekro");
    test::add_queue(config, "q", 8, max_size);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    for (std::uint32_t i = 0; i < 5; ++i) BOOST_TEST_REQUIRE(queue.send(message_of(i), 1s) == Status::ok);

    test::RawSegment raw(broker.name());
    auto& ring = raw.view.ring(0);
    const auto* slots = reinterpret_cast<const char*>(&ring.slot_at(0));
    const std::size_t slot_bytes = ring.geometry().capacity * ring.geometry().slot_stride;
    const std::string slots_before(slots, slot_bytes);
    const auto head = ring.control().head.load(), tail = ring.control().tail.load();

    std::vector<std::string> seen;
    BOOST_TEST(queue.peek(3, seen) == Status::ok);
    BOOST_TEST(seen == (std::vector<std::string>{message_of(0), message_of(1), message_of(2)}));
    seen.clear();
    BOOST_TEST(queue.peek(100, seen) == Status::ok);
    BOOST_TEST(seen.size() == 5u);

    BOOST_TEST((std::string(slots, slot_bytes) == slots_before));
    BOOST_TEST(ring.control().head.load() == head);
    BOOST_TEST(ring.control().tail.load() == tail);
    BOOST_TEST(test::queue_stats(*client, "q").consumers == 0u);
    for (std::uint32_t i = 0; i < 5; ++i) {
        std::string out;
        BOOST_TEST_REQUIRE(queue.receive(out, 1s) == Status::ok);
        BOOST_TEST(out == message_of(i));
    }
}

// A producer and two consumer processes race through a small ring, reusing
// every slot thousands of times, while this process peeks: each message it
// sees is whole, in order, and no consumer misses one.
BOOST_AUTO_TEST_CASE(peek_among_live_producers_and_consumers_never_returns_a_torn_message) {
    constexpr std::uint32_t total = 20'000;
    auto config = test::make_config("peekrace");
    test::add_queue(config, "q", 8, max_size);
    test::InProcessBroker broker(config);
    const auto name = broker.name();
    auto& received = test::shared_counter();
    auto& producer_done = test::shared_counter();

    std::vector<pid_t> consumers;
    for (int c = 0; c < 2; ++c) {
        consumers.push_back(test::fork_child([&] {
            auto client = test::attach_or_exit(name);
            Queue queue;
            if (client->open_queue("q", queue) != Status::ok) return 41;
            std::string out;
            for (;;) {
                const Status status = queue.receive(out, 100ms);
                if (status == Status::ok) {
                    std::uint32_t sequence = 0;
                    if (!whole(out, sequence)) return 42;
                    received.fetch_add(1);
                } else if (status == Status::timeout) {
                    if (producer_done.load() != 0) return 0;
                } else {
                    return 43;
                }
            }
        }));
    }
    const pid_t producer = test::fork_child([&] {
        auto client = test::attach_or_exit(name);
        Queue queue;
        if (client->open_queue("q", queue) != Status::ok) return 41;
        for (std::uint32_t i = 0; i < total; ++i) {
            if (queue.send(message_of(i), 30s) != Status::ok) return 44;
        }
        producer_done.store(1);
        return 0;
    });

    auto client = test::attach(name);
    auto queue = test::open_queue(*client, "q");
    std::uint64_t peeked = 0, torn = 0, out_of_order = 0;
    while (producer_done.load() == 0) {
        std::vector<std::string> seen;
        BOOST_TEST_REQUIRE(queue.peek(8, seen) == Status::ok);
        std::uint32_t previous = 0;
        for (std::size_t i = 0; i < seen.size(); ++i) {
            std::uint32_t sequence = 0;
            if (!whole(seen[i], sequence)) {
                ++torn;
                continue;
            }
            if (i > 0 && sequence <= previous) ++out_of_order;
            previous = sequence;
        }
        peeked += seen.size();
    }
    BOOST_TEST(test::wait_child(producer, 120s) == 0);
    for (const pid_t consumer : consumers) BOOST_TEST(test::wait_child(consumer, 120s) == 0);
    BOOST_TEST(torn == 0u);
    BOOST_TEST(out_of_order == 0u);
    BOOST_TEST(received.load() == static_cast<int>(total));
    BOOST_TEST_MESSAGE("peeked " << peeked << " messages while they were produced and consumed");
}

// A quarantined queue is refused, as every other operation on it is.
BOOST_AUTO_TEST_CASE(peek_at_a_quarantined_queue_says_so) {
    auto config = test::make_config("peekquar");
    test::add_queue(config, "q", 8, max_size);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    BOOST_TEST_REQUIRE(queue.send("m", 1s) == Status::ok);
    test::die_in_place(broker.name(), [](test::RawSegment& raw) {
        raw.view.ring(0).control().head.store(0xFFFF'FFFF'FFFF'FFF0ull);
    });
    BOOST_TEST(test::eventually(
        [&] {
            std::vector<std::string> seen;
            return queue.peek(8, seen) == Status::queue_quarantined;
        },
        20s));
}
