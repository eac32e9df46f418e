#include "common/topic_ring.hpp"

#include <cstring>
#include <new>

// The claim is the only multi-step critical section; it runs under the
// publisher lock, and each of its prefixes is recognisable by the next owner
// of a lock whose previous owner was killed (repair_publisher_side). Everything
// else is one atomic store or compare-and-swap per step. docs/crash-safety.md
// ("Topics") lists the invariants and the steps.

namespace shmq {

namespace {

constexpr std::uint8_t slow_subscriber_drop = 1;  // config::SlowSubscriberPolicy::drop
// Where a slot that never held a message says it is: never a real position.
constexpr std::uint64_t never_claimed = UINT64_MAX;

Status status_of(LockResult result) {
    return result == LockResult::timed_out ? Status::timeout : Status::system_error;
}

std::uint64_t pin_bit(std::uint32_t subscriber) { return 1ull << (subscriber % 64); }

}  // namespace

bool TopicRing::lock_publisher(RobustLockGuard& guard) {
    if (!guard.owns()) return false;
    if (guard.owner_died()) {
        repair_publisher_side();
        control_->publisher_lock.mark_consistent();
    }
    return true;
}

// Claim: [word = writing(me, lap of tail)] [position = tail] [tail = tail + 1].
// Cut short after the word was written, the slot at tail carries the tag of
// tail's lap (a slow publisher still writing the previous lap there carries
// the previous lap's): the claim is undone and the slot left free. Its old
// message is gone by then, which is what the claim had decided anyway.
//
// A subscribe cut short leaves its record free (it turns active in one store),
// and passed_hint is only ever lowered before the cursor it covers is written,
// so neither needs repair.
void TopicRing::repair_publisher_side() {
    const auto tail = control_->tail.load(std::memory_order_acquire);
    auto& slot = slot_at(tail);
    const auto word = slot.word.load(std::memory_order_acquire);
    const auto state = SlotWord::state(word);
    if ((state == SlotState::writing || state == SlotState::abandoned) && SlotWord::tag(word) == lap_of(tail)) {
        slot.word.store(SlotWord::make(SlotState::free, {}, lap_of(tail)), std::memory_order_release);
    }
}

Status TopicRing::quarantine() {
    // The broker logs it when it sees the flag (clients have no log).
    control_->quarantined.store(1, std::memory_order_release);
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

bool TopicRing::make_room_locked(std::uint64_t old) {
    if (old < control_->passed_hint.load(std::memory_order_relaxed)) return true;
    const bool drop = geometry_.slow_subscriber == slow_subscriber_drop;
    std::uint64_t lowest = old + geometry_.capacity;  // tail: no cursor is beyond it
    for (std::uint32_t index = 0; index < geometry_.max_subscribers; ++index) {
        auto& record = record_at(index);
        const auto word = record.word.load(std::memory_order_acquire);
        if (layout::SubscriberWord::state(word) != layout::SubscriberState::active) continue;
        auto cursor = record.cursor.load(std::memory_order_acquire);
        while (cursor <= old) {
            if (!drop) return false;
            // The subscriber loses what it has not read of the slot's old
            // message; a read of it in progress fails its own compare-and-swap.
            if (record.cursor.compare_exchange_weak(cursor, old + 1, std::memory_order_acq_rel,
                                                    std::memory_order_acquire)) {
                control_->dropped.fetch_add(old + 1 - cursor, std::memory_order_relaxed);
                cursor = old + 1;
            }
        }
        if (cursor < lowest) lowest = cursor;
    }
    control_->passed_hint.store(lowest, std::memory_order_relaxed);
    return true;
}

Status TopicRing::claim_locked(OwnerStamp me, std::uint64_t& position) {
    const auto tail = control_->tail.load(std::memory_order_relaxed);
    auto& slot = slot_at(tail);
    // The previous lap's publisher is still copying its message in: it must
    // be published (and read) before the slot can be overwritten.
    if (SlotWord::state(slot.word.load(std::memory_order_acquire)) == SlotState::writing) return Status::queue_full;
    // A view pins the slot even under drop. Checked before make_room_locked
    // too, so that no subscriber is pushed past a message for a claim that
    // fails anyway.
    if (pinned(slot)) return Status::queue_full;
    if (tail >= geometry_.capacity && !make_room_locked(tail - geometry_.capacity)) return Status::queue_full;
    // A subscriber pins a slot before it moves its cursor past it, so a pin
    // taken before the cursors just read is visible now.
    if (pinned(slot)) return Status::queue_full;
    // Word before position: a subscriber reads the position first, then the
    // word, so it never pairs this position with the old message's `ready`.
    slot.word.store(SlotWord::make(SlotState::writing, me, lap_of(tail)), std::memory_order_release);
    slot.position.store(tail, std::memory_order_release);
    control_->tail.store(tail + 1, std::memory_order_release);
    position = tail;
    return Status::ok;
}

Status TopicRing::claim(OwnerStamp me, const Deadline& lock_deadline, std::uint64_t& position) {
    if (quarantined()) return Status::queue_quarantined;
    RobustLockGuard guard(control_->publisher_lock, lock_deadline);
    if (!lock_publisher(guard)) return status_of(guard.result());
    return claim_locked(me, position);
}

void TopicRing::publish(std::uint64_t position, std::size_t size, OwnerStamp me) {
    auto& slot = slot_at(position);
    slot.length.store(static_cast<std::uint32_t>(size), std::memory_order_relaxed);
    auto expected = SlotWord::make(SlotState::writing, me, lap_of(position));
    // Release makes the payload visible to whoever acquires `ready`. A
    // compare-and-swap: should the broker ever have taken the slot from us,
    // it is no longer ours to publish.
    slot.word.compare_exchange_strong(expected, SlotWord::make(SlotState::ready, {}, lap_of(position)),
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
    if (slot.word.compare_exchange_strong(expected, SlotWord::make(SlotState::abandoned, {}, lap_of(position)),
                                          std::memory_order_seq_cst, std::memory_order_relaxed)) {
        control_->abandoned.fetch_add(1, std::memory_order_relaxed);
    }
    control_->published.notify_all();
    wake_publisher_waiting_for(position);
}

Status TopicRing::try_publish(const void* data, std::size_t size, OwnerStamp me, const Deadline& lock_deadline) {
    if (size > geometry_.max_message_size) return Status::message_too_large;
    if (size > 0 && data == nullptr) return Status::invalid_argument;
    std::uint64_t position = 0;
    const Status claimed = claim(me, lock_deadline, position);
    if (claimed != Status::ok) return claimed;
    if (size > 0) std::memcpy(payload(position), data, size);
    publish(position, size, me);
    return Status::ok;
}

// ---------------------------------------------------------------------------
// Subscribers

std::uint64_t TopicRing::available_history_locked(std::uint64_t tail, std::uint32_t wanted) const {
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

Status TopicRing::subscribe(OwnerStamp me, std::uint32_t history, const Deadline& lock_deadline,
                            SubscriberHandle& handle) {
    if (quarantined()) return Status::queue_quarantined;
    // Under the publisher lock: tail stands still, so the new cursor cannot
    // be overtaken before publishers see it.
    RobustLockGuard guard(control_->publisher_lock, lock_deadline);
    if (!lock_publisher(guard)) return status_of(guard.result());
    for (std::uint32_t index = 0; index < geometry_.max_subscribers; ++index) {
        auto& record = record_at(index);
        if (layout::SubscriberWord::state(record.word.load(std::memory_order_acquire)) !=
            layout::SubscriberState::free) {
            continue;
        }
        const auto tail = control_->tail.load(std::memory_order_relaxed);
        const auto wanted = history < geometry_.history ? history : geometry_.history;
        const auto start = tail - available_history_locked(tail, wanted);
        // The hint first: it must stay a lower bound of every active cursor
        // whichever step a death cuts this short at.
        if (start < control_->passed_hint.load(std::memory_order_relaxed)) {
            control_->passed_hint.store(start, std::memory_order_relaxed);
        }
        record.cursor.store(start, std::memory_order_relaxed);
        record.joined_at.store(start, std::memory_order_relaxed);
        record.received.store(0, std::memory_order_relaxed);
        record.skipped.store(0, std::memory_order_relaxed);
        for (auto& view : record.views) view.store(0, std::memory_order_relaxed);
        const auto serial = static_cast<std::uint16_t>(control_->subscriber_serial.load(std::memory_order_relaxed) + 1);
        control_->subscriber_serial.store(serial, std::memory_order_relaxed);
        const auto word = layout::SubscriberWord::make(layout::SubscriberState::active, me.client_index,
                                                       me.generation, serial);
        // A plain store: records only turn active under this lock, so nobody
        // races us for a free one. Release publishes the fields above.
        record.word.store(word, std::memory_order_release);
        control_->subscriptions.fetch_add(1, std::memory_order_relaxed);
        handle = SubscriberHandle{index, word};
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
        if (position == cursor) {
            if (state == SlotState::abandoned) return Found::abandoned;
            if (state != SlotState::ready) return Found::nothing;  // being written, or a claim undone
            length = slot.length.load(std::memory_order_relaxed);
            if (length <= geometry_.max_message_size) return Found::message;
            // A drop may be overwriting the slot; otherwise it is corrupt.
            std::atomic_thread_fence(std::memory_order_acquire);
            if (record.cursor.load(std::memory_order_relaxed) != cursor) continue;
            quarantine();
            return Found::corrupt;
        }
        if (position == never_claimed || position < cursor) return Found::nothing;  // not claimed yet
        // The slot was reused for a later lap, which only happens once this
        // cursor was pushed past it (drop); the push is visible now.
        if (record.cursor.load(std::memory_order_acquire) != cursor) continue;
        quarantine();
        return Found::corrupt;
    }
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
    if (geometry_.slow_subscriber != slow_subscriber_drop &&
        cursor + geometry_.capacity <= control_->tail.load(std::memory_order_relaxed)) {
        control_->room.notify_all();
    }
    return true;
}

Status TopicRing::try_receive(const SubscriberHandle& handle, void* buffer, std::size_t capacity, std::size_t& size) {
    if (quarantined()) return Status::queue_quarantined;
    if (!owns(handle)) return Status::invalid_argument;
    auto& record = record_at(handle.index);
    for (;;) {
        std::uint64_t cursor = 0;
        std::uint32_t length = 0;
        switch (look_at_cursor(handle, cursor, length)) {
        case Found::nothing: return Status::empty;
        case Found::corrupt: return Status::queue_quarantined;
        case Found::abandoned:
            if (advance(record, cursor)) {
                record.skipped.store(record.skipped.load(std::memory_order_relaxed) + 1, std::memory_order_release);
            }
            continue;
        case Found::message: break;
        }
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
        if (length > 0) std::memcpy(buffer, payload_of(slot_at(cursor)), length);
        if (!advance(record, cursor)) continue;
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
        switch (look_at_cursor(handle, cursor, length)) {
        case Found::nothing: return Status::empty;
        case Found::corrupt: return Status::queue_quarantined;
        case Found::abandoned:
            if (advance(record, cursor)) {
                record.skipped.store(record.skipped.load(std::memory_order_relaxed) + 1, std::memory_order_release);
            }
            continue;
        case Found::message: break;
        }
        auto& slot = slot_at(cursor);
        auto& pins = pins_of(slot)[word];
        // Entry, pin, then cursor. The entry first, so that the broker can
        // release the pin of a subscriber killed right after taking it. The
        // pin before the cursor passes the message, so that a publisher that
        // sees the cursor beyond it also sees the pin.
        record.views[entry].store(cursor + 1, std::memory_order_release);
        pins.fetch_or(bit, std::memory_order_acq_rel);
        if (!advance(record, cursor)) {
            // A drop took the message first; the slot may be reused already.
            pins.fetch_and(~bit, std::memory_order_release);
            record.views[entry].store(0, std::memory_order_release);
            control_->room.notify_all();
            continue;
        }
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
    if (quarantined()) return true;
    const auto tail = control_->tail.load(std::memory_order_relaxed);
    auto& slot = slot_at(tail);
    if (SlotWord::state(slot.word.load(std::memory_order_acquire)) == SlotState::writing || pinned(slot)) return false;
    if (tail < geometry_.capacity || geometry_.slow_subscriber == slow_subscriber_drop) return true;
    const auto old = tail - geometry_.capacity;
    for (std::uint32_t index = 0; index < geometry_.max_subscribers; ++index) {
        const auto& record = record_at(index);
        if (layout::SubscriberWord::state(record.word.load(std::memory_order_acquire)) !=
            layout::SubscriberState::active) {
            continue;
        }
        if (record.cursor.load(std::memory_order_acquire) <= old) return false;
    }
    return true;
}

bool TopicRing::may_have_message(const SubscriberHandle& handle) const {
    if (quarantined() || !owns(handle)) return true;  // the next attempt says why
    const auto cursor = record_at(handle.index).cursor.load(std::memory_order_acquire);
    auto& slot = slot_at(cursor);
    const auto position = slot.position.load(std::memory_order_acquire);
    const auto state = SlotWord::state(slot.word.load(std::memory_order_acquire));
    if (position == cursor) return state == SlotState::ready || state == SlotState::abandoned;
    return position != never_claimed && position > cursor;
}

// ---------------------------------------------------------------------------
// The broker

Status TopicRing::reclaim(OwnerStamp dead_owner, const Deadline& lock_deadline, TopicReclaimCounts& counts) {
    // The lock first, so that a claim the dead client was cut short in is
    // undone rather than abandoned.
    RobustLockGuard guard(control_->publisher_lock, lock_deadline);
    if (!lock_publisher(guard)) return status_of(guard.result());
    for (std::uint64_t index = 0; index < geometry_.capacity; ++index) {
        auto& slot = slot_at(index);
        auto word = slot.word.load(std::memory_order_acquire);
        if (SlotWord::state(word) != SlotState::writing || !(SlotWord::owner(word) == dead_owner)) continue;
        // The lap tag stays, so that the slot still says which lap it is.
        const auto abandoned = SlotWord::make(SlotState::abandoned, {}, SlotWord::tag(word));
        if (slot.word.compare_exchange_strong(word, abandoned, std::memory_order_acq_rel)) {
            ++counts.abandoned_writes;
            control_->abandoned.fetch_add(1, std::memory_order_relaxed);
        }
    }
    for (std::uint32_t index = 0; index < geometry_.max_subscribers; ++index) {
        auto& record = record_at(index);
        auto word = record.word.load(std::memory_order_acquire);
        if (layout::SubscriberWord::state(word) != layout::SubscriberState::active ||
            layout::SubscriberWord::client_index(word) != dead_owner.client_index ||
            layout::SubscriberWord::generation(word) != dead_owner.generation) {
            continue;
        }
        // Pins first: the record must not be reused while its bit is set anywhere.
        release_views_of(index);
        if (record.word.compare_exchange_strong(word, 0, std::memory_order_acq_rel)) ++counts.subscriptions;
    }
    if (counts.abandoned_writes > 0) control_->published.notify_all();
    if (counts.abandoned_writes + counts.subscriptions > 0) control_->room.notify_all();
    return Status::ok;
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
            quarantine();
            return false;
        }
    }
    return true;
}

void TopicRing::reset_synchronisation() {
    new (&control_->publisher_lock) RobustMutex();
    new (&control_->published) WaitEvent();
    new (&control_->room) WaitEvent();
    repair_publisher_side();
}

Status TopicRing::verify(const Deadline& lock_deadline, std::string& problem, std::string& repaired) {
    RobustLockGuard guard(control_->publisher_lock, lock_deadline);
    if (!lock_publisher(guard)) return status_of(guard.result());
    problem.clear();
    repaired.clear();
    const auto tail = control_->tail.load(std::memory_order_acquire);
    problem = verify_slots_locked(tail);
    for (std::uint32_t index = 0; problem.empty() && index < geometry_.max_subscribers; ++index) {
        problem = verify_subscriber(index, tail);
    }
    if (problem.empty()) repaired = clear_stray_pins();
    if (!problem.empty()) quarantine();
    return Status::ok;
}

std::string TopicRing::verify_slots_locked(std::uint64_t tail) const {
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
    // Every position of the last lap but the oldest (whose slot a claim may
    // have been undone in) was claimed, and its slot says so.
    const auto first = tail >= capacity ? tail - capacity + 1 : 0;
    for (auto position = first; position < tail; ++position) {
        auto& slot = slot_at(position);
        const auto state = SlotWord::state(slot.word.load(std::memory_order_acquire));
        if (slot.position.load(std::memory_order_relaxed) != position ||
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
    if (state == layout::SubscriberState::free) return {};
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
