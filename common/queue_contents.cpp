#include "common/queue_contents.hpp"

#include <algorithm>
#include <atomic>
#include <utility>

#include "common/quarantine_reason.hpp"
#include "common/ring_position.hpp"
#include "common/slot_word.hpp"
#include "common/take_word.hpp"

namespace shmq {

namespace {

// The window [head, tail) as read once, or why it cannot be one.
struct Window {
    std::uint64_t head = 0;
    std::uint64_t tail = 0;
};

bool read_window(const QueueRing& ring, Window& window, std::string& damage) {
    window.head = ring.control().head.load(std::memory_order_acquire);
    window.tail = ring.control().tail.load(std::memory_order_acquire);
    if (window.head > window.tail || window.tail - window.head > ring.geometry().capacity) {
        damage = "head " + std::to_string(window.head) + " and tail " + std::to_string(window.tail) +
                 " contradict its capacity " + std::to_string(ring.geometry().capacity);
        return false;
    }
    return true;
}

// Copies the payload of `slot` whose word was read as `word`; false when the
// length is out of bounds (damage) or the word changed during the copy (the
// message was taken or acknowledged meanwhile: `copy` is left empty).
bool copy_payload(const QueueRing& ring, layout::SlotHeader& slot, std::uint64_t word, std::string& copy,
                  std::string& damage, std::uint64_t position) {
    const std::uint32_t length = slot.length.load(std::memory_order_relaxed);
    if (length > ring.geometry().max_message_size) {
        damage = "the message at position " + std::to_string(position) + " claims " + std::to_string(length) +
                 " bytes, more than its max_message_size " + std::to_string(ring.geometry().max_message_size);
        return false;
    }
    copy.assign(reinterpret_cast<const char*>(ring.payload_of(slot)), length);
    // Whoever takes or frees the slot changes its word before the payload
    // can be overwritten: an unchanged word after the copy means a whole copy.
    std::atomic_thread_fence(std::memory_order_acquire);
    if (slot.word.load(std::memory_order_relaxed) != word) copy.clear();
    return true;
}

// at_least_once deliveries handed out but not acknowledged (in_flight) or
// waiting to be handed out again (redeliver): below head, anywhere in the ring.
void read_deliveries(const QueueRing& ring, const Window& window, QueueContents& contents) {
    std::vector<std::pair<std::uint64_t, std::string>> found;
    const auto capacity = ring.geometry().capacity;
    for (std::uint64_t index = 0; index < capacity && contents.damage.empty(); ++index) {
        auto& slot = ring.slot_at(index);
        const auto word = slot.word.load(std::memory_order_acquire);
        const auto state = SlotWord::state(word);
        if (state != SlotState::in_flight && state != SlotState::redeliver) continue;
        const auto position = slot.position.load(std::memory_order_relaxed);
        // A delivery keeps its slot from being reused: its position is one
        // of the last `capacity` claimed, below head, and maps to this slot.
        if (ring.index_of(position) != index || position >= window.head || position + capacity < window.tail) {
            contents.damage = "slot " + std::to_string(index) + " holds a delivery for position " +
                              std::to_string(position) + ", outside head " + std::to_string(window.head) +
                              " and tail " + std::to_string(window.tail);
            return;
        }
        std::string copy;
        if (!copy_payload(ring, slot, word, copy, contents.damage, position)) return;
        if (slot.word.load(std::memory_order_relaxed) == word) found.emplace_back(position, std::move(copy));
    }
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& entry : found) contents.messages.push_back(std::move(entry.second));
    contents.redeliveries = found.size();
}

void read_ready(const QueueRing& ring, const Window& window, QueueContents& contents) {
    const auto capacity = ring.geometry().capacity;
    for (auto position = window.head; position < window.tail; ++position) {
        auto& slot = ring.slot_at(position);
        const auto& take_word = ring.take_word_at(position);
        const auto decision = take_word.load(std::memory_order_acquire);  // before the slot's word
        const auto word = slot.word.load(std::memory_order_acquire);
        if (!SlotWord::well_formed(word)) {
            contents.damage = "slot " + std::to_string(ring.index_of(position)) + " holds an unknown state";
            return;
        }
        if (ring.claim_in_flight(position, word)) {
            ++contents.writing;
            continue;
        }
        const auto lap = ring_lap(position, capacity);
        // Anything else but an undecided "ready for this lap" is no message
        // to carry: abandoned by a dead producer, or taken while head had
        // not moved.
        if (word != SlotWord::at_lap(SlotState::ready, lap) || TakeWord::decides(decision, lap)) continue;
        std::string copy;
        if (!copy_payload(ring, slot, word, copy, contents.damage, position)) return;
        // Taken during the copy (its payload may since be rewritten): not carried.
        if (take_word.load(std::memory_order_relaxed) != decision) continue;
        if (slot.word.load(std::memory_order_relaxed) == word) contents.messages.push_back(std::move(copy));
    }
}

}  // namespace

QueueContents read_queue_contents(const QueueRing& ring) {
    QueueContents contents;
    const auto reason = ring.control().quarantined.load(std::memory_order_acquire);
    if (reason != 0) {
        contents.damage = std::string("it is quarantined (") + quarantine_reason_name(reason) + ")";
        return contents;
    }
    Window window;
    if (!read_window(ring, window, contents.damage)) return contents;
    read_deliveries(ring, window, contents);
    if (contents.damage.empty()) read_ready(ring, window, contents);
    return contents;
}

std::vector<OwnerStamp> claims_in_progress(const QueueRing& ring) {
    std::vector<OwnerStamp> owners;
    Window window;
    std::string damage;
    if (!read_window(ring, window, damage)) return owners;
    for (auto position = window.head; position < window.tail; ++position) {
        const auto word = ring.slot_at(position).word.load(std::memory_order_acquire);
        if (ring.claim_in_flight(position, word)) owners.push_back(ring.claimer_of(position));
    }
    return owners;
}

}  // namespace shmq
