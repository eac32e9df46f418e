// The topic ring below the client library, against a real broker segment:
// fan-out, both slow-subscriber policies, history, pins, the repair of a claim
// cut short, the broker's reclaim of a dead client, and the checks that
// quarantine a corrupt topic. One process; the multi-process behaviour is in
// topic_tests.cpp and topic_crash_tests.cpp.
#define BOOST_TEST_MODULE topic_ring_tests
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstring>
#include <string>

#include "common/client_registry.hpp"
#include "common/segment_view.hpp"
#include "tests/support/test_support.hpp"

using namespace shmq;
using namespace std::chrono_literals;
using config::SlowSubscriberPolicy;

namespace {

// A broker with one topic, and direct access to its ring as a client of
// its own (a real client record, so the broker's reaper leaves it alone).
struct Fixture {
    Fixture(const std::string& tag, std::uint32_t capacity, SlowSubscriberPolicy policy, std::uint32_t history = 0,
            std::uint32_t max_subscribers = 64)
        : config(make(tag, capacity, policy, history, max_subscribers)),
          broker(config),
          segment(broker.name()),
          view(segment.view) {
        BOOST_TEST_REQUIRE(claim_client_record(view, "topic_ring_tests", me) == Status::ok);
    }
    ~Fixture() { release_client_record(view, me); }

    static config::BrokerConfig make(const std::string& tag, std::uint32_t capacity, SlowSubscriberPolicy policy,
                                     std::uint32_t history, std::uint32_t max_subscribers) {
        auto config = test::make_config(tag);
        test::add_topic(config, "t", capacity, 64, policy, history).max_subscribers = max_subscribers;
        return config;
    }

    TopicRing& ring() { return view.topic(0); }

    Status publish(const std::string& text) {
        return ring().try_publish(text.data(), text.size(), me);
    }

    SubscriberHandle subscribe(std::uint32_t history = 0) {
        SubscriberHandle handle;
        BOOST_TEST_REQUIRE(ring().subscribe(me, history, handle) == Status::ok);
        return handle;
    }

    // The next message as text, or the status's name in brackets.
    std::string receive(const SubscriberHandle& handle) {
        char buffer[64];
        std::size_t size = 0;
        const Status status = ring().try_receive(handle, buffer, sizeof buffer, size);
        if (status != Status::ok) return std::string("[") + to_string(status) + "]";
        return std::string(buffer, size);
    }

