#include "common/queue_ring.hpp"

#include <chrono>
#include <cstring>
#include <new>
#include <string>

#include "common/monotonic_clock.hpp"
#include "common/read_once.hpp"

// Each critical section below is a sequence of single-word stores whose every
// prefix is recognisable, so the next owner of a lock whose previous owner was
// killed can finish or undo it (repair_*_side). docs/crash-safety.md lists the
// invariants and the steps.

namespace shmq {

namespace {

constexpr std::uint8_t overflow_reject = 1;       // config::OverflowPolicy::reject
constexpr std::uint8_t overflow_drop_oldest = 2;  // config::OverflowPolicy::drop_oldest
constexpr std::uint8_t delivery_at_least_once = 1;

Status status_of(LockResult result) {
    return result == LockResult::timed_out ? Status::timeout : Status::system_error;
}

}  // namespace

bool QueueRing::lock_producer(RobustLockGuard& guard) {
    if (!guard.owns()) return false;
    if (guard.owner_died()) {
        repair_producer_side();
        control_->producer_lock.mark_consistent();
    }
    return true;
}

bool QueueRing::lock_consumer(RobustLockGuard& guard) {
    if (!guard.owns()) return false;
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
    if (head >= tail) return false;  // the slot at tail is still being read: not ours to drop
    auto& slot = slot_at(head);
    const auto state = SlotWord::state(slot.word.load(std::memory_order_acquire));
    if (state != SlotState::ready && state != SlotState::abandoned) return false;
    control_->head.store(head + 1, std::memory_order_release);
    slot.word.store(SlotWord::make(SlotState::free), std::memory_order_release);
    if (state == SlotState::ready) control_->dropped.fetch_add(1, std::memory_order_relaxed);
    return true;
}

bool QueueRing::publish(const void* data, std::size_t size, layout::SlotHeader& slot, OwnerStamp me) {
    if (size > 0) std::memcpy(payload_of(slot), data, size);
    slot.length = static_cast<std::uint32_t>(size);
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
    Status claim = Status::ok;
    {
        RobustLockGuard guard(control_->producer_lock, lock_deadline);
        if (!lock_producer(guard)) return status_of(guard.result());
        claim = claim_locked(me, position);
        if (claim == Status::queue_full && geometry_.overflow == overflow_drop_oldest &&
            drop_oldest_locked(lock_deadline)) {
            claim = claim_locked(me, position);
        }
    }
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
        if (state != SlotState::abandoned) return Status::empty;
        // A producer died mid-write: skip its slot. Only inside [head, tail).
        if (head >= control_->tail.load(std::memory_order_acquire)) return Status::empty;
        control_->head.store(head + 1, std::memory_order_release);
        slot.word.store(SlotWord::make(SlotState::free), std::memory_order_release);
        control_->not_full.notify(1);
    }
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
    RobustLockGuard producer_guard(control_->producer_lock, lock_deadline);
    if (!lock_producer(producer_guard)) return status_of(producer_guard.result());
    RobustLockGuard consumer_guard(control_->consumer_lock, lock_deadline);
    if (!lock_consumer(consumer_guard)) return status_of(consumer_guard.result());
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

std::uint64_t QueueRing::expire_deliveries(std::uint64_t now_ns) {
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
        auto word = slot.word.load(std::memory_order_acquire);
        if (SlotWord::state(word) != SlotState::redeliver) continue;
        if (SlotWord::tag(word) < geometry_.max_deliveries) {
            ++redeliverable;
            continue;
        }
        // Take it out of the consumers' reach first, then copy, then free: a
        // broker killed in between leaves the slot owned by its dead record,
        // which the next broker hands back for redelivery.
        if (!slot.word.compare_exchange_strong(word, SlotWord::make(SlotState::reading, broker),
                                               std::memory_order_acq_rel)) {
            continue;
        }
        const std::uint32_t raw_length = read_once(slot.length);
        const std::size_t length = raw_length <= geometry_.max_message_size ? raw_length : 0;
        if (dead_letter != nullptr) {
            const Status moved = dead_letter->try_send(payload_of(slot), length, broker, Deadline::after(std::chrono::milliseconds(10)));
            if (moved != Status::ok) {
                // The dead-letter queue is full: keep the message and retry next tick.
                slot.word.store(SlotWord::make(SlotState::redeliver, {}, SlotWord::tag(word)), std::memory_order_release);
                continue;
            }
        }
        slot.word.store(SlotWord::make(SlotState::free), std::memory_order_release);
        control_->dead_lettered.fetch_add(1, std::memory_order_relaxed);
        ++retired;
    }
    if (retired > 0) control_->not_full.notify_all();
    return retired;
}

void QueueRing::reset_synchronisation() {
    new (&control_->producer_lock) RobustMutex();
    new (&control_->consumer_lock) RobustMutex();
    new (&control_->not_empty) WaitEvent();
    new (&control_->not_full) WaitEvent();
    repair_producer_side();
    repair_consumer_side();
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
    RobustLockGuard producer_guard(control_->producer_lock, lock_deadline);
    if (!lock_producer(producer_guard)) return status_of(producer_guard.result());
    RobustLockGuard consumer_guard(control_->consumer_lock, lock_deadline);
    if (!lock_consumer(consumer_guard)) return status_of(consumer_guard.result());
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
