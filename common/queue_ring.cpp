#include "common/queue_ring.hpp"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <new>
#include <string>

#include "common/cache_hint.hpp"
#include "common/monotonic_clock.hpp"
#include "common/payload_checksum.hpp"
#include "common/payload_copy.hpp"
#include "common/quarantine_reason.hpp"
#include "common/shared_copy.hpp"
#include "common/test_crash_point.hpp"
#include "common/thread_token.hpp"
#include "platform/store_visibility.hpp"

// The steps of one send and one receive are written as small functions and
// compiled as one: [[gnu::always_inline]] on each, since the compiler left
// them as calls (its size limits), and their prologues, epilogues and
// re-derived ring positions were an eighth of the instructions a message
// cost (callgrind, shmq_data_path --mode single; docs/benchmarks.md).
//
// The protocol is lock-free (docs/crash-safety.md, "Queues", lists its steps
// and invariants). A producer claims position t, whose slot is free for t's
// lap, by one compare-and-swap of t's claim word to writing(me) for t's lap,
// then moves tail on; its publish turns the slot ready for t's lap. A
// consumer decides the message at position h is its own by one
// compare-and-swap of h's take word, then moves head on; a long message or
// an at_least_once delivery it also marks in the slot's word (reading(me),
// in_flight(me)) before it moves head. Whoever sees a claim or a decision
// whose tail or head was not moved yet moves it, so a process preempted or
// killed between its steps stops nobody; a claim, a decision or a slot it
// still holds carries its stamp, which the broker releases when it dies.