    config::BrokerConfig config;
    test::InProcessBroker broker;
    test::RawSegment segment;
    SegmentView& view;
    OwnerStamp me;
};

std::string text_of(const PinnedMessage& message) {
    return std::string(reinterpret_cast<const char*>(message.data), message.size);
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_subscriber_reads_every_message_in_order) {
    Fixture fixture("ringfan", 4, SlowSubscriberPolicy::block);
    const auto a = fixture.subscribe();
    const auto b = fixture.subscribe();
    for (int i = 0; i < 20; ++i) {
        BOOST_TEST_REQUIRE(fixture.publish("m" + std::to_string(i)) == Status::ok);
        if (i % 4 == 3) {
            for (int j = i - 3; j <= i; ++j) {
                BOOST_TEST(fixture.receive(a) == "m" + std::to_string(j));
                BOOST_TEST(fixture.receive(b) == "m" + std::to_string(j));
            }
        }
    }
    BOOST_TEST(fixture.receive(a) == "[empty]");
    BOOST_TEST(fixture.ring().counters(a.index).received == 20u);
    BOOST_TEST(fixture.ring().counters(b.index).lost == 0u);
}

BOOST_AUTO_TEST_CASE(a_message_published_before_subscribing_is_not_received) {
    Fixture fixture("ringlate", 4, SlowSubscriberPolicy::block);
    BOOST_TEST(fixture.publish("before") == Status::ok);
    const auto late = fixture.subscribe();
    BOOST_TEST(fixture.receive(late) == "[empty]");
    BOOST_TEST(fixture.publish("after") == Status::ok);
    BOOST_TEST(fixture.receive(late) == "after");
}

BOOST_AUTO_TEST_CASE(without_subscribers_publishing_never_blocks) {
    Fixture fixture("ringnosub", 4, SlowSubscriberPolicy::block);
    for (int i = 0; i < 50; ++i) BOOST_TEST_REQUIRE(fixture.publish("x") == Status::ok);
}

BOOST_AUTO_TEST_CASE(block_refuses_a_claim_until_the_slowest_subscriber_reads) {
    Fixture fixture("ringblock", 4, SlowSubscriberPolicy::block);
    const auto fast = fixture.subscribe();
    const auto slow = fixture.subscribe();
    for (int i = 0; i < 4; ++i) BOOST_TEST_REQUIRE(fixture.publish("m" + std::to_string(i)) == Status::ok);
    for (int i = 0; i < 4; ++i) BOOST_TEST(fixture.receive(fast) == "m" + std::to_string(i));
    BOOST_TEST(fixture.publish("m4") == Status::queue_full);
    BOOST_TEST(!fixture.ring().may_have_room());
    BOOST_TEST(fixture.receive(slow) == "m0");
    BOOST_TEST(fixture.ring().may_have_room());
    BOOST_TEST(fixture.publish("m4") == Status::ok);
    BOOST_TEST(fixture.publish("m5") == Status::queue_full);
    for (int i = 1; i < 5; ++i) BOOST_TEST(fixture.receive(slow) == "m" + std::to_string(i));
    BOOST_TEST(fixture.ring().counters(slow.index).lost == 0u);
}

BOOST_AUTO_TEST_CASE(drop_pushes_the_laggard_past_what_it_lost) {
    Fixture fixture("ringdrop", 4, SlowSubscriberPolicy::drop);
    const auto fast = fixture.subscribe();
    const auto slow = fixture.subscribe();
    for (int i = 0; i < 10; ++i) {
        BOOST_TEST_REQUIRE(fixture.publish("m" + std::to_string(i)) == Status::ok);
        BOOST_TEST(fixture.receive(fast) == "m" + std::to_string(i));
    }
    // The laggard lost m0..m5 and still finds the last capacity messages.
    BOOST_TEST(fixture.ring().counters(slow.index).lost == 6u);
    for (int i = 6; i < 10; ++i) BOOST_TEST(fixture.receive(slow) == "m" + std::to_string(i));
    BOOST_TEST(fixture.ring().counters(slow.index).received == 4u);
    BOOST_TEST(fixture.ring().counters(fast.index).lost == 0u);
    BOOST_TEST(fixture.ring().control().dropped.load() == 6u);
}

BOOST_AUTO_TEST_CASE(a_late_subscriber_gets_the_history_it_asks_for_then_live_messages) {
    Fixture fixture("ringhist", 8, SlowSubscriberPolicy::block, 3);
    for (int i = 0; i < 12; ++i) BOOST_TEST_REQUIRE(fixture.publish("m" + std::to_string(i)) == Status::ok);
    const auto two = fixture.subscribe(2);
    const auto capped = fixture.subscribe(100);  // at most the configured 3
    BOOST_TEST(fixture.receive(two) == "m10");
    BOOST_TEST(fixture.receive(two) == "m11");
    BOOST_TEST(fixture.receive(two) == "[empty]");
    for (int i = 9; i < 12; ++i) BOOST_TEST(fixture.receive(capped) == "m" + std::to_string(i));
    BOOST_TEST(fixture.publish("live") == Status::ok);
    BOOST_TEST(fixture.receive(two) == "live");
    BOOST_TEST(fixture.receive(capped) == "live");
}

BOOST_AUTO_TEST_CASE(history_is_limited_to_what_was_published) {
    Fixture fixture("ringhistshort", 8, SlowSubscriberPolicy::block, 5);
    BOOST_TEST(fixture.publish("only") == Status::ok);
    const auto handle = fixture.subscribe(5);
    BOOST_TEST(fixture.receive(handle) == "only");
    BOOST_TEST(fixture.receive(handle) == "[empty]");
}

BOOST_AUTO_TEST_CASE(a_view_pins_its_slot_even_under_drop) {
    Fixture fixture("ringpin", 2, SlowSubscriberPolicy::drop);
    const auto handle = fixture.subscribe();
    BOOST_TEST(fixture.publish("pinned") == Status::ok);
    PinnedMessage view;
    BOOST_TEST_REQUIRE(fixture.ring().try_read(handle, view) == Status::ok);
    BOOST_TEST(text_of(view) == "pinned");
    BOOST_TEST(fixture.ring().counters(handle.index).views == 1u);
    BOOST_TEST(fixture.publish("a") == Status::ok);
    BOOST_TEST(fixture.publish("b") == Status::queue_full);  // would reuse the pinned slot
    BOOST_TEST(text_of(view) == "pinned");
    fixture.ring().release_view(handle, view);
    BOOST_TEST(fixture.ring().counters(handle.index).views == 0u);
    BOOST_TEST(fixture.publish("b") == Status::ok);
    BOOST_TEST(fixture.receive(handle) == "a");
    BOOST_TEST(fixture.receive(handle) == "b");
}

BOOST_AUTO_TEST_CASE(a_subscription_holds_at_most_four_views) {
    Fixture fixture("ringviews", 8, SlowSubscriberPolicy::block);
    const auto handle = fixture.subscribe();
    for (int i = 0; i < 6; ++i) BOOST_TEST_REQUIRE(fixture.publish("m" + std::to_string(i)) == Status::ok);
    PinnedMessage views[layout::max_views_per_subscriber];
    for (auto& view : views) BOOST_TEST_REQUIRE(fixture.ring().try_read(handle, view) == Status::ok);
    PinnedMessage one_more;
    BOOST_TEST(fixture.ring().try_read(handle, one_more) == Status::too_many_views);
    // A copying receive needs no view.
    BOOST_TEST(fixture.receive(handle) == "m4");
    fixture.ring().release_view(handle, views[1]);
    BOOST_TEST_REQUIRE(fixture.ring().try_read(handle, one_more) == Status::ok);
    BOOST_TEST(text_of(one_more) == "m5");
    BOOST_TEST(text_of(views[0]) == "m0");
    BOOST_TEST(text_of(views[3]) == "m3");
}

BOOST_AUTO_TEST_CASE(every_subscriber_record_taken_says_so) {
    Fixture fixture("ringfull", 4, SlowSubscriberPolicy::block, 0, 3);
    for (int i = 0; i < 3; ++i) fixture.subscribe();
    SubscriberHandle handle;
    BOOST_TEST(fixture.ring().subscribe(fixture.me, 0, handle) == Status::too_many_subscribers);
}

BOOST_AUTO_TEST_CASE(unsubscribing_releases_views_and_unblocks_publishers) {
    Fixture fixture("ringunsub", 2, SlowSubscriberPolicy::block);
    const auto handle = fixture.subscribe();
    BOOST_TEST(fixture.publish("a") == Status::ok);
    BOOST_TEST(fixture.publish("b") == Status::ok);
    PinnedMessage view;
    BOOST_TEST_REQUIRE(fixture.ring().try_read(handle, view) == Status::ok);
    BOOST_TEST(fixture.publish("c") == Status::queue_full);
    fixture.ring().unsubscribe(handle);
    BOOST_TEST(fixture.publish("c") == Status::ok);
    BOOST_TEST(fixture.publish("d") == Status::ok);
    // The handle of an ended subscription is refused; releasing its view is harmless.
    fixture.ring().release_view(handle, view);
    BOOST_TEST(fixture.receive(handle) == "[invalid_argument]");
}

BOOST_AUTO_TEST_CASE(an_abandoned_claim_is_skipped_and_not_counted_as_lost) {
    Fixture fixture("ringabandon", 4, SlowSubscriberPolicy::drop);
    const auto handle = fixture.subscribe();
    std::uint64_t position = 0;
    BOOST_TEST_REQUIRE(fixture.ring().claim(fixture.me, position) == Status::ok);
    BOOST_TEST(fixture.publish("behind") == Status::ok);
    BOOST_TEST(fixture.receive(handle) == "[empty]");  // the claim at the cursor is still being written
    fixture.ring().abandon(position, fixture.me);
    BOOST_TEST(fixture.receive(handle) == "behind");
    const auto counters = fixture.ring().counters(handle.index);
    BOOST_TEST(counters.lost == 0u);
    BOOST_TEST(counters.received == 1u);
    BOOST_TEST(fixture.ring().control().abandoned.load() == 1u);
}

BOOST_AUTO_TEST_CASE(a_receive_buffer_too_small_leaves_the_message_in_place) {
    Fixture fixture("ringsmall", 4, SlowSubscriberPolicy::block);
    const auto handle = fixture.subscribe();
    BOOST_TEST(fixture.publish("twelve bytes") == Status::ok);
    char buffer[4];
    std::size_t size = 0;
    BOOST_TEST(fixture.ring().try_receive(handle, buffer, sizeof buffer, size) == Status::buffer_too_small);
    BOOST_TEST(fixture.receive(handle) == "twelve bytes");
    const std::string too_large(65, 'x');
    BOOST_TEST(fixture.publish(too_large) == Status::message_too_large);
}

BOOST_AUTO_TEST_CASE(the_broker_reclaim_ends_a_dead_clients_subscriptions_views_and_claims) {
    Fixture fixture("ringreclaim", 2, SlowSubscriberPolicy::block);
    const auto survivor = fixture.subscribe();
    // A second client record stands for the dead one; the test calls the
    // reclaim the broker's reaper would.
    OwnerStamp ghost;
    BOOST_TEST_REQUIRE(claim_client_record(fixture.view, "ghost", ghost) == Status::ok);
    SubscriberHandle haunted;
    BOOST_TEST_REQUIRE(fixture.ring().subscribe(ghost, 0, haunted) == Status::ok);
    BOOST_TEST(fixture.publish("a") == Status::ok);
    PinnedMessage view;
    BOOST_TEST_REQUIRE(fixture.ring().try_read(haunted, view) == Status::ok);
    std::uint64_t position = 0;
    BOOST_TEST_REQUIRE(fixture.ring().claim(ghost, position) == Status::ok);
    BOOST_TEST(fixture.receive(survivor) == "a");
    BOOST_TEST(fixture.publish("c") == Status::queue_full);  // pinned by the ghost's view

    TopicReclaimCounts counts;
    fixture.ring().reclaim(ghost, counts);
    BOOST_TEST(counts.abandoned_writes == 1u);
    BOOST_TEST(counts.subscriptions == 1u);
    BOOST_TEST(fixture.ring().subscriber_owner(haunted.index).is_none());
    BOOST_TEST(fixture.publish("c") == Status::ok);
    BOOST_TEST(fixture.receive(survivor) == "c");  // the abandoned claim skipped
    release_client_record(fixture.view, ghost);
}

BOOST_AUTO_TEST_CASE(a_claim_cut_short_after_its_first_step_is_completed_and_abandoned_by_the_reclaim) {
    Fixture fixture("ringcut", 4, SlowSubscriberPolicy::block);
    const auto handle = fixture.subscribe();
    auto& control = fixture.ring().control();
    BOOST_TEST_REQUIRE(fixture.publish("before") == Status::ok);
    BOOST_TEST_REQUIRE(fixture.receive(handle) == "before");
    // What a publisher killed after the first step of its claim leaves: the
    // slot at tail stamped writing with its owner and tail's lap, the
    // position and tail not yet moved. A ghost client record stands for it.
    OwnerStamp ghost;
    BOOST_TEST_REQUIRE(claim_client_record(fixture.view, "ghost", ghost) == Status::ok);
    const auto tail = control.tail.load();
    auto* slot = reinterpret_cast<layout::TopicSlotHeader*>(fixture.segment.base() + control.slots_offset +
                                                            (tail % control.capacity) * control.slot_stride);
    slot->word.store(SlotWord::make(SlotState::writing, ghost, static_cast<std::uint16_t>(tail / 4)));
    // The next publisher completes the ghost's claim and takes the next
    // position: nobody waits for the ghost.
    BOOST_TEST_REQUIRE(fixture.publish("after") == Status::ok);
    BOOST_TEST(control.tail.load() == tail + 2);
    BOOST_TEST(fixture.receive(handle) == "[empty]");  // in order: the ghost's message comes first
    TopicReclaimCounts counts;
    fixture.ring().reclaim(ghost, counts);
    BOOST_TEST(counts.abandoned_writes == 1u);
    BOOST_TEST(fixture.receive(handle) == "after");  // the ghost's claim skipped
    BOOST_TEST(fixture.ring().counters(handle.index).lost == 0u);
    for (int i = 0; i < 10; ++i) {  // laps the ring: the abandoned slot is usable again
        BOOST_TEST_REQUIRE(fixture.publish("m" + std::to_string(i)) == Status::ok);
        BOOST_TEST_REQUIRE(fixture.receive(handle) == "m" + std::to_string(i));
    }
    release_client_record(fixture.view, ghost);
}

BOOST_AUTO_TEST_CASE(a_cursor_beyond_tail_quarantines_the_topic) {
    Fixture fixture("ringcorrupt", 4, SlowSubscriberPolicy::block);
    const auto handle = fixture.subscribe();
    BOOST_TEST(fixture.ring().check_counters());
    fixture.ring().control().tail.store(0);
    auto& record = *reinterpret_cast<layout::SubscriberRecord*>(
        fixture.segment.base() + fixture.ring().control().subscribers_offset);
    record.cursor.store(1000);
    BOOST_TEST(!fixture.ring().check_counters());
    BOOST_TEST(fixture.ring().quarantined());
    BOOST_TEST(fixture.publish("x") == Status::queue_quarantined);
    BOOST_TEST(fixture.receive(handle) == "[queue_quarantined]");
}

// A pin no subscriber lists would hold publishers for ever; no kill leaves
// one, and clearing it takes nobody's view, so verification repairs it.
BOOST_AUTO_TEST_CASE(a_stray_pin_is_cleared_by_verification) {
    Fixture fixture("ringstray", 4, SlowSubscriberPolicy::block);
    std::string problem;
    std::string repaired;
    fixture.ring().verify(problem, repaired);
    BOOST_TEST(problem.empty(), problem);
    BOOST_TEST(repaired.empty(), repaired);
    auto& control = fixture.ring().control();
    auto* pins = reinterpret_cast<std::atomic<std::uint64_t>*>(fixture.segment.base() +
                                                               control.slots_offset + sizeof(layout::TopicSlotHeader));
    pins->store(1);  // subscriber 0, which does not exist
    fixture.ring().verify(problem, repaired);
    BOOST_TEST(problem.empty(), problem);
    BOOST_TEST(repaired.find("stray pin") != std::string::npos, repaired);
    BOOST_TEST(!fixture.ring().quarantined());
    BOOST_TEST(pins->load() == 0u);
    for (int i = 0; i < 8; ++i) BOOST_TEST_REQUIRE(fixture.publish("m" + std::to_string(i)) == Status::ok);
}

// Issue 9: a claim expects the word of the slot's previous lap *in full*. A
// publisher that read tail 2^16 laps ago would find the same 16-bit lap tag
// again; the full lap tells it apart, so the claim never takes a slot for a
// lap it does not hold (here the word is simply inconsistent with the
// slot's position, so the topic is quarantined rather than overwritten).
BOOST_AUTO_TEST_CASE(a_finished_word_two_to_the_sixteen_laps_away_is_not_taken_for_the_previous_lap) {
    Fixture fixture("ringaba", 4, SlowSubscriberPolicy::block);
    const auto handle = fixture.subscribe();
    for (int i = 0; i < 4; ++i) {
        BOOST_TEST_REQUIRE(fixture.publish("m" + std::to_string(i)) == Status::ok);
        BOOST_TEST_REQUIRE(fixture.receive(handle) == "m" + std::to_string(i));
    }
    auto& control = fixture.ring().control();
    auto* slot = reinterpret_cast<layout::TopicSlotHeader*>(fixture.segment.base() + control.slots_offset);
    BOOST_TEST_REQUIRE(slot->position.load() == 0u);  // the slot of tail (4) holds position 0, lap 0
    const auto word = slot->word.load();
    BOOST_TEST_REQUIRE((SlotWord::state(word) == SlotState::ready));
    // ready, lap 2^16: the same low 16 bits as lap 0.
    slot->word.store((word & 0xFF) | (std::uint64_t{1} << 16 << 8));
    BOOST_TEST(fixture.publish("stale") == Status::queue_quarantined);
    BOOST_TEST(control.tail.load() == 4u);
    BOOST_TEST((SlotWord::state(slot->word.load()) == SlotState::ready));  // not claimed
}
