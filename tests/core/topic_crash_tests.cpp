// kill -9 on topics: a subscriber holding a view, a subscriber that stopped
// reading, a publisher holding a loan or cut short inside its claim, the
// broker.
// Publishers and the other subscribers must carry on within the liveness
// limit, another process's view must stay intact throughout, and a restarted
// broker adopts the topics with their history (after a simulated reboot
// too).
#define BOOST_TEST_MODULE topic_crash_tests
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <unistd.h>
#include <functional>
#include <random>
#include <sys/mman.h>
#include <thread>
#include <vector>

#include "common/client_registry.hpp"
#include "common/segment_mapping.hpp"
#include "common/segment_view.hpp"
#include "shmq/client.hpp"
#include "tests/support/test_support.hpp"

using namespace shmq;
using namespace std::chrono_literals;
using config::SlowSubscriberPolicy;

namespace {

// How long the broker may take to notice a death and reclaim what the dead
// process held: liveness ticks of 50 ms (test::make_config), with slack for a
// loaded machine.
constexpr auto liveness_limit = 1s;

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Starts a child that attaches and runs `stage` (false: it failed), waits
// until the child is in place, runs `before_kill` in the test, then kills the
// child with SIGKILL.
void die_in_place(const std::string& broker, const std::function<bool(Client&)>& stage,
                  const std::function<void()>& before_kill = [] {}) {
    const pid_t child = test::start_in_place(broker, stage);
    before_kill();
    ::kill(child, SIGKILL);
    BOOST_TEST(test::wait_child(child, 5s) == 128 + SIGKILL);
}

// Subscribes (with the last message of history) and holds a view of it,
// until killed. The objects must outlive `stage`: the child never returns.
bool hold_a_view(Client& client, const char* expected) {
    static Subscription subscription;
    static View view;
    SubscribeOptions options;
    options.from_history = 1;
    return client.subscribe("t", subscription, options) == Status::ok && subscription.read(view, 5s) == Status::ok &&
           view.text() == expected;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_subscriber_killed_holding_a_view_releases_its_slot_within_the_liveness_limit) {
    auto config = test::make_config("tviewkill");
    test::add_topic(config, "t", 4, 64, SlowSubscriberPolicy::block, 1);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    Topic topic;
    BOOST_TEST_REQUIRE(client->open_topic("t", topic) == Status::ok);
    BOOST_TEST_REQUIRE(topic.publish("m0", 1s) == Status::ok);
    die_in_place(broker.name(), [](Client& child) { return hold_a_view(child, "m0"); }, [&] {
        for (int i = 1; i < 4; ++i) BOOST_TEST_REQUIRE(topic.publish("m" + std::to_string(i), 1s) == Status::ok);
        // The next message needs the slot the child's view pins.
        BOOST_TEST(topic.publish("m4", no_wait) == Status::queue_full);
    });
    const auto killed = std::chrono::steady_clock::now();
    BOOST_TEST(topic.publish("m4", 5s) == Status::ok);  // into the reclaimed slot
    BOOST_TEST(seconds_since(killed) < std::chrono::duration<double>(liveness_limit).count());
    const auto stats = test::topic_stats(*client, "t");
    BOOST_TEST(stats.subscribers.empty());
    BOOST_TEST(stats.published == 5u);
}

BOOST_AUTO_TEST_CASE(a_view_stays_intact_while_another_subscriber_of_the_same_message_dies) {
    auto config = test::make_config("tviewlive");
    test::add_topic(config, "t", 4, 64, SlowSubscriberPolicy::drop, 1);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    Topic topic;
    BOOST_TEST_REQUIRE(client->open_topic("t", topic) == Status::ok);
    Subscription mine;
    BOOST_TEST_REQUIRE(client->subscribe("t", mine) == Status::ok);
    BOOST_TEST_REQUIRE(topic.publish("precious", 1s) == Status::ok);
    View view;
    BOOST_TEST_REQUIRE(mine.read(view, 1s) == Status::ok);
    const void* where = view.data();
    die_in_place(broker.name(), [](Client& child) { return hold_a_view(child, "precious"); });
    BOOST_TEST(test::eventually([&] { return test::topic_stats(*client, "t").subscribers.size() == 1u; }, liveness_limit));
    // The other subscriber's death released its pin, not ours.
    BOOST_TEST(view.data() == where);
    BOOST_TEST(view.text() == "precious");
    for (int i = 1; i < 4; ++i) BOOST_TEST_REQUIRE(topic.publish("m" + std::to_string(i), 1s) == Status::ok);
    BOOST_TEST(topic.publish("over it", 100ms) == Status::timeout);  // pinned, even under drop
    BOOST_TEST(view.text() == "precious");
    view.release();
    BOOST_TEST(topic.publish("over it", 1s) == Status::ok);
}

BOOST_AUTO_TEST_CASE(a_subscriber_killed_without_reading_stops_holding_publishers_up) {
    auto config = test::make_config("tsubkill");
    test::add_topic(config, "t", 4, 64, SlowSubscriberPolicy::block);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    Topic topic;
    BOOST_TEST_REQUIRE(client->open_topic("t", topic) == Status::ok);
    die_in_place(broker.name(), [](Client& child) {
        static Subscription subscription;
        return child.subscribe("t", subscription) == Status::ok;
    }, [&] {
        for (int i = 0; i < 4; ++i) BOOST_TEST_REQUIRE(topic.publish("m", 1s) == Status::ok);
        BOOST_TEST(topic.publish("m", no_wait) == Status::queue_full);  // waits for the child
    });
    const auto killed = std::chrono::steady_clock::now();
    BOOST_TEST(topic.publish("m", 5s) == Status::ok);
    BOOST_TEST(seconds_since(killed) < std::chrono::duration<double>(liveness_limit).count());
    BOOST_TEST(test::topic_stats(*client, "t").subscribers.empty());
}

BOOST_AUTO_TEST_CASE(a_publisher_killed_holding_a_loan_is_skipped_by_subscribers) {
    auto config = test::make_config("tloankill");
    test::add_topic(config, "t", 8, 64, SlowSubscriberPolicy::block);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    Topic topic;
    BOOST_TEST_REQUIRE(client->open_topic("t", topic) == Status::ok);
    Subscription subscription;
    BOOST_TEST_REQUIRE(client->subscribe("t", subscription) == Status::ok);
    die_in_place(broker.name(), [](Client& child) {
        static Topic loaned;
        static Loan loan;
        if (child.open_topic("t", loaned) != Status::ok || loaned.loan(32, loan, 1s) != Status::ok) return false;
        std::memset(loan.data(), 'x', 16);  // half filled when it dies
        return true;
    }, [&] {
        BOOST_TEST_REQUIRE(topic.publish("after the loan", 1s) == Status::ok);
        std::string message;
        // Messages are delivered in ring order: the loan comes first.
        BOOST_TEST(subscription.receive(message, no_wait) == Status::empty);
    });
    const auto killed = std::chrono::steady_clock::now();
    std::string message;
    BOOST_TEST(subscription.receive(message, 5s) == Status::ok);
    BOOST_TEST(message == "after the loan");
    BOOST_TEST(seconds_since(killed) < std::chrono::duration<double>(liveness_limit).count());
    BOOST_TEST(subscription.lost() == 0u);
    const auto stats = test::topic_stats(*client, "t");
    BOOST_TEST(stats.abandoned == 1u);
    BOOST_TEST(stats.published == 1u);
    for (int i = 0; i < 20; ++i) {  // laps the ring: the abandoned slot is reused
        BOOST_TEST_REQUIRE(topic.publish("again", 1s) == Status::ok);
        BOOST_TEST_REQUIRE(subscription.receive(message, 1s) == Status::ok);
    }
}

BOOST_AUTO_TEST_CASE(a_publisher_killed_inside_its_claim_does_not_block_the_others) {
    auto config = test::make_config("tlockkill");
    test::add_topic(config, "t", 4, 64, SlowSubscriberPolicy::block);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    Topic topic;
    BOOST_TEST_REQUIRE(client->open_topic("t", topic) == Status::ok);
    Subscription subscription;
    BOOST_TEST_REQUIRE(client->subscribe("t", subscription) == Status::ok);
    const auto name = broker.name();
    // The child has done the first step of a claim (the slot's word, stamped
    // with its own client record) when it dies.
    die_in_place(name, [&name](Client&) {
        static test::RawSegment segment(name);
        auto& view = segment.view;
        OwnerStamp me;
        if (claim_client_record(view, "half_a_claim", me) != Status::ok) return false;
        auto& control = view.topic(0).control();
        const auto tail = control.tail.load();
        auto* slot = reinterpret_cast<layout::TopicSlotHeader*>(segment.base() +
                                                                control.slots_offset +
                                                                (tail % control.capacity) * control.slot_stride);
        slot->word.store(SlotWord::make(SlotState::writing, me, static_cast<std::uint16_t>(tail / control.capacity)));
        return true;
    });
    const auto killed = std::chrono::steady_clock::now();
    for (int i = 0; i < 10; ++i) {
        BOOST_TEST_REQUIRE(topic.publish("m" + std::to_string(i), 2s) == Status::ok);
        std::string message;
        BOOST_TEST_REQUIRE(subscription.receive(message, 2s) == Status::ok);
        BOOST_TEST(message == "m" + std::to_string(i));
    }
    BOOST_TEST(seconds_since(killed) < std::chrono::duration<double>(liveness_limit).count());
}

BOOST_AUTO_TEST_CASE(a_killed_brokers_topics_are_adopted_with_their_history) {
    auto config = test::make_config("tadopt");
    test::add_topic(config, "t", 8, 64, SlowSubscriberPolicy::block, 3);
    const pid_t doomed = test::fork_child([&] {
        daemon::Broker broker(config);
        broker.start();
        std::unique_ptr<Client> client;
        AttachOptions options;
        options.broker = config.name;
        if (Client::attach(options, client) != Status::ok) return 1;
        Topic topic;
        Subscription subscription;  // dies with the broker, still subscribed
        if (client->open_topic("t", topic) != Status::ok || client->subscribe("t", subscription) != Status::ok) return 2;
        for (int i = 0; i < 5; ++i) topic.publish("m" + std::to_string(i), 1s);
        ::kill(::getpid(), SIGKILL);
        return 3;
    });
    BOOST_TEST(test::wait_child(doomed, 10s) == 128 + SIGKILL);
    test::InProcessBroker successor(config);
    BOOST_TEST(successor.broker().adopted());
    auto client = test::attach(config.name);
    // The dead subscription was reclaimed on adoption: it holds nobody up.
    BOOST_TEST(test::topic_stats(*client, "t").subscribers.empty());
    BOOST_TEST(test::topic_stats(*client, "t").published == 5u);
    Subscription late;
    SubscribeOptions options;
    options.from_history = 3;
    BOOST_TEST_REQUIRE(client->subscribe("t", late, options) == Status::ok);
    Topic topic;
    BOOST_TEST_REQUIRE(client->open_topic("t", topic) == Status::ok);
    // The ring holds 8: the late subscriber starts at m2, so m5 to m9 fit.
    for (int i = 5; i < 10; ++i) BOOST_TEST_REQUIRE(topic.publish("m" + std::to_string(i), no_wait) == Status::ok);
    BOOST_TEST(topic.publish("m10", no_wait) == Status::queue_full);
    std::string message;
    for (int i = 2; i < 10; ++i) {
        BOOST_TEST_REQUIRE(late.receive(message, 1s) == Status::ok);
        BOOST_TEST(message == "m" + std::to_string(i));
    }
}

BOOST_AUTO_TEST_CASE(after_a_reboot_a_persistent_topics_stale_lock_and_subscribers_are_reset) {
    test::TempDir dir;
    auto config = test::make_config("treboot");
    config.persist_path = dir.path() + "/treboot.segment";
    config.flush_interval_ms = 50;
    test::add_topic(config, "t", 8, 64, SlowSubscriberPolicy::block, 2);
    {
        test::InProcessBroker broker(config);
        // A client of the old boot that never detaches, subscribed and holding
        // a view, after another one was cut short in the first step of a claim
        // of position 0 (its slot stamped writing; the publish helps it on).
        const pid_t old_client = test::fork_child([&] {
            test::RawSegment raw(config.persist_path);
            OwnerStamp cut_short;
            if (claim_client_record(raw.view, "cut_short", cut_short) != Status::ok) return 3;
            auto& control = raw.view.topic(0).control();
            reinterpret_cast<layout::TopicSlotHeader*>(raw.base() + control.slots_offset)
                ->word.store(SlotWord::make(SlotState::writing, cut_short, 0));
            std::unique_ptr<Client> client;
            AttachOptions options;
            options.broker = config.persist_path;
            if (Client::attach(options, client) != Status::ok) return 1;
            Topic topic;
            Subscription subscription;
            View view;
            SubscribeOptions from_it;  // past the claim cut short, whose owner lives on here
            from_it.from_history = 1;
            if (client->open_topic("t", topic) != Status::ok || topic.publish("from the old boot", 1s) != Status::ok ||
                client->subscribe("t", subscription, from_it) != Status::ok || subscription.read(view, 1s) != Status::ok) {
                return 2;
            }
            ::_exit(0);  // no detach
        });
        BOOST_TEST(test::wait_child(old_client, 10s) == 0);
    }
    // A reboot: another boot id. (Topics have no lock left held to reset; the
    // old boot's claim cut short, above, is what the reset must resolve.)
    {
        test::RawSegment raw(config.persist_path);
        std::memcpy(raw.view.root().boot_id, "00000000-0000-0000-0000-000000000000", 37);
    }
    test::InProcessBroker successor(config);
    auto client = test::attach(config.persist_path);
    BOOST_TEST(test::topic_stats(*client, "t").subscribers.empty());
    Subscription subscription;
    SubscribeOptions options;
    options.from_history = 2;
    BOOST_TEST_REQUIRE(client->subscribe("t", subscription, options) == Status::ok);
    Topic topic;
    BOOST_TEST_REQUIRE(client->open_topic("t", topic) == Status::ok);
    std::string message;
    BOOST_TEST(subscription.receive(message, 1s) == Status::ok);
    BOOST_TEST(message == "from the old boot");
    // A lap more: the slot the old boot's view pinned is reused.
    for (int i = 0; i < 8; ++i) BOOST_TEST_REQUIRE(topic.publish("after " + std::to_string(i), 1s) == Status::ok);
    BOOST_TEST(subscription.receive(message, 1s) == Status::ok);
    BOOST_TEST(message == "after 0");
}

namespace {

struct Payload {
    std::uint32_t publisher;
    std::uint32_t sequence;
    std::uint64_t check;  // derived from the other two: a torn copy shows
};

std::uint64_t check_of(std::uint32_t publisher, std::uint32_t sequence) {
    return (static_cast<std::uint64_t>(publisher) << 32 | sequence) * 0x9E3779B97F4A7C15ull;
}

// Shared by the test and every child of the chaos test.
struct Chaos {
    std::atomic<int> stop{0};
    std::atomic<std::uint32_t> next_publisher{0};
    std::atomic<std::uint64_t> published{0};
    std::atomic<std::uint64_t> delivered{0};
    std::atomic<std::uint64_t> violations{0};
};

constexpr std::uint32_t max_chaos_publishers = 4096;

// Publishes numbered messages, by copy and by loan in turn, until told to
// stop. A message whose publish timed out is tried again under the same
// number, so each publisher's published numbers have no gaps.
int chaos_publisher(const std::string& broker, Chaos* chaos) {
    std::unique_ptr<Client> client;
    AttachOptions options;
    options.broker = broker;
    Topic topic;
    if (Client::attach(options, client) != Status::ok || client->open_topic("t", topic) != Status::ok) return 1;
    const auto id = chaos->next_publisher.fetch_add(1);
    for (std::uint32_t sequence = 0; !chaos->stop.load() && id < max_chaos_publishers;) {
        const Payload payload{id, sequence, check_of(id, sequence)};
        Status status;
        if (sequence % 2 == 0) {
            status = topic.publish(&payload, sizeof payload, 50ms);
        } else {
            Loan loan;
            status = topic.loan(sizeof payload, loan, 50ms);
            if (status == Status::ok) {
                std::memcpy(loan.data(), &payload, sizeof payload);
                status = topic.publish(loan);
            }
        }
        if (status == Status::ok) {
            ++sequence;
            chaos->published.fetch_add(1);
        } else if (status != Status::timeout) {
            chaos->violations.fetch_add(1);
            return 2;
        }
    }
    return 0;
}

// Reads, by copy and by view in turn, and checks every message: intact, and
// each publisher's numbers increasing (under block: consecutive, once the
// first one from that publisher was seen).
int chaos_subscriber(const std::string& broker, Chaos* chaos, bool consecutive) {
    std::unique_ptr<Client> client;
    AttachOptions options;
    options.broker = broker;
    Subscription subscription;
    if (Client::attach(options, client) != Status::ok || client->subscribe("t", subscription) != Status::ok) return 1;
    std::vector<std::int64_t> last(max_chaos_publishers, -1);
    View view;
    for (std::uint64_t read = 0; !chaos->stop.load(); ++read) {
        Payload payload{};
        Status status;
        std::size_t size = sizeof payload;
        if (read % 2 == 0) {
            status = subscription.read(view, 50ms);
            if (status == Status::ok) {
                size = view.size();
                if (size == sizeof payload) std::memcpy(&payload, view.data(), sizeof payload);
            }
        } else {
            status = subscription.receive(&payload, sizeof payload, size, 50ms);
        }
        if (status == Status::timeout) continue;
        const bool intact = status == Status::ok && size == sizeof payload && payload.publisher < max_chaos_publishers &&
                            payload.check == check_of(payload.publisher, payload.sequence);
        if (!intact) {
            chaos->violations.fetch_add(1);
            return 2;
        }
        auto& previous = last[payload.publisher];
        if (payload.sequence <= previous || (consecutive && previous >= 0 && payload.sequence != previous + 1)) {
            chaos->violations.fetch_add(1);
            return 3;
        }
        previous = payload.sequence;
        chaos->delivered.fetch_add(1);
    }
    return 0;
}

}  // namespace

// Publishers (copying and loaning) and subscribers (copying and viewing) in
// tight loops while the test SIGKILLs one at random every 20 ms and starts a
// replacement. No message may arrive torn, twice or out of order (under
// block: none of a live publisher's may be missing), nothing may wedge, and
// afterwards the topic must work and hold no dead subscription.
BOOST_AUTO_TEST_CASE(random_kills_under_load_never_wedge_a_topic) {
    for (const auto policy : {SlowSubscriberPolicy::block, SlowSubscriberPolicy::drop}) {
        BOOST_TEST_CONTEXT("slow_subscriber " << config::to_string(policy)) {
            auto config = test::make_config("tchaos");
            test::add_topic(config, "t", 64, 64, policy);
            test::InProcessBroker broker(config);
            void* memory = ::mmap(nullptr, sizeof(Chaos), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
            BOOST_TEST_REQUIRE(memory != MAP_FAILED);
            auto* chaos = new (memory) Chaos();
            const bool consecutive = policy == SlowSubscriberPolicy::block;
            const auto name = broker.name();
            const auto start_publisher = [&] { return test::fork_child([&] { return chaos_publisher(name, chaos); }); };
            const auto start_subscriber = [&] {
                return test::fork_child([&] { return chaos_subscriber(name, chaos, consecutive); });
            };
            struct Running {
                pid_t pid;
                bool publisher;
            };
            std::vector<Running> children;
            for (int i = 0; i < 2; ++i) children.push_back({start_publisher(), true});
            for (int i = 0; i < 3; ++i) children.push_back({start_subscriber(), false});
            std::mt19937 random(12345);
            int kills = 0;
            const auto end = std::chrono::steady_clock::now() + 2s;
            while (std::chrono::steady_clock::now() < end) {
                std::this_thread::sleep_for(20ms);
                auto& victim = children[random() % children.size()];
                ::kill(victim.pid, SIGKILL);
                test::wait_child(victim.pid, 5s);
                victim.pid = victim.publisher ? start_publisher() : start_subscriber();
                ++kills;
            }
            chaos->stop.store(1);
            for (const auto& child : children) BOOST_TEST(test::wait_child(child.pid, 10s) == 0);
            BOOST_TEST(chaos->violations.load() == 0u);
            BOOST_TEST(chaos->published.load() > 0u);
            BOOST_TEST(chaos->delivered.load() > 0u);
            BOOST_TEST_MESSAGE(kills << " kills; " << chaos->published.load() << " published, "
                                     << chaos->delivered.load() << " delivered");
            auto client = test::attach(name);
            BOOST_TEST(test::eventually([&] { return test::topic_stats(*client, "t").subscribers.empty(); }, liveness_limit));
            BOOST_TEST(!test::topic_stats(*client, "t").quarantined);
            Subscription subscription;
            Topic topic;
            BOOST_TEST_REQUIRE(client->subscribe("t", subscription) == Status::ok);
            BOOST_TEST_REQUIRE(client->open_topic("t", topic) == Status::ok);
            for (int i = 0; i < 200; ++i) {  // laps the ring: every slot works again
                BOOST_TEST_REQUIRE(topic.publish("after", 1s) == Status::ok);
                std::string message;
                BOOST_TEST_REQUIRE(subscription.receive(message, 1s) == Status::ok);
            }
            ::munmap(memory, sizeof(Chaos));
        }
    }
}