namespace shmq {

namespace {

const char* state_name(SlotState state) {
    switch (state) {
    case SlotState::free: return "free";
    case SlotState::writing: return "writing";
    case SlotState::ready: return "ready";
    case SlotState::reading: return "reading";
    case SlotState::in_flight: return "in_flight";
    case SlotState::redeliver: return "redeliver";
    case SlotState::abandoned: return "abandoned";
    }
    return "malformed";
}

std::string hex_word(std::uint64_t word) {
    char text[24];
    std::snprintf(text, sizeof text, "0x%016llx", static_cast<unsigned long long>(word));
    return text;
}

// A queue's slots hold an owner while taken; claims are in the claim words.
bool has_owner(SlotState state) { return state == SlotState::reading || state == SlotState::in_flight; }

}  // namespace

Status QueueRing::quarantine(layout::QuarantineReason why) {
    // The broker logs the reason when it sees it (clients have no log).
    mark_quarantined(control_->quarantined, why);
    control_->not_empty.notify_all();
    control_->not_full.notify_all();
    return Status::queue_quarantined;
}

QueueRing::Next QueueRing::quarantine_if_still(const std::atomic<std::uint64_t>& counter, std::uint64_t value,
                                               const layout::SlotHeader& slot, std::uint64_t word,
                                               layout::QuarantineReason why, Status& status) {
    if (counter.load(std::memory_order_acquire) != value || slot.word.load(std::memory_order_acquire) != word) {
        return Next::retry;
    }
    status = quarantine(why);
    return Next::stop;
}

bool QueueRing::position_below(std::uint64_t index, std::uint64_t tail, std::uint64_t& position) const {
    if (tail == 0 || index >= geometry_.capacity) return false;
    const std::uint64_t last = tail - 1;
    const std::uint64_t back = ring_index(index_of(last) + geometry_.capacity - index, geometry_.capacity);
    if (back > last) return false;
    position = last - back;
    return true;
}

// seq_cst, failing or not: a consumer that decided a message looks for
// sleeping producers after this (WaitEvent::notify_after_seq_cst), and the
// room it made is head's move past the message, whether its own or that of
// another consumer that helped it, which a failing swap read.
[[gnu::always_inline]] inline void QueueRing::help_head_past(std::uint64_t position) {
    auto expected = position;
    control_->head.compare_exchange_strong(expected, position + 1, std::memory_order_seq_cst,
                                           std::memory_order_seq_cst);
}

// seq_cst, failing or not, as every move and read of tail in a claim: the
// retirement check after it needs no fence (refuse_claims_if_retired).
[[gnu::always_inline]] inline void QueueRing::help_tail_past(std::uint64_t position) {
    auto expected = position;
    control_->tail.compare_exchange_strong(expected, position + 1, std::memory_order_seq_cst,
                                           std::memory_order_seq_cst);
}

// A store where the lease holder's waiters fence for it: a locked
// instruction waits for every earlier store and load to complete, so one a
// message kept each side from working on the next message while the last
// one's cache line was still on its way (64 B, one producer and one
// consumer: 0.22-0.24x the limit ring with the swaps, 0.40-0.47x without;
// docs/benchmarks.md). The store writes the value the swap would have: a
// helper moves tail only past a slot already published for its lap, which
// this store precedes, and head only past a decided message, and nobody but
// this consumer decides the messages after the one it took (as long as it
// holds the lease; docs/crash-safety.md).
[[gnu::always_inline]] inline void QueueRing::move_tail_past_claim(std::uint64_t position) {
    if (stores_own_tail()) {
        control_->tail.store(position + 1, std::memory_order_release);
    } else {
        help_tail_past(position);
    }
}

[[gnu::always_inline]] inline void QueueRing::move_head_past_take(std::uint64_t position) {
    if (stores_own_head()) {
        control_->head.store(position + 1, std::memory_order_release);
    } else {
        help_head_past(position);
    }
}

// Without the swap, nothing orders the load of the waiters' word after the
// move of the counter; the waiters fence instead (waiters_must_fence_for_*).
[[gnu::always_inline]] inline void QueueRing::wake_consumers(int count) {
    if (stores_own_tail()) {
        control_->not_empty.notify_after_store_waiters_fence(count);
    } else {
        control_->not_empty.notify_after_seq_cst(count);
    }
}

[[gnu::always_inline]] inline void QueueRing::wake_producers(int count) {
    if (stores_own_head()) {
        control_->not_full.notify_after_store_waiters_fence(count);
    } else {
        control_->not_full.notify_after_seq_cst(count);
    }
}

// ---------------------------------------------------------------------------
// Producers

[[gnu::always_inline]] inline Status QueueRing::claim(OwnerStamp me, std::uint64_t& position) {
    const Status claimed = claim_at_tail(me, position);
    if (claimed != Status::ok) return claimed;
    return refuse_claims_if_retired(position, 1);
}

[[gnu::always_inline]] inline Status QueueRing::claim_at_tail(OwnerStamp me, std::uint64_t& position) {
    for (;;) {
        const auto tail = control_->tail.load(std::memory_order_acquire);
        const auto index = index_of(tail);
        auto& claim_word = claim_words_[index];
        // The claim word before the slot's (claim_by_word).
        const auto seen = claims_by_tail() ? 0 : claim_word.load(std::memory_order_acquire);
        crash_point("queue_claim_word_read");
        auto& slot = slot_at_index(index);
        auto word = slot.word.load(std::memory_order_acquire);
        const auto lap = lap_of(tail);
        if (word == SlotWord::at_lap(SlotState::free, lap)) {
            // The slot is free for this lap, so position tail - capacity is
            // finished; head may not have passed it yet (its finisher was
            // preempted). Passing it first keeps tail - head <= capacity.
            // (A look first: the compare-and-swap is needed only in that window.)
            if (tail >= geometry_.capacity && head_may_be_at(tail - geometry_.capacity, tail)) {
                help_head_past(tail - geometry_.capacity);
            }
        } else if (const auto vacancy = vacated(tail, word); vacancy != Vacancy::vacant) {
            if (vacancy == Vacancy::changed) continue;  // a stale look
            Status status = Status::ok;
            if (look_at_tail(tail, word, status) == Next::stop) return status;
            continue;
        }
        // The slot's word, the line the consumers poll, is left alone until
        // the publish: a claim written there took that line from them and
        // then had to take it back for the publish, which cost a round trip
        // a third of its time (docs/benchmarks.md). The lease holder
        // (claims_by_tail) is the only producer: the move of tail below is
        // its claim.
        if (!claims_by_tail()) {
            if (claims_lap(seen, lap)) {
                help_tail_past(tail);  // claimed by a producer that has not moved tail yet
                continue;
            }
            if (!claim_by_word(me, claim_word, lap, seen)) continue;  // another producer claimed it first
        }
        crash_point("queue_claimed");
        move_tail_past_claim(tail);
        crash_point("queue_tail_moved");
        position = tail;
        return Status::ok;
    }
}

// A batch claims a run: the position at tail as claim() does, then the ones
// after it while their slots are free for their laps, and moves tail past
// them all at once. Per message that saves the move of tail and the fence
// of the retirement check, two of the producer's three locked instructions
// (docs/crash-safety.md, "Claiming a run").
Status QueueRing::claim_run(OwnerStamp me, std::size_t want, std::uint64_t& first, std::size_t& count) {
    count = 0;
    const Status claimed = claim_at_tail(me, first);
    if (claimed != Status::ok) return claimed;
    count = 1;
    while (count < want && claim_past_tail(me, first + count)) ++count;
    if (count > 1) {
        crash_point("queue_run_claimed");
        move_tail_past_run(first, first + count);
    }
    return refuse_claims_if_retired(first, count);
}

// Claims `position`, beyond tail, only if its claim word names no claim of
// it (no producer claimed it yet) and its slot is vacant for its lap
// (position - capacity is finished), as at tail. Anything else ends the
// run, and the next claim goes through claim_at_tail, which judges it.
bool QueueRing::claim_past_tail(OwnerStamp me, std::uint64_t position) {
    const auto index = index_of(position);
    auto& claim_word = claim_words_[index];
    // The claim word before the slot's (claim_by_word).
    const auto seen = claims_by_tail() ? 0 : claim_word.load(std::memory_order_acquire);
    auto& slot = slot_at_index(index);
    const auto lap = lap_of(position);
    const auto word = slot.word.load(std::memory_order_acquire);
    if (word == SlotWord::at_lap(SlotState::free, lap)) {
        if (position >= geometry_.capacity && head_may_be_at(position - geometry_.capacity, position)) {
            help_head_past(position - geometry_.capacity);
        }
    } else if (vacated(position, word) != Vacancy::vacant) {
        return false;
    }
    if (claims_by_tail()) return true;  // claimed by the move of tail past the run, as in claim_at_tail()
    return !claims_lap(seen, lap) && claim_by_word(me, claim_word, lap, seen);
}

// The claim word changes at every claim of its slot, so a compare-and-swap
// from `seen` succeeds only if nobody claimed the slot since it was read.
// It was read before the slot's word, which was then still vacant for
// position's lap: so position was not published yet (a slot's word only
// ever moves on to later laps), and `seen`, which did not claim it, was the
// claim of an earlier position, not of a later one. Read the other way
// round, a producer preempted between the two reads could take the claim
// word of position + capacity for its own to replace, and claim a position
// already used. (A 16-bit lap tag: a preemption of 65536 laps of the ring
// could fool it, as it could the slot's word.)
[[gnu::always_inline]] inline bool QueueRing::claim_by_word(OwnerStamp me, std::atomic<std::uint64_t>& claim_word,
                                                            std::uint64_t lap, std::uint64_t seen) {
    return claim_word.compare_exchange_strong(seen, SlotWord::make(SlotState::writing, me, SlotWord::lap_tag(lap)),
                                              std::memory_order_acq_rel, std::memory_order_relaxed);
}

// Tail lies in (first, end] once claim_at_tail has moved it past `first`,
// and other producers may have helped it along the run's claimed slots.
// Outside that window it was scribbled: it is left for the broker's check.
void QueueRing::move_tail_past_run(std::uint64_t first, std::uint64_t end) {
    auto tail = control_->tail.load(std::memory_order_seq_cst);
    while (tail > first && tail < end &&
           !control_->tail.compare_exchange_weak(tail, end, std::memory_order_seq_cst, std::memory_order_seq_cst)) {
    }
}

// Head only grows, so a floor above `position` (and not above `limit`,
// which a scribbled head could be) settles that head is past it without
// touching head's cache line.
[[gnu::always_inline]] inline bool QueueRing::floor_past(std::uint64_t position, std::uint64_t limit) const {
    const auto floor = head_floor_.get();
    return floor > position && floor <= limit;
}

[[gnu::always_inline]] inline std::uint64_t QueueRing::read_head(std::memory_order order) const {
    const auto head = control_->head.load(order);
    head_floor_.remember(head);
    return head;
}

[[gnu::always_inline]] inline bool QueueRing::head_may_be_at(std::uint64_t position, std::uint64_t tail) const {
    return !floor_past(position, tail) && read_head(std::memory_order_acquire) == position;
}

// seq_cst: a producer deciding whether to sleep reads head after arming its
// event, and the consumer that moved it past notifies after that seq_cst
// compare-and-swap (WaitEvent::notify_after_seq_cst).
bool QueueRing::head_past(std::uint64_t position, std::uint64_t limit) const {
    if (floor_past(position, limit)) return true;
    const auto head = read_head(std::memory_order_seq_cst);
    return head > position && head <= limit;
}

// The previous lap's message is gone once head is past its position: head
// passes a position only once its message is decided, and a decision that
// holds the slot (a long read, an at_least_once delivery) marks the slot's
// word first. So the word must be read after head was seen past: the floor
// of head was read earlier, and a fresh read of head is followed by a second
// read of the word. Head still at that position with its message decided
// (its decider preempted before it moved head): head is moved past it here,
// which costs a read of the consumers' take word in that window only.
[[gnu::always_inline]] inline QueueRing::Vacancy QueueRing::vacated(std::uint64_t position, std::uint64_t word) {
    const auto lap = lap_of(position);
    if (lap == 0 || !vacant_for(word, lap)) return Vacancy::held;
    const auto previous = position - geometry_.capacity;
    if (floor_past(previous, position)) return Vacancy::vacant;
    const auto head = read_head(std::memory_order_acquire);
    if (head == previous) {
        if (!TakeWord::finishes(take_words_[index_of(previous)].load(std::memory_order_acquire), lap - 1)) {
            return Vacancy::held;
        }
        help_head_past(previous);
    } else if (head < previous || head > position) {
        return Vacancy::held;  // the queue is full (or head scribbled: the try that follows judges it)
    }
    // Changed: held and let go since (an at_least_once delivery taken and
    // acknowledged), or claimed and published by another producer.
    return slot_at(position).word.load(std::memory_order_acquire) == word ? Vacancy::vacant : Vacancy::changed;
}

// The take word is read before the slot's word is read again (decide()). A
// slot that held an abandoned write is decided skipped rather than dropped:
// its message was never sent, so `dropped` does not count it.
bool QueueRing::drop_oldest(std::uint64_t oldest, std::uint64_t word) {
    auto& take_word = take_words_[index_of(oldest)];
    const auto lap = lap_of(oldest);
    const auto seen = take_word.load(std::memory_order_acquire);
    if (slot_at(oldest).word.load(std::memory_order_acquire) != word) return true;  // a stale look
    if (TakeWord::decides(seen, lap)) {
        // Held by a consumer that has not marked the slot yet: full until it
        // does (or, dead, until the broker undoes its take).
        if (!TakeWord::finishes(seen, lap)) return false;
        help_head_past(oldest);
        return true;
    }
    const bool ready = SlotWord::state(word) == SlotState::ready;
    const auto decision = TakeWord::make(ready ? TakeState::dropped : TakeState::skipped, {}, lap);
    if (!decide(take_word, seen, decision)) return true;
    if (ready) control_->dropped.fetch_add(1, std::memory_order_relaxed);
    crash_point("queue_dropped");
    help_head_past(oldest);
    return true;
}

// `seen` was read before the slot's word, which then showed the message of
// the decision's lap. A take word only moves on to later laps, and none can
// be decided before this one is (its slot cannot be claimed again before),
// so `seen` decided no later lap, and a compare-and-swap from it fails if
// anyone decided this one since. (The lap's 16-bit tag: a preemption of
// 65536 laps of the ring could fool it, as it could the slot's word.)
// Acquire: a message found taken (finishes) was copied out before. The
// move of head that follows the decision orders the wake-up of producers.
[[gnu::always_inline]] inline bool QueueRing::decide(std::atomic<std::uint64_t>& take_word, std::uint64_t seen,
                                                     std::uint64_t decision) {
    if (takes_by_store()) {
        // The lease holder is the only consumer, and no producer drops a
        // message of this queue: only a producer the broker reclaimed while
        // it lived withdraws one (withdraw), which the look below sees unless
        // it lands in the instant before the store.
        if (take_word.load(std::memory_order_relaxed) != seen) return false;
        // Release: the copy is read before the message counts as taken.
        take_word.store(decision, std::memory_order_release);
        return true;
    }
    return take_word.compare_exchange_strong(seen, decision, std::memory_order_acq_rel, std::memory_order_relaxed);
}

// refuse_claims_if_retired() reads retired after the claims are in tail
// (this is its rare half): a consumer that read retired, then found head ==
// tail, read tail before this claim moved it, so this read sees retired and
// the claim is given up. Either the consumer sees the claim (and waits for
// its slot) or the producer sees the retirement: a message sent ok is never
// stranded behind a queue_removed.
// No fence is needed for that: the retirement mark is stored seq_cst, the
// consumer reads it and then tail seq_cst, and the claim moved tail past
// its positions (or read it moved past them) with seq_cst operations before
// this seq_cst read of the mark, so all of them fall in the one order of
// seq_cst operations. A single producer whose waiters fence for it moves
// tail by a plain store, which orders nothing: the consumer then fences
// between its read of the mark and its read of tail (drained_after_
// retirement), and either the barrier finds the claim in tail, or this
// read comes after the barrier and, the mark having been seen by another
// CPU before it, sees the mark too.
Status QueueRing::abandon_claims_of_retired(std::uint64_t first, std::size_t count) {
    for (auto position = first; position < first + count; ++position) {
        auto& slot = slot_at(position);
        const auto lap = lap_of(position);
        auto expected = slot.word.load(std::memory_order_acquire);
        if (!vacant_for(expected, lap)) continue;
        // Abandoned, as a dead producer's claim is: consumers skip it, and
        // `abandoned` counts it, so that enqueued and dequeued stay exact.
        if (slot.word.compare_exchange_strong(expected, SlotWord::at_lap(SlotState::abandoned, lap),
                                              std::memory_order_release, std::memory_order_relaxed)) {
            control_->abandoned.fetch_add(1, std::memory_order_relaxed);
        }
    }
    control_->not_empty.notify_all();
    return Status::queue_removed;
}

// A head stored late (stores_own_head) reads low, which only says "not
// drained" a little longer.
bool QueueRing::drained_after_retirement() const {
    if (!is_retired()) return false;
    if (waiters_must_fence_for_producers()) platform::fence_registered_processes();
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const auto head = control_->head.load(std::memory_order_seq_cst);
    const auto tail = control_->tail.load(std::memory_order_seq_cst);
    if (head != tail || control_->redeliver_pending.load(std::memory_order_seq_cst) != 0) return false;
    return geometry_.delivery != layout::delivery_at_least_once || !holds_unacknowledged();
}

// at_least_once: a delivery not acknowledged yet may come back (its consumer
// dies, or its ack times out), so a retired queue is not drained while one
// is out. Only retired queues pay for this look at every slot.
bool QueueRing::holds_unacknowledged() const {
    for (std::uint64_t index = 0; index < geometry_.capacity; ++index) {
        const auto state = SlotWord::state(slot_at(index).word.load(std::memory_order_acquire));
        if (state == SlotState::in_flight || state == SlotState::redeliver) return true;
    }
    return false;
}

// A ready word stays in its slot after its message is taken (take words):
// only an undecided one, or one held by a consumer about to mark it, counts.
QueueRing::Held QueueRing::held() const {
    Held held;
    for (std::uint64_t index = 0; index < geometry_.capacity; ++index) {
        const auto& slot = slot_at(index);
        const auto decision = take_words_[index].load(std::memory_order_acquire);
        const auto word = slot.word.load(std::memory_order_acquire);
        const auto state = SlotWord::state(word);
        if (state != SlotState::ready && state != SlotState::in_flight && state != SlotState::redeliver) continue;
        if (state == SlotState::ready && TakeWord::finishes(decision, SlotWord::lap(word))) continue;
        ++held.messages;
        held.longest = std::max(held.longest,
                                std::min(slot.length.load(std::memory_order_relaxed), geometry_.max_message_size));
    }
    return held;
}

// What a producer does with a slot at `tail` that is not free for tail's lap.
QueueRing::Next QueueRing::look_at_tail(std::uint64_t tail, std::uint64_t word, Status& status) {
    auto& slot = slot_at(tail);
    const auto lap = lap_of(tail);
    const auto state = SlotWord::state(word);
    if (!SlotWord::well_formed(word)) {
        return quarantine_if_still(control_->tail, tail, slot, word, layout::QuarantineReason::damaged_slot,
                                   status);
    }
    // Published (or abandoned) for tail by a producer that has not moved
    // tail yet: move it for them and claim the next slot.
    const bool claimed_here = (state == SlotState::ready || state == SlotState::abandoned) && SlotWord::lap(word) == lap;
    if (claimed_here) {
        help_tail_past(tail);
        return Next::retry;
    }
    if (control_->tail.load(std::memory_order_acquire) != tail) return Next::retry;  // a stale look
    // The slot still serves position tail - capacity (vacated() said head is
    // not past it): the queue is full, unless drop_oldest may discard the
    // message queued there, the oldest (head is there).
    const bool previous_lap_queued = lap > 0 && (state == SlotState::ready || state == SlotState::abandoned) &&
                                     SlotWord::lap(word) == lap - 1;
    if (previous_lap_queued && geometry_.overflow == layout::overflow_drop_oldest &&
        drop_oldest(tail - geometry_.capacity, word)) {
        return Next::retry;
    }
    // Vacant for the lap before: position tail - capacity is a claim in flight.
    const bool previous_lap_held = previous_lap_queued || (lap > 0 && vacant_for(word, lap - 1)) ||
                                   state == SlotState::reading || state == SlotState::in_flight ||
                                   state == SlotState::redeliver;
    if (previous_lap_held) {
        status = Status::queue_full;
        return Next::stop;
    }
    // Free for another lap, or queued for one that is neither this nor the
    // last: no step of the protocol leaves that at tail.
    return quarantine_if_still(control_->tail, tail, slot, word, layout::QuarantineReason::damaged_slot, status);
}

// Copies a message out of a slot that is not this process's (before a take,
// or a look): a copy whose slot changed meanwhile is thrown away, but it may
// have been read while a producer rewrote it, which the short messages that
// are copied so allow (common/shared_copy.hpp).
[[gnu::always_inline]] inline void QueueRing::copy_out(const layout::SlotHeader& slot, void* to, std::uint32_t length) const {
    const auto* payload = reinterpret_cast<const std::byte*>(&slot) + layout::slot_header_size;
    if (length <= copy_first_limit) {
        copy_from_shared(to, payload, length);
    } else if (length > 0) {
        copy_payload(to, payload, length);
    }
}

[[gnu::always_inline]] inline void QueueRing::copy_in(const void* data, std::size_t size, layout::SlotHeader& slot,
                                                       std::uint64_t position) {
    // Word by word when a consumer may copy it out before taking it. The
    // part past the slot's first line first: the rest of this call writes
    // that line only, the word last, so it leaves this CPU once, whole. In
    // payload order, a consumer polling the word would pull the line away
    // between the first bytes and the word, and this producer would have to
    // fetch it back before the publish.
    if (size <= copy_first_limit) {
        constexpr std::size_t in_first_line = layout::cache_line - layout::slot_header_size;
        const auto* bytes = static_cast<const std::byte*>(data);
        if (size > in_first_line) {
            copy_to_shared(payload_of(slot) + in_first_line, bytes + in_first_line, size - in_first_line);
            copy_to_shared(payload_of(slot), bytes, in_first_line);  // a constant: four stores, no loop
        } else {
            copy_to_shared(payload_of(slot), bytes, size);
        }
    } else {
        copy_payload(payload_of(slot), data, size);
    }
    const auto length = static_cast<std::uint32_t>(size);
    slot.length.store(length, std::memory_order_relaxed);
    // For the recovery after a power loss, which reads it with the word.
    slot.position.store(position, std::memory_order_relaxed);
    // Only persistent segments survive a power loss, so only they pay for it.
    // The length this producer wrote, not a re-read of the shared field.
    if (geometry_.checksummed) slot.checksum = payload_checksum(length, data);
    // at_least_once: the new message's ack clock has not started, so the
    // take need not stop it (stop_ack_clock). The slot is this producer's:
    // no delivery of it is out.
    if (geometry_.delivery == layout::delivery_at_least_once) {
        slot.ack_deadline_ns.store(layout::ack_clock_not_started, std::memory_order_relaxed);
    }
    crash_point("queue_copied");
}

// A plain store, not a compare-and-swap from free for the lap: a locked
// instruction waits until every store of the copy has reached the
// consumer's CPU, one message at a time, which was 60% of a producer's time
// and held single 64 B messages at 0.55-0.65x of the limit ring (a store:
// 0.85-1.0x; docs/benchmarks.md). Release makes the payload visible to
// whoever acquires `ready`. While this process lives no other step moves
// the word of the position it claimed, except the broker's reaper should it
// take this process for dead: publish_checked() settles that case. The wake-up that
// follows needs no fence either: the claim's seq_cst move of tail orders
// it, or, where that was a store, the waiters' own fence does
// (docs/crash-safety.md, "Wake-ups").
[[gnu::always_inline]] inline void QueueRing::mark_ready(layout::SlotHeader& slot, std::uint64_t position) {
    slot.word.store(SlotWord::at_lap(SlotState::ready, lap_of(position)), std::memory_order_release);
}

[[gnu::always_inline]] inline void QueueRing::publish(const void* data, std::size_t size, std::uint64_t position) {
    auto& slot = slot_at(position);
    copy_in(data, size, slot, position);
    mark_ready(slot, position);
}

// The client record is read once, as any shared word; an index outside this
// process's own count of records names none.
[[gnu::always_inline]] inline bool QueueRing::holds_record(OwnerStamp me) const {
    if (me.client_index >= client_count_) return false;
    const auto word = clients_[me.client_index].word.load(std::memory_order_acquire);
    return layout::ClientWord::state(word) == layout::ClientState::active &&
           layout::ClientWord::generation(word) == (me.generation & SlotWord::generation_mask);
}

// The reaper marks a record reclaiming, then waits until every CPU's stores
// are visible (platform/store_visibility.hpp), then abandons the claims
// stamped with it. So a producer whose record read after its publish says
// active published before the reaper looked at the slot, which it then
// leaves ready; one that reads it reclaiming may have stored `ready` over a
// slot the reaper abandoned meanwhile, which consumers would then take as a
// message, or which they already skipped. The take word settles it: the
// message is decided withdrawn unless a consumer decided it first, and a
// skip (the consumers saw it abandoned) means it was never delivered.
bool QueueRing::withdraw(std::uint64_t position) {
    const auto lap = lap_of(position);
    auto& take_word = take_word_at(position);
    const auto ready = SlotWord::at_lap(SlotState::ready, lap);
    for (;;) {
        auto seen = take_word.load(std::memory_order_acquire);  // before the slot's word (decide())
        // Only this process publishes the position, and its slot is claimed
        // again only once its message is decided: a word that moved on means
        // it was decided, long since; taken, as far as can be told.
        if (slot_at(position).word.load(std::memory_order_acquire) != ready) return false;
        if (TakeWord::decides(seen, lap)) return TakeWord::undelivered(seen);
        if (take_word.compare_exchange_strong(seen, TakeWord::make(TakeState::withdrawn, {}, lap),
                                              std::memory_order_acq_rel, std::memory_order_relaxed)) {
            return true;
        }
    }
}

[[gnu::always_inline]] inline bool QueueRing::publish_checked(const void* data, std::size_t size,
                                                              std::uint64_t position, OwnerStamp me) {
    publish(data, size, position);
    crash_point("queue_published");
    return holds_record(me) || !withdraw(position);
}

// The single-message path is written out rather than routed through the
// batch path: it is the common call, and the batch bookkeeping costs more
// than the work itself for one small message.
Status QueueRing::try_send(const void* data, std::size_t size, OwnerStamp me) {
    if (is_quarantined()) return Status::queue_quarantined;
    if (is_retired()) return Status::queue_removed;
    if (size > geometry_.max_message_size) return Status::message_too_large;
    if (size > 0 && data == nullptr) return Status::invalid_argument;
    if (geometry_.single_producer()) {
        const Status held = hold_lease(control_->producer_lease, me);
        if (held != Status::ok) return held;
    }
    std::uint64_t position = 0;
    const Status claimed = claim(me, position);
    if (claimed != Status::ok) {
        if (claimed == Status::queue_full && geometry_.overflow == layout::overflow_reject) {
            control_->rejected.fetch_add(1, std::memory_order_relaxed);
        }
        return claimed;
    }
    if (!publish_checked(data, size, position, me)) return Status::client_reclaimed;
    wake_consumers(1);
    return Status::ok;
}

std::size_t QueueRing::try_send_batch(const OutgoingMessage* messages, std::size_t count, OwnerStamp me,
                                      Handoff handoff, Status& status) {
    if (is_quarantined()) {
        status = Status::queue_quarantined;
        return 0;
    }
    if (is_retired()) {
        status = Status::queue_removed;
        return 0;
    }
    for (std::size_t i = 0; i < count; ++i) {
        if (messages[i].size > geometry_.max_message_size) {
            // Nothing of the batch is sent: the caller learns of the bad message first.
            status = Status::message_too_large;
            return 0;
        }
        if (messages[i].size > 0 && messages[i].data == nullptr) {
            status = Status::invalid_argument;
            return 0;
        }
    }
    if (geometry_.single_producer()) {
        status = hold_lease(control_->producer_lease, me);
        if (status != Status::ok) return 0;
    }
    std::size_t sent = 0;
    for (;;) {
        sent += send_chunk(messages + sent, count - sent, me, handoff, status);
        if (status != Status::ok || sent >= count) return sent;
        if (is_quarantined()) {
            status = Status::queue_quarantined;
            return sent;
        }
    }
}

std::size_t QueueRing::send_chunk(const OutgoingMessage* messages, std::size_t count, OwnerStamp me,
                                  Handoff handoff, Status& status) {
    // Claims first, copies after: consecutive claims of one producer usually
    // land on consecutive positions, so a consumer takes them in one run.
    std::uint64_t positions[batch_chunk];
    std::size_t claimed = 0;
    status = Status::ok;
    const std::size_t want = count < batch_chunk ? count : batch_chunk;
    while (claimed < want) {
        std::uint64_t first = 0;
        std::size_t run = 0;
        const Status claim_status = claim_run(me, want - claimed, first, run);
        if (claim_status != Status::ok) {
            status = claim_status;
            break;
        }
        for (std::size_t i = 0; i < run; ++i) positions[claimed + i] = first + i;
        claimed += run;
    }
    if (handoff == Handoff::grouped) {
        publish_grouped(messages, positions, claimed);
    } else {
        publish_eagerly(messages, positions, claimed);
    }
    if (status == Status::queue_full && geometry_.overflow == layout::overflow_reject) {
        control_->rejected.fetch_add(count - claimed, std::memory_order_relaxed);
    }
    if (claimed > 0) crash_point("queue_published");
    if (claimed == 0 || holds_record(me)) return claimed;
    // Reaped meanwhile (withdraw): consumers take in position order, so what
    // they took already is a prefix; the rest is taken back, last first.
    status = Status::client_reclaimed;
    while (claimed > 0 && withdraw(positions[claimed - 1])) --claimed;
    return claimed;
}

// Handoff::eager: each message marked ready right after its copy. Wakes a
// sleeping consumer as soon as the first is in, so that it starts while the
// rest of the batch is copied instead of after.
void QueueRing::publish_eagerly(const OutgoingMessage* messages, const std::uint64_t* positions,
                                std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
        publish(messages[i].data, messages[i].size, positions[i]);
        if (i == 0) wake_consumers(1);
    }
    if (count > 1) wake_consumers(static_cast<int>(count - 1));
}

