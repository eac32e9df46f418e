// A broker killed with kill -9 and started again adopts its segment: what the
// clients that died meanwhile left behind is theirs to give back, never a
// reason to quarantine, and a queue or topic quarantined before the restart
// goes back into service when it verifies (docs/guarantees.md, "Quarantine").
#define BOOST_TEST_MODULE adoption_tests
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <functional>
#include <sys/mman.h>
#include <unistd.h>

#include "common/layout.hpp"
#include "shmq/client.hpp"
#include "tests/support/test_support.hpp"

using namespace shmq;
using namespace std::chrono_literals;
using config::SlowSubscriberPolicy;

namespace {

layout::SubscriberRecord& subscriber_record(test::RawSegment& raw, std::uint32_t topic, std::uint32_t index) {
    const auto& control = raw.view.topic(topic).control();
    return reinterpret_cast<layout::SubscriberRecord*>(raw.base() + control.subscribers_offset)[index];
}

layout::TopicSlotHeader& topic_slot(test::RawSegment& raw, std::uint32_t topic, std::uint64_t position) {
    const auto& control = raw.view.topic(topic).control();
    return *reinterpret_cast<layout::TopicSlotHeader*>(raw.base() + control.slots_offset +
                                                       (position % control.capacity) * control.slot_stride);
}

std::atomic<std::uint64_t>& first_pin_word(test::RawSegment& raw, std::uint32_t topic, std::uint64_t position) {
    auto* slot = reinterpret_cast<std::byte*>(&topic_slot(raw, topic, position));
    return *reinterpret_cast<std::atomic<std::uint64_t>*>(slot + sizeof(layout::TopicSlotHeader));
}

void kill_and_reap(pid_t pid) {
    ::kill(pid, SIGKILL);
    BOOST_TEST(test::wait_child(pid, 5s) == 128 + SIGKILL);
}

}  // namespace

// The first steps of a zero-copy read (topic_ring.cpp, try_read) are: view
// entry = cursor + 1, pin bit set, cursor advanced. A subscriber killed after
// the first (or the first two) while no broker runs leaves an entry one
// beyond its cursor; the restarted broker must reap it and adopt the topic
// in service, not quarantine it.
BOOST_AUTO_TEST_CASE(a_subscriber_killed_inside_a_read_leaves_an_adoptable_topic) {
    for (const bool pinned : {false, true}) {
        BOOST_TEST_CONTEXT((pinned ? "entry and pin stored" : "entry stored")) {
            auto config = test::make_config("adoptread");
            test::add_topic(config, "t", 4, 64, SlowSubscriberPolicy::block, 1);
            const pid_t first_broker = test::start_broker_process(config);
            auto client = test::attach(config.name);
            Topic topic;
            BOOST_TEST_REQUIRE(client->open_topic("t", topic) == Status::ok);
            BOOST_TEST_REQUIRE(topic.publish("m0", 1s) == Status::ok);
            const auto name = config.name;
            const pid_t subscriber = test::start_in_place(name, [&name, pinned](Client& child) {
                static Subscription subscription;
                SubscribeOptions options;
                options.from_history = 1;
                if (child.subscribe("t", subscription, options) != Status::ok) return false;
                // The only subscriber has record 0; its cursor is at m0.
                static test::RawSegment raw(name);
                auto& record = subscriber_record(raw, 0, 0);
                const auto cursor = record.cursor.load();
                record.views[0].store(cursor + 1);
                if (pinned) first_pin_word(raw, 0, cursor).fetch_or(1);
                return true;
            });
            kill_and_reap(first_broker);  // nobody reaps the subscriber now
            kill_and_reap(subscriber);
            test::InProcessBroker successor(config);
            BOOST_TEST_REQUIRE(successor.broker().adopted());
            BOOST_TEST(!test::topic_stats(*client, "t").quarantined);
            BOOST_TEST(test::topic_stats(*client, "t").subscribers.empty());
            // A lap and more: the slot the dead subscriber was reading is free.
            for (int i = 1; i <= 5; ++i) BOOST_TEST_REQUIRE(topic.publish("m" + std::to_string(i), 1s) == Status::ok);
        }
    }
}

