#include "common/queue_ring.hpp"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

#include "common/monotonic_clock.hpp"
#include "common/payload_checksum.hpp"
#include "common/read_once.hpp"
#include "common/test_crash_point.hpp"

// Each critical section below is a sequence of single-word stores whose every
// prefix is recognisable, so the next owner of a lock whose previous owner was
// killed can finish or undo it (repair_*_side). docs/crash-safety.md lists the
// invariants and the steps.

namespace shmq {

namespace {

constexpr std::uint8_t overflow_reject = 1;       // config::OverflowPolicy::reject
constexpr std::uint8_t overflow_drop_oldest = 2;  // config::OverflowPolicy::drop_oldest
constexpr std::uint8_t delivery_at_least_once = 1;

// After lock_producer or lock_consumer failed: a lock that is not a valid
// mutex any more has quarantined the queue by then.
Status status_of(LockResult result) {
    return result == LockResult::timed_out ? Status::timeout : Status::queue_quarantined;
}

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

}  // namespace

// A lock the system refuses to take (EINVAL and the like: its bytes were
// overwritten) would refuse every process forever, and nobody can hold it,
// so nothing it guards can be trusted either: the queue is quarantined.
bool QueueRing::lock_producer(RobustLockGuard& guard) {
    if (!guard.owns()) {
        if (guard.result() == LockResult::error) quarantine("its producer lock is not a valid mutex");
        return false;
    }
    if (guard.owner_died()) {
        repair_producer_side();
        control_->producer_lock.mark_consistent();
    }
    return true;
}

bool QueueRing::lock_consumer(RobustLockGuard& guard) {
    if (!guard.owns()) {
        if (guard.result() == LockResult::error) quarantine("its consumer lock is not a valid mutex");
        return false;
    }
    if (guard.owner_died()) {
        repair_consumer_side();
        control_->consumer_lock.mark_consistent();
    }
    return true;
}

// Claim: [position = t] [word = writing(me)] [tail = t + 1]. A claim cut short
// after the word was written is undone.
void QueueRing::repair_producer_side() {
    const auto tail = control_->tail.load(std::memory_order_acquire);
    auto& slot = slot_at(tail);
    const auto word = slot.word.load(std::memory_order_acquire);
    const auto state = SlotWord::state(word);
    if ((state == SlotState::writing || state == SlotState::abandoned) &&
        slot.position.load(std::memory_order_relaxed) == tail) {
        slot.word.store(SlotWord::make(SlotState::free), std::memory_order_release);
    }
}

// Take: [word = reading|in_flight(me)] [head = h + 1]; cut short: undone.
// Skip or drop: [head = h + 1] [word = free]; cut short: finished.
void QueueRing::repair_consumer_side() {
    const auto head = control_->head.load(std::memory_order_acquire);
    const auto tail = control_->tail.load(std::memory_order_acquire);
    if (head < tail) {
        auto& slot = slot_at(head);
        const auto state = SlotWord::state(slot.word.load(std::memory_order_acquire));
        if ((state == SlotState::reading || state == SlotState::in_flight) &&
            slot.position.load(std::memory_order_relaxed) == head) {
            slot.word.store(SlotWord::make(SlotState::ready), std::memory_order_release);
        }
    }
    if (head > 0) {
        auto& previous = slot_at(head - 1);
        const auto state = SlotWord::state(previous.word.load(std::memory_order_acquire));
        if ((state == SlotState::ready || state == SlotState::abandoned) &&
            previous.position.load(std::memory_order_relaxed) == head - 1) {
            previous.word.store(SlotWord::make(SlotState::free), std::memory_order_release);
            control_->not_full.notify_all();
        }
    }
}

Status QueueRing::quarantine(const char* /*why*/) {
    // The broker logs the reason when it sees the flag (clients have no log).
    control_->quarantined.store(1, std::memory_order_release);
    control_->not_empty.notify_all();
    control_->not_full.notify_all();
    return Status::queue_quarantined;
}

Status QueueRing::claim_locked(OwnerStamp me, std::uint64_t& position) {
    const auto tail = control_->tail.load(std::memory_order_relaxed);
    auto& slot = slot_at(tail);
    const auto word = slot.word.load(std::memory_order_acquire);
    // A word no step of the protocol writes would hold producers forever.
    if (!SlotWord::well_formed(word)) return quarantine("the slot at tail has a malformed state word");
    if (SlotWord::state(word) != SlotState::free) return Status::queue_full;
    slot.position.store(tail, std::memory_order_relaxed);
    slot.word.store(SlotWord::make(SlotState::writing, me), std::memory_order_release);
    control_->tail.store(tail + 1, std::memory_order_release);
    position = tail;
    return Status::ok;
}

bool QueueRing::drop_oldest_locked(const Deadline& lock_deadline) {
    RobustLockGuard guard(control_->consumer_lock, lock_deadline);
    if (!lock_consumer(guard)) return false;
    const auto head = control_->head.load(std::memory_order_relaxed);
    const auto tail = control_->tail.load(std::memory_order_relaxed);
    // Dropping makes room only when the message at head sits in the very slot
    // the claim needs, i.e. the queue holds `capacity` queued messages. With
    // fewer, the slot at tail is held by a delivery or a read in progress:
    // dropping would destroy a message and still leave the claim failing.
    if (tail - head != geometry_.capacity) return false;
    auto& slot = slot_at(head);
    const auto state = SlotWord::state(slot.word.load(std::memory_order_acquire));
    if (state != SlotState::ready && state != SlotState::abandoned) return false;
    control_->head.store(head + 1, std::memory_order_release);
    slot.word.store(SlotWord::make(SlotState::free), std::memory_order_release);
    if (state == SlotState::ready) control_->dropped.fetch_add(1, std::memory_order_relaxed);
    return true;
}

Status QueueRing::claim_one(OwnerStamp me, const Deadline& lock_deadline, std::uint64_t& position) {
    RobustLockGuard guard(control_->producer_lock, lock_deadline);
    if (!lock_producer(guard)) return status_of(guard.result());
    const Status claim = claim_locked(me, position);
    if (claim == Status::queue_full && geometry_.overflow == overflow_drop_oldest && drop_oldest_locked(lock_deadline)) {
        return claim_locked(me, position);
    }
    return claim;
}

bool QueueRing::publish(const void* data, std::size_t size, layout::SlotHeader& slot, OwnerStamp me) {
    if (size > 0) std::memcpy(payload_of(slot), data, size);
    const auto length = static_cast<std::uint32_t>(size);
    slot.length = length;
    // Only persistent segments survive a power loss, so only they pay for it.
    // The length this producer wrote, not a re-read of the shared field.
    if (geometry_.checksummed) slot.checksum = payload_checksum(length, data);
    // Release makes the payload visible to whoever acquires `ready`. A
    // compare-and-swap from the exact word the claim wrote: a producer the
    // broker reaped while alive no longer owns the slot (it was abandoned,
    // and may be free or claimed again by now), and must not mark it ready.
    auto expected = SlotWord::make(SlotState::writing, me);
    return slot.word.compare_exchange_strong(expected, SlotWord::make(SlotState::ready), std::memory_order_release,
                                             std::memory_order_relaxed);
}

// The single-message path is written out rather than routed through the
// batch path: it is the common call, and the batch bookkeeping costs more
// than the work itself for one small message.
Status QueueRing::try_send(const void* data, std::size_t size, OwnerStamp me, const Deadline& lock_deadline) {
    if (is_quarantined()) return Status::queue_quarantined;
    if (size > geometry_.max_message_size) return Status::message_too_large;
    if (size > 0 && data == nullptr) return Status::invalid_argument;
    std::uint64_t position = 0;
    const Status claim = claim_one(me, lock_deadline, position);
    if (claim != Status::ok) {
        if (claim == Status::queue_full && geometry_.overflow == overflow_reject) {
            control_->rejected.fetch_add(1, std::memory_order_relaxed);
        }
        return claim;
    }
    if (!publish(data, size, slot_at(position), me)) return Status::client_reclaimed;
    control_->not_empty.notify(1);
    return Status::ok;
}

std::size_t QueueRing::try_send_batch(const OutgoingMessage* messages, std::size_t count, OwnerStamp me,
                                      const Deadline& lock_deadline, Status& status) {
    if (is_quarantined()) {
        status = Status::queue_quarantined;
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
    // Chunked to bound the time the producer lock is held.
    std::size_t sent = 0;
    for (;;) {
        sent += send_chunk(messages + sent, count - sent, me, lock_deadline, status);
        if (status != Status::ok || sent >= count) return sent;
        if (is_quarantined()) {
            status = Status::queue_quarantined;
            return sent;
        }
    }
}

std::size_t QueueRing::send_chunk(const OutgoingMessage* messages, std::size_t count, OwnerStamp me,
                                  const Deadline& lock_deadline, Status& status) {
    std::uint64_t first = 0;
    std::size_t claimed = 0;
    status = Status::ok;
    {
        RobustLockGuard guard(control_->producer_lock, lock_deadline);
        if (!lock_producer(guard)) {
            status = status_of(guard.result());
            return 0;
        }
        const std::size_t want = count < batch_chunk ? count : batch_chunk;
        while (claimed < want) {
            std::uint64_t position = 0;
            Status claim = claim_locked(me, position);
            if (claim == Status::queue_full && geometry_.overflow == overflow_drop_oldest &&
                drop_oldest_locked(lock_deadline)) {
                claim = claim_locked(me, position);
            }
            if (claim != Status::ok) {
                status = claim;
                break;
            }
            if (claimed == 0) first = position;
            ++claimed;
        }
    }
    for (std::size_t i = 0; i < claimed; ++i) {
        auto& slot = slot_at(first + i);
        if (!publish(messages[i].data, messages[i].size, slot, me)) {
            status = Status::client_reclaimed;
            claimed = i;
            break;
        }
        // Wake a sleeping consumer as soon as the first message is in, so it
        // starts while the rest of the batch is copied instead of after.
        if (i == 0) control_->not_empty.notify(1);
    }
    if (claimed > 1) control_->not_empty.notify(static_cast<int>(claimed - 1));
    if (status == Status::queue_full && geometry_.overflow == overflow_reject) {
        control_->rejected.fetch_add(count - claimed, std::memory_order_relaxed);
    }
    return claimed;
}

// at_least_once: hand out a delivery that failed before (its consumer died or
// its ack timed out), oldest slot index first. Exhausted ones (max_deliveries
// reached) are left for the broker to dead-letter.
Status QueueRing::take_redelivery_locked(OwnerStamp me, std::size_t capacity, Taken& taken,
                                         std::uint64_t& ack_deadline_ns) {
    for (std::uint64_t index = 0; index < geometry_.capacity; ++index) {
        auto& slot = slot_at(index);
        auto word = slot.word.load(std::memory_order_acquire);
        // The delivery number lives in the word's tag, so it changes with the
        // state in one atomic step: nobody can see one without the other.
        const std::uint32_t deliveries = SlotWord::tag(word);
        if (SlotWord::state(word) != SlotState::redeliver || deliveries >= geometry_.max_deliveries) continue;
        const std::uint32_t length = read_once(slot.length);
        const auto position = slot.position.load(std::memory_order_relaxed);
        if (length > geometry_.max_message_size || index_of(position) != index) {
            return quarantine("a redeliverable slot has a wrong length or position");
        }
        if (length > capacity) return Status::buffer_too_small;
        slot.ack_deadline_ns.store(ack_deadline(ack_deadline_ns), std::memory_order_relaxed);
        const auto delivery = static_cast<std::uint16_t>(deliveries + 1);
        if (!slot.word.compare_exchange_strong(word, SlotWord::make(SlotState::in_flight, me, delivery),
                                               std::memory_order_acq_rel)) {
            continue;  // the broker took it to dead-letter it
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

Status QueueRing::take_locked(OwnerStamp me, std::size_t capacity, Taken& taken, std::uint64_t& ack_deadline_ns) {
    if (geometry_.delivery == delivery_at_least_once &&
        control_->redeliver_pending.load(std::memory_order_relaxed) != 0) {
        const Status redelivery = take_redelivery_locked(me, capacity, taken, ack_deadline_ns);
        if (redelivery != Status::empty) return redelivery;
    }
    for (;;) {
        const auto head = control_->head.load(std::memory_order_relaxed);
        auto& slot = slot_at(head);
        const auto word = slot.word.load(std::memory_order_acquire);
        const auto state = SlotWord::state(word);
        if (state == SlotState::ready) {
            const std::uint32_t length = read_once(slot.length);
            if (slot.position.load(std::memory_order_relaxed) != head || length > geometry_.max_message_size) {
                return quarantine("a ready slot at head has a wrong position or length");
            }
            if (length > capacity) return Status::buffer_too_small;
            std::uint16_t delivery = 0;
            if (geometry_.delivery == delivery_at_least_once) {
                delivery = 1;
                slot.ack_deadline_ns.store(ack_deadline(ack_deadline_ns), std::memory_order_relaxed);
                slot.word.store(SlotWord::make(SlotState::in_flight, me, delivery), std::memory_order_release);
            } else {
                slot.word.store(SlotWord::make(SlotState::reading, me), std::memory_order_release);
            }
            control_->head.store(head + 1, std::memory_order_release);
            taken = Taken{head, length, delivery};
            return Status::ok;
        }
        // A producer died mid-write: skip its slot. Only inside [head, tail).
        if (state != SlotState::abandoned || head >= control_->tail.load(std::memory_order_acquire)) {
            return nothing_at_head(head);
        }
        control_->head.store(head + 1, std::memory_order_release);
        slot.word.store(SlotWord::make(SlotState::free), std::memory_order_release);
        control_->not_full.notify(1);
    }
}

// Nothing to take at head. That is normal unless the slot's word is one no
// step of the protocol writes, or tail says a message was queued there: a
// claim stores the word before it advances tail, so with tail past head (read
// first) the slot must be writing, ready or abandoned at position head, every
// other change being held off by the consumer lock. Anything else would make
// every consumer wait forever for a message that cannot come (issue 16, item
// 10): the queue is quarantined instead, and the broker logs what it finds.
Status QueueRing::nothing_at_head(std::uint64_t head) {
    const auto& slot = slot_at(head);
    if (!SlotWord::well_formed(slot.word.load(std::memory_order_acquire))) {
        return quarantine("the slot at head has a malformed state word");
    }
    if (head >= control_->tail.load(std::memory_order_acquire)) return Status::empty;
    const auto state = SlotWord::state(slot.word.load(std::memory_order_acquire));
    const bool queued = state == SlotState::writing || state == SlotState::ready || state == SlotState::abandoned;
    if (queued && slot.position.load(std::memory_order_relaxed) == head) return Status::empty;
    return quarantine("the slot at head holds no message though tail is past it");
}

void QueueRing::deliver(const Taken& taken, void* buffer, std::uint64_t& delivery, OwnerStamp me) {
    auto& slot = slot_at(taken.position);
    if (taken.length > 0) std::memcpy(buffer, payload_of(slot), taken.length);
    delivery = DeliveryToken::make(index_of(taken.position), taken.position, taken.delivery);
    if (geometry_.delivery == delivery_at_least_once) return;  // freed by acknowledge()
    auto expected = SlotWord::make(SlotState::reading, me);
    // A compare-and-swap rather than a store: should the broker ever have
    // reclaimed this slot, it is no longer ours to free.
    slot.word.compare_exchange_strong(expected, SlotWord::make(SlotState::free), std::memory_order_release,
                                      std::memory_order_relaxed);
}

Status QueueRing::try_receive(void* buffer, std::size_t capacity, std::size_t& size, std::uint64_t& delivery,
                              OwnerStamp me, const Deadline& lock_deadline) {
    size = 0;
    if (is_quarantined()) return Status::queue_quarantined;
    Taken taken;
    {
        RobustLockGuard guard(control_->consumer_lock, lock_deadline);
        if (!lock_consumer(guard)) return status_of(guard.result());
        std::uint64_t ack_deadline_ns = 0;
        const Status take = take_locked(me, capacity, taken, ack_deadline_ns);
        if (take != Status::ok) return take;
    }
    deliver(taken, buffer, delivery, me);
    size = taken.length;
    if (geometry_.delivery != delivery_at_least_once) control_->not_full.notify(1);
    return Status::ok;
}

std::size_t QueueRing::try_receive_batch(IncomingMessage* messages, std::size_t count, OwnerStamp me,
                                         const Deadline& lock_deadline, Status& status) {
    // Chunked to bound the time the consumer lock is held.
    std::size_t received = 0;
    for (;;) {
        if (is_quarantined()) {
            status = Status::queue_quarantined;
            return received;
        }
        Status chunk = Status::ok;
        const std::size_t taken = receive_chunk(messages + received, count - received, me, lock_deadline, chunk);
        // A later chunk that finds the queue empty leaves the batch a success.
        if (received == 0 || chunk != Status::empty) status = chunk;
        received += taken;
        if (chunk != Status::ok || taken < batch_chunk || received >= count) return received;
    }
}

std::size_t QueueRing::receive_chunk(IncomingMessage* messages, std::size_t count, OwnerStamp me,
                                     const Deadline& lock_deadline, Status& status) {
    Taken takes[batch_chunk];
    std::size_t taken = 0;
    status = Status::ok;
    {
        RobustLockGuard guard(control_->consumer_lock, lock_deadline);
        if (!lock_consumer(guard)) {
            status = status_of(guard.result());
            return 0;
        }
        const std::size_t want = count < batch_chunk ? count : batch_chunk;
        std::uint64_t ack_deadline_ns = 0;
        while (taken < want) {
            const Status take = take_locked(me, messages[taken].capacity, takes[taken], ack_deadline_ns);
            if (take != Status::ok) {
                status = take;
                break;
            }
            ++taken;
        }
    }
    for (std::size_t i = 0; i < taken; ++i) {
        deliver(takes[i], messages[i].buffer, messages[i].delivery, me);
        messages[i].size = takes[i].length;
    }
    if (taken > 0) {
        if (geometry_.delivery != delivery_at_least_once) control_->not_full.notify(static_cast<int>(taken));
        // A batch that found messages is a success even if it ran dry.
        if (status == Status::empty) status = Status::ok;
    }
    return taken;
}

Status QueueRing::acknowledge(std::uint64_t delivery, OwnerStamp me) {
    const auto index = DeliveryToken::index(delivery);
    if (index >= geometry_.capacity) return Status::not_acknowledgeable;
    auto& slot = slot_at(index);
    if ((slot.position.load(std::memory_order_relaxed) & 0xFF'FFFF) != DeliveryToken::position_bits(delivery)) {
        return Status::not_acknowledgeable;
    }
    auto expected = SlotWord::make(SlotState::in_flight, me, DeliveryToken::delivery(delivery));
    if (!slot.word.compare_exchange_strong(expected, SlotWord::make(SlotState::free), std::memory_order_release,
                                           std::memory_order_relaxed)) {
        return Status::not_acknowledgeable;
    }
    control_->not_full.notify(1);
    return Status::ok;
}

bool QueueRing::may_have_room() const {
    const auto tail = control_->tail.load(std::memory_order_relaxed);
    const auto state = SlotWord::state(slot_at(tail).word.load(std::memory_order_acquire));
    if (state == SlotState::free) return true;
    if (geometry_.overflow != overflow_drop_oldest) return false;
    return state == SlotState::ready || state == SlotState::abandoned;
}

bool QueueRing::may_have_message() const {
    const auto head = control_->head.load(std::memory_order_relaxed);
    const auto state = SlotWord::state(slot_at(head).word.load(std::memory_order_acquire));
    return state == SlotState::ready || state == SlotState::abandoned ||
           control_->redeliver_pending.load(std::memory_order_relaxed) != 0 ||
           control_->quarantined.load(std::memory_order_relaxed) != 0;
}

Status QueueRing::reclaim(OwnerStamp dead_owner, const Deadline& lock_deadline, ReclaimCounts& counts) {
    // Both locks, so that a critical section the dead client was inside is
    // repaired first and every slot it still owns lies where its state says.
    // A lock that is not a valid mutex has quarantined the queue for good:
    // its slots stay as they are for the operator, and the dead client's
    // record may still be freed (a later tenant's stamps carry another
    // generation), or its record would be held forever.
    RobustLockGuard producer_guard(control_->producer_lock, lock_deadline);
    if (!lock_producer(producer_guard)) {
        return producer_guard.result() == LockResult::error ? Status::ok : status_of(producer_guard.result());
    }
    RobustLockGuard consumer_guard(control_->consumer_lock, lock_deadline);
    if (!lock_consumer(consumer_guard)) {
        return consumer_guard.result() == LockResult::error ? Status::ok : status_of(consumer_guard.result());
    }
    for (std::uint64_t index = 0; index < geometry_.capacity; ++index) {
        auto& slot = slot_at(index);
        auto word = slot.word.load(std::memory_order_acquire);
        if (!(SlotWord::owner(word) == dead_owner)) continue;
        SlotState replacement = SlotState::free;
        switch (SlotWord::state(word)) {
        case SlotState::writing: replacement = SlotState::abandoned; break;
        case SlotState::reading: replacement = SlotState::free; break;
        case SlotState::in_flight: replacement = SlotState::redeliver; break;
        default: continue;
        }
        // A redelivery keeps its delivery number (the tag) for the next attempt.
        const auto tag = replacement == SlotState::redeliver ? SlotWord::tag(word) : std::uint16_t{0};
        if (!slot.word.compare_exchange_strong(word, SlotWord::make(replacement, {}, tag), std::memory_order_acq_rel)) {
            continue;
        }
        if (replacement == SlotState::abandoned) {
            ++counts.abandoned_writes;
            control_->abandoned.fetch_add(1, std::memory_order_relaxed);
        } else if (replacement == SlotState::free) {
            ++counts.lost_reads;
            control_->lost_in_read.fetch_add(1, std::memory_order_relaxed);
        } else {
            ++counts.redeliveries;
            if (tag < geometry_.max_deliveries) {
                control_->redeliver_pending.fetch_add(1, std::memory_order_relaxed);
            }
        }
    }
    if (counts.abandoned_writes + counts.redeliveries > 0) control_->not_empty.notify_all();
    if (counts.lost_reads > 0) control_->not_full.notify_all();
    return Status::ok;
}

bool QueueRing::has_overdue_delivery(std::uint64_t now_ns) const {
    for (std::uint64_t index = 0; index < geometry_.capacity; ++index) {
        const auto& slot = slot_at(index);
        if (SlotWord::state(slot.word.load(std::memory_order_acquire)) == SlotState::in_flight &&
            slot.ack_deadline_ns.load(std::memory_order_relaxed) <= now_ns) {
            return true;
        }
    }
    return false;
}

std::uint64_t QueueRing::expire_deliveries(std::uint64_t now_ns, const Deadline& lock_deadline) {
    // The common case, nothing overdue, costs the consumers no lock.
    if (!has_overdue_delivery(now_ns)) return 0;
    // A take stores the slot's word before it advances head. Expired between
    // the two stores, the slot would sit at head as `redeliver`, a state no
    // take passes, and head would never move again. Under the consumer lock no
    // take is half done: a live taker has finished, and a dead one's take is
    // undone by the repair that comes with the lock.
    RobustLockGuard guard(control_->consumer_lock, lock_deadline);
    if (!lock_consumer(guard)) return 0;  // a live consumer holds it: the next tick retries
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

std::uint64_t QueueRing::retire_exhausted(QueueRing* dead_letter, OwnerStamp broker, std::uint64_t& redeliverable) {
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
        if (retire(slot, word, dead_letter, broker)) ++retired;
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
bool QueueRing::retire(layout::SlotHeader& slot, std::uint64_t word, QueueRing* dead_letter, OwnerStamp broker) {
    const auto deliveries = SlotWord::tag(word);
    const auto moving = SlotWord::make(SlotState::in_flight, broker, deliveries);
    if (!slot.word.compare_exchange_strong(word, moving, std::memory_order_acq_rel)) return false;
    crash_point("dead_letter_marked");
    const std::uint32_t raw_length = read_once(slot.length);
    const std::size_t length = raw_length <= geometry_.max_message_size ? raw_length : 0;
    if (dead_letter != nullptr) {
        std::uint64_t position = 0;
        if (dead_letter->is_quarantined() ||
            dead_letter->claim_one(broker, Deadline::after(std::chrono::milliseconds(10)), position) != Status::ok) {
            // The dead-letter queue is full: keep the message and retry next tick.
            auto expected = moving;
            slot.word.compare_exchange_strong(expected, SlotWord::make(SlotState::redeliver, {}, deliveries),
                                              std::memory_order_release, std::memory_order_relaxed);
            return false;
        }
        crash_point("dead_letter_claimed");
        if (!dead_letter->publish(payload_of(slot), length, dead_letter->slot_at(position), broker)) {
            // The copy's slot is no longer the broker's: keep the original.
            auto expected = moving;
            slot.word.compare_exchange_strong(expected, SlotWord::make(SlotState::redeliver, {}, deliveries),
                                              std::memory_order_release, std::memory_order_relaxed);
            return false;
        }
        dead_letter->control_->not_empty.notify(1);
        crash_point("dead_letter_published");
    }
    auto expected = moving;
    slot.word.compare_exchange_strong(expected, SlotWord::make(SlotState::free), std::memory_order_release,
                                      std::memory_order_relaxed);
    control_->dead_lettered.fetch_add(1, std::memory_order_relaxed);
    return true;
}

void QueueRing::reset_synchronisation() {
    new (&control_->producer_lock) RobustMutex();
    new (&control_->consumer_lock) RobustMutex();
    new (&control_->not_empty) WaitEvent();
    new (&control_->not_full) WaitEvent();
    repair_producer_side();
    repair_consumer_side();
}

std::string QueueRing::describe_damage() {
    {
        RobustLockGuard producer_guard(control_->producer_lock, Deadline::after(std::chrono::milliseconds(0)));
        if (!lock_producer(producer_guard) && producer_guard.result() == LockResult::error) {
            return "its producer lock is not a valid mutex (its bytes were overwritten)";
        }
        RobustLockGuard consumer_guard(control_->consumer_lock, Deadline::after(std::chrono::milliseconds(0)));
        if (!lock_consumer(consumer_guard) && consumer_guard.result() == LockResult::error) {
            return "its consumer lock is not a valid mutex (its bytes were overwritten)";
        }
    }
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
        const auto state = SlotWord::state(head_word);
        const auto position = at_head.position.load(std::memory_order_relaxed);
        if (state != SlotState::writing && state != SlotState::ready && state != SlotState::abandoned) {
            return slot_name + " is " + state_name(state) + " though tail " + std::to_string(tail) +
                   " says a message is queued there";
        }
        if (position != head) return slot_name + " records position " + std::to_string(position);
    }
    for (std::uint64_t index = 0; index < geometry_.capacity; ++index) {
        const auto& slot = slot_at(index);
        const auto word = slot.word.load(std::memory_order_acquire);
        if (!SlotWord::well_formed(word)) return "slot " + std::to_string(index) + " has a malformed state word " + hex_word(word);
        const std::uint32_t length = read_once(slot.length);
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
    quarantine("head and tail are inconsistent");
    return false;
}

Status QueueRing::verify(const Deadline& lock_deadline, std::string& problem) {
    // Both locks: head and tail stand still, and a critical section cut short
    // by a death is repaired before it is judged.
    problem.clear();
    RobustLockGuard producer_guard(control_->producer_lock, lock_deadline);
    if (!lock_producer(producer_guard)) {
        if (producer_guard.result() != LockResult::error) return status_of(producer_guard.result());
        problem = "its producer lock is not a valid mutex (its bytes were overwritten)";
        return Status::ok;
    }
    RobustLockGuard consumer_guard(control_->consumer_lock, lock_deadline);
    if (!lock_consumer(consumer_guard)) {
        if (consumer_guard.result() != LockResult::error) return status_of(consumer_guard.result());
        problem = "its consumer lock is not a valid mutex (its bytes were overwritten)";
        return Status::ok;
    }
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
        else if (SlotWord::state(word) == SlotState::ready && slot.length > geometry_.max_message_size) {
            problem = "slot " + std::to_string(index) + " holds more than max_message_size bytes";
        }
    }
    for (auto position = head; problem.empty() && position < tail; ++position) {
        const auto& slot = slot_at(position);
        const auto state = SlotWord::state(slot.word.load(std::memory_order_acquire));
        if (slot.position.load(std::memory_order_relaxed) != position) {
            problem = "the slot queued at position " + std::to_string(position) + " records another position";
        } else if (state != SlotState::writing && state != SlotState::ready && state != SlotState::abandoned) {
            problem = "the slot queued at position " + std::to_string(position) + " is in an impossible state";
        }
    }
    if (!problem.empty()) quarantine(problem.c_str());
    return Status::ok;
}

}  // namespace shmq