// Handoff::grouped: up to publish_group_bytes of payload copied in, then
// marked ready in position order [queue_group_copied between the two].
void QueueRing::publish_grouped(const OutgoingMessage* messages, const std::uint64_t* positions,
                                std::size_t count) {
    std::size_t published = 0;
    while (published < count) {
        const std::size_t first = published;
        std::size_t end = published, bytes = 0;
        do {
            copy_in(messages[end].data, messages[end].size, slot_at(positions[end]), positions[end]);
            bytes += messages[end].size;
            ++end;
        } while (end < count && bytes < publish_group_bytes);
        crash_point("queue_group_copied");
        for (; published < end; ++published) mark_ready(slot_at(positions[published]), positions[published]);
        wake_consumers(static_cast<int>(published - first));
    }
}

// ---------------------------------------------------------------------------
// Consumers

// at_least_once: hand out a delivery that failed before (its consumer died or
// its ack timed out), oldest slot index first. Exhausted ones (max_deliveries
// reached) are left for the broker to dead-letter.
Status QueueRing::take_redelivery(OwnerStamp me, std::size_t capacity, Taken& taken) {
    for (std::uint64_t index = 0; index < geometry_.capacity; ++index) {
        auto& slot = slot_at(index);
        auto deadline = slot.ack_deadline_ns.load(std::memory_order_acquire);  // before the word: see stop_ack_clock
        auto word = slot.word.load(std::memory_order_acquire);
        // The delivery number lives in the word's tag, so it changes with the
        // state in one atomic step: nobody can see one without the other.
        const std::uint32_t deliveries = SlotWord::tag(word);
        if (SlotWord::state(word) != SlotState::redeliver || deliveries >= geometry_.max_deliveries) continue;
        const std::uint32_t length = slot.length.load(std::memory_order_relaxed);
        if (length > geometry_.max_message_size) return quarantine(layout::QuarantineReason::damaged_slot);
        if (length > capacity) return Status::buffer_too_small;
        if (!stop_ack_clock(slot, deadline)) continue;  // another consumer is taking it
        const auto delivery = static_cast<std::uint16_t>(deliveries + 1);
        if (!slot.word.compare_exchange_strong(word, SlotWord::make(SlotState::in_flight, me, delivery),
                                               std::memory_order_acq_rel)) {
            continue;  // another consumer, or the broker to dead-letter it
        }
        crash_point("queue_redelivery_taken");
        // Held by us, the slot keeps tail within (position, position + capacity].
        std::uint64_t position = 0;
        if (!position_below(index, control_->tail.load(std::memory_order_acquire), position)) {
            return quarantine(layout::QuarantineReason::damaged_slot);
        }
        control_->redeliver_pending.fetch_sub(1, std::memory_order_relaxed);
        control_->redelivered.fetch_add(1, std::memory_order_relaxed);
        taken = Taken{position, length, delivery};
        return Status::ok;
    }
    // Nothing to redeliver after all: clear the hint so waiting consumers
    // sleep. An increment racing with this store is restored by the broker's
    // recount at its next tick.
    control_->redeliver_pending.store(0, std::memory_order_relaxed);
    return Status::empty;
}

