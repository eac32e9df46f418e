// The state of one message slot and who owns it, packed in one 64-bit word so
// that every transition is a single atomic store or compare-and-swap: a
// process killed at any instant leaves each slot in exactly one well-defined
// state, stamped with the client that was working on it.
#pragma once

#include <cstdint>

namespace shmq {

enum class SlotState : std::uint8_t {
    free = 0,     // empty, may be claimed by a producer
    writing = 1,  // claimed by a producer that is copying the message in
    ready = 2,    // holds a message waiting for a consumer
    reading = 3,  // taken by a consumer that is copying the message out
    in_flight = 4,  // at_least_once: delivered, awaiting the consumer's ack
    redeliver = 5,  // at_least_once: its delivery failed; to be handed out again
    abandoned = 6,  // its producer died mid-write; consumers skip it
};
inline constexpr std::uint8_t slot_state_count = 7;

// Identifies a client record and the generation of its current tenant, so a
// record reused by a new client is never mistaken for the old one.
struct OwnerStamp {
    std::uint16_t client_index = 0;
    std::uint32_t generation = 0;  // 24 bits used; 0 means "no owner"

    bool operator==(const OwnerStamp& other) const {
        return client_index == other.client_index && generation == other.generation;
    }
    bool is_none() const { return generation == 0; }
};

// Layout: bits 0-7 state, 8-23 client index, 24-47 client generation,
// 48-63 a tag: for in_flight, the delivery number, so that an
// acknowledgement of an earlier delivery of the same slot can never match.
class SlotWord {
public:
    static constexpr std::uint32_t generation_mask = 0xFF'FFFF;

    static std::uint64_t make(SlotState state, OwnerStamp owner = {}, std::uint16_t tag = 0) {
        return static_cast<std::uint64_t>(state) |
               (static_cast<std::uint64_t>(owner.client_index) << 8) |
               (static_cast<std::uint64_t>(owner.generation & generation_mask) << 24) |
               (static_cast<std::uint64_t>(tag) << 48);
    }
    static std::uint16_t tag(std::uint64_t word) { return static_cast<std::uint16_t>(word >> 48); }
    static SlotState state(std::uint64_t word) { return static_cast<SlotState>(word & 0xFF); }
    static OwnerStamp owner(std::uint64_t word) {
        return OwnerStamp{static_cast<std::uint16_t>((word >> 8) & 0xFFFF),
                          static_cast<std::uint32_t>((word >> 24) & generation_mask)};
    }
    // Queues only (docs/crash-safety.md, "Queues"): a free, ready or
    // abandoned slot has no owner; its word carries instead the ring lap of
    // the one position it is for (bits 8-63), so that a compare-and-swap
    // expecting it succeeds for that position only, however long the process
    // making it was preempted. Zeroed memory is "free for lap 0" everywhere:
    // a new ring's every slot awaits its first position.
    static std::uint64_t at_lap(SlotState state, std::uint64_t lap) {
        return static_cast<std::uint64_t>(state) | (lap << 8);
    }
    static std::uint64_t lap(std::uint64_t word) { return word >> 8; }
    // The 16 bits of a lap that a writing or reading word (owner-stamped)
    // keeps in its tag: enough to tell position p from p - capacity.
    static std::uint16_t lap_tag(std::uint64_t lap) { return static_cast<std::uint16_t>(lap); }

    // A word is well-formed when its state is known; anything else in shared
    // memory is corruption.
    static bool well_formed(std::uint64_t word) { return (word & 0xFF) < slot_state_count; }
};

}  // namespace shmq

namespace shmq {

// The token an at_least_once consumer acknowledges a delivery with: the
// slot's index, the low bits of the ring position it was queued at, and the
// delivery number. Bits 40-63 index, 16-39 position, 0-15 delivery number.
class DeliveryToken {
public:
    static std::uint64_t make(std::uint64_t index, std::uint64_t position, std::uint16_t delivery) {
        return (index << 40) | ((position & 0xFF'FFFF) << 16) | delivery;
    }
    static std::uint64_t index(std::uint64_t token) { return token >> 40; }
    static std::uint64_t position_bits(std::uint64_t token) { return (token >> 16) & 0xFF'FFFF; }
    static std::uint16_t delivery(std::uint64_t token) { return static_cast<std::uint16_t>(token); }
};

}  // namespace shmq
