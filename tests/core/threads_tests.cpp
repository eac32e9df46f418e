// Many threads of one process on one queue: 4 producers and 4 consumers move
// 200,000 messages through a small ring, sharing one Client or each with its
// own, one message or a batch at a time, and through an at_least_once queue.
// Every message must arrive exactly once (acknowledged exactly once), intact,
// and each consumer must see every producer's messages in the order they were
// sent. And threads that find the queues a reload adds while others list
// them. scripts/run-tsan runs this suite under ThreadSanitizer.
//
// Boost.Test's assertions are not thread-safe: worker threads only record what
// they saw, and the main thread checks it after joining them.
#define BOOST_TEST_MODULE threads_tests
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <grp.h>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "shmq/client.hpp"
#include "tests/support/files.hpp"
#include "tests/support/test_support.hpp"

using namespace shmq;
using namespace std::chrono_literals;

namespace {

constexpr std::uint32_t producer_count = 4;
constexpr std::uint32_t consumer_count = 4;
constexpr std::uint32_t total_messages = 200'000;
constexpr std::uint32_t per_producer = total_messages / producer_count;
// Small against the traffic, so that the ring wraps thousands of times and
// producers and consumers keep meeting on full and empty.
constexpr std::uint32_t queue_capacity = 64;
constexpr std::uint32_t max_message_size = 64;
// Finite waits take the timed-lock and timed-futex paths; the loop around
// them re-checks whether the run is over.
constexpr auto poll_timeout = 50ms;
constexpr auto send_timeout = 30s;
// Far beyond any healthy run, even under ThreadSanitizer: a lost message
// fails the test instead of hanging it.
constexpr auto run_limit = 100s;

// A message names its producer and sequence number, then fills a length that
// varies with both with bytes derived from both: a torn, misdirected or
// mis-sized copy does not decode.
struct MessageId {
    std::uint32_t producer;
    std::uint32_t sequence;
};

std::uint8_t filler(MessageId id, std::size_t offset) {
    return static_cast<std::uint8_t>(id.producer * 131 + id.sequence * 31 + offset);
}

std::size_t encode(MessageId id, std::uint8_t* out) {
    const std::size_t size = sizeof id + (id.sequence * 7 + id.producer) % (max_message_size - sizeof id + 1);
    std::memcpy(out, &id, sizeof id);
    for (std::size_t offset = sizeof id; offset < size; ++offset) out[offset] = filler(id, offset);
    return size;
}

bool decode(const std::uint8_t* data, std::size_t size, MessageId& id) {
    if (size < sizeof id) return false;
    std::memcpy(&id, data, sizeof id);
    if (id.producer >= producer_count || id.sequence >= per_producer) return false;
    std::uint8_t expected[max_message_size];
    if (encode(id, expected) != size) return false;
    return std::memcmp(data, expected, size) == 0;
}

// How many times each message was received (or acknowledged), and how many
// distinct messages have been counted so far, which tells consumers when the
// run is complete.
class Ledger {
public:
    Ledger() : counts_(total_messages) {}

    void count(MessageId id) {
        if (counts_[id.producer * per_producer + id.sequence].fetch_add(1, std::memory_order_relaxed) == 0) {
            distinct_.fetch_add(1, std::memory_order_release);
        }
    }
    bool complete() const { return distinct_.load(std::memory_order_acquire) == total_messages; }
    // Messages counted other than exactly once.
    std::uint32_t not_exactly_once() const {
        std::uint32_t wrong = 0;
        for (const auto& count : counts_) wrong += count.load(std::memory_order_relaxed) != 1;
        return wrong;
    }

private:
    std::vector<std::atomic<std::uint32_t>> counts_;
    std::atomic<std::uint32_t> distinct_{0};
};

// What one thread saw; read by the main thread only after joining it.
struct Report {
    std::uint64_t messages = 0;
    std::uint64_t corrupt = 0;
    std::uint64_t out_of_order = 0;  // a producer's message after a later one of the same producer
    std::uint64_t late_acks = 0;     // at_least_once: acks refused because the delivery had expired
    std::uint64_t redeliveries = 0;  // at_least_once: deliveries after the first
    std::string failure;             // the first unexpected status, if any