[[gnu::always_inline]] inline Status QueueRing::take(OwnerStamp me, void* buffer, std::size_t capacity, Look look, Taken& taken) {
    const bool at_least_once = geometry_.delivery == layout::delivery_at_least_once;
    if (at_least_once && control_->redeliver_pending.load(std::memory_order_relaxed) != 0) {
        const Status redelivery = take_redelivery(me, capacity, taken);
        if (redelivery != Status::empty) return redelivery;
    }
    for (;;) {
        const auto head = control_->head.load(std::memory_order_acquire);
        const auto index = index_of(head);
        auto& slot = slot_at_index(index);
        auto& take_word = take_words_[index];
        // at_least_once: read before the word (see stop_ack_clock).
        const auto deadline = at_least_once ? slot.ack_deadline_ns.load(std::memory_order_acquire) : 0;
        const auto seen = take_word.load(std::memory_order_acquire);  // before the slot's word (decide())
        crash_point("queue_take_word_read");
        const auto word = slot.word.load(std::memory_order_acquire);
        const auto lap = lap_of(head);
        if (word != SlotWord::at_lap(SlotState::ready, lap) || TakeWord::decides(seen, lap)) {
            // Nothing published at head yet: empty, at a quick look (Look).
            if (look == Look::quick && vacant_for(word, lap) && !empty_check_.due()) return Status::empty;
            Status status = Status::ok;
            if (look_at_head(head, status) == Next::stop) return status;
            continue;
        }
        // Read before the message is ours: its value counts only if the
        // decision below is ours (no ABA: a later length is written only
        // after this lap's message was decided).
        const std::uint32_t length = slot.length.load(std::memory_order_relaxed);
        if (length > geometry_.max_message_size) {
            Status status = Status::ok;
            if (quarantine_if_still(control_->head, head, slot, word, layout::QuarantineReason::damaged_slot,
                                    status) == Next::stop) {
                return status;
            }
            continue;
        }
        if (length > capacity) {
            if (take_word.load(std::memory_order_acquire) == seen) return Status::buffer_too_small;
            continue;
        }
        if (!at_least_once && length <= copy_first_limit) {
            // Copy, then take: the copy counts only if the decision is ours,
            // and nothing is written to the slot, the line its producer wrote.
            copy_out(slot, buffer, length);
            crash_point("queue_copied_out");
            // False: another consumer took it, or drop_oldest dropped it.
            if (!decide(take_word, seen, TakeWord::make(TakeState::taken, {}, lap))) continue;
            crash_point("queue_taken");
            move_head_past_take(head);
            crash_point("queue_head_moved");
            taken = Taken{head, length, 0, true};
            return Status::ok;
        }
        // This take writes the slot's word (mark_held), the line its
        // producer wrote, which the reads above brought in shared: asking
        // for it owned now lets that transfer run under the decision's
        // locked instruction, rather than stall the move of head that must
        // follow the mark (at_least_once 64 B: 0.54-0.60x the limit ring
        // against 0.52-0.57x, alternated; docs/benchmarks.md).
        prefetch_for_write(&slot.word);
        std::uint16_t delivery = 0;
        std::uint64_t holding = SlotWord::make(SlotState::reading, me, SlotWord::lap_tag(lap));
        if (at_least_once) {
            if (!stop_ack_clock(slot, deadline)) continue;  // another consumer is taking it
            delivery = 1;
            holding = SlotWord::make(SlotState::in_flight, me, delivery);
        }
        if (!decide(take_word, seen, TakeWord::make(TakeState::holding, me, lap))) continue;
        crash_point("queue_take_decided");
        mark_held(slot, holding);
        crash_point("queue_taken");
        move_head_past_take(head);
        crash_point("queue_head_moved");
        taken = Taken{head, length, delivery};
        return Status::ok;
    }
}

// A holding decision is marked in the slot's word before head moves past it,
// so that the producer coming round finds the slot held (vacated()). A
// store: the decision made the message this consumer's, and nobody else
// writes a slot's word while it holds a decided message (the broker undoes
// the decision of a dead consumer only while the word still reads ready).
[[gnu::always_inline]] inline void QueueRing::mark_held(layout::SlotHeader& slot, std::uint64_t holding) {
    slot.word.store(holding, std::memory_order_release);
}

// What a consumer does with a position at `head` that holds no undecided
// ready message for head's lap. Tail is read before the take word, and the
// take word before the slot's word: with tail past head, position head was
// claimed before that read, so the words speak of position head or, head
// having moved meanwhile, a later one.
QueueRing::Next QueueRing::look_at_head(std::uint64_t head, Status& status) {
    const auto index = index_of(head);
    auto& slot = slot_at_index(index);
    auto& take_word = take_words_[index];
    const auto tail = control_->tail.load(std::memory_order_acquire);
    const auto seen = take_word.load(std::memory_order_acquire);
    const auto word = slot.word.load(std::memory_order_acquire);
    if (control_->head.load(std::memory_order_acquire) != head) return Next::retry;
    if (!SlotWord::well_formed(word) || !TakeWord::well_formed(seen)) {
        return quarantine_if_still(control_->head, head, slot, word, layout::QuarantineReason::damaged_slot,
                                   status);
    }
    if (tail <= head) {
        status = Status::empty;  // nothing claimed at head yet
        return Next::stop;
    }
    // Helping head along must end: tail never runs more than capacity ahead.
    if (tail - head > geometry_.capacity) {
        return quarantine_if_still(control_->head, head, slot, word, layout::QuarantineReason::inconsistent_counters, status);
    }
    // Claimed at head, its producer still copying it in.
    if (claim_in_flight(head, word)) {
        status = Status::empty;
        return Next::stop;
    }
    const auto lap = lap_of(head);
    const auto state = SlotWord::state(word);
    switch (state) {
    case SlotState::ready:
        if (SlotWord::lap(word) != lap) break;
        if (!TakeWord::decides(seen, lap)) return Next::retry;  // a message to take
        if (TakeWord::finishes(seen, lap)) {
            help_head_past(head);  // decided by a consumer that has not moved head yet
            return Next::retry;
        }
        // Decided by a consumer that has not marked the slot yet: it does so
        // at once, or died, and the broker undoes its decision.
        status = Status::empty;
        return Next::stop;
    case SlotState::writing:
        break;  // no step of the protocol leaves that in a queue's slot
    case SlotState::abandoned:
        // Its producer died mid-write: skip it, then move head (whoever
        // comes next does, if we die first).
        if (SlotWord::lap(word) != lap) break;
        if (!TakeWord::decides(seen, lap) && !decide(take_word, seen, TakeWord::make(TakeState::skipped, {}, lap))) {
            return Next::retry;
        }
        crash_point("queue_skipped");
        help_head_past(head);
        control_->not_full.notify(1);
        return Next::retry;
    case SlotState::reading:
    case SlotState::in_flight:
    case SlotState::redeliver:
        // Taken at head by a consumer that has not moved head yet.
        help_head_past(head);
        return Next::retry;
    case SlotState::free:
        // Finished (read or acknowledged) before head moved.
        if (SlotWord::lap(word) == lap + 1) {
            help_head_past(head);
            return Next::retry;
        }
        break;
    }
    return quarantine_if_still(control_->head, head, slot, word, layout::QuarantineReason::damaged_slot,
                               status);
}