// A live subscriber may be anywhere inside a read while the broker adopts
// the segment (reads take no lock): the same entry one beyond its cursor is
// a state verification must accept, and the subscriber carries on.
BOOST_AUTO_TEST_CASE(a_live_subscriber_inside_a_read_is_accepted_on_adoption) {
    auto config = test::make_config("adoptlive");
    test::add_topic(config, "t", 4, 64, SlowSubscriberPolicy::block, 1);
    const pid_t first_broker = test::start_broker_process(config);
    auto client = test::attach(config.name);
    Topic topic;
    BOOST_TEST_REQUIRE(client->open_topic("t", topic) == Status::ok);
    BOOST_TEST_REQUIRE(topic.publish("m0", 1s) == Status::ok);
    Subscription subscription;
    BOOST_TEST_REQUIRE(client->subscribe("t", subscription) == Status::ok);
    test::RawSegment raw(config.name);
    auto& record = subscriber_record(raw, 0, 0);
    // Entry stored for the next position, as try_read does first; this
    // process is frozen there as far as the broker can tell.
    const auto cursor = record.cursor.load();
    record.views[3].store(cursor + 1);
    kill_and_reap(first_broker);
    test::InProcessBroker successor(config);
    BOOST_TEST_REQUIRE(successor.broker().adopted());
    BOOST_TEST(!test::topic_stats(*client, "t").quarantined);
    BOOST_TEST(test::topic_stats(*client, "t").subscribers.size() == 1u);
    record.views[3].store(0);  // the read resumes: it found nothing after all
    BOOST_TEST_REQUIRE(topic.publish("m1", 1s) == Status::ok);
    std::string message;
    BOOST_TEST(subscription.receive(message, 1s) == Status::ok);
    BOOST_TEST(message == "m1");
}

// Quarantine is not for ever: a restarted broker verifies every quarantined
// queue and topic again, repairs what it can, and puts back into service
// what verifies; what does not stays quarantined.
BOOST_AUTO_TEST_CASE(a_restarted_broker_returns_what_verifies_to_service) {
    auto config = test::make_config("requalify");
    test::add_queue(config, "q", 4, 64);
    test::add_topic(config, "t", 4, 64, SlowSubscriberPolicy::block, 2);
    test::add_topic(config, "broken", 4, 64, SlowSubscriberPolicy::block, 2);
    const pid_t first_broker = test::start_broker_process(config);
    auto client = test::attach(config.name);
    Queue queue = test::open_queue(*client, "q");
    Topic topic;
    Topic broken;
    BOOST_TEST_REQUIRE(client->open_topic("t", topic) == Status::ok);
    BOOST_TEST_REQUIRE(client->open_topic("broken", broken) == Status::ok);
    BOOST_TEST_REQUIRE(queue.send("kept", 1s) == Status::ok);
    for (const auto* text : {"h0", "h1"}) {
        BOOST_TEST_REQUIRE(topic.publish(text, 1s) == Status::ok);
        BOOST_TEST_REQUIRE(broken.publish(text, 1s) == Status::ok);
    }
    {
        test::RawSegment raw(config.name);
        // Sound structures, quarantined anyway (as by an earlier version's
        // verifier, or a flag scribbled on), and a stray pin that would hold
        // the topic's publishers for ever: all repairable.
        raw.view.ring(0).control().quarantined.store(1);
        raw.view.topic(0).control().quarantined.store(1);
        first_pin_word(raw, 0, 2).store(1u << 5);
        // A slot of the last lap that says it holds another position: not
        // repairable without guessing.
        topic_slot(raw, 1, 1).position.store(7);
        raw.view.topic(1).control().quarantined.store(1);
    }
    BOOST_TEST(queue.send("refused", no_wait) == Status::queue_quarantined);
    BOOST_TEST(topic.publish("refused", no_wait) == Status::queue_quarantined);
    kill_and_reap(first_broker);

    test::InProcessBroker successor(config);
    BOOST_TEST_REQUIRE(successor.broker().adopted());
    BOOST_TEST(!test::queue_stats(*client, "q").quarantined);
    BOOST_TEST(!test::topic_stats(*client, "t").quarantined);
    BOOST_TEST(test::topic_stats(*client, "broken").quarantined);
    std::string message;
    BOOST_TEST(queue.receive(message, 1s) == Status::ok);
    BOOST_TEST(message == "kept");
    BOOST_TEST(queue.send("after", 1s) == Status::ok);
    Subscription subscription;
    SubscribeOptions options;
    options.from_history = 2;
    BOOST_TEST_REQUIRE(client->subscribe("t", subscription, options) == Status::ok);
    for (const auto* expected : {"h0", "h1"}) {
        BOOST_TEST_REQUIRE(subscription.receive(message, 1s) == Status::ok);
        BOOST_TEST(message == expected);
    }
    // Laps the ring past the slot the stray pin held.
    for (int i = 0; i < 6; ++i) {
        BOOST_TEST_REQUIRE(topic.publish("m" + std::to_string(i), 1s) == Status::ok);
        BOOST_TEST_REQUIRE(subscription.receive(message, 1s) == Status::ok);
    }
    BOOST_TEST(broken.publish("still refused", no_wait) == Status::queue_quarantined);
}
