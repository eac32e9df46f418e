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

// The same for one ring, its mask and shift worked out once, when the ring
// is mapped, rather than at every call: the data path's rings, whose
// arithmetic was 8% of a send's and receive's instructions (callgrind,
// docs/benchmarks.md).
class RingPositions {
public:
    RingPositions() = default;
    explicit RingPositions(std::uint64_t capacity)
        : capacity_(capacity),
          power_of_two_(capacity != 0 && is_power_of_two(capacity)),
          mask_(capacity - 1),
          shift_(power_of_two_ ? __builtin_ctzll(capacity) : 0) {}

    std::uint64_t index(std::uint64_t position) const {
        return power_of_two_ ? position & mask_ : position % capacity_;
    }
    std::uint64_t lap(std::uint64_t position) const {
        return power_of_two_ ? position >> shift_ : position / capacity_;
    }

private:
    std::uint64_t capacity_ = 1;
    bool power_of_two_ = true;
    std::uint64_t mask_ = 0;
    int shift_ = 0;
};

}  // namespace shmq
