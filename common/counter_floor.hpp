// A process-local lower bound of a shared counter that only grows (a ring's
// head): the last value this process read of it. Reading the shared counter
// itself costs a cache miss whenever another CPU moved it since, so a caller
// that only needs to know "is it past X yet" asks the floor first and reads
// the counter only when the floor cannot tell. Any value once read is a
// valid floor, so threads of one process share it without ordering.
#pragma once

#include <atomic>
#include <cstdint>

namespace shmq {

class CounterFloor {
public:
    CounterFloor() = default;
    // Copyable, so that the views holding one can live in vectors.
    CounterFloor(const CounterFloor& other) : value_(other.get()) {}
    CounterFloor& operator=(const CounterFloor& other) {
        value_.store(other.get(), std::memory_order_relaxed);
        return *this;
    }

    std::uint64_t get() const { return value_.load(std::memory_order_relaxed); }
    void remember(std::uint64_t value) { value_.store(value, std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

}  // namespace shmq