// at_least_once. A delivery's ack deadline runs from the end of its copy,
// not from its take: were it to expire while its consumer still copied, it
// could be redelivered, acknowledged by another consumer and its slot
// refilled under that copy, which would then return a torn message. So a
// take first swaps the deadline it read (before the word) for
// ack_clock_not_started, which the broker never expires, and only then takes
// the word. A compare-and-swap, not a store: a consumer that read the slot
// ready and then stalled must not overwrite the deadline of the delivery
// another consumer took and started meanwhile. That value was stored
// (release) after the taker's compare-and-swap of the word, by the taker
// (ack_clock_copied) or by the broker that read the taker's value first
// (acq_rel), so a consumer that read it reads the word as taken and does
// not get here; one that read an earlier value fails here. False when the
// value changed since `read`.
// A publish leaves the clock stopped, so a first delivery usually reads it
// so and has nothing to swap (one locked instruction fewer a take): no other
// consumer can have started it, since only the one whose compare-and-swap
// takes the word starts it, and the word cannot be ready for this lap again.
bool QueueRing::stop_ack_clock(layout::SlotHeader& slot, std::uint64_t read) {
    if (read == layout::ack_clock_not_started) return true;
    return slot.ack_deadline_ns.compare_exchange_strong(read, layout::ack_clock_not_started,
                                                        std::memory_order_acq_rel, std::memory_order_relaxed);
}

// at_least_once, once the messages are copied out: their ack clocks may
// start, which the broker does at its next look
// (start_ack_clocks_and_find_overdue).
// The consumer reads no clock: on a virtual machine's clock source a read
// cost as much as the rest of a receive (docs/benchmarks.md).
void QueueRing::start_ack_clock(const Taken* taken, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
        slot_at(taken[i].position)
            .ack_deadline_ns.store(layout::ack_clock_copied(taken[i].position, taken[i].delivery),
                                   std::memory_order_release);
    }
    crash_point("queue_ack_clock_started");
}

void QueueRing::copy_out_taken(const Taken& taken, void* buffer, OwnerStamp me) {
    auto& slot = slot_at(taken.position);
    if (taken.length > 0) copy_payload(buffer, payload_of(slot), taken.length);
    if (geometry_.delivery == layout::delivery_at_least_once) return;  // freed by acknowledge()
    crash_point("queue_read");
    const auto lap = lap_of(taken.position);
    auto expected = SlotWord::make(SlotState::reading, me, SlotWord::lap_tag(lap));
    // A compare-and-swap rather than a store: should the broker ever have
    // reclaimed this slot, it is no longer ours to free.
    // seq_cst for the wake-up that follows (WaitEvent::notify_after_seq_cst).
    slot.word.compare_exchange_strong(expected, SlotWord::at_lap(SlotState::free, lap + 1),
                                      std::memory_order_seq_cst, std::memory_order_relaxed);
}

Status QueueRing::try_receive(void* buffer, std::size_t capacity, std::size_t& size, std::uint64_t& delivery,
                              OwnerStamp me, Look look) {
    size = 0;
    if (is_quarantined()) return Status::queue_quarantined;
    if (geometry_.single_consumer()) {
        const Status held = hold_lease(control_->consumer_lease, me);
        if (held != Status::ok) return held;
    }
    Taken taken;
    const Status took = take(me, buffer, capacity, look, taken);
    if (took == Status::empty && drained_after_retirement()) return Status::queue_removed;
    if (took != Status::ok) return took;
    delivery = token_of(taken);
    if (!taken.copied) copy_out_taken(taken, buffer, me);
    size = taken.length;
    if (geometry_.delivery == layout::delivery_at_least_once) {
        start_ack_clock(&taken, 1);
    } else {
        // The take's move of head (or copy_out_taken()'s seq_cst swap)
        // freed the slot.
        wake_producers(1);
    }
    return Status::ok;
}

std::size_t QueueRing::try_receive_batch(IncomingMessage* messages, std::size_t count, OwnerStamp me, Look look,
                                         Status& status) {
    if (geometry_.single_consumer()) {
        status = hold_lease(control_->consumer_lease, me);
        if (status != Status::ok) return 0;
    }
    std::size_t received = 0;
    for (;;) {
        if (is_quarantined()) {
            status = Status::queue_quarantined;
            return received;
        }
        Status chunk = Status::ok;
        const std::size_t taken = receive_chunk(messages + received, count - received, me, look, chunk);
        if (received == 0 && chunk == Status::empty && drained_after_retirement()) chunk = Status::queue_removed;
        // A later chunk that finds the queue empty leaves the batch a success.
        if (received == 0 || chunk != Status::empty) status = chunk;
        received += taken;
        if (chunk != Status::ok || taken < batch_chunk || received >= count) return received;
    }
}

// A batch takes a run at_most_once: the message at head as take() does, then
// the ready ones after it, and moves head past them all at once. Per message
// that saves the move of head, one of the consumer's three locked
// instructions (docs/crash-safety.md, "Taking a run"). at_least_once takes
// one by one: each take stops its slot's ack clock first.
std::size_t QueueRing::take_run(OwnerStamp me, const IncomingMessage* messages, std::size_t want, Look look,
                                Taken* takes, Status& status) {
    status = take(me, messages[0].buffer, messages[0].capacity, look, takes[0]);
    if (status != Status::ok) return 0;
    std::size_t count = 1;
    if (geometry_.delivery == layout::delivery_at_least_once) return count;
    const auto first = takes[0].position;
    // Read once: a slot ready for its lap below tail was published there, so
    // the run never takes a word scribbled beyond tail.
    const auto tail = control_->tail.load(std::memory_order_acquire);
    while (count < want && first + count < tail &&
           take_past_head(me, first + count, messages[count].buffer, messages[count].capacity, takes[count])) {
        ++count;
    }
    if (count > 1) {
        crash_point("queue_run_taken");
        move_head_past_run(first, first + count);
    }
    return count;
}

// Takes `position`, beyond head, only if it holds a ready message for its lap
// that fits; anything else ends the run, and the next take goes through
// take(), which judges it at head.
[[gnu::always_inline]] inline bool QueueRing::take_past_head(OwnerStamp me, std::uint64_t position, void* buffer,
                                                              std::size_t capacity, Taken& taken) {
    const auto index = index_of(position);
    auto& slot = slot_at_index(index);
    auto& take_word = take_words_[index];
    const auto lap = lap_of(position);
    const auto seen = take_word.load(std::memory_order_acquire);  // before the slot's word (decide())
    const auto word = slot.word.load(std::memory_order_acquire);
    if (word != SlotWord::at_lap(SlotState::ready, lap) || TakeWord::decides(seen, lap)) return false;
    // Read before the message is ours, and valid only if the decision is
    // ours (as in take()).
    const std::uint32_t length = slot.length.load(std::memory_order_relaxed);
    if (length > geometry_.max_message_size || length > capacity) return false;
    if (length <= copy_first_limit) {
        copy_out(slot, buffer, length);
        if (!decide(take_word, seen, TakeWord::make(TakeState::taken, {}, lap))) return false;
        taken = Taken{position, length, 0, true};
        return true;
    }
    if (!decide(take_word, seen, TakeWord::make(TakeState::holding, me, lap))) return false;
    crash_point("queue_run_take_decided");
    mark_held(slot, SlotWord::make(SlotState::reading, me, SlotWord::lap_tag(lap)));
    taken = Taken{position, length, 0};
    return true;
}

// Head lies in (first, end] once take() has moved it past `first`, and
// other consumers may have helped it along the run's taken slots. Outside
// that window it was scribbled: it is left for the broker's check.
// seq_cst throughout, as help_head_past.
void QueueRing::move_head_past_run(std::uint64_t first, std::uint64_t end) {
    auto head = control_->head.load(std::memory_order_seq_cst);
    while (head > first && head < end &&
           !control_->head.compare_exchange_weak(head, end, std::memory_order_seq_cst, std::memory_order_seq_cst)) {
    }
}

std::size_t QueueRing::receive_chunk(IncomingMessage* messages, std::size_t count, OwnerStamp me, Look look,
                                     Status& status) {
    Taken takes[batch_chunk];
    std::size_t taken = 0;
    status = Status::ok;
    const std::size_t want = count < batch_chunk ? count : batch_chunk;
    while (taken < want) {
        Status took = Status::ok;
        taken += take_run(me, messages + taken, want - taken, look, takes + taken, took);
        if (took != Status::ok) {
            status = took;
            break;
        }
    }
    for (std::size_t i = 0; i < taken; ++i) {
        messages[i].delivery = token_of(takes[i]);
        if (!takes[i].copied) copy_out_taken(takes[i], messages[i].buffer, me);
        messages[i].size = takes[i].length;
    }
    if (taken > 0) {
        if (geometry_.delivery == layout::delivery_at_least_once) {
            start_ack_clock(takes, taken);
        } else {
            wake_producers(static_cast<int>(taken));  // freed by the moves of head
        }
        // A batch that found messages is a success even if it ran dry.
        if (status == Status::empty) status = Status::ok;
    }
    return taken;
}

