// The algorithms of one topic: publishers claim positions of a ring as a
// queue's producers do, and every subscriber reads every position through a
// cursor of its own. Shared by the client library (the data path) and the
// broker (repair, reclaim, checks). A TopicRing is a process-local view that
// keeps its own copy of the topic's geometry, taken when the segment was
// validated, so that a scribble over shared metadata can never make this
// process index or copy out of bounds.
//
// Every call is non-blocking and takes no lock: each step is one atomic
// operation on an owner-stamped word. Waiting for room or for a message is
// the caller's business (client/topic.cpp, client/subscription.cpp).
// docs/crash-safety.md ("Topics") gives the protocol, its invariants and the
// repairs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/layout.hpp"
#include "common/ring_position.hpp"
#include "common/slot_word.hpp"
#include "shmq/status.hpp"

namespace shmq {

struct TopicGeometry {
    std::uint32_t capacity = 0;
    std::uint32_t max_message_size = 0;
    std::uint64_t slot_stride = 0;
    std::uint64_t payload_offset = 0;  // from the start of a slot
    std::uint32_t max_subscribers = 0;
    std::uint32_t pin_words = 0;       // 64-bit pin words per slot
    std::uint32_t history = 0;
    std::uint8_t slow_subscriber = 0;  // layout::slow_subscriber_*
};

// Which subscription a caller speaks for: the record and the exact word it
// stored there when it subscribed.
struct SubscriberHandle {
    std::uint32_t index = 0;
    std::uint64_t word = 0;  // 0: no subscription
};

// A message read in place: its slot stays pinned until release_view().
struct PinnedMessage {
    const std::byte* data = nullptr;
    std::size_t size = 0;
    std::uint64_t position = 0;
    std::uint32_t entry = 0;  // which of the record's view entries holds the pin
};

// A subscription's counters, as its record says now.
struct SubscriberCounters {
    std::uint64_t cursor = 0;
    std::uint64_t received = 0;
    std::uint64_t lost = 0;   // passed under drop without being delivered
    std::uint32_t views = 0;  // views held
};

// What the broker released on behalf of a dead client.
struct TopicReclaimCounts {
    std::uint64_t abandoned_writes = 0;  // claims it never published: subscribers skip them
    std::uint64_t subscriptions = 0;     // subscriptions it held, views included
};

class TopicRing {
public:
    TopicRing() = default;
    TopicRing(layout::TopicControl* control, std::byte* slots, layout::SubscriberRecord* subscribers,
              const TopicGeometry& geometry)
        : control_(control), slots_(slots), subscribers_(subscribers), geometry_(geometry), positions_(geometry.capacity) {}

    const TopicGeometry& geometry() const { return geometry_; }
    layout::TopicControl& control() const { return *control_; }
    bool quarantined() const { return control_->quarantined.load(std::memory_order_relaxed) != 0; }
    // Whether a reload removed the topic (TopicControl::retired, read once:
    // any non-zero value is retired). Claims, loans and subscriptions then
    // return queue_removed; subscribers read what was published first.
    bool retired() const { return control_->retired.load(std::memory_order_seq_cst) != 0; }

    // Publisher side. claim() takes the next position for `me` (queue_full
    // when its slot cannot be reused yet); the caller then fills payload()
    // and calls publish() or abandon(). try_publish() does all three.
    Status claim(OwnerStamp me, std::uint64_t& position);
    std::byte* payload(std::uint64_t position) const { return payload_of(slot_at(position)); }
    void publish(std::uint64_t position, std::size_t size, OwnerStamp me);
    void abandon(std::uint64_t position, OwnerStamp me);
    Status try_publish(const void* data, std::size_t size, OwnerStamp me);

    // Subscriber side. subscribe() claims a record whose cursor starts
    // `history` messages back (at most the configured history and what the
    // ring still holds); too_many_subscribers when every record is taken.
    Status subscribe(OwnerStamp me, std::uint32_t history, SubscriberHandle& handle);
    // The same with the cursor at position 0, the ring's first message
    // whatever the history: a superseded topic's subscriber goes on in its
    // successor. What the ring no longer holds (the settle moves the cursor
    // past it) counts as lost.
    Status subscribe_from_start(OwnerStamp me, SubscriberHandle& handle);
    // Releases the subscription's views and frees its record.
    void unsubscribe(const SubscriberHandle& handle);
    // Copies the message at the cursor out: empty when there is none yet.
    Status try_receive(const SubscriberHandle& handle, void* buffer, std::size_t capacity, std::size_t& size);
    // Pins the message at the cursor and hands it out in place.
    Status try_read(const SubscriberHandle& handle, PinnedMessage& message);
    void release_view(const SubscriberHandle& handle, const PinnedMessage& message);
    SubscriberCounters counters(std::uint32_t index) const;
    // The owner of subscriber record `index` (generation 0 when free).
    OwnerStamp subscriber_owner(std::uint32_t index) const;

    // Lock-free peeks used to decide whether to sleep. They may be stale; the
    // caller re-checks with a real operation.
    bool may_have_room() const;
    bool may_have_message(const SubscriberHandle& handle) const;

