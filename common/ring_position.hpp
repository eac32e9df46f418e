// Ring arithmetic shared by the queue and topic rings: where a position's
// slot is, and which lap of the ring it belongs to. Every send and receive
// does this two or three times; for the usual power-of-two capacity a mask
// and a shift replace 64-bit divisions (~2 ns each). `capacity` is never 0
// (segment validation refuses it).
#pragma once

#include <cstdint>

namespace shmq {

inline bool is_power_of_two(std::uint64_t capacity) { return (capacity & (capacity - 1)) == 0; }

inline std::uint64_t ring_index(std::uint64_t position, std::uint64_t capacity) {
    return is_power_of_two(capacity) ? position & (capacity - 1) : position % capacity;
}

inline std::uint64_t ring_lap(std::uint64_t position, std::uint64_t capacity) {
    return is_power_of_two(capacity) ? position >> __builtin_ctzll(capacity) : position / capacity;
}

}  // namespace shmq
