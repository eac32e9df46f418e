// A queue slot's take word: who decided the fate of the message published
// at one position of the slot, in one 64-bit word that only consumers (and,
// for the rare steps below, a producer or the broker) write. Every way a
// message leaves "ready" or "abandoned" (a take, a skip, a drop_oldest drop,
// a withdrawal) is one compare-and-swap of this word to a value that decides
// the position's lap; the first one wins, and the slot's own word, which the
// producer wrote, is left alone. So a take does not pull back the line its
// producer wrote last (docs/crash-safety.md, "Take words").
#pragma once

#include <cstdint>

#include "common/slot_word.hpp"

namespace shmq {

enum class TakeState : std::uint8_t {
    none = 0,       // decides nothing: zeroed memory, a new ring
    taken = 1,      // copied out by a consumer before the decision: done (no
                    // owner: nobody needs to know which consumer)
    holding = 2,    // taken by a consumer that then marks the slot's word
                    // reading or in_flight, and only then moves head past it
    skipped = 3,    // an abandoned slot passed by a consumer
    dropped = 4,    // drop_oldest discarded the message to make room
    withdrawn = 5,  // its producer took it back (QueueRing::withdraw)
    released = 6,   // the broker undid the holding decision of a dead consumer
                    // that had not marked the slot yet: the message is queued again
};
inline constexpr std::uint8_t take_state_count = 7;

// Layout: bits 0-7 state, 8-23 client index, 24-47 client generation (as a
// SlotWord's owner), 48-63 the 16-bit tag of the lap it decides.
class TakeWord {
public:
    static std::uint64_t make(TakeState state, OwnerStamp owner, std::uint64_t lap) {
        return static_cast<std::uint64_t>(state) |
               (static_cast<std::uint64_t>(owner.client_index) << 8) |
               (static_cast<std::uint64_t>(owner.generation & SlotWord::generation_mask) << 24) |
               (static_cast<std::uint64_t>(SlotWord::lap_tag(lap)) << 48);
    }
    static TakeState state(std::uint64_t word) { return static_cast<TakeState>(word & 0xFF); }
    static OwnerStamp owner(std::uint64_t word) { return SlotWord::owner(word); }
    static bool well_formed(std::uint64_t word) { return (word & 0xFF) < take_state_count; }
    static bool of_lap(std::uint64_t word, std::uint64_t lap) {
        return static_cast<std::uint16_t>(word >> 48) == SlotWord::lap_tag(lap);
    }
    // Whether the message of lap `lap` is spoken for: nobody may take, skip,
    // drop or withdraw it any more.
    // (The lap first: a take word mostly holds the decision of the lap
    // before, which that settles at once.)
    static bool decides(std::uint64_t word, std::uint64_t lap) {
        if (!of_lap(word, lap)) return false;
        const auto s = state(word);
        return s >= TakeState::taken && s <= TakeState::withdrawn;
    }
    // Decided, and done with the slot: a holding decision is not, until its
    // consumer has marked the slot's word (the slot's word then tells).
    static bool finishes(std::uint64_t word, std::uint64_t lap) {
        return decides(word, lap) && state(word) != TakeState::holding;
    }
    // Whether the decision took the message away from every consumer
    // without delivering it (a withdrawal then counts it as not sent).
    static bool undelivered(std::uint64_t word) {
        return state(word) == TakeState::skipped || state(word) == TakeState::withdrawn;
    }
};

}  // namespace shmq
