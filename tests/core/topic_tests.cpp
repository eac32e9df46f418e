// Topics through the client library, with real processes: a million-message
// fan-out to eight subscriber processes, a topic's default 64 subscribers as
// 64 processes that each get every message (the 65th refused, a freed record
// reused), both slow-subscriber policies, late joiners with history,
// zero-copy loans and views, and the statistics.
#define BOOST_TEST_MODULE topic_tests
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <sys/mman.h>
#include <thread>
#include <vector>

#include "common/payload_copy.hpp"
#include "shmq/client.hpp"
#include "tests/support/test_support.hpp"

using namespace shmq;
using namespace std::chrono_literals;
using config::SlowSubscriberPolicy;

namespace {

struct Payload {
    std::uint32_t publisher;
    std::uint32_t sequence;
    std::uint64_t check;  // derived from the other two: a torn copy shows
};

std::uint64_t check_of(std::uint32_t publisher, std::uint32_t sequence) {
    return (static_cast<std::uint64_t>(publisher) << 32 | sequence) * 0x9E3779B97F4A7C15ull;
}

// Subscriber processes a Board keeps count of: a topic's default max_subscribers.
constexpr std::uint32_t board_subscribers = 64;

// Lives in memory shared by the test and its children.
struct Board {
    std::atomic<std::uint32_t> subscribed{0};  // subscribers ready for the first message
    std::atomic<std::uint32_t> go{0};          // set by the test: publishers may start
    std::atomic<std::uint32_t> done{0};        // subscribers that read and checked all they had to
    std::atomic<std::uint32_t> leave{0};       // set by the test: holding subscribers below it may leave
    std::atomic<std::uint64_t> progress[board_subscribers]{};  // per subscriber: messages read so far
    std::atomic<std::uint64_t> lost[board_subscribers]{};      // per subscriber: what lost() said at the end
};

Board* make_board() {
    void* memory = ::mmap(nullptr, sizeof(Board), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    BOOST_TEST_REQUIRE(memory != MAP_FAILED);
    return new (memory) Board();
}

Topic open(Client& client, const std::string& name) {
    Topic topic;
    BOOST_TEST_REQUIRE(client.open_topic(name, topic) == Status::ok);
    return topic;
}

bool wait_for(const std::atomic<std::uint32_t>& flag, std::uint32_t value, std::chrono::seconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (flag.load() < value) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(100us);
    }
    return true;
}

int publish_sequence(const std::string& broker, std::uint32_t publisher, std::uint32_t count, Board* board) {
    auto client = test::attach_or_exit(broker);
    Topic topic;
    if (client->open_topic("fan", topic) != Status::ok) return 41;
    if (!wait_for(board->go, 1, 30s)) return 42;
    for (std::uint32_t sequence = 0; sequence < count; ++sequence) {
        const Payload payload{publisher, sequence, check_of(publisher, sequence)};
        if (topic.publish(&payload, sizeof payload, 30s) != Status::ok) return 43;
    }
    return 0;
}

// Reads `total` messages and checks that each publisher's come in order with
// none missing. Zero copy (views) or by copy. With `hold`, then keeps its
// subscription until board->leave exceeds `me`.
int subscribe_and_check(const std::string& broker, std::uint32_t me, std::uint32_t publishers, std::uint64_t total,
                        bool zero_copy, Board* board, bool hold = false) {
    auto client = test::attach_or_exit(broker);
    Subscription subscription;
    if (client->subscribe("fan", subscription) != Status::ok) return 50;
    board->subscribed.fetch_add(1);
    std::vector<std::uint32_t> next(publishers, 0);
    View view;
    for (std::uint64_t read = 0; read < total; ++read) {
        Payload payload{};
        if (zero_copy) {
            if (subscription.read(view, 30s) != Status::ok) return 51;
            if (view.size() != sizeof payload) return 52;
            std::memcpy(&payload, view.data(), sizeof payload);
        } else {
            std::size_t size = 0;
            if (subscription.receive(&payload, sizeof payload, size, 30s) != Status::ok) return 53;
            if (size != sizeof payload) return 52;
        }
        if (payload.publisher >= publishers || payload.check != check_of(payload.publisher, payload.sequence)) {
            return 54;
        }
        if (payload.sequence != next[payload.publisher]) return 55;  // lost, duplicated or out of order
        ++next[payload.publisher];
        if ((read + 1) % 64 == 0) board->progress[me].store(read + 1);
    }
    view.release();
    board->progress[me].store(total);
    board->lost[me].store(subscription.lost());
    if (subscription.lost() != 0) return 56;
    board->done.fetch_add(1);
    if (hold && !test::eventually([&] { return board->leave.load() > me; }, 120s)) return 57;
    return 0;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_million_messages_reach_eight_subscriber_processes_in_order) {
    constexpr std::uint32_t publishers = 2;
    constexpr std::uint32_t per_publisher = 500'000;
    constexpr std::uint32_t subscribers = 8;
    constexpr std::uint64_t total = std::uint64_t{publishers} * per_publisher;
    auto config = test::make_config("fanout");
    test::add_topic(config, "fan", 4096, 64, SlowSubscriberPolicy::block);
    test::InProcessBroker broker(config);
    auto* board = make_board();
    std::vector<pid_t> children;
    for (std::uint32_t s = 0; s < subscribers; ++s) {
        children.push_back(test::fork_child([&, s] {
            return subscribe_and_check(broker.name(), s, publishers, total, s % 2 == 0, board);
        }));
    }
    for (std::uint32_t p = 0; p < publishers; ++p) {
        children.push_back(test::fork_child([&, p] { return publish_sequence(broker.name(), p, per_publisher, board); }));
    }
    BOOST_TEST_REQUIRE(wait_for(board->subscribed, subscribers, 30s));
    const auto start = std::chrono::steady_clock::now();
    board->go.store(1);
    for (std::size_t i = 0; i < children.size(); ++i) {
        BOOST_TEST(test::wait_child(children[i], 240s) == 0, "child " << i << " (publishers are the last two)");
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    BOOST_TEST_MESSAGE("fan-out: " << total << " messages x " << subscribers << " subscriber processes in "
                                   << seconds << " s: " << total / seconds / 1e6 << " M published/s, "
                                   << total * subscribers / seconds / 1e6 << " M deliveries/s");
    auto observer = test::attach(broker.name());
    const auto stats = test::topic_stats(*observer, "fan");
    BOOST_TEST(stats.published == total);
    BOOST_TEST(stats.dropped == 0u);
    BOOST_TEST(stats.subscribers.empty());  // every subscriber process detached
}

// Issue 5: at least 64 subscribers per topic. The default max_subscribers
// takes 64 subscriber processes at once, each of which gets every message of
// two publishers in order; a 65th subscribe is refused with
// too_many_subscribers while they hold their records, and once one of them
// leaves, a new subscribe gets the record it freed and works.
BOOST_AUTO_TEST_CASE(sixty_four_subscriber_processes_each_receive_every_message) {
    constexpr std::uint32_t publishers = 2;
    constexpr std::uint32_t per_publisher = 50'000;
    constexpr std::uint64_t total = std::uint64_t{publishers} * per_publisher;
    auto config = test::make_config("sixtyfour");
    config.max_clients = 80;  // 64 subscribers, 2 publishers and the test itself
    const auto subscribers = test::add_topic(config, "fan", 1024, 64, SlowSubscriberPolicy::block).max_subscribers;
    BOOST_TEST_REQUIRE(subscribers == 64u);  // the default, untouched
    static_assert(board_subscribers >= 64);
    test::InProcessBroker broker(config);
    auto* board = make_board();
    std::vector<pid_t> children;
    for (std::uint32_t s = 0; s < subscribers; ++s) {
        children.push_back(test::fork_child([&, s] {
            return subscribe_and_check(broker.name(), s, publishers, total, s % 2 == 0, board, true);
        }));
    }
    for (std::uint32_t p = 0; p < publishers; ++p) {
        children.push_back(
            test::fork_child([&, p] { return publish_sequence(broker.name(), p, per_publisher, board); }));
    }
    BOOST_TEST_REQUIRE(wait_for(board->subscribed, subscribers, 60s));
    auto client = test::attach(broker.name());
    Subscription extra;
    BOOST_TEST(client->subscribe("fan", extra) == Status::too_many_subscribers);
    const auto full = test::topic_stats(*client, "fan");
    BOOST_TEST(full.max_subscribers == 64u);
    BOOST_TEST(full.subscribers.size() == 64u);

    const auto start = std::chrono::steady_clock::now();
    board->go.store(1);
    for (std::uint32_t p = 0; p < publishers; ++p) {
        BOOST_TEST(test::wait_child(children[subscribers + p], 120s) == 0, "publisher " << p);
    }
    BOOST_TEST(test::eventually([&] { return board->done.load() == subscribers; }, 120s));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    BOOST_TEST_MESSAGE("64 subscribers: " << total << " messages x " << subscribers << " subscriber processes in "
                                          << seconds << " s");
    for (std::uint32_t s = 0; s < subscribers; ++s) {
        BOOST_TEST(board->progress[s].load() == total, "subscriber " << s);
        BOOST_TEST(board->lost[s].load() == 0u, "subscriber " << s);
    }
    // Still all 64 subscribed: still no room for another.
    BOOST_TEST(client->subscribe("fan", extra) == Status::too_many_subscribers);

    // Subscriber 0 leaves; a new subscribe takes the record it freed.
    const auto record_of = [&](pid_t pid) {
        for (const auto& subscriber : test::topic_stats(*client, "fan").subscribers) {
            if (subscriber.pid == pid) return subscriber.record;
        }
        return subscribers;  // none
    };
    const auto freed = record_of(children[0]);
    BOOST_TEST(freed < subscribers);
    board->leave.store(1);
    BOOST_TEST(test::wait_child(children[0], 30s) == 0, "subscriber 0");
    BOOST_TEST(client->subscribe("fan", extra) == Status::ok);
    BOOST_TEST(record_of(::getpid()) == freed);
    BOOST_TEST(test::topic_stats(*client, "fan").subscribers.size() == 64u);
    auto topic = open(*client, "fan");
    BOOST_TEST(topic.publish("after the reuse", 1s) == Status::ok);
    std::string message;
    BOOST_TEST(extra.receive(message, 1s) == Status::ok);
    BOOST_TEST(message == "after the reuse");

    board->leave.store(subscribers);
    for (std::uint32_t s = 1; s < subscribers; ++s) {
        BOOST_TEST(test::wait_child(children[s], 30s) == 0, "subscriber " << s);
    }
    const auto stats = test::topic_stats(*client, "fan");
    BOOST_TEST(stats.published == total + 1);
    BOOST_TEST(stats.dropped == 0u);
    BOOST_TEST_REQUIRE(stats.subscribers.size() == 1u);  // only the one that took the freed record
    BOOST_TEST(stats.subscribers[0].pid == ::getpid());
}

// Under drop, a subscriber that cannot keep up loses the oldest messages and
// is told how many; the others lose nothing. The publisher is paced by the
// fast subscribers only (outside the topic), so that they never lag a whole
// ring behind, however the machine schedules them.
BOOST_AUTO_TEST_CASE(drop_makes_only_the_slow_subscriber_lose_messages) {
    constexpr std::uint32_t capacity = 1024;
    constexpr std::uint32_t count = 50'000;
    constexpr std::uint32_t fast = 2;
    auto config = test::make_config("drop");
    test::add_topic(config, "fan", capacity, 64, SlowSubscriberPolicy::drop);
    test::InProcessBroker broker(config);
    auto* board = make_board();
    std::vector<pid_t> children;
    for (std::uint32_t s = 0; s < fast; ++s) {
        children.push_back(
            test::fork_child([&, s] { return subscribe_and_check(broker.name(), s, 1, count, s == 0, board); }));
    }
    const pid_t slow = test::fork_child([&] {
        auto client = test::attach_or_exit(broker.name());
        Subscription subscription;
        if (client->subscribe("fan", subscription) != Status::ok) return 60;
        board->subscribed.fetch_add(1);
        std::uint64_t received = 0;
        std::int64_t last = -1;
        for (;;) {
            Payload payload{};
            std::size_t size = 0;
            if (subscription.receive(&payload, sizeof payload, size, 30s) != Status::ok) return 61;
            if (static_cast<std::int64_t>(payload.sequence) <= last) return 62;  // order holds, with gaps
            last = payload.sequence;
            ++received;
            if (received % 64 == 0) std::this_thread::sleep_for(5ms);
            if (payload.sequence == count - 1) break;  // the last message stays in the ring until read
        }
        board->lost[fast].store(subscription.lost());
        board->progress[fast].store(received);
        return received + subscription.lost() == count ? 0 : 63;
    });
    BOOST_TEST_REQUIRE(wait_for(board->subscribed, fast + 1, 30s));
    auto client = test::attach(broker.name());
    auto topic = open(*client, "fan");
    for (std::uint32_t sequence = 0; sequence < count; ++sequence) {
        if (sequence % 64 == 0) {
            // Stay within half a ring of the slower fast subscriber.
            const auto lowest = [&] {
                return std::min(board->progress[0].load(), board->progress[1].load());
            };
            BOOST_TEST_REQUIRE(test::eventually([&] { return sequence < lowest() + capacity / 2; }, 30s));
        }
        const Payload payload{0, sequence, check_of(0, sequence)};
        BOOST_TEST_REQUIRE(topic.publish(&payload, sizeof payload, 10s) == Status::ok);
    }
    for (const auto child : children) BOOST_TEST(test::wait_child(child, 60s) == 0);
    BOOST_TEST(test::wait_child(slow, 60s) == 0);
    BOOST_TEST(board->lost[0].load() == 0u);
    BOOST_TEST(board->lost[1].load() == 0u);
    BOOST_TEST(board->lost[fast].load() > 0u);
    BOOST_TEST(board->lost[fast].load() + board->progress[fast].load() == count);
    BOOST_TEST(test::topic_stats(*client, "fan").dropped == board->lost[fast].load());
}

// Under block, the publisher goes no faster than the slowest subscriber, and
// times out when that one never reads.
BOOST_AUTO_TEST_CASE(block_makes_publishers_wait_for_the_slowest_subscriber) {
    constexpr std::uint32_t capacity = 8;
    auto config = test::make_config("block");
    test::add_topic(config, "fan", capacity, 64, SlowSubscriberPolicy::block);
    test::InProcessBroker broker(config);
    auto* board = make_board();
    // A subscriber that reads one message per millisecond, then one that stops.
    const pid_t slow = test::fork_child([&] {
        auto client = test::attach_or_exit(broker.name());
        Subscription subscription;
        if (client->subscribe("fan", subscription) != Status::ok) return 70;
        board->subscribed.fetch_add(1);
        for (std::uint32_t i = 0; i < 100; ++i) {
            std::string message;
            if (subscription.receive(message, 10s) != Status::ok || message != std::to_string(i)) return 71;
            std::this_thread::sleep_for(1ms);
        }
        board->progress[0].store(100);
        if (!wait_for(board->go, 1, 30s)) return 72;  // then holds its subscription without reading
        return 0;
    });
    BOOST_TEST_REQUIRE(wait_for(board->subscribed, 1, 30s));
    auto client = test::attach(broker.name());
    auto topic = open(*client, "fan");
    const auto start = std::chrono::steady_clock::now();
    for (std::uint32_t i = 0; i < 100; ++i) BOOST_TEST_REQUIRE(topic.publish(std::to_string(i), 10s) == Status::ok);
    // The last publish could only go once the subscriber had read 100 -
    // capacity messages, sleeping a millisecond after each.
    BOOST_TEST((std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(100 - capacity - 1)));
    BOOST_TEST_REQUIRE(test::eventually([&] { return board->progress[0].load() == 100; }, 10s));
    for (std::uint32_t i = 0; i < capacity; ++i) BOOST_TEST_REQUIRE(topic.publish("more", 1s) == Status::ok);
    const auto before = std::chrono::steady_clock::now();
    BOOST_TEST(topic.publish("one too many", 200ms) == Status::timeout);
    BOOST_TEST((std::chrono::steady_clock::now() - before >= 200ms));
    BOOST_TEST(topic.publish("one too many", no_wait) == Status::queue_full);
    board->go.store(1);
    BOOST_TEST(test::wait_child(slow, 10s) == 0);
    // Its subscription ended with the process: nothing holds the publisher now.
    BOOST_TEST(topic.publish("free again", 1s) == Status::ok);
}

BOOST_AUTO_TEST_CASE(a_late_subscriber_gets_the_history_it_asks_for_then_live_messages) {
    auto config = test::make_config("history");
    test::add_topic(config, "news", 16, 64, SlowSubscriberPolicy::block, 5);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto topic = open(*client, "news");
    for (int i = 0; i < 10; ++i) BOOST_TEST_REQUIRE(topic.publish("old " + std::to_string(i), 1s) == Status::ok);
    auto* board = make_board();
    const pid_t late = test::fork_child([&] {
        auto child = test::attach_or_exit(broker.name());
        Subscription subscription;
        SubscribeOptions options;
        options.from_history = 3;
        if (child->subscribe("news", subscription, options) != Status::ok) return 80;
        board->subscribed.fetch_add(1);
        const char* expected[] = {"old 7", "old 8", "old 9", "new 0", "new 1"};
        for (const char* text : expected) {
            std::string message;
            if (subscription.receive(message, 10s) != Status::ok || message != text) return 81;
        }
        std::string none;
        return subscription.receive(none, no_wait) == Status::empty ? 0 : 82;
    });
    BOOST_TEST_REQUIRE(wait_for(board->subscribed, 1, 30s));
    BOOST_TEST(topic.publish("new 0", 1s) == Status::ok);
    BOOST_TEST(topic.publish("new 1", 1s) == Status::ok);
    BOOST_TEST(test::wait_child(late, 30s) == 0);

    // More than the configured history gets the configured history.
    Subscription greedy;
    SubscribeOptions options;
    options.from_history = 1000;
    BOOST_TEST_REQUIRE(client->subscribe("news", greedy, options) == Status::ok);
    std::string message;
    BOOST_TEST(greedy.receive(message, 1s) == Status::ok);
    BOOST_TEST(message == "old 7");  // the last 5: old 7 to old 9, new 0 and new 1
}

BOOST_AUTO_TEST_CASE(a_view_tells_the_position_a_later_subscription_sees_again_in_the_history) {
    // What a subscriber that stopped needs to resume: the position of the
    // last message it read, the same when a new subscription reads that
    // message again from the history, and a given-up loan as a gap.
    auto config = test::make_config("positions");
    test::add_topic(config, "news", 16, 64, SlowSubscriberPolicy::drop, 8);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto topic = open(*client, "news");
    Subscription first;
    BOOST_TEST_REQUIRE(client->subscribe("news", first) == Status::ok);
    BOOST_TEST_REQUIRE(topic.publish("a", 1s) == Status::ok);
    Loan given_up;
    BOOST_TEST_REQUIRE(topic.loan(1, given_up, 1s) == Status::ok);
    given_up.cancel();
    BOOST_TEST_REQUIRE(topic.publish("b", 1s) == Status::ok);
    View a;
    BOOST_TEST_REQUIRE(first.read(a, 1s) == Status::ok);
    View b;
    BOOST_TEST_REQUIRE(first.read(b, 1s) == Status::ok);
    BOOST_TEST(b.text() == "b");
    BOOST_TEST(b.position() == a.position() + 2);

    Subscription later;
    SubscribeOptions options;
    options.from_history = 8;
    BOOST_TEST_REQUIRE(client->subscribe("news", later, options) == Status::ok);
    View again;
    BOOST_TEST_REQUIRE(later.read(again, 1s) == Status::ok);
    BOOST_TEST(again.text() == "a");
    BOOST_TEST(again.position() == a.position());
    BOOST_TEST_REQUIRE(later.read(again, 1s) == Status::ok);
    BOOST_TEST(again.position() == b.position());
}

// Large payloads, either side of common/payload_copy.hpp's threshold
// (64 KiB), reach a subscriber whole, through publish() and receive().
BOOST_AUTO_TEST_CASE(large_messages_reach_a_subscriber_byte_for_byte) {
    constexpr std::size_t longest = (std::size_t{1} << 20) + 13;
    auto config = test::make_config("largetopic");
    test::add_topic(config, "big", 2, longest, SlowSubscriberPolicy::block);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto topic = open(*client, "big");
    Subscription subscription;
    BOOST_TEST_REQUIRE(client->subscribe("big", subscription) == Status::ok);
    std::string out;
    for (const std::size_t length :
         {string_copy_threshold - 1, string_copy_threshold, string_copy_threshold + 1, std::size_t{1} << 20, longest}) {
        const auto message = test::patterned_message(length);
        BOOST_TEST_REQUIRE(topic.publish(message, 1s) == Status::ok);
        BOOST_TEST_REQUIRE(subscription.receive(out, 1s) == Status::ok);
        BOOST_TEST_REQUIRE(out == message, "length " << length);
    }
}

BOOST_AUTO_TEST_CASE(a_loan_is_published_without_a_copy_and_read_in_place) {
    auto config = test::make_config("loan");
    test::add_topic(config, "frames", 4, 1024, SlowSubscriberPolicy::block);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto topic = open(*client, "frames");
    Subscription first;
    Subscription second;
    BOOST_TEST_REQUIRE(client->subscribe("frames", first) == Status::ok);
    BOOST_TEST_REQUIRE(client->subscribe("frames", second) == Status::ok);

    Loan loan;
    BOOST_TEST_REQUIRE(topic.loan(100, loan, 1s) == Status::ok);
    BOOST_TEST(loan.is_active());
    BOOST_TEST(loan.capacity() == 1024u);
    std::memset(loan.data(), 'f', 100);
    BOOST_TEST(loan.resize(1025) == Status::message_too_large);
    BOOST_TEST(loan.resize(64) == Status::ok);
    const void* where = loan.data();
    BOOST_TEST(topic.publish(loan) == Status::ok);
    BOOST_TEST(!loan.is_active());
    BOOST_TEST(topic.publish(loan) == Status::invalid_argument);

    View a;
    View b;
    BOOST_TEST_REQUIRE(first.read(a, 1s) == Status::ok);
    BOOST_TEST_REQUIRE(second.read(b, 1s) == Status::ok);
    // Both subscribers read the very bytes the publisher wrote: no copy.
    BOOST_TEST(a.data() == where);
    BOOST_TEST(b.data() == where);
    BOOST_TEST(a.text() == std::string(64, 'f'));
    a.release();
    BOOST_TEST(!a.is_valid());
    BOOST_TEST(b.text() == std::string(64, 'f'));

    // A cancelled loan is skipped, and counted as abandoned.
    BOOST_TEST_REQUIRE(topic.loan(10, loan, 1s) == Status::ok);
    loan.cancel();
    BOOST_TEST(topic.publish("after the cancelled loan", 1s) == Status::ok);
    std::string message;
    BOOST_TEST(first.receive(message, 1s) == Status::ok);
    BOOST_TEST(message == "after the cancelled loan");
    BOOST_TEST(test::topic_stats(*client, "frames").abandoned == 1u);
    BOOST_TEST(topic.loan(1025, loan, 1s) == Status::message_too_large);
}

BOOST_AUTO_TEST_CASE(views_pin_their_slot_and_are_limited_per_subscription) {
    auto config = test::make_config("views");
    test::add_topic(config, "t", 8, 64, SlowSubscriberPolicy::drop);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto topic = open(*client, "t");
    Subscription subscription;
    BOOST_TEST_REQUIRE(client->subscribe("t", subscription) == Status::ok);
    for (int i = 0; i < 6; ++i) BOOST_TEST_REQUIRE(topic.publish("m" + std::to_string(i), 1s) == Status::ok);
    View views[4];
    for (auto& view : views) BOOST_TEST_REQUIRE(subscription.read(view, 1s) == Status::ok);
    View fifth;
    BOOST_TEST(subscription.read(fifth, no_wait) == Status::too_many_views);
    // Moving a view keeps its pin; re-reading into a view releases the old one.
    View moved = std::move(views[0]);
    BOOST_TEST(!views[0].is_valid());
    BOOST_TEST(moved.text() == "m0");
    BOOST_TEST_REQUIRE(subscription.read(moved, 1s) == Status::ok);
    BOOST_TEST(moved.text() == "m4");
    // The slot of m0 is free again; those of m1..m4 are pinned, even under drop.
    for (int i = 6; i < 9; ++i) BOOST_TEST_REQUIRE(topic.publish("m" + std::to_string(i), 1s) == Status::ok);
    BOOST_TEST(topic.publish("m9", 50ms) == Status::timeout);
    BOOST_TEST(views[1].text() == "m1");
    BOOST_TEST(test::topic_stats(*client, "t").subscribers.at(0).views == 4u);
    subscription.unsubscribe();  // releases every view
    BOOST_TEST(topic.publish("m9", 1s) == Status::ok);
    BOOST_TEST(subscription.read(fifth, no_wait) == Status::invalid_argument);
}

BOOST_AUTO_TEST_CASE(stats_and_names_show_topics_and_their_subscribers) {
    auto config = test::make_config("tstats");
    test::add_queue(config, "q", 4, 64);
    test::add_topic(config, "t", 4, 64, SlowSubscriberPolicy::drop, 2);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    BOOST_TEST(client->topic_names() == std::vector<std::string>{"t"});
    Topic missing;
    BOOST_TEST(client->open_topic("q", missing) == Status::topic_not_found);
    Subscription none;
    BOOST_TEST(client->subscribe("nope", none) == Status::topic_not_found);
    auto topic = open(*client, "t");
    BOOST_TEST(topic.name() == "t");
    BOOST_TEST(topic.capacity() == 4u);
    BOOST_TEST(topic.history() == 2u);
    Subscription reader;
    Subscription idle;
    BOOST_TEST_REQUIRE(client->subscribe("t", reader) == Status::ok);
    BOOST_TEST_REQUIRE(client->subscribe("t", idle) == Status::ok);
    for (int i = 0; i < 6; ++i) BOOST_TEST_REQUIRE(topic.publish("x", 1s) == Status::ok);
    std::string message;
    for (int i = 0; i < 3; ++i) BOOST_TEST_REQUIRE(reader.receive(message, 1s) == Status::ok);
    const auto stats = test::topic_stats(*client, "t");
    BOOST_TEST(stats.published == 6u);
    BOOST_TEST(stats.slow_subscriber == "drop");
    BOOST_TEST(stats.publishers == 1u);
    BOOST_TEST(stats.subscriptions == 2u);
    BOOST_TEST_REQUIRE(stats.subscribers.size() == 2u);
    BOOST_TEST(stats.subscribers[0].pid == ::getpid());
    // Positions 4 and 5 overwrote 0 and 1: each subscriber lost those two.
    BOOST_TEST(stats.subscribers[0].received == 3u);
    BOOST_TEST(stats.subscribers[0].lost == 2u);
    BOOST_TEST(stats.subscribers[0].lag == 1u);
    BOOST_TEST(stats.subscribers[1].lag == 4u);
    BOOST_TEST(stats.subscribers[1].lost == 2u);
    BOOST_TEST(idle.lost() == 2u);
    BOOST_TEST(reader.received() == 3u);
}

BOOST_AUTO_TEST_CASE(a_stopping_broker_wakes_a_waiting_subscriber) {
    auto config = test::make_config("tstop");
    test::add_topic(config, "t", 4, 64);
    auto broker = std::make_unique<test::InProcessBroker>(config);
    auto client = test::attach(broker->name());
    Subscription subscription;
    BOOST_TEST_REQUIRE(client->subscribe("t", subscription) == Status::ok);
    std::thread stopper([&] {
        std::this_thread::sleep_for(50ms);
        broker->stop();
    });
    std::string message;
    const auto start = std::chrono::steady_clock::now();
    BOOST_TEST(subscription.receive(message, 10s) == Status::broker_stopped);
    BOOST_TEST((std::chrono::steady_clock::now() - start < 2s));
    stopper.join();
}