    void fail(const std::string& what, Status status) {
        if (failure.empty()) failure = what + ": " + to_string(status);
    }
};

// Per consumer: the last sequence number seen from each producer.
class OrderCheck {
public:
    OrderCheck() { last_.fill(-1); }
    bool in_order(MessageId id) {
        const bool ordered = static_cast<std::int64_t>(id.sequence) > last_[id.producer];
        if (ordered) last_[id.producer] = id.sequence;
        return ordered;
    }

private:
    std::array<std::int64_t, producer_count> last_;
};

struct RunLimit {
    std::chrono::steady_clock::time_point at = std::chrono::steady_clock::now() + run_limit;
    bool passed() const { return std::chrono::steady_clock::now() >= at; }
};

enum class Sharing { one_client, client_per_thread };

std::unique_ptr<Client> attach(const std::string& broker, WaitStrategy wait) {
    std::unique_ptr<Client> client;
    AttachOptions options;
    options.broker = broker;
    options.wait = wait;
    std::string error;
    BOOST_TEST_REQUIRE(Client::attach(options, client, &error) == Status::ok, error);
    return client;
}

using Body = std::function<void(Queue&, std::uint32_t index, Report&)>;

// Runs `produce` on producer_count threads and `consume` on consumer_count
// threads, each with its own handle on queue "q", then checks the reports.
// Returns the consumers' reports for further checks.
std::vector<Report> run_threads(const std::string& broker, Sharing sharing, WaitStrategy wait, const Body& produce,
                                const Body& consume) {
    std::vector<std::unique_ptr<Client>> clients;
    const std::uint32_t threads = producer_count + consumer_count;
    clients.push_back(attach(broker, wait));
    if (sharing == Sharing::client_per_thread) {
        while (clients.size() < threads) clients.push_back(attach(broker, wait));
    }
    std::vector<Queue> queues(threads);
    for (std::uint32_t thread = 0; thread < threads; ++thread) {
        auto& client = *clients[sharing == Sharing::one_client ? 0 : thread];
        BOOST_TEST_REQUIRE(client.open_queue("q", queues[thread]) == Status::ok);
    }
    std::vector<Report> producers(producer_count), consumers(consumer_count);
    std::vector<std::thread> running;
    for (std::uint32_t index = 0; index < producer_count; ++index) {
        running.emplace_back([&, index] { produce(queues[index], index, producers[index]); });
    }
    for (std::uint32_t index = 0; index < consumer_count; ++index) {
        running.emplace_back(
            [&, index] { consume(queues[producer_count + index], index, consumers[index]); });
    }
    for (auto& thread : running) thread.join();

    for (std::uint32_t index = 0; index < producer_count; ++index) {
        BOOST_TEST_CONTEXT("producer " << index) {
            BOOST_TEST(producers[index].failure.empty(), producers[index].failure);
            BOOST_TEST(producers[index].messages == per_producer);
        }
    }
    for (std::uint32_t index = 0; index < consumer_count; ++index) {
        BOOST_TEST_CONTEXT("consumer " << index) {
            BOOST_TEST(consumers[index].failure.empty(), consumers[index].failure);
            BOOST_TEST(consumers[index].corrupt == 0u);
            BOOST_TEST(consumers[index].out_of_order == 0u);
        }
        BOOST_TEST_MESSAGE("consumer " << index << " received " << consumers[index].messages << " messages");
    }
    return consumers;
}

// Producers: one send per message, in sequence order.
void produce_one_by_one(Queue& queue, std::uint32_t producer, Report& report) {
    std::uint8_t message[max_message_size];
    for (std::uint32_t sequence = 0; sequence < per_producer; ++sequence) {
        const auto size = encode({producer, sequence}, message);
        const Status status = queue.send(message, size, send_timeout);
        if (status != Status::ok) return report.fail("send", status);
        ++report.messages;
    }
}

// Consumers: one receive per message, until every message has been counted.
void consume_one_by_one(Queue& queue, Ledger& ledger, Report& report) {
    OrderCheck order;
    std::uint8_t message[max_message_size];
    const RunLimit limit;
    while (!ledger.complete()) {
        if (limit.passed()) return report.fail("receive", Status::timeout);
        std::size_t size = 0;
        const Status status = queue.receive(message, sizeof message, size, poll_timeout);
        if (status == Status::timeout) continue;
        if (status != Status::ok) return report.fail("receive", status);
        ++report.messages;
        MessageId id{};
        if (!decode(message, size, id)) {
            ++report.corrupt;
            continue;
        }
        if (!order.in_order(id)) ++report.out_of_order;
        ledger.count(id);
    }
}

config::BrokerConfig one_queue_config(const std::string& tag, config::DeliveryMode delivery) {
    auto config = test::make_config(tag);
    auto& queue = test::add_queue(config, "q", queue_capacity, max_message_size);
    queue.delivery = delivery;
    return config;
}

void move_one_by_one(Sharing sharing, WaitStrategy wait, const std::string& tag) {
    test::InProcessBroker broker(one_queue_config(tag, config::DeliveryMode::at_most_once));
    Ledger ledger;
    run_threads(broker.name(), sharing, wait, produce_one_by_one,
                [&](Queue& queue, std::uint32_t, Report& report) { consume_one_by_one(queue, ledger, report); });
    BOOST_TEST(ledger.not_exactly_once() == 0u);
}

}  // namespace