    // Broker side: a dead client's unpublished claims become abandoned (a
    // claim cut short before it took its position is undone), and its
    // subscriptions end, their views released, joining ones included.
    void reclaim(OwnerStamp dead_owner, TopicReclaimCounts& counts);
    // A lock-free check of the cursor bounds (tail - capacity <= cursor <=
    // tail for every active subscriber), cheap enough for every broker tick;
    // quarantines the topic and returns false when it fails.
    bool check_counters();
    // After a reboot, for a persistent segment: fresh wait events (the old
    // boot's claims are the reaper's, as every client of it is dead).
    void reset_synchronisation();
    // Checks the ring's invariants while clients may publish and read (the
    // broker, on adopting a segment). Accepts every state a kill can leave; repairs what
    // can be repaired without guessing (`repaired` says what, empty when
    // nothing); quarantines the topic when the rest fails (`problem` says
    // why). Never clears the quarantine flag: that is the caller's decision.
    void verify(std::string& problem, std::string& repaired);

private:
    layout::TopicSlotHeader& slot_at(std::uint64_t position) const {
        return *reinterpret_cast<layout::TopicSlotHeader*>(slots_ + positions_.index(position) *
                                                                         geometry_.slot_stride);
    }
    std::byte* payload_of(layout::TopicSlotHeader& slot) const {
        return reinterpret_cast<std::byte*>(&slot) + geometry_.payload_offset;
    }
    std::atomic<std::uint64_t>* pins_of(layout::TopicSlotHeader& slot) const {
        return reinterpret_cast<std::atomic<std::uint64_t>*>(reinterpret_cast<std::byte*>(&slot) +
                                                             sizeof(layout::TopicSlotHeader));
    }
    layout::SubscriberRecord& record_at(std::uint32_t index) const { return subscribers_[index]; }
    // The tag of a `writing` word: the low 16 bits of the position's lap.
    std::uint16_t lap_of(std::uint64_t position) const {
        return static_cast<std::uint16_t>(positions_.lap(position));
    }
    std::uint64_t lap_in_full(std::uint64_t position) const { return positions_.lap(position); }

    bool pinned(layout::TopicSlotHeader& slot) const;
    bool owns(const SubscriberHandle& handle) const;
    // Whether the slot of `tail` may take position `tail` now: not written
    // to, not pinned, and every joining or active cursor past its old
    // position (block), or pushed past it (drop).
    Status check_reusable(layout::TopicSlotHeader& slot, std::uint64_t tail);
    // Makes every joining or active cursor pass `old` (block: or says it cannot).
    bool make_room(std::uint64_t old);
    Status join(OwnerStamp me, std::uint32_t history, bool from_start, SubscriberHandle& handle);
    void count_abandoned_passed(layout::SubscriberRecord& record);
    std::uint64_t available_history(std::uint64_t tail, std::uint32_t wanted) const;
    // Moves the cursor of a joining record to at least the oldest position a
    // claim that did not see the record yet may overwrite, plus one.
    void settle_cursor(layout::SubscriberRecord& record);
    // What a subscriber finds at its cursor: a message (of `length` bytes),
    // an abandoned claim to skip, nothing yet, or corruption (the topic is
    // then quarantined). `cursor` is the cursor it was found at.
    enum class Found { message, abandoned, nothing, corrupt };
    Found look_at_cursor(const SubscriberHandle& handle, std::uint64_t& cursor, std::uint32_t& length);
    // The message at the subscriber's cursor, passing (and counting) those
    // whose publisher died mid-write: ok with its cursor and length, else
    // what a receive or read returns (empty, queue_removed, queue_quarantined).
    Status next_message(const SubscriberHandle& handle, std::uint64_t& cursor, std::uint32_t& length);
    // Retired, and the subscriber's cursor has reached tail: nothing more
    // can come, so a read that found nothing returns queue_removed.
    bool drained_after_retirement(const SubscriberHandle& handle) const;
    // Moves the cursor from `cursor` to the next position; false when a
    // publisher pushed it meanwhile (drop).
    bool advance(layout::SubscriberRecord& record, std::uint64_t cursor);
    // After the slot of `position` stopped being written.
    void wake_publisher_waiting_for(std::uint64_t position);
    void release_views_of(std::uint32_t index);
    // The reclaim of one claim of a dead publisher (its slot's `word`).
    void abandon_claim_of(layout::TopicSlotHeader& slot, std::uint64_t index, std::uint64_t word,
                          TopicReclaimCounts& counts);
    // Parts of verify(); each returns the problem found, empty when none.
    std::string verify_slots(std::uint64_t tail) const;
    std::string verify_subscriber(std::uint32_t index, std::uint64_t tail) const;
    std::string clear_stray_pins();
    bool lists_view_of(std::uint32_t subscriber, std::uint64_t slot_index) const;
    Status quarantine(layout::QuarantineReason why);

    layout::TopicControl* control_ = nullptr;
    std::byte* slots_ = nullptr;
    layout::SubscriberRecord* subscribers_ = nullptr;
    TopicGeometry geometry_{};
    RingPositions positions_;  // of geometry_.capacity
};

}  // namespace shmq
