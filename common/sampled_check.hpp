// Decides when a cheap verdict is checked the expensive way: every Nth time.
// A consumer that finds the slot at head still free for head's lap may call
// the queue empty without reading tail (the producers' cache line); a word
// that a client scribbled back to free over a claim would then hide the
// claim, so one look in `period` reads tail all the same and finds it.
// Process-local; threads of one process share it without ordering (any
// interleaving of their counts still checks about once a period).
#pragma once

#include <atomic>
#include <cstdint>

namespace shmq {

template <std::uint32_t period>
class SampledCheck {
    static_assert(period > 0 && (period & (period - 1)) == 0, "a power of two");

public:
    SampledCheck() = default;
    // Copyable, so that the views holding one can live in vectors.
    SampledCheck(const SampledCheck&) {}
    SampledCheck& operator=(const SampledCheck&) { return *this; }

    // True once every `period` calls. A load and a store, not a locked
    // increment: a count lost between two threads only delays the check.
    bool due() {
        const auto count = count_.load(std::memory_order_relaxed) + 1;
        count_.store(count, std::memory_order_relaxed);
        return (count & (period - 1)) == 0;
    }

private:
    std::atomic<std::uint32_t> count_{0};
};

}  // namespace shmq