Status QueueRing::acknowledge(std::uint64_t delivery, OwnerStamp me) {
    const Status status = free_acknowledged(delivery, me);
    if (status == Status::ok) control_->not_full.notify_after_seq_cst(1);
    return status;
}

std::size_t QueueRing::acknowledge_batch(const std::uint64_t* deliveries, std::size_t count, OwnerStamp me,
                                         Status* results) {
    std::size_t freed = 0;
    for (std::size_t i = 0; i < count; ++i) {
        results[i] = free_acknowledged(deliveries[i], me);
        if (results[i] == Status::ok) ++freed;
    }
    // Each slot was freed by a seq_cst compare-and-swap, as acknowledge()'s.
    // A producer woken by the first of them would otherwise run while the
    // rest are freed one wake-up each.
    if (freed > 0) control_->not_full.notify_after_seq_cst(static_cast<int>(std::min<std::size_t>(freed, INT_MAX)));
    return freed;
}

Status QueueRing::free_acknowledged(std::uint64_t delivery, OwnerStamp me) {
    const auto index = DeliveryToken::index(delivery);
    if (index >= geometry_.capacity) return Status::not_acknowledgeable;
    auto& slot = slot_at(index);
    // The position the slot records (its claim wrote it before the publish
    // this consumer's take acquired), not one worked out from tail: tail is
    // the producers' cache line, and reading it at every acknowledgement
    // moved it between the CPUs twice a message (here, and back at the next
    // claim). Read once, and used only when it is this slot's and matches
    // the token's bits; should the word not be in_flight(me) for this
    // delivery, the compare-and-swap below fails whatever this says. A
    // scribbled position of the right slot and low bits can only make it
    // free the slot for a wrong lap, which the next claim there finds and
    // quarantines: no worse than scribbling the word itself.
    const auto position = slot.position.load(std::memory_order_relaxed);
    if (index_of(position) != index || (position & 0xFF'FFFF) != DeliveryToken::position_bits(delivery)) {
        return Status::not_acknowledgeable;
    }
    auto expected = SlotWord::make(SlotState::in_flight, me, DeliveryToken::delivery(delivery));
    if (!slot.word.compare_exchange_strong(expected, SlotWord::at_lap(SlotState::free, lap_of(position) + 1),
                                           std::memory_order_seq_cst, std::memory_order_relaxed)) {
        return Status::not_acknowledgeable;
    }
    return Status::ok;
}

Status QueueRing::delivery_position(std::uint64_t delivery, OwnerStamp me, std::uint64_t& position) const {
    const auto index = DeliveryToken::index(delivery);
    if (index >= geometry_.capacity) return Status::not_acknowledgeable;
    const auto& slot = slot_at(index);
    const auto held = SlotWord::make(SlotState::in_flight, me, DeliveryToken::delivery(delivery));
    // Only its holder frees an in_flight slot, so while the word reads the
    // same before and after, tail lies in (position, position + capacity].
    if (slot.word.load(std::memory_order_acquire) != held) return Status::not_acknowledgeable;
    std::uint64_t found = 0;
    if (!position_below(index, control_->tail.load(std::memory_order_acquire), found) ||
        (found & 0xFF'FFFF) != DeliveryToken::position_bits(delivery) ||
        slot.word.load(std::memory_order_acquire) != held) {
        return Status::not_acknowledgeable;
    }
    position = found;
    return Status::ok;
}

bool QueueRing::may_have_room() const {
    if (is_retired()) return true;  // the next attempt says so
    return may_claim(control_->tail.load(std::memory_order_relaxed), HeadLook::always);
}

// Whether a claim at `position` (tail, or a little past it) would find its
// slot no longer held for the lap before: a look at that slot's word, and
// at head when the word holds the previous lap's message, which is gone
// once head is past it (vacated()).
bool QueueRing::may_claim(std::uint64_t position, HeadLook head_look) const {
    const auto word = slot_at(position).word.load(std::memory_order_acquire);
    const auto lap = lap_of(position);
    // Vacant for the lap before: position - capacity is a claim in flight.
    if (lap > 0 && vacant_for(word, lap - 1)) return false;
    switch (SlotWord::state(word)) {
    case SlotState::free: return true;
    case SlotState::ready:
        if (head_look == HeadLook::unless_marked && SlotWord::lap(word) == lap - 1 && marks_every_take() &&
            geometry_.overflow != layout::overflow_drop_oldest) {
            return false;
        }
        [[fallthrough]];
    case SlotState::abandoned:
        return SlotWord::lap(word) != lap - 1 || geometry_.overflow == layout::overflow_drop_oldest ||
               head_past(position - geometry_.capacity, position);
    case SlotState::reading:
    case SlotState::in_flight:
    case SlotState::redeliver: return false;  // held for the last lap
    default: return true;  // a word a try will judge
    }
}

void QueueRing::peek(std::size_t max_count, std::vector<std::string>& messages) const {
    const auto head = control_->head.load(std::memory_order_acquire);
    const auto tail = control_->tail.load(std::memory_order_acquire);
    // Counters that contradict each other show nothing; the broker's tick
    // quarantines the queue. A window wider than the ring is cut to it.
    if (head > tail) return;
    const auto end = tail - head > geometry_.capacity ? head + geometry_.capacity : tail;
    std::size_t found = 0;
    for (auto position = head; position < end && found < max_count; ++position) {
        auto& slot = slot_at(position);
        const auto& take_word = take_word_at(position);
        const auto lap = lap_of(position);
        // The word names the lap: a slot reused for a later position since
        // has another word, even if it holds a message again.
        const auto ready = SlotWord::at_lap(SlotState::ready, lap);
        const auto seen = take_word.load(std::memory_order_acquire);  // before the slot's word (decide())
        if (slot.word.load(std::memory_order_acquire) != ready || TakeWord::decides(seen, lap)) {
            continue;  // being written, taken, or abandoned
        }
        const std::uint32_t length = slot.length.load(std::memory_order_relaxed);
        if (length > geometry_.max_message_size) continue;
        std::string copy(length, '\0');
        copy_out(slot, copy.data(), length);
        // The payload is overwritten only once the message was decided and
        // its slot claimed again: an unchanged take word after the copy
        // means a whole copy.
        std::atomic_thread_fence(std::memory_order_acquire);
        if (take_word.load(std::memory_order_relaxed) != seen) continue;
        messages.push_back(std::move(copy));
        ++found;
    }
}

bool QueueRing::may_have_room_for(std::uint64_t count) const {
    if (is_retired() || is_quarantined()) return true;  // the next attempt says so
    // The last slot of the run alone. Consumers free slots in head's order
    // (and acknowledge them mostly so), so that slot no longer held means
    // the run most likely is free. Not head: the consumers write it at every
    // message, and a producer polling it would take its cache line from them
    // at each poll; they touch the run's last slot once a lap.
    const auto run = std::clamp<std::uint64_t>(count, 1, geometry_.capacity);
    return may_claim(control_->tail.load(std::memory_order_relaxed) + run - 1, HeadLook::unless_marked);
}

// A waiter's look that finds a message has brought in the line of its slot's
// word, which holds the message's first bytes; the rest of a short message
// is on the next lines, which the take would otherwise ask for only at its
// copy, a hundred-odd instructions later: one miss after the other. Asked
// for now, that second miss overlaps the way to the copy. The length is read
// from shared memory, but it only bounds a hint, clamped to the slot: any
// value is harmless.
void QueueRing::prefetch_message(const layout::SlotHeader& slot) const {
    const std::uint64_t length = std::min({slot.length.load(std::memory_order_relaxed), geometry_.max_message_size,
                                           copy_first_limit});
    const auto* start = reinterpret_cast<const std::byte*>(&slot);
    for (std::uint64_t offset = layout::cache_line; offset < layout::slot_header_size + length;
         offset += layout::cache_line) {
        prefetch_for_read(start + offset);
    }
}

bool QueueRing::may_have_message() const {
    if (control_->redeliver_pending.load(std::memory_order_relaxed) != 0 ||
        control_->quarantined.load(std::memory_order_relaxed) != 0 || drained_after_retirement()) {
        return true;
    }
    // The slot at head alone tells, without reading tail: a slot still
    // vacant for head's lap (vacant_for) means nothing was claimed at head,
    // or a claim still being written (a claim writes the slot only at its
    // publish): nothing to take either way. (Reading tail here would pull the producers'
    // cache line at every poll, and make their next claim miss on it.)
    // Anything else lets a try make progress (take, skip, or move a lagging
    // head).
    const auto head = control_->head.load(std::memory_order_relaxed);
    const auto word = slot_at(head).word.load(std::memory_order_acquire);
    const auto lap = lap_of(head);
    if (vacant_for(word, lap)) return false;
    // Decided by a consumer that has not marked the slot yet (it does so at
    // once, or died and the broker undoes it): a waiter sleeps briefly,
    // since tail is past head (client/queue.cpp), rather than retrying.
    if (word == SlotWord::at_lap(SlotState::ready, lap)) {
        prefetch_message(slot_at(head));
        const auto decision = take_word_at(head).load(std::memory_order_acquire);
        return !(TakeWord::decides(decision, lap) && TakeWord::state(decision) == TakeState::holding);
    }
    return true;
}

bool QueueRing::claim_pending_at_head() const {
    const auto tail = control_->tail.load(std::memory_order_seq_cst);
    return tail > control_->head.load(std::memory_order_relaxed);
}

// ---------------------------------------------------------------------------
// Single producer, single consumer

// The lease names a thread as well as the client, so that two threads of
// one client are refused as two clients are: their plain stores would race.
// Relaxed when it is ours, as it is at every call after the first: the
// compare-and-swap that took it was made by this thread, and a lease taken
// over from another client was freed (detach, broker) only after the
// client's last step, which the acquire of the free word orders before ours.
[[gnu::always_inline]] inline Status QueueRing::hold_lease(std::atomic<std::uint64_t>& lease, OwnerStamp me) {
    const auto mine = layout::lease_of(me.client_index, me.generation, this_thread_token());
    auto held = lease.load(std::memory_order_relaxed);
    if (held == mine) return Status::ok;
    if (held == 0 && lease.compare_exchange_strong(held, mine, std::memory_order_acq_rel, std::memory_order_relaxed)) {
        crash_point("queue_lease_taken");
        return Status::ok;
    }
    return Status::exclusive_held;
}

// Whichever of its threads holds it. The caller's threads are done with
// the queue (a detach).
void QueueRing::release_leases(OwnerStamp me) {
    const auto mine = layout::lease_of(me.client_index, me.generation);
    for (auto* lease : {&control_->producer_lease, &control_->consumer_lease}) {
        auto held = lease->load(std::memory_order_acquire);
        if ((held & layout::lease_client_mask) != mine) continue;
        lease->compare_exchange_strong(held, 0, std::memory_order_acq_rel, std::memory_order_relaxed);
    }
}

// Read once; freed by a compare-and-swap from the word as read, so that a
// lease a client takes in between is left alone.
std::uint32_t QueueRing::release_stale_leases() {
    std::uint32_t released = 0;
    for (auto* lease : {&control_->producer_lease, &control_->consumer_lease}) {
        auto held = lease->load(std::memory_order_acquire);
        if (held == 0) continue;
        const OwnerStamp holder{layout::lease_client_index(held), layout::lease_generation(held)};
        if (!holder.is_none() && holds_record(holder)) continue;
        if (lease->compare_exchange_strong(held, 0, std::memory_order_acq_rel, std::memory_order_relaxed)) ++released;
    }
    return released;
}

// ---------------------------------------------------------------------------
// The broker

void QueueRing::reclaim(OwnerStamp dead_owner, ReclaimCounts& counts) {
    // Lock-free, while the other clients carry on: only a slot stamped with
    // the dead owner changes, by a compare-and-swap from the word as read, and
    // nobody but its owner changes such a word. While it holds the slot, tail
    // cannot pass the slot's position + capacity, so tail names the position.
    for (std::uint64_t index = 0; index < geometry_.capacity; ++index) {
        auto& slot = slot_at(index);
        auto word = slot.word.load(std::memory_order_acquire);
        const auto state = SlotWord::state(word);
        if (!SlotWord::well_formed(word) || !has_owner(state) || !(SlotWord::owner(word) == dead_owner)) continue;
        std::uint64_t replacement = 0;
        if (state == SlotState::reading) {
            std::uint64_t position = 0;
            if (!position_below(index, control_->tail.load(std::memory_order_acquire), position) ||
                SlotWord::lap_tag(lap_of(position)) != SlotWord::tag(word)) {
                continue;
            }
            replacement = SlotWord::at_lap(SlotState::free, lap_of(position) + 1);
        } else {
            // A redelivery keeps its delivery number (the tag) for the next attempt.
            replacement = SlotWord::make(SlotState::redeliver, {}, SlotWord::tag(word));
        }
        if (!slot.word.compare_exchange_strong(word, replacement, std::memory_order_acq_rel)) continue;
        if (state == SlotState::reading) {
            ++counts.lost_reads;
            control_->lost_in_read.fetch_add(1, std::memory_order_relaxed);
        } else {
            ++counts.redeliveries;
            if (SlotWord::tag(word) < geometry_.max_deliveries) {
                control_->redeliver_pending.fetch_add(1, std::memory_order_relaxed);
            }
        }
    }
    release_unmarked_takes(dead_owner, counts);
    abandon_unpublished_claims(dead_owner, counts);
    if (counts.abandoned_writes + counts.redeliveries + counts.undone_takes > 0) control_->not_empty.notify_all();
    if (counts.lost_reads > 0) control_->not_full.notify_all();
}

// A holding decision whose slot still reads ready for the decision's lap was
// never marked: its consumer died before it copied anything, so the message
// is queued again, for another consumer to take (released decides nothing).
// Only a decision naming the dead owner changes, and only its owner would
// have moved it on; once marked, the slot's word is the reclaim's above.
void QueueRing::release_unmarked_takes(OwnerStamp dead_owner, ReclaimCounts& counts) {
    for (std::uint64_t index = 0; index < geometry_.capacity; ++index) {
        auto& take_word = take_words_[index];
        auto seen = take_word.load(std::memory_order_acquire);
        if (TakeWord::state(seen) != TakeState::holding || !(TakeWord::owner(seen) == dead_owner)) continue;
        const auto word = slot_at_index(index).word.load(std::memory_order_acquire);
        const auto lap = SlotWord::lap(word);
        if (SlotWord::state(word) != SlotState::ready || !TakeWord::of_lap(seen, lap)) continue;
        if (take_word.compare_exchange_strong(seen, TakeWord::make(TakeState::released, {}, lap),
                                              std::memory_order_acq_rel, std::memory_order_relaxed)) {
            ++counts.undone_takes;
        }
    }
}

void QueueRing::abandon_unpublished_claims(OwnerStamp dead_owner, ReclaimCounts& counts) {
    if (claims_by_tail()) {
        abandon_single_producer_claims(dead_owner, counts);
    } else {
        abandon_claims_by_word(dead_owner, counts);
    }
}

// A single producer claims by its move of tail alone: the claims it died
// holding are the positions in [head, tail) still vacant for their lap, which
// nobody else leaves so. Only while its lease names the dead client: the
// broker frees a dead holder's lease after this, so no other producer can
// have claimed since.
void QueueRing::abandon_single_producer_claims(OwnerStamp dead_owner, ReclaimCounts& counts) {
    const auto lease = control_->producer_lease.load(std::memory_order_acquire);
    if ((lease & layout::lease_client_mask) != layout::lease_of(dead_owner.client_index, dead_owner.generation)) {
        return;
    }
    const auto tail = control_->tail.load(std::memory_order_acquire);
    const auto head = control_->head.load(std::memory_order_acquire);
    // Scribbled counters are the counters' check's to quarantine.
    if (head > tail || tail - head > geometry_.capacity) return;
    for (auto position = head; position < tail; ++position) abandon_claim(position, counts);
}

// Each claim word names the last claim of its slot, and nobody but a new
// claim of the slot changes it. One naming the dead owner is for one
// position, which its lap tag picks among those the slot may serve: below
// tail (a claim whose publish never came, or, at tail - capacity.. tail, one
// whose tail was not moved yet), or beyond it, in a run whose claimer died
// before it moved tail past the run (queue_run_claimed). Abandoned there
// too, the run's slots are passed like any abandoned claim once tail
// reaches them. A claim long published leaves its slot no longer vacant for
// that lap, so abandon_claim() leaves it alone.
void QueueRing::abandon_claims_by_word(OwnerStamp dead_owner, ReclaimCounts& counts) {
    for (std::uint64_t index = 0; index < geometry_.capacity; ++index) {
        const auto word = claim_words_[index].load(std::memory_order_acquire);
        if (SlotWord::state(word) != SlotState::writing || !(SlotWord::owner(word) == dead_owner)) continue;
        std::uint64_t candidates[3];
        std::size_t count = 0;
        std::uint64_t below = 0;
        if (position_below(index, control_->tail.load(std::memory_order_acquire) + 1, below)) {
            candidates[count++] = below;
            candidates[count++] = below + geometry_.capacity;
            if (below >= geometry_.capacity) candidates[count++] = below - geometry_.capacity;
        } else {
            candidates[count++] = index;  // the first lap, beyond tail
        }
        for (std::size_t i = 0; i < count; ++i) {
            if (!claims_lap(word, lap_of(candidates[i]))) continue;
            abandon_claim(candidates[i], counts);
            break;
        }
    }
}

// Abandoned, consumers skip it; counted, so that enqueued and dequeued stay
// exact. A publish that lands after this (its producer taken for dead while
// it lived) withdraws itself (publish_checked).
void QueueRing::abandon_claim(std::uint64_t position, ReclaimCounts& counts) {
    const auto lap = lap_of(position);
    auto& slot = slot_at(position);
    auto expected = slot.word.load(std::memory_order_acquire);
    if (!vacant_for(expected, lap)) return;  // published (or abandoned) since
    if (slot.word.compare_exchange_strong(expected, SlotWord::at_lap(SlotState::abandoned, lap),
                                          std::memory_order_acq_rel, std::memory_order_relaxed)) {
        ++counts.abandoned_writes;
        control_->abandoned.fetch_add(1, std::memory_order_relaxed);
    }
}

bool QueueRing::claim_in_flight(std::uint64_t position, std::uint64_t word) const {
    return vacant_for(word, lap_of(position)) && may_hold_claims(claimer_of(position));
}

// The reaper abandons a client's claims before it frees its record, and a
// client detaches once its sends have returned: a claimer whose record is
// free or reused, or a stamp naming no record (scribbled), holds no claim.
// Read once; an index outside this process's own count of records names none.
bool QueueRing::may_hold_claims(OwnerStamp claimer) const {
    if (claimer.is_none() || claimer.client_index >= client_count_) return false;
    const auto word = clients_[claimer.client_index].word.load(std::memory_order_acquire);
    const auto state = layout::ClientWord::state(word);
    return (state == layout::ClientState::active || state == layout::ClientState::reclaiming) &&
           layout::ClientWord::generation(word) == (claimer.generation & SlotWord::generation_mask);
}

OwnerStamp QueueRing::claimer_of(std::uint64_t position) const {
    if (claims_by_tail()) {
        const auto lease = control_->producer_lease.load(std::memory_order_acquire);
        return OwnerStamp{layout::lease_client_index(lease), layout::lease_generation(lease)};
    }
    const auto word = claim_word_at(position).load(std::memory_order_acquire);
    return claims_lap(word, lap_of(position)) ? SlotWord::owner(word) : OwnerStamp{};
}

// One pass over the slots, each deadline read once. A copied-out mark gets
// a deadline from a clock read after the mark was read, and the mark was
// stored after the copy: never before the copy ended, at most one tick
// after. The compare-and-swap changes only the delivery the mark names:
// one acknowledged, redelivered or refilled meanwhile left another value.
bool QueueRing::start_ack_clocks_and_find_overdue(std::uint64_t now_ns) {
    bool overdue = false;
    for (std::uint64_t index = 0; index < geometry_.capacity; ++index) {
        auto& slot = slot_at(index);
        if (SlotWord::state(slot.word.load(std::memory_order_acquire)) != SlotState::in_flight) continue;
        auto deadline = slot.ack_deadline_ns.load(std::memory_order_acquire);
        if (layout::is_ack_clock_copied(deadline)) {
            const auto started = monotonic_now_ns() + geometry_.ack_timeout_ms * 1'000'000ull;
            slot.ack_deadline_ns.compare_exchange_strong(deadline, started, std::memory_order_acq_rel,
                                                         std::memory_order_relaxed);
        } else if (deadline <= now_ns) {
            overdue = true;
        }
    }
    return overdue;
}

std::uint64_t QueueRing::expire_deliveries(std::uint64_t now_ns) {
    // A take makes a slot in_flight in one step, whether or not head has
    // moved past it yet: a redeliver at head is passed like any taken slot
    // (look_at_head), so expiring never wedges head.
    if (!start_ack_clocks_and_find_overdue(now_ns)) return 0;
    std::uint64_t expired = 0;
    for (std::uint64_t index = 0; index < geometry_.capacity; ++index) {
        auto& slot = slot_at(index);
        auto word = slot.word.load(std::memory_order_acquire);
        if (SlotWord::state(word) != SlotState::in_flight) continue;
        if (slot.ack_deadline_ns.load(std::memory_order_relaxed) > now_ns) continue;
        const auto deliveries = SlotWord::tag(word);
        if (slot.word.compare_exchange_strong(word, SlotWord::make(SlotState::redeliver, {}, deliveries),
                                              std::memory_order_acq_rel)) {
            ++expired;
            if (deliveries < geometry_.max_deliveries) {
                control_->redeliver_pending.fetch_add(1, std::memory_order_relaxed);
            }
        }
    }
    if (expired > 0) control_->not_empty.notify_all();
    return expired;
}

std::uint64_t QueueRing::retire_exhausted(const DeadLetterTarget& dead_letter, OwnerStamp broker,
                                          std::uint64_t& redeliverable) {
    std::uint64_t retired = 0;
    redeliverable = 0;
    for (std::uint64_t index = 0; index < geometry_.capacity; ++index) {
        auto& slot = slot_at(index);
        const auto word = slot.word.load(std::memory_order_acquire);
        if (SlotWord::state(word) != SlotState::redeliver) continue;
        if (SlotWord::tag(word) < geometry_.max_deliveries) {
            ++redeliverable;
            continue;
        }
        if (retire(slot, index, word, dead_letter, broker)) ++retired;
    }
    if (retired > 0) control_->not_full.notify_all();
    return retired;
}

// The move is a delivery to the dead-letter queue: the slot is in_flight,
// stamped with the broker's own record and keeping its delivery number, until
// the copy is published there. A broker killed at any step leaves it
// in_flight(dead broker), which the next broker's reclaim (or the ack-timeout
// expiry) turns back into an exhausted redeliver that it moves again. So the
// message is always in one of the queues, and a broker killed between
// publishing the copy and freeing the slot leaves it in both (a duplicate in
// the dead-letter queue, documented in guarantees.md). (`reading(broker)`
// here lost it: reclaim frees a dead reader's slot, as at_most_once.)
bool QueueRing::retire(layout::SlotHeader& slot, std::uint64_t index, std::uint64_t word,
                       const DeadLetterTarget& dead_letter, OwnerStamp broker) {
    const auto deliveries = SlotWord::tag(word);
    const auto moving = SlotWord::make(SlotState::in_flight, broker, deliveries);
    if (!slot.word.compare_exchange_strong(word, moving, std::memory_order_acq_rel)) return false;
    crash_point("dead_letter_marked");
    const auto keep = [&] {
        auto expected = moving;
        slot.word.compare_exchange_strong(expected, SlotWord::make(SlotState::redeliver, {}, deliveries),
                                          std::memory_order_release, std::memory_order_relaxed);
        return false;
    };
    const std::uint32_t raw_length = slot.length.load(std::memory_order_relaxed);
    const std::size_t length = raw_length <= geometry_.max_message_size ? raw_length : 0;
    if (auto* target = dead_letter.ring; target != nullptr) {
        std::uint64_t position = 0;
        // The dead-letter queue is full: keep the message and retry next tick.
        if (target->is_quarantined() || target->claim(dead_letter.broker, position) != Status::ok) return keep();
        crash_point("dead_letter_claimed");
        // The broker lost its record in the target segment (publish_checked):
        // the copy is taken back and the original kept.
        if (!target->publish_checked(payload_of(slot), length, position, dead_letter.broker)) return keep();
        target->control_->not_empty.notify(1);
        crash_point("dead_letter_published");
    }
    std::uint64_t position = 0;
    if (!position_below(index, control_->tail.load(std::memory_order_acquire), position)) return keep();
    auto expected = moving;
    slot.word.compare_exchange_strong(expected, SlotWord::at_lap(SlotState::free, lap_of(position) + 1),
                                      std::memory_order_release, std::memory_order_relaxed);
    control_->dead_lettered.fetch_add(1, std::memory_order_relaxed);
    return true;
}

void QueueRing::reset_synchronisation() {
    new (&control_->not_empty) WaitEvent();
    new (&control_->not_full) WaitEvent();
}

std::string QueueRing::describe_damage() const {
    const auto head = control_->head.load(std::memory_order_acquire);
    const auto tail = control_->tail.load(std::memory_order_acquire);
    if (head > tail || tail - head > geometry_.capacity) {
        return "head " + std::to_string(head) + " and tail " + std::to_string(tail) + " are inconsistent";
    }
    const auto& at_head = slot_at(head);
    const auto head_word = at_head.word.load(std::memory_order_acquire);
    const auto slot_name = "slot " + std::to_string(index_of(head)) + " (at head, position " + std::to_string(head) + ")";
    if (!SlotWord::well_formed(head_word)) return slot_name + " has a malformed state word " + hex_word(head_word);
    if (head < tail) {
        // Ready or abandoned for head's lap is right whether or not it was
        // decided (a consumer that has not moved head yet).
        const auto state = SlotWord::state(head_word);
        const auto lap = lap_of(head);
        const bool queued = claim_in_flight(head, head_word) ||
                            ((state == SlotState::ready || state == SlotState::abandoned) &&
                             SlotWord::lap(head_word) == lap);
        if (!queued && !has_owner(state) && state != SlotState::redeliver &&
            !(state == SlotState::free && SlotWord::lap(head_word) == lap + 1)) {
            return slot_name + " is " + state_name(state) + " (word " + hex_word(head_word) + ") though tail " +
                   std::to_string(tail) + " says a message is queued there";
        }
    }
    for (std::uint64_t index = 0; index < geometry_.capacity; ++index) {
        const auto& slot = slot_at(index);
        const auto word = slot.word.load(std::memory_order_acquire);
        if (!SlotWord::well_formed(word)) return "slot " + std::to_string(index) + " has a malformed state word " + hex_word(word);
        const std::uint32_t length = slot.length.load(std::memory_order_relaxed);
        if (SlotWord::state(word) == SlotState::ready && length > geometry_.max_message_size) {
            return "slot " + std::to_string(index) + " holds " + std::to_string(length) +
                   " bytes, more than max_message_size";
        }
    }
    return "no damage visible any more; a client found it inconsistent";
}

bool QueueRing::check_counters() {
    // head, then tail, then head again: both only grow, so a sound queue has
    // first_head <= tail (head never passes tail) and tail - second_head <=
    // capacity (the depth at any instant is at most capacity).
    const auto first_head = control_->head.load(std::memory_order_acquire);
    const auto tail = control_->tail.load(std::memory_order_acquire);
    const auto second_head = control_->head.load(std::memory_order_acquire);
    if (first_head <= tail && (tail <= second_head || tail - second_head <= geometry_.capacity)) return true;
    quarantine(layout::QuarantineReason::inconsistent_counters);
    return false;
}

void QueueRing::verify(std::string& problem) {
    // No lock stops the clients, so the ring is judged on a snapshot that
    // head and tail did not move across; a few tries, then it is left to
    // the checks the clients and the broker's ticks make anyway.
    for (int attempt = 0; attempt < 16; ++attempt) {
        problem.clear();
        const auto head = control_->head.load(std::memory_order_acquire);
        const auto tail = control_->tail.load(std::memory_order_acquire);
        if (head > tail) {
            problem = "head is past tail";
        } else if (tail - head > geometry_.capacity) {
            problem = "it holds more messages than its capacity";
        }
        for (std::uint64_t index = 0; problem.empty() && index < geometry_.capacity; ++index) {
            auto& slot = slot_at(index);
            const auto word = slot.word.load(std::memory_order_acquire);
            if (!SlotWord::well_formed(word)) problem = "slot " + std::to_string(index) + " has a malformed state word";
            else if (!TakeWord::well_formed(take_words_[index].load(std::memory_order_acquire))) {
                problem = "slot " + std::to_string(index) + " has a malformed take word";
            }
            else if (SlotWord::state(word) == SlotState::ready && slot.length.load(std::memory_order_relaxed) > geometry_.max_message_size) {
                problem = "slot " + std::to_string(index) + " holds more than max_message_size bytes";
            }
        }
        bool from_head = true;  // every position so far, from head, was passing
        for (auto position = head; problem.empty() && position < tail; ++position) {
            const auto decision = take_word_at(position).load(std::memory_order_acquire);  // before the slot's word
            const auto word = slot_at(position).word.load(std::memory_order_acquire);
            const auto state = SlotWord::state(word);
            const auto lap = lap_of(position);
            const bool published = (state == SlotState::ready || state == SlotState::abandoned) &&
                                   SlotWord::lap(word) == lap;
            const bool decided = published && TakeWord::decides(decision, lap);
            // A withdrawal is decided wherever its producer's position is,
            // and passed by consumers like an abandoned write.
            const bool withdrawn = decided && TakeWord::state(decision) == TakeState::withdrawn;
            const bool queued = claim_in_flight(position, word) || (published && (!decided || withdrawn));
            // From head only: decided or finished, head not moved past yet
            // (a take, or a run of them: "Taking a run").
            const bool passing = from_head && (decided || has_owner(state) || state == SlotState::redeliver ||
                                               (state == SlotState::free && SlotWord::lap(word) == lap + 1));
            from_head = passing && !queued;
            if (!queued && !passing) {
                problem = "the slot queued at position " + std::to_string(position) + " is in an impossible state";
            }
        }
        if (control_->head.load(std::memory_order_acquire) != head ||
            control_->tail.load(std::memory_order_acquire) != tail) {
            continue;  // moved under the look: not a verdict
        }
        if (!problem.empty()) {
            // Only the counters' checks come before the slots'.
            const bool counters = head > tail || tail - head > geometry_.capacity;
            quarantine(counters ? layout::QuarantineReason::inconsistent_counters
                                : layout::QuarantineReason::damaged_slot);
        }
        return;
    }
    problem.clear();
}

}  // namespace shmq