BOOST_AUTO_TEST_CASE(threads_sharing_one_client_move_every_message_exactly_once_in_order) {
    move_one_by_one(Sharing::one_client, WaitStrategy::spin_then_block, "threads-shared");
}

BOOST_AUTO_TEST_CASE(threads_with_a_client_each_move_every_message_exactly_once_in_order) {
    // Sleeping at once puts every wait through the futex.
    move_one_by_one(Sharing::client_per_thread, WaitStrategy::block, "threads-own");
}

BOOST_AUTO_TEST_CASE(batches_from_threads_sharing_one_client_arrive_exactly_once_in_order) {
    test::InProcessBroker broker(one_queue_config("threads-batch", config::DeliveryMode::at_most_once));
    Ledger ledger;
    // Producers send batches of 1 to 48 messages (up to three quarters of the
    // ring, so batches interleave and wait for room); consumers take up to 32.
    auto produce = [](Queue& queue, std::uint32_t producer, Report& report) {
        constexpr std::uint32_t largest_batch = 48;
        std::vector<std::array<std::uint8_t, max_message_size>> payloads(largest_batch);
        std::vector<OutgoingMessage> batch(largest_batch);
        std::uint32_t sequence = 0;
        for (std::uint32_t round = 0; sequence < per_producer; ++round) {
            const std::uint32_t size = std::min(1 + (round * 13 + producer) % largest_batch, per_producer - sequence);
            for (std::uint32_t i = 0; i < size; ++i) {
                batch[i] = {payloads[i].data(), encode({producer, sequence + i}, payloads[i].data())};
            }
            std::size_t sent = 0;
            const Status status = queue.send_batch(batch.data(), size, sent, send_timeout);
            report.messages += sent;
            if (status != Status::ok) return report.fail("send_batch", status);
            sequence += size;
        }
    };
    auto consume = [&](Queue& queue, std::uint32_t, Report& report) {
        constexpr std::size_t largest_batch = 32;
        std::vector<std::array<std::uint8_t, max_message_size>> buffers(largest_batch);
        std::vector<IncomingMessage> batch(largest_batch);
        OrderCheck order;
        const RunLimit limit;
        while (!ledger.complete()) {
            if (limit.passed()) return report.fail("receive_batch", Status::timeout);
            for (std::size_t i = 0; i < largest_batch; ++i) batch[i] = {buffers[i].data(), max_message_size, 0, 0};
            std::size_t received = 0;
            const Status status = queue.receive_batch(batch.data(), batch.size(), received, poll_timeout);
            if (status == Status::timeout) continue;
            if (status != Status::ok) return report.fail("receive_batch", status);
            for (std::size_t i = 0; i < received; ++i) {
                ++report.messages;
                MessageId id{};
                if (!decode(buffers[i].data(), batch[i].size, id)) {
                    ++report.corrupt;
                    continue;
                }
                if (!order.in_order(id)) ++report.out_of_order;
                ledger.count(id);
            }
        }
    };
    run_threads(broker.name(), Sharing::one_client, WaitStrategy::spin_then_block, produce, consume);
    BOOST_TEST(ledger.not_exactly_once() == 0u);
}

