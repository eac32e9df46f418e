// Many producer and consumer processes on one queue: a million messages, none
// lost, none duplicated, each producer's messages seen in order by every
// consumer.
#define BOOST_TEST_MODULE multiprocess_tests
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <sys/mman.h>
#include <vector>

#include "shmq/client.hpp"
#include "tests/support/test_support.hpp"

using namespace shmq;
using namespace std::chrono_literals;

namespace {

struct Payload {
    std::uint32_t producer;
    std::uint32_t sequence;
    std::uint64_t check;  // derived from the other two: a torn copy shows
};

std::uint64_t check_of(std::uint32_t producer, std::uint32_t sequence) {
    return (static_cast<std::uint64_t>(producer) << 32 | sequence) * 0x9E3779B97F4A7C15ull;
}

// Lives in memory shared by the test and all its children.
struct Ledger {
    std::atomic<std::uint64_t> received_total{0};
    std::atomic<std::uint64_t> failures{0};
    // How often each message was received: [producers * per_producer] counters
    // that follow the struct in the same mapping.
    std::atomic<std::uint8_t>& seen(std::size_t index) {
        return reinterpret_cast<std::atomic<std::uint8_t>*>(this + 1)[index];
    }
};

Ledger* make_ledger(std::size_t messages) {
    const std::size_t bytes = sizeof(Ledger) + messages;
    void* memory = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    BOOST_TEST_REQUIRE(memory != MAP_FAILED);
    return new (memory) Ledger();
}

int produce(const std::string& broker, std::uint32_t producer, std::uint32_t count, bool batched) {
    auto client = test::attach_or_exit(broker);
    Queue queue;
    if (client->open_queue("work", queue) != Status::ok) return 41;
    if (!batched) {
        for (std::uint32_t sequence = 0; sequence < count; ++sequence) {
            const Payload payload{producer, sequence, check_of(producer, sequence)};
            if (queue.send(&payload, sizeof payload, 30s) != Status::ok) return 42;
        }
        return 0;
    }
    constexpr std::uint32_t batch = 32;
    std::vector<Payload> payloads(batch);
    std::vector<OutgoingMessage> messages(batch);
    for (std::uint32_t first = 0; first < count; first += batch) {
        const std::uint32_t n = std::min(batch, count - first);
        for (std::uint32_t i = 0; i < n; ++i) {
            payloads[i] = Payload{producer, first + i, check_of(producer, first + i)};
            messages[i] = OutgoingMessage{&payloads[i], sizeof(Payload)};
        }
        std::size_t sent = 0;
        if (queue.send_batch(messages.data(), n, sent, 30s) != Status::ok || sent != n) return 43;
    }
    return 0;
}

int consume(const std::string& broker, Ledger* ledger, std::uint32_t producers, std::uint32_t per_producer,
            bool batched) {
    auto client = test::attach_or_exit(broker);
    Queue queue;
    if (client->open_queue("work", queue) != Status::ok) return 44;
    const std::uint64_t total = static_cast<std::uint64_t>(producers) * per_producer;
    std::vector<std::int64_t> last(producers, -1);
    const std::size_t batch = batched ? 32 : 1;
    std::vector<Payload> payloads(batch);
    std::vector<IncomingMessage> messages(batch);
    const auto give_up = std::chrono::steady_clock::now() + 120s;
    while (ledger->received_total.load() < total) {
        if (std::chrono::steady_clock::now() > give_up) return 45;
        for (std::size_t i = 0; i < batch; ++i) messages[i] = IncomingMessage{&payloads[i], sizeof(Payload), 0, 0};
        std::size_t received = 0;
        const Status status = queue.receive_batch(messages.data(), batch, received, 50ms);
        if (status == Status::timeout) continue;
        if (status != Status::ok) return 46;
        for (std::size_t i = 0; i < received; ++i) {
            const auto& payload = payloads[i];
            const bool intact = messages[i].size == sizeof(Payload) && payload.producer < producers &&
                                payload.sequence < per_producer &&
                                payload.check == check_of(payload.producer, payload.sequence);
            if (!intact || static_cast<std::int64_t>(payload.sequence) <= last[payload.producer]) {
                ledger->failures.fetch_add(1);
                continue;
            }
            last[payload.producer] = payload.sequence;
            ledger->seen(static_cast<std::size_t>(payload.producer) * per_producer + payload.sequence).fetch_add(1);
            ledger->received_total.fetch_add(1);
        }
    }
    return 0;
}

}  // namespace

BOOST_AUTO_TEST_CASE(four_producers_and_four_consumers_move_a_million_messages_exactly_once_in_order) {
    constexpr std::uint32_t producers = 4, consumers = 4, per_producer = 250'000;
    auto config = test::make_config("mpmc");
    test::add_queue(config, "work", 1024, 64);
    test::InProcessBroker broker(config);
    Ledger* ledger = make_ledger(static_cast<std::size_t>(producers) * per_producer);
    std::vector<pid_t> children;
    for (std::uint32_t c = 0; c < consumers; ++c) {
        children.push_back(test::fork_child([&, c] { return consume(broker.name(), ledger, producers, per_producer, c % 2 == 1); }));
    }
    for (std::uint32_t p = 0; p < producers; ++p) {
        children.push_back(test::fork_child([&, p] { return produce(broker.name(), p, per_producer, p % 2 == 1); }));
    }
    for (const pid_t child : children) BOOST_TEST(test::wait_child(child, 180s) == 0);
    BOOST_TEST(ledger->failures.load() == 0u);
    BOOST_TEST(ledger->received_total.load() == std::uint64_t{producers} * per_producer);
    std::size_t missing = 0, duplicated = 0;
    for (std::size_t i = 0; i < std::size_t{producers} * per_producer; ++i) {
        const auto times = ledger->seen(i).load();
        missing += times == 0;
        duplicated += times > 1;
    }
    BOOST_TEST(missing == 0u);
    BOOST_TEST(duplicated == 0u);
}
