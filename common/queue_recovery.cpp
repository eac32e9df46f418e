// The recovery of a persistent queue after a power loss (docs/crash-safety.md,
// "After a power loss"). msync writes dirty pages in no particular order and
// a power loss can stop it anywhere, so the file holds pages of different
// ages: a control page newer than the slots it counts, or older, and a
// message whose header page reached the disk without all of its payload
// pages. The slots are the evidence: each records the position it was
// claimed at and its state on the same page (the 32-byte header never
// crosses one), so head and tail are rebuilt from them and the control page's
// counters serve only as a hint.

#include <vector>

#include "common/payload_checksum.hpp"
#include "common/queue_ring.hpp"
#include "common/read_once.hpp"

namespace shmq {

namespace {

enum class Holds : std::uint8_t {
    nothing,    // free, malformed, or a position that is not this slot's
    queued,     // ready or abandoned, and not decided: a message not yet taken
    withdrawn,  // ready, taken back by its producer (QueueRing::withdraw): a
                // hole consumers pass, as an abandoned write
    delivered,  // in_flight or redeliver: taken, not acknowledged
    consumed,   // free (or reading) with a real position, or ready or
                // abandoned and finished by its take word: that message was taken
};

// No queue reaches this many positions; a slot claiming one is not believed
// (the arithmetic on positions below must not wrap).
constexpr std::uint64_t position_limit = 1ull << 62;

// `decision`: the slot's take word. It lies on another page than the slot,
// and may be older or newer: a decision counts only for the lap of the
// position the slot records (a newer one, of a later lap, does not match
// it, and the message is then kept, as when the take word's page is older).
Holds classify(std::uint64_t word, std::uint64_t decision, std::uint64_t position, std::uint64_t index,
               std::uint32_t capacity) {
    if (!SlotWord::well_formed(word) || position >= position_limit || ring_index(position, capacity) != index) {
        return Holds::nothing;
    }
    switch (SlotWord::state(word)) {
    case SlotState::writing: return Holds::nothing;  // no step leaves that in a queue's slot
    case SlotState::ready:
    case SlotState::abandoned:
        if (!TakeWord::finishes(decision, ring_lap(position, capacity))) return Holds::queued;
        return TakeWord::state(decision) == TakeState::withdrawn ? Holds::withdrawn : Holds::consumed;
    case SlotState::in_flight:
    case SlotState::redeliver: return Holds::delivered;
    default: return Holds::consumed;  // free, or reading: an at_most_once read, the message gone
    }
}

}  // namespace

bool QueueRing::intact(const layout::SlotHeader& slot) const {
    const std::uint32_t length = slot.length.load(std::memory_order_relaxed);
    if (length > geometry_.max_message_size) return false;
    if (!geometry_.checksummed) return true;
    const auto* payload = reinterpret_cast<const std::byte*>(&slot) + layout::slot_header_size;
    return payload_checksum(length, payload) == read_once(slot.checksum);
}

PowerLossRecovery QueueRing::recover_after_power_loss() {
    PowerLossRecovery found;
    const std::uint32_t capacity = geometry_.capacity;
    found.head_hint = control_->head.load(std::memory_order_relaxed);
    found.tail_hint = control_->tail.load(std::memory_order_relaxed);
    // The control page agrees with itself (invariant 1): it is one whole
    // page of one instant, so its head says which messages were consumed.
    found.hint_used = found.head_hint <= found.tail_hint && found.tail_hint - found.head_hint <= capacity &&
                      found.tail_hint < position_limit;

    std::vector<Holds> holds(capacity);
    std::vector<std::uint64_t> positions(capacity);
    std::uint64_t slots_tail = 0;
    for (std::uint64_t index = 0; index < capacity; ++index) {
        const auto& slot = slot_at(index);
        positions[index] = slot.position.load(std::memory_order_relaxed);
        holds[index] = classify(slot.word.load(std::memory_order_relaxed),
                                take_words_[index].load(std::memory_order_relaxed), positions[index], index, capacity);
        if (holds[index] != Holds::nothing && positions[index] + 1 > slots_tail) slots_tail = positions[index] + 1;
    }

    // Tail: past every message a slot holds, and past the hint's tail (the
    // positions between were sent, but their slots' pages never reached the
    // disk: they are counted as missing).
    std::uint64_t tail = slots_tail;
    if (found.hint_used && found.tail_hint > tail) tail = found.tail_hint;
    const std::uint64_t floor = tail >= capacity ? tail - capacity : 0;
    // A delivery below `floor` was acknowledged: its slot was claimed again
    // for a later position, a page this image holds an older copy of.
    std::uint64_t lower = floor;
    if (found.hint_used && found.head_hint > lower) lower = found.head_hint;
    for (std::uint64_t index = 0; index < capacity; ++index) {
        if (holds[index] == Holds::delivered && positions[index] >= floor && positions[index] + 1 > lower) {
            lower = positions[index] + 1;  // a delivery is below head
        }
    }
    // Head: the first position at or above `lower` whose slot does not show
    // it consumed (a consumer frees a slot but leaves its position there). A
    // slot that never received its message (its page is older) is a loss,
    // kept in the window as a hole so that it is counted.
    std::uint64_t head = lower;
    while (head < tail && holds[index_of(head)] == Holds::consumed && positions[index_of(head)] == head) ++head;

    std::uint64_t pending = 0;
    for (std::uint64_t index = 0; index < capacity; ++index) {
        auto& slot = slot_at(index);
        const auto word = slot.word.load(std::memory_order_relaxed);
        // The one position of the window [head, tail) this slot serves, if any.
        const std::uint64_t offset = (index + capacity - ring_index(head, capacity)) % capacity;
        const bool in_window = head + offset < tail;
        const std::uint64_t position = head + offset;
        // Queued words carry the lap of their position, free ones the lap of
        // the next position the slot serves, the first at or past tail
        // (SlotWord::at_lap): all are written anew, whatever the image held.
        const auto abandoned = SlotWord::at_lap(SlotState::abandoned, ring_lap(position, capacity));
        const std::uint64_t next = tail + (index + capacity - ring_index(tail, capacity)) % capacity;
        const auto free = SlotWord::at_lap(SlotState::free, ring_lap(next, capacity));
        if (in_window) {
            const bool queued = holds[index] == Holds::queued || holds[index] == Holds::withdrawn;
            if (queued && positions[index] == position) {
                if (SlotWord::state(word) != SlotState::ready || holds[index] == Holds::withdrawn) {
                    slot.word.store(abandoned, std::memory_order_relaxed);
                } else if (intact(slot)) {
                    ++found.kept;
                    slot.word.store(SlotWord::at_lap(SlotState::ready, ring_lap(position, capacity)),
                                    std::memory_order_relaxed);
                } else {
                    ++found.torn;
                    slot.word.store(abandoned, std::memory_order_relaxed);
                }
                continue;
            }
            // A hole: a skipped message consumers pass like an abandoned write.
            ++found.missing;
            slot.position.store(position, std::memory_order_relaxed);
            slot.word.store(abandoned, std::memory_order_relaxed);
            continue;
        }
        if (holds[index] == Holds::delivered && positions[index] >= floor && positions[index] < head) {
            if (intact(slot)) {
                // Unacknowledged: delivered again, keeping its delivery number.
                const auto deliveries = SlotWord::tag(word);
                slot.word.store(SlotWord::make(SlotState::redeliver, {}, deliveries), std::memory_order_relaxed);
                ++found.redeliverable;
                if (deliveries < geometry_.max_deliveries) ++pending;
            } else {
                ++found.torn;
                slot.word.store(free, std::memory_order_relaxed);
            }
            continue;
        }
        if (SlotWord::state(word) != SlotState::free || !SlotWord::well_formed(word)) ++found.discarded;
        slot.word.store(free, std::memory_order_relaxed);
    }
    // The claims of the old boot were all abandoned above (a claim never
    // published is a hole or beyond tail); a word left naming one could make
    // a producer take the rebuilt tail for claimed. Every slot's word was
    // written anew for the window rebuilt, undecided: so are the take words
    // (a decision left of the old boot could match a kept message's lap).
    for (std::uint64_t index = 0; index < capacity; ++index) {
        claim_words_[index].store(0, std::memory_order_relaxed);
        take_words_[index].store(0, std::memory_order_relaxed);
    }
    control_->head.store(head, std::memory_order_relaxed);
    control_->tail.store(tail, std::memory_order_relaxed);
    control_->redeliver_pending.store(pending, std::memory_order_relaxed);
    // Holes are skipped like abandoned writes, and counted with them, so that
    // stats derive the messages enqueued and dequeued as before.
    control_->abandoned.fetch_add(found.torn + found.missing, std::memory_order_relaxed);
    found.head = head;
    found.tail = tail;
    return found;
}

}  // namespace shmq