BOOST_AUTO_TEST_CASE(at_least_once_deliveries_taken_by_threads_are_acknowledged_exactly_once) {
    auto config = one_queue_config("threads-ack", config::DeliveryMode::at_least_once);
    // Consumers leave the first delivery of every 10,000th message
    // unacknowledged, so that it comes back after the ack timeout, to any of
    // them. Its slot stays taken until then: rarely, or producers would spend
    // the run waiting for room behind it.
    constexpr std::uint32_t unacknowledged_every = 10'000;
    config.queues[0].ack_timeout_ms = 200;
    config.queues[0].max_deliveries = 5;
    test::InProcessBroker broker(config);
    Ledger acknowledged;
    auto consume = [&](Queue& queue, std::uint32_t, Report& report) {
        OrderCheck order;
        std::uint8_t message[max_message_size];
        const RunLimit limit;
        while (!acknowledged.complete()) {
            if (limit.passed()) return report.fail("receive", Status::timeout);
            std::size_t size = 0;
            std::uint64_t delivery = 0;
            const Status status = queue.receive(message, sizeof message, size, poll_timeout, &delivery);
            if (status == Status::timeout) continue;
            if (status != Status::ok) return report.fail("receive", status);
            ++report.messages;
            MessageId id{};
            if (!decode(message, size, id)) {
                ++report.corrupt;
                continue;
            }
            const bool first = delivery_attempt(delivery) == 1;
            // Redeliveries come out of order by design; first deliveries
            // leave the ring in the order they entered it.
            if (!first) ++report.redeliveries;
            if (first && !order.in_order(id)) ++report.out_of_order;
            if (first && id.sequence % unacknowledged_every == 0) continue;
            const Status acked = queue.acknowledge(delivery);
            if (acked == Status::ok) {
                acknowledged.count(id);
            } else if (acked == Status::not_acknowledgeable) {
                ++report.late_acks;  // it expired first and was redelivered
            } else {
                return report.fail("acknowledge", acked);
            }
        }
    };
    const auto consumers = run_threads(broker.name(), Sharing::one_client, WaitStrategy::spin_then_block,
                                       produce_one_by_one, consume);
    BOOST_TEST(acknowledged.not_exactly_once() == 0u);
    std::uint64_t redeliveries = 0, late_acks = 0;
    for (const auto& report : consumers) {
        redeliveries += report.redeliveries;
        late_acks += report.late_acks;
    }
    // Every withheld delivery came back; a late ack means one more came back.
    BOOST_TEST(redeliveries >= total_messages / unacknowledged_every + late_acks);
}

// Issue 11: threads sharing one Client look for the queues a reload adds
// (one open, in a live segment; one restricted to a new access group, in
// that group's new segment) while they list names and figures. The client
// joins each new segment once, under a lock, and publishes it whole to the
// threads that read its parts without one: under ThreadSanitizer this is
// the race check of those joins.
BOOST_AUTO_TEST_CASE(threads_sharing_one_client_find_the_queues_a_reload_adds) {
    auto config = test::make_config("threads-reload");
    test::add_queue(config, "work", 8, max_message_size);
    test::InProcessBroker broker(config);
    const group* own_group = ::getgrgid(::getgid());
    BOOST_TEST_REQUIRE(own_group != nullptr);
    test::TempDir dir;
    const std::string file = dir.path() + "/broker.yaml";
    {
        std::ofstream out(file);
        out << "broker:\n  name: " << config.name << "\n  permissions: 0600\n  max_clients: 64\n"
            << "  liveness_interval_ms: 50\nqueues:\n  - name: work\n    capacity: 8\n    max_message_size: 64\n"
            << "  - name: late\n    capacity: 8\n    max_message_size: 64\n"
            << "  - name: secret\n    capacity: 8\n    max_message_size: 64\n    access: { group: "
            << own_group->gr_name << " }\n";
    }
    const auto client = test::attach(config.name);
    const std::array<std::string, 2> added{"late", "secret"};
    constexpr std::size_t thread_count = 4;
    std::atomic<std::size_t> started{0};
    // What each thread's send into each added queue returned; each writes its own.
    std::vector<Status> sent(thread_count * added.size(), Status::invalid_argument);
    std::vector<std::thread> threads;
    for (std::size_t thread = 0; thread < thread_count; ++thread) {
        threads.emplace_back([&, thread] {
            started.fetch_add(1);
            const auto give_up = std::chrono::steady_clock::now() + run_limit;
            for (std::size_t which = 0; which < added.size(); ++which) {
                Queue queue;
                Status status = Status::queue_not_found;
                while (status == Status::queue_not_found && std::chrono::steady_clock::now() < give_up) {
                    status = client->open_queue(added[which], queue);
                    // The parts are read without the lock while others join them.
                    if (client->queue_names().empty() || client->stats().queues.empty()) status = Status::corrupt_segment;
                }
                sent[thread * added.size() + which] = status == Status::ok ? queue.send("from a thread", send_timeout)
                                                                           : status;
            }
        });
    }
    while (started.load() < thread_count) std::this_thread::yield();
    broker.broker().set_configuration_file(file, config::Format::automatic);
    broker.broker().request_reload();
    for (auto& thread : threads) thread.join();
    for (const auto status : sent) BOOST_TEST(status == Status::ok);
    for (const auto& name : added) {
        auto queue = test::open_queue(*client, name);
        std::size_t received = 0;
        std::string message;
        while (queue.receive(message, no_wait) == Status::ok) ++received;
        BOOST_TEST(received == thread_count, name);
    }
}
