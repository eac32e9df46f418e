#include "common/topic_ring.hpp"

#include <new>

#include "common/payload_copy.hpp"
#include "common/quarantine_reason.hpp"
#include "common/test_crash_point.hpp"

// No lock anywhere: every step of a claim, a publish, a subscribe, a read and
// a release is one atomic operation on a word that says who did it, and each
// prefix of each sequence is a state that the others (or the broker's reaper,
// by the dead owner's stamp) can resolve. docs/crash-safety.md ("Topics")
// gives the protocol step by step, its invariants and the crash points named
// here (common/test_crash_point.hpp).

namespace shmq {

namespace {

// Where a slot that never held a message says it is: never a real position.
constexpr std::uint64_t never_claimed = UINT64_MAX;

// A topic slot's word. `writing` is a SlotWord stamped with its owner and the
// low 16 bits of its position's lap. Every other state (free, ready,
// abandoned) has no owner, so the word keeps the lap in full in bits 8-63:
// the value a claim expects then exists only while the slot holds that lap's
// message, and a claim prepared many laps ago cannot succeed by accident.
struct TopicSlotWord {
    static constexpr std::uint64_t fresh = 0;  // free, lap 0: as the broker builds a slot
    static constexpr std::uint64_t lap_mask = (1ull << 56) - 1;
    static std::uint64_t done(SlotState state, std::uint64_t lap) {
        return static_cast<std::uint64_t>(state) | ((lap & lap_mask) << 8);
    }
    static bool is_done(std::uint64_t word) {
        const auto state = SlotWord::state(word);
        return state == SlotState::ready || state == SlotState::abandoned || state == SlotState::free;
    }
    static bool done_in_lap(std::uint64_t word, std::uint64_t lap) { return is_done(word) && (word >> 8) == (lap & lap_mask); }
};

std::uint64_t pin_bit(std::uint32_t subscriber) { return 1ull << (subscriber % 64); }

// Records whose cursor publishers must respect: joining ones too, so that a
// claim that sees a new subscriber at all sees its cursor.
bool holds_cursor(std::uint64_t word) {
    const auto state = layout::SubscriberWord::state(word);
    return state == layout::SubscriberState::active || state == layout::SubscriberState::joining;
}

}  // namespace

Status TopicRing::quarantine(layout::QuarantineReason why) {
    // The broker logs the reason when it sees it (clients have no log).
    mark_quarantined(control_->quarantined, why);
    control_->published.notify_all();
    control_->room.notify_all();
    return Status::queue_quarantined;
}

bool TopicRing::pinned(layout::TopicSlotHeader& slot) const {
    auto* pins = pins_of(slot);
    for (std::uint32_t word = 0; word < geometry_.pin_words; ++word) {
        if (pins[word].load(std::memory_order_acquire) != 0) return true;
    }
    return false;
}

bool TopicRing::owns(const SubscriberHandle& handle) const {
    return handle.word != 0 && handle.index < geometry_.max_subscribers &&
           record_at(handle.index).word.load(std::memory_order_acquire) == handle.word;
}

// ---------------------------------------------------------------------------
// Publishers

bool TopicRing::make_room(std::uint64_t old) {
    const bool drop = geometry_.slow_subscriber == layout::slow_subscriber_drop;
    for (std::uint32_t index = 0; index < geometry_.max_subscribers; ++index) {
        auto& record = record_at(index);
        if (!holds_cursor(record.word.load(std::memory_order_seq_cst))) continue;
        auto cursor = record.cursor.load(std::memory_order_seq_cst);
        while (cursor <= old) {
            if (!drop) return false;
            // The subscriber loses what it has not read of the slot's old
            // message; a read of it in progress fails its own compare-and-swap.
            if (record.cursor.compare_exchange_weak(cursor, old + 1, std::memory_order_seq_cst,
                                                    std::memory_order_seq_cst)) {
                control_->dropped.fetch_add(old + 1 - cursor, std::memory_order_relaxed);
                cursor = old + 1;
            }
        }
    }
    return true;
}

Status TopicRing::check_reusable(layout::TopicSlotHeader& slot, std::uint64_t tail) {
    // The previous lap's publisher is still copying its message in (or a
    // claim of `tail` is between its word and its position): it must finish
    // first. The caller waits on `room`.
    if (SlotWord::state(slot.word.load(std::memory_order_acquire)) == SlotState::writing) return Status::queue_full;
    // A view pins the slot even under drop. Checked before make_room too, so
    // that no subscriber is pushed past a message for a claim that fails anyway.
    if (pinned(slot)) return Status::queue_full;
    if (tail >= geometry_.capacity && !make_room(tail - geometry_.capacity)) return Status::queue_full;
    // A subscriber pins a slot before it moves its cursor past it, so a pin
    // taken before the cursors just read is visible now.
    if (pinned(slot)) return Status::queue_full;
    return Status::ok;
}

// Claim of position T = tail (C = capacity), in three compare-and-swaps:
//   1. slot word: done(lap(T) - 1) -> writing(me, lap(T))   the claim, owner-stamped
//   2. slot position: T - C -> T                             binds the slot to T
//   3. tail: T -> T + 1
// Step 1 expects the word that says "the slot holds the previous lap's
// message, finished", with that lap in full: a publisher that read tail long
// ago finds that word only while the slot still holds T - C, so a stale claim
// fails (no ABA). Steps 2 and 3 may be done by anyone who sees step 1 done,
// so a publisher preempted or killed after its step 1 stops nobody.
Status TopicRing::claim(OwnerStamp me, std::uint64_t& position) {
    if (quarantined()) return Status::queue_quarantined;
    if (retired()) return Status::queue_removed;
    for (;;) {
        auto tail = control_->tail.load(std::memory_order_seq_cst);
        auto& slot = slot_at(tail);
        auto held = slot.position.load(std::memory_order_seq_cst);
        const auto word = slot.word.load(std::memory_order_seq_cst);
        if (held == tail) {
            // Step 2 done by a publisher that did not move tail yet.
            control_->tail.compare_exchange_strong(tail, tail + 1, std::memory_order_seq_cst);
            continue;
        }
        const auto previous = tail >= geometry_.capacity ? tail - geometry_.capacity : never_claimed;
        const auto state = SlotWord::state(word);
        const bool consistent = held == previous && SlotWord::well_formed(word);
        if (consistent && state == SlotState::writing && SlotWord::tag(word) == lap_of(tail)) {
            // Step 1 done by another publisher: do its step 2 (and 3).
            slot.position.compare_exchange_strong(held, tail, std::memory_order_seq_cst);
            control_->tail.compare_exchange_strong(tail, tail + 1, std::memory_order_seq_cst);
            continue;
        }
        if (consistent && state == SlotState::writing && tail >= geometry_.capacity &&
            SlotWord::tag(word) == lap_of(previous)) {
            return Status::queue_full;  // the previous lap's publisher is still copying in
        }
        const bool expected_word = tail >= geometry_.capacity
                                       ? TopicSlotWord::done_in_lap(word, ring_lap(previous, geometry_.capacity))
                                       : word == TopicSlotWord::fresh;
        if (!consistent || !expected_word) {
            // Our reads straddle another claim (retry), or the slot says what
            // no claim leaves (a scribble).
            if (control_->tail.load(std::memory_order_seq_cst) != tail ||
                slot.position.load(std::memory_order_seq_cst) != held ||
                slot.word.load(std::memory_order_seq_cst) != word) {
                continue;
            }
            return quarantine(layout::QuarantineReason::damaged_slot);
        }
        const Status reusable = check_reusable(slot, tail);
        if (reusable != Status::ok) return reusable;
        auto expected = word;
        if (!slot.word.compare_exchange_strong(expected, SlotWord::make(SlotState::writing, me, lap_of(tail)),
                                               std::memory_order_seq_cst)) {
            continue;
        }
        crash_point("topic_claim_word");
        slot.position.compare_exchange_strong(held, tail, std::memory_order_seq_cst);
        crash_point("topic_claim_position");
        position = tail;  // the compare-and-swap below overwrites `tail` when it fails
        control_->tail.compare_exchange_strong(tail, position + 1, std::memory_order_seq_cst);
        crash_point("topic_claim_tail");
        // Tail moved before retired is read: a subscriber that read retired
        // and then found its cursor at tail read tail before this claim, so
        // this read sees retired and the claim is given up; otherwise the
        // subscriber sees the claim and waits for it (as for queues).
        if (retired()) {
            abandon(position, me);
            return Status::queue_removed;
        }
        return Status::ok;
    }
}

void TopicRing::publish(std::uint64_t position, std::size_t size, OwnerStamp me) {
    auto& slot = slot_at(position);
    slot.length.store(static_cast<std::uint32_t>(size), std::memory_order_relaxed);
    auto expected = SlotWord::make(SlotState::writing, me, lap_of(position));
    // Release makes the payload visible to whoever acquires `ready`. A
    // compare-and-swap: should the broker ever have taken the slot from us,
    // it is no longer ours to publish.
    slot.word.compare_exchange_strong(expected, TopicSlotWord::done(SlotState::ready, lap_in_full(position)),
                                      std::memory_order_seq_cst, std::memory_order_relaxed);
    control_->published.notify_all();
    wake_publisher_waiting_for(position);
}

void TopicRing::wake_publisher_waiting_for(std::uint64_t position) {
    // A publisher a lap ahead waits for this slot to stop being written; the
    // others need no futex call.
    if (position + geometry_.capacity <= control_->tail.load(std::memory_order_relaxed)) {
        control_->room.notify_all();
    }
}

void TopicRing::abandon(std::uint64_t position, OwnerStamp me) {
    auto& slot = slot_at(position);
    auto expected = SlotWord::make(SlotState::writing, me, lap_of(position));
    if (slot.word.compare_exchange_strong(expected, TopicSlotWord::done(SlotState::abandoned, lap_in_full(position)),
                                          std::memory_order_seq_cst, std::memory_order_relaxed)) {
        control_->abandoned.fetch_add(1, std::memory_order_relaxed);
    }
    control_->published.notify_all();
    wake_publisher_waiting_for(position);
}

Status TopicRing::try_publish(const void* data, std::size_t size, OwnerStamp me) {
    if (size > geometry_.max_message_size) return Status::message_too_large;
    if (size > 0 && data == nullptr) return Status::invalid_argument;
    std::uint64_t position = 0;
    const Status claimed = claim(me, position);
    if (claimed != Status::ok) return claimed;
    if (size > 0) copy_payload(payload(position), data, size);
    publish(position, size, me);
    return Status::ok;
}

// ---------------------------------------------------------------------------
// Subscribers

std::uint64_t TopicRing::available_history(std::uint64_t tail, std::uint32_t wanted) const {
    std::uint64_t count = 0;
    while (count < wanted && count < tail) {
        const auto position = tail - 1 - count;
        auto& slot = slot_at(position);
        if (slot.position.load(std::memory_order_acquire) != position ||
            SlotWord::state(slot.word.load(std::memory_order_acquire)) == SlotState::free) {
            break;
        }
        ++count;
    }
    return count;
}

// A claim that read the record before it turned joining read tail before
// that too, so it claims at most position `tail` as read after the store, and
// overwrites at most that position's previous lap. Every later claim sees the
// record and respects (or, under drop, pushes) its cursor.
void TopicRing::settle_cursor(layout::SubscriberRecord& record) {
    const auto tail = control_->tail.load(std::memory_order_seq_cst);
    if (tail < geometry_.capacity) return;
    const auto lowest = tail - geometry_.capacity + 1;
    auto cursor = record.cursor.load(std::memory_order_seq_cst);
    while (cursor < lowest &&
           !record.cursor.compare_exchange_weak(cursor, lowest, std::memory_order_seq_cst, std::memory_order_seq_cst)) {
    }
}

Status TopicRing::subscribe(OwnerStamp me, std::uint32_t history, SubscriberHandle& handle) {
    return join(me, history, false, handle);
}

Status TopicRing::subscribe_from_start(OwnerStamp me, SubscriberHandle& handle) { return join(me, 0, true, handle); }

// The settle of a subscription from the start passes at least the oldest
// position the ring holds, which may be a claim given up (the broker gives
// up a successor's position 0, daemon/broker.cpp): skipped, not lost. Only
// the last lap before the cursor can still say so.
void TopicRing::count_abandoned_passed(layout::SubscriberRecord& record) {
    const auto cursor = record.cursor.load(std::memory_order_seq_cst);
    std::uint64_t abandoned = 0;
    for (auto position = cursor > geometry_.capacity ? cursor - geometry_.capacity : 0; position < cursor; ++position) {
        auto& slot = slot_at(position);
        if (slot.position.load(std::memory_order_acquire) == position &&
            SlotWord::state(slot.word.load(std::memory_order_acquire)) == SlotState::abandoned) {
            ++abandoned;
        }
    }
    record.skipped.store(abandoned, std::memory_order_relaxed);
}

// Subscribe: record word free -> claimed(me) (compare-and-swap); fields;
// word -> joining(me); settle the cursor against tail; joined_at; word ->
// active(me). docs/crash-safety.md says why each step is where it is.
Status TopicRing::join(OwnerStamp me, std::uint32_t history, bool from_start, SubscriberHandle& handle) {
    if (quarantined()) return Status::queue_quarantined;
    if (retired()) return Status::queue_removed;
    const auto serial = static_cast<std::uint16_t>(control_->subscriber_serial.fetch_add(1, std::memory_order_relaxed) + 1);
    auto stamped = [&](layout::SubscriberState state) {
        return layout::SubscriberWord::make(state, me.client_index, me.generation, serial);
    };
    for (std::uint32_t index = 0; index < geometry_.max_subscribers; ++index) {
        auto& record = record_at(index);
        auto word = record.word.load(std::memory_order_acquire);
        if (layout::SubscriberWord::state(word) != layout::SubscriberState::free) continue;
        if (!record.word.compare_exchange_strong(word, stamped(layout::SubscriberState::claimed),
                                                 std::memory_order_seq_cst)) {
            continue;
        }
        crash_point("topic_subscribe_claimed");
        record.received.store(0, std::memory_order_relaxed);
        record.skipped.store(0, std::memory_order_relaxed);
        for (auto& view : record.views) view.store(0, std::memory_order_relaxed);
        const auto tail = control_->tail.load(std::memory_order_seq_cst);
        const auto wanted = history < geometry_.history ? history : geometry_.history;
        const auto start = from_start ? 0 : tail - available_history(tail, wanted);
        record.cursor.store(start, std::memory_order_relaxed);
        record.joined_at.store(start, std::memory_order_relaxed);
        record.word.store(stamped(layout::SubscriberState::joining), std::memory_order_seq_cst);
        crash_point("topic_subscribe_joining");
        settle_cursor(record);
        // What the cursor passed before subscribe returns was never this
        // subscription's to lose: history it could not have. From the start,
        // every message was: the settle's pass counts as lost.
        if (!from_start) {
            record.joined_at.store(record.cursor.load(std::memory_order_seq_cst), std::memory_order_seq_cst);
        } else {
            count_abandoned_passed(record);
        }
        crash_point("topic_subscribe_settled");
        const auto active = stamped(layout::SubscriberState::active);
        record.word.store(active, std::memory_order_seq_cst);
        control_->subscriptions.fetch_add(1, std::memory_order_relaxed);
        // Under block, a publisher may have waited for the cursor the settle
        // moved (a notify without waiters makes no system call).
        control_->room.notify_all();
        handle = SubscriberHandle{index, active};
        return Status::ok;
    }
    return Status::too_many_subscribers;
}

void TopicRing::release_views_of(std::uint32_t index) {
    auto& record = record_at(index);
    const auto word = index / 64;
    for (auto& view : record.views) {
        const auto entry = view.load(std::memory_order_acquire);
        if (entry == 0) continue;
        pins_of(slot_at(entry - 1))[word].fetch_and(~pin_bit(index), std::memory_order_release);
        view.store(0, std::memory_order_release);
    }
}

void TopicRing::unsubscribe(const SubscriberHandle& handle) {
    if (!owns(handle)) return;
    release_views_of(handle.index);
    crash_point("topic_unsubscribe_released");
    auto expected = handle.word;
    record_at(handle.index).word.compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
    // A publisher may have been waiting for this subscriber to catch up.
    control_->room.notify_all();
}

TopicRing::Found TopicRing::look_at_cursor(const SubscriberHandle& handle, std::uint64_t& cursor,
                                           std::uint32_t& length) {
    auto& record = record_at(handle.index);
    for (;;) {
        cursor = record.cursor.load(std::memory_order_acquire);
        auto& slot = slot_at(cursor);
        // Position before word: a claim writes the word first, so the word
        // read after a claimed position is that claim's or a later one.
        const auto position = slot.position.load(std::memory_order_acquire);
        const auto word = slot.word.load(std::memory_order_acquire);
        const auto state = SlotWord::state(word);
        // A finished word of another lap than the cursor's: the slot was
        // claimed and published again between our two loads (drop pushed us).
        const bool this_lap = !TopicSlotWord::is_done(word) || TopicSlotWord::done_in_lap(word, lap_in_full(cursor));
        if (position == cursor && this_lap) {
            if (state == SlotState::abandoned) return Found::abandoned;
            if (state != SlotState::ready) return Found::nothing;  // being written
            length = slot.length.load(std::memory_order_relaxed);
            if (length <= geometry_.max_message_size) return Found::message;
            // A drop may be overwriting the slot; otherwise it is corrupt.
            std::atomic_thread_fence(std::memory_order_acquire);
            if (record.cursor.load(std::memory_order_relaxed) != cursor) continue;
            quarantine(layout::QuarantineReason::damaged_slot);
            return Found::corrupt;
        }
        if (position == never_claimed || position < cursor) return Found::nothing;  // not claimed yet
        // The slot was reused for a later lap, which only happens once this
        // cursor was pushed past it (drop); the push is visible now.
        if (record.cursor.load(std::memory_order_acquire) != cursor) continue;
        quarantine(layout::QuarantineReason::damaged_slot);
        return Found::corrupt;
    }
}

bool TopicRing::drained_after_retirement(const SubscriberHandle& handle) const {
    if (!retired()) return false;
    const auto cursor = record_at(handle.index).cursor.load(std::memory_order_seq_cst);
    return cursor >= control_->tail.load(std::memory_order_seq_cst);
}

bool TopicRing::advance(layout::SubscriberRecord& record, std::uint64_t cursor) {
    // seq_cst: pairs with a waiting publisher's prepare_wait, as notify does.
    if (!record.cursor.compare_exchange_strong(cursor, cursor + 1, std::memory_order_seq_cst,
                                               std::memory_order_relaxed)) {
        return false;
    }
    // Under block, only a subscriber at the oldest position (tail - capacity)
    // holds a publisher up; waking publishers for every other read would cost
    // a futex call per message for nothing. Under drop, publishers never wait
    // for cursors.
    if (geometry_.slow_subscriber != layout::slow_subscriber_drop &&
        cursor + geometry_.capacity <= control_->tail.load(std::memory_order_relaxed)) {
        control_->room.notify_all();
    }
    return true;
}

Status TopicRing::next_message(const SubscriberHandle& handle, std::uint64_t& cursor, std::uint32_t& length) {
    auto& record = record_at(handle.index);
    for (;;) {
        switch (look_at_cursor(handle, cursor, length)) {
        case Found::nothing: return drained_after_retirement(handle) ? Status::queue_removed : Status::empty;
        case Found::corrupt: return Status::queue_quarantined;
        case Found::abandoned:
            if (advance(record, cursor)) {
                record.skipped.store(record.skipped.load(std::memory_order_relaxed) + 1, std::memory_order_release);
            }
            continue;
        case Found::message: return Status::ok;
        }
    }
}

Status TopicRing::try_receive(const SubscriberHandle& handle, void* buffer, std::size_t capacity, std::size_t& size) {
    if (quarantined()) return Status::queue_quarantined;
    if (!owns(handle)) return Status::invalid_argument;
    auto& record = record_at(handle.index);
    for (;;) {
        std::uint64_t cursor = 0;
        std::uint32_t length = 0;
        const Status found = next_message(handle, cursor, length);
        if (found != Status::ok) return found;
        if (length > capacity) {
            // Only if the message is still ours: a drop may have taken it.
            std::atomic_thread_fence(std::memory_order_acquire);
            if (record.cursor.load(std::memory_order_relaxed) != cursor) continue;
            return Status::buffer_too_small;
        }
        // Under drop a publisher may push the cursor and overwrite the slot
        // while we copy (a seqlock-style read): the compare-and-swap in
        // advance() then fails and the copy is discarded. Under block nobody
        // but us moves this cursor, so the slot cannot change.
        if (length > 0) copy_payload(buffer, payload_of(slot_at(cursor)), length);
        if (!advance(record, cursor)) continue;
        crash_point("topic_receive_advanced");
        record.received.store(record.received.load(std::memory_order_relaxed) + 1, std::memory_order_release);
        size = length;
        return Status::ok;
    }
}

Status TopicRing::try_read(const SubscriberHandle& handle, PinnedMessage& message) {
    if (quarantined()) return Status::queue_quarantined;
    if (!owns(handle)) return Status::invalid_argument;
    auto& record = record_at(handle.index);
    std::uint32_t entry = 0;
    while (entry < layout::max_views_per_subscriber && record.views[entry].load(std::memory_order_relaxed) != 0) {
        ++entry;
    }
    if (entry == layout::max_views_per_subscriber) return Status::too_many_views;
    const auto word = handle.index / 64;
    const auto bit = pin_bit(handle.index);
    for (;;) {
        std::uint64_t cursor = 0;
        std::uint32_t length = 0;
        const Status found = next_message(handle, cursor, length);
        if (found != Status::ok) return found;
        auto& slot = slot_at(cursor);
        auto& pins = pins_of(slot)[word];
        // Entry, pin, then cursor. The entry first, so that the broker can
        // release the pin of a subscriber killed right after taking it. The
        // pin before the cursor passes the message, so that a publisher that
        // sees the cursor beyond it also sees the pin.
        record.views[entry].store(cursor + 1, std::memory_order_release);
        crash_point("topic_read_entry");
        pins.fetch_or(bit, std::memory_order_acq_rel);
        crash_point("topic_read_pinned");
        if (!advance(record, cursor)) {
            // A drop took the message first; the slot may be reused already.
            pins.fetch_and(~bit, std::memory_order_release);
            record.views[entry].store(0, std::memory_order_release);
            control_->room.notify_all();
            continue;
        }
        crash_point("topic_read_advanced");
        record.received.store(record.received.load(std::memory_order_relaxed) + 1, std::memory_order_release);
        message = PinnedMessage{payload_of(slot), length, cursor, entry};
        return Status::ok;
    }
}

void TopicRing::release_view(const SubscriberHandle& handle, const PinnedMessage& message) {
    // A subscription that ended released its views with it.
    if (!owns(handle) || message.entry >= layout::max_views_per_subscriber) return;
    auto& record = record_at(handle.index);
    if (record.views[message.entry].load(std::memory_order_relaxed) != message.position + 1) return;
    pins_of(slot_at(message.position))[handle.index / 64].fetch_and(~pin_bit(handle.index), std::memory_order_release);
    crash_point("topic_release_unpinned");
    record.views[message.entry].store(0, std::memory_order_release);
    control_->room.notify_all();
}

SubscriberCounters TopicRing::counters(std::uint32_t index) const {
    SubscriberCounters counters;
    const auto& record = record_at(index);
    // Counts before the cursor: each count grows only after the cursor moved,
    // so this never shows more delivered than passed.
    counters.received = record.received.load(std::memory_order_acquire);
    const auto skipped = record.skipped.load(std::memory_order_acquire);
    const auto joined = record.joined_at.load(std::memory_order_acquire);
    counters.cursor = record.cursor.load(std::memory_order_acquire);
    const auto passed = counters.cursor - joined;
    counters.lost = passed > counters.received + skipped ? passed - counters.received - skipped : 0;
    for (const auto& view : record.views) {
        if (view.load(std::memory_order_relaxed) != 0) ++counters.views;
    }
    return counters;
}

OwnerStamp TopicRing::subscriber_owner(std::uint32_t index) const {
    const auto word = record_at(index).word.load(std::memory_order_acquire);
    if (layout::SubscriberWord::state(word) != layout::SubscriberState::active) return OwnerStamp{};
    return OwnerStamp{layout::SubscriberWord::client_index(word), layout::SubscriberWord::generation(word)};
}

bool TopicRing::may_have_room() const {
    if (quarantined() || retired()) return true;
    const auto tail = control_->tail.load(std::memory_order_relaxed);
    auto& slot = slot_at(tail);
    const auto word = slot.word.load(std::memory_order_acquire);
    // A claim of tail half done is one the next attempt completes.
    if (SlotWord::state(word) == SlotState::writing) return SlotWord::tag(word) == lap_of(tail);
    if (pinned(slot)) return false;
    if (tail < geometry_.capacity || geometry_.slow_subscriber == layout::slow_subscriber_drop) return true;
    const auto old = tail - geometry_.capacity;
    for (std::uint32_t index = 0; index < geometry_.max_subscribers; ++index) {
        const auto& record = record_at(index);
        if (!holds_cursor(record.word.load(std::memory_order_acquire))) continue;
        if (record.cursor.load(std::memory_order_acquire) <= old) return false;
    }
    return true;
}

bool TopicRing::may_have_message(const SubscriberHandle& handle) const {
    if (quarantined() || !owns(handle)) return true;  // the next attempt says why
    if (drained_after_retirement(handle)) return true;
    const auto cursor = record_at(handle.index).cursor.load(std::memory_order_acquire);
    auto& slot = slot_at(cursor);
    const auto position = slot.position.load(std::memory_order_acquire);
    const auto state = SlotWord::state(slot.word.load(std::memory_order_acquire));
    if (position == cursor) return state == SlotState::ready || state == SlotState::abandoned;
    return position != never_claimed && position > cursor;
}

// ---------------------------------------------------------------------------
// The broker

// A `writing` word of the dead owner is a claim it will never publish,
// whichever step it died at: step 1 only (the position still says the
// previous lap), or steps 1 and 2. Both are completed to `abandoned` at the
// claimed position, which subscribers skip and `abandoned` counts; tail is
// moved past it if nobody did yet.
void TopicRing::abandon_claim_of(layout::TopicSlotHeader& slot, std::uint64_t index, std::uint64_t word,
                                 TopicReclaimCounts& counts) {
    auto held = slot.position.load(std::memory_order_seq_cst);
    std::uint64_t claimed = 0;
    if (held != never_claimed && ring_index(held, geometry_.capacity) == index && lap_of(held) == SlotWord::tag(word)) {
        claimed = held;  // steps 1 and 2 done
    } else {
        const auto next = held == never_claimed ? index : held + geometry_.capacity;
        if ((held != never_claimed && ring_index(held, geometry_.capacity) != index) || lap_of(next) != SlotWord::tag(word)) {
            return;  // no claim leaves this: verification quarantines it
        }
        claimed = next;
        slot.position.compare_exchange_strong(held, claimed, std::memory_order_seq_cst);
    }
    auto tail = claimed;
    control_->tail.compare_exchange_strong(tail, claimed + 1, std::memory_order_seq_cst);
    if (slot.word.compare_exchange_strong(word, TopicSlotWord::done(SlotState::abandoned, lap_in_full(claimed)),
                                          std::memory_order_seq_cst)) {
        ++counts.abandoned_writes;
        control_->abandoned.fetch_add(1, std::memory_order_relaxed);
    }
}

void TopicRing::reclaim(OwnerStamp dead_owner, TopicReclaimCounts& counts) {
    for (std::uint64_t index = 0; index < geometry_.capacity; ++index) {
        auto& slot = slot_at(index);
        const auto word = slot.word.load(std::memory_order_seq_cst);
        if (SlotWord::state(word) != SlotState::writing || !(SlotWord::owner(word) == dead_owner)) continue;
        abandon_claim_of(slot, index, word, counts);
    }
    for (std::uint32_t index = 0; index < geometry_.max_subscribers; ++index) {
        auto& record = record_at(index);
        auto word = record.word.load(std::memory_order_acquire);
        if (layout::SubscriberWord::state(word) == layout::SubscriberState::free ||
            layout::SubscriberWord::client_index(word) != dead_owner.client_index ||
            layout::SubscriberWord::generation(word) != dead_owner.generation) {
            continue;
        }
        // Pins first: the record must not be reused while its bit is set
        // anywhere. A claimed or joining record holds none, and its entries
        // were zeroed (or are zeroed here).
        release_views_of(index);
        const bool subscribed = layout::SubscriberWord::state(word) == layout::SubscriberState::active;
        if (record.word.compare_exchange_strong(word, 0, std::memory_order_acq_rel) && subscribed) {
            ++counts.subscriptions;
        }
    }
    // Whatever was released, someone may have waited for it.
    control_->published.notify_all();
    control_->room.notify_all();
}

bool TopicRing::check_counters() {
    const auto first_tail = control_->tail.load(std::memory_order_acquire);
    for (std::uint32_t index = 0; index < geometry_.max_subscribers; ++index) {
        const auto& record = record_at(index);
        const auto word = record.word.load(std::memory_order_acquire);
        if (layout::SubscriberWord::state(word) != layout::SubscriberState::active) continue;
        const auto received = record.received.load(std::memory_order_acquire);
        const auto skipped = record.skipped.load(std::memory_order_acquire);
        const auto joined = record.joined_at.load(std::memory_order_acquire);
        const auto cursor = record.cursor.load(std::memory_order_acquire);
        const auto last_tail = control_->tail.load(std::memory_order_acquire);
        // Another subscription took the record meanwhile: its fields may mix two tenants.
        if (record.word.load(std::memory_order_acquire) != word) continue;
        // Both only grow, so cursor <= tail then, and the cursor was at least
        // tail - capacity of the tail read before it.
        const bool sound = joined <= cursor && cursor <= last_tail && cursor + geometry_.capacity >= first_tail &&
                           received + skipped <= cursor - joined;
        if (!sound) {
            quarantine(layout::QuarantineReason::inconsistent_subscriber);
            return false;
        }
    }
    return true;
}

void TopicRing::reset_synchronisation() {
    new (&control_->published) WaitEvent();
    new (&control_->room) WaitEvent();
}

// Runs while clients publish: a check that fails is believed only if tail
// stood still meanwhile (a moving tail explains a slot of the last lap
// reused); a topic too busy to ever stand still is accepted as it is.
void TopicRing::verify(std::string& problem, std::string& repaired) {
    problem.clear();
    repaired.clear();
    auto reason = layout::QuarantineReason::none;
    for (int attempt = 0; attempt < 8; ++attempt) {
        const auto tail = control_->tail.load(std::memory_order_seq_cst);
        problem = verify_slots(tail);
        reason = layout::QuarantineReason::damaged_slot;
        for (std::uint32_t index = 0; problem.empty() && index < geometry_.max_subscribers; ++index) {
            problem = verify_subscriber(index, tail);
            reason = layout::QuarantineReason::inconsistent_subscriber;
        }
        if (problem.empty() || control_->tail.load(std::memory_order_seq_cst) == tail) break;
        problem.clear();
    }
    if (problem.empty()) repaired = clear_stray_pins();
    if (!problem.empty()) quarantine(reason);
}

std::string TopicRing::verify_slots(std::uint64_t tail) const {
    const auto capacity = geometry_.capacity;
    for (std::uint64_t index = 0; index < capacity; ++index) {
        auto& slot = slot_at(index);
        const auto word = slot.word.load(std::memory_order_acquire);
        const auto state = SlotWord::state(word);
        if (!SlotWord::well_formed(word) || state == SlotState::reading || state == SlotState::in_flight ||
            state == SlotState::redeliver) {
            return "slot " + std::to_string(index) + " has a malformed state word";
        }
        if (state == SlotState::ready && slot.length.load(std::memory_order_relaxed) > geometry_.max_message_size) {
            return "slot " + std::to_string(index) + " holds more than max_message_size bytes";
        }
    }
    // Every position of the last lap but the oldest (whose slot the claim of
    // tail may be in) was claimed, and its slot says so, with that lap.
    const auto first = tail >= capacity ? tail - capacity + 1 : 0;
    for (auto position = first; position < tail; ++position) {
        auto& slot = slot_at(position);
        const auto word = slot.word.load(std::memory_order_acquire);
        const auto state = SlotWord::state(word);
        const bool this_lap = state == SlotState::writing ? SlotWord::tag(word) == lap_of(position)
                                                          : TopicSlotWord::done_in_lap(word, lap_in_full(position));
        if (slot.position.load(std::memory_order_relaxed) != position || !this_lap ||
            (state != SlotState::writing && state != SlotState::ready && state != SlotState::abandoned)) {
            return "the slot of position " + std::to_string(position) + " does not hold it";
        }
    }
    return {};
}

// What a subscriber killed at any step leaves is accepted here (the table in
// docs/crash-safety.md, "What a kill leaves in a topic"): in particular a
// view entry one beyond the cursor (killed between storing the entry and
// advancing), and an entry of a slot reused since (killed after a drop took
// the message, between giving the pin back and clearing the entry).
std::string TopicRing::verify_subscriber(std::uint32_t index, std::uint64_t tail) const {
    const auto& record = record_at(index);
    const auto state = layout::SubscriberWord::state(record.word.load(std::memory_order_acquire));
    // A record being claimed or joining has no view and a cursor still
    // settling; its subscriber is alive (the reaper freed the others).
    if (state == layout::SubscriberState::free || state == layout::SubscriberState::claimed ||
        state == layout::SubscriberState::joining) {
        return {};
    }
    const auto what = "subscriber record " + std::to_string(index);
    if (state != layout::SubscriberState::active) return what + " has a malformed word";
    // A live subscriber reads on while this runs (reads take no lock): its
    // view entries and counts are read before its cursor, since each is
    // written only after the cursor it depends on was read or advanced.
    std::uint64_t furthest_view = 0;
    for (const auto& view : record.views) {
        const auto entry = view.load(std::memory_order_acquire);
        if (entry > furthest_view) furthest_view = entry;
    }
    const auto counted =
        record.received.load(std::memory_order_acquire) + record.skipped.load(std::memory_order_acquire);
    const auto cursor = record.cursor.load(std::memory_order_acquire);
    const auto joined = record.joined_at.load(std::memory_order_relaxed);
    if (cursor > tail || cursor + geometry_.capacity < tail || joined > cursor) {
        return what + " has a cursor out of bounds";
    }
    // As check_counters() requires at every tick, or the topic would go back
    // into quarantine at the first one.
    if (counted > cursor - joined) return what + " counts more messages than its cursor passed";
    if (furthest_view > cursor + 1) return what + " holds a view beyond its cursor";
    return {};
}

// A pin that no active subscriber lists would hold publishers for ever. No
// kill leaves one (the entry is written before the pin and cleared after
// it), so it is a scribble, and clearing it costs nobody a view.
std::string TopicRing::clear_stray_pins() {
    std::string repaired;
    const auto capacity = geometry_.capacity;
    for (std::uint64_t index = 0; index < capacity; ++index) {
        auto* pins = pins_of(slot_at(index));
        for (std::uint32_t subscriber = 0; subscriber < geometry_.max_subscribers; ++subscriber) {
            if ((pins[subscriber / 64].load(std::memory_order_relaxed) & pin_bit(subscriber)) == 0) continue;
            if (lists_view_of(subscriber, index)) continue;
            // Only a pin this call cleared is a repair (an unsubscribe may
            // have given it back meanwhile).
            const auto before = pins[subscriber / 64].fetch_and(~pin_bit(subscriber), std::memory_order_acq_rel);
            if ((before & pin_bit(subscriber)) == 0) continue;
            repaired += (repaired.empty() ? "" : ", ") + std::string("cleared a stray pin of subscriber ") +
                        std::to_string(subscriber) + " on slot " + std::to_string(index);
        }
    }
    if (!repaired.empty()) control_->room.notify_all();
    return repaired;
}

bool TopicRing::lists_view_of(std::uint32_t subscriber, std::uint64_t slot_index) const {
    const auto& record = record_at(subscriber);
    if (layout::SubscriberWord::state(record.word.load(std::memory_order_acquire)) !=
        layout::SubscriberState::active) {
        return false;
    }
    for (const auto& view : record.views) {
        const auto entry = view.load(std::memory_order_relaxed);
        if (entry != 0 && ring_index(entry - 1, geometry_.capacity) == slot_index) return true;
    }
    return false;
}

}  // namespace shmq
