// Topics shared by threads of one process (one Client shared, or a Client
// each): the lock-free claim, subscribe and read racing each other where
// ThreadSanitizer can see them (scripts/run-tsan runs this suite). Every
// message must arrive intact, in order per publisher, and under block none
// may be missing; subscribers that join and leave while publishers run must
// start at a consistent cursor and never make the topic corrupt.
#define BOOST_TEST_MODULE topic_threads_tests
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "shmq/client.hpp"
#include "tests/support/test_support.hpp"

using namespace shmq;
using namespace std::chrono_literals;
using config::SlowSubscriberPolicy;

namespace {

constexpr std::uint32_t publishers = 4;
constexpr std::uint32_t per_publisher = 20'000;

struct Payload {
    std::uint32_t publisher;
    std::uint32_t sequence;
    std::uint64_t check;  // derived from the other two: a torn copy shows
};

std::uint64_t check_of(std::uint32_t publisher, std::uint32_t sequence) {
    return (static_cast<std::uint64_t>(publisher) << 32 | sequence) * 0x9E3779B97F4A7C15ull;
}

// Publishes per_publisher numbered messages, by copy and by loan in turn.
void publish_all(Client& client, std::uint32_t id, std::atomic<std::uint32_t>& failures) {
    Topic topic;
    if (client.open_topic("t", topic) != Status::ok) {
        ++failures;
        return;
    }
    for (std::uint32_t sequence = 0; sequence < per_publisher; ++sequence) {
        const Payload payload{id, sequence, check_of(id, sequence)};
        if (sequence % 2 == 0) {
            if (topic.publish(&payload, sizeof payload, 30s) != Status::ok) ++failures;
            continue;
        }
        Loan loan;
        if (topic.loan(sizeof payload, loan, 30s) != Status::ok) {
            ++failures;
            continue;
        }
        std::memcpy(loan.data(), &payload, sizeof payload);
        if (topic.publish(loan) != Status::ok) ++failures;
    }
}

// Reads (by view and by copy in turn) until `expected` messages arrived, or,
// with expected == 0, until a try finds nothing after `stop` (set once every
// publisher is done; a wait that timed out may have looked before that);
// checks each. Returns the messages read.
std::uint64_t read_and_check(Subscription& subscription, std::uint64_t expected, bool consecutive,
                             const std::atomic<bool>& stop, std::atomic<std::uint32_t>& failures) {
    std::vector<std::int64_t> last(publishers, -1);
    std::uint64_t read = 0;
    View view;
    while (expected == 0 || read < expected) {
        Payload payload{};
        std::size_t size = 0;
        Status status;
        const Timeout wait = expected != 0 ? Timeout(30s) : stop.load() ? no_wait : Timeout(10ms);
        if (read % 2 == 0) {
            status = subscription.read(view, wait);
            if (status == Status::ok) {
                size = view.size();
                if (size == sizeof payload) std::memcpy(&payload, view.data(), sizeof payload);
            }
        } else {
            status = subscription.receive(&payload, sizeof payload, size, wait);
        }
        if (expected == 0 && (status == Status::timeout || status == Status::empty)) {
            if (status == Status::empty) break;
            continue;
        }
        if (status != Status::ok || size != sizeof payload || payload.publisher >= publishers ||
            payload.check != check_of(payload.publisher, payload.sequence)) {
            ++failures;
            return read;
        }
        auto& previous = last[payload.publisher];
        if (payload.sequence <= previous || (consecutive && previous >= 0 && payload.sequence != previous + 1)) {
            ++failures;
            return read;
        }
        previous = payload.sequence;
        ++read;
    }
    return read;
}

void run(SlowSubscriberPolicy policy) {
    auto config = test::make_config("tthreads");
    test::add_topic(config, "t", 16, 64, policy).max_subscribers = 8;
    test::InProcessBroker broker(config);
    auto shared = test::attach(broker.name());
    const bool block = policy == SlowSubscriberPolicy::block;
    std::atomic<std::uint32_t> failures{0};
    std::atomic<bool> stop{false};

    // Steady subscribers, subscribed before anything is published: under
    // block each must get every message.
    constexpr std::uint32_t steady = 3;
    std::vector<std::unique_ptr<Client>> own;  // outlives the subscriptions made with them
    std::vector<Subscription> subscriptions(steady);
    for (std::uint32_t s = 0; s < steady; ++s) {
        own.push_back(test::attach(broker.name()));
        BOOST_TEST_REQUIRE((s == 0 ? *shared : *own.back()).subscribe("t", subscriptions[s]) == Status::ok);
    }
    std::vector<std::thread> threads;
    std::vector<std::uint64_t> got(steady, 0);
    for (std::uint32_t s = 0; s < steady; ++s) {
        threads.emplace_back([&, s] {
            got[s] = read_and_check(subscriptions[s], block ? std::uint64_t{publishers} * per_publisher : 0, block,
                                    stop, failures);
        });
    }
    // Subscribers that join and leave over and over while publishers run,
    // some with history, racing the claims (the joining cursor).
    std::atomic<std::uint64_t> joins{0};
    std::vector<std::thread> churners;
    for (std::uint32_t c = 0; c < 2; ++c) {
        own.push_back(test::attach(broker.name()));  // Boost.Test is not for threads: attached here
        Client* client = own.back().get();
        churners.emplace_back([&, c, client] {
            while (!stop.load()) {
                Subscription subscription;
                SubscribeOptions options;
                options.from_history = c;
                if (client->subscribe("t", subscription, options) != Status::ok) {
                    ++failures;
                    return;
                }
                ++joins;
                Payload payload{};
                std::size_t size = 0;
                for (int i = 0; i < 20; ++i) {
                    const Status status = subscription.receive(&payload, sizeof payload, size, 1ms);
                    if (status == Status::timeout) continue;
                    if (status != Status::ok || payload.check != check_of(payload.publisher, payload.sequence)) {
                        ++failures;
                        return;
                    }
                }
            }
        });
    }
    std::vector<std::thread> publishing;
    for (std::uint32_t p = 0; p < publishers; ++p) {
        // Two share the test's client, two have their own.
        if (p >= 2) own.push_back(test::attach(broker.name()));
        Client* client = p < 2 ? shared.get() : own.back().get();
        publishing.emplace_back([&failures, client, p] { publish_all(*client, p, failures); });
    }
    for (auto& thread : publishing) thread.join();
    stop.store(true);
    for (auto& thread : threads) thread.join();
    for (auto& thread : churners) thread.join();
    BOOST_TEST(failures.load() == 0u);
    BOOST_TEST(joins.load() > 0u);
    const auto stats = test::topic_stats(*shared, "t");
    BOOST_TEST(!stats.quarantined);
    BOOST_TEST(stats.published == std::uint64_t{publishers} * per_publisher);
    BOOST_TEST(stats.abandoned == 0u);
    for (std::uint32_t s = 0; s < steady; ++s) {
        if (block) {
            BOOST_TEST(got[s] == std::uint64_t{publishers} * per_publisher, "subscriber " << s);
            BOOST_TEST(subscriptions[s].lost() == 0u, "subscriber " << s);
        } else {
            BOOST_TEST(got[s] + subscriptions[s].lost() == std::uint64_t{publishers} * per_publisher,
                       "subscriber " << s);
        }
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(threads_publishing_and_subscribing_under_block_lose_nothing) { run(SlowSubscriberPolicy::block); }

BOOST_AUTO_TEST_CASE(threads_publishing_and_subscribing_under_drop_count_every_loss) { run(SlowSubscriberPolicy::drop); }
