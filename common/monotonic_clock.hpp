// Deadlines. Everything in shmq that waits measures the platform's monotonic
// clock, never the wall clock, so a clock step (NTP, an operator) cannot stall
// or spin a wait.
#pragma once

#include <chrono>
#include <cstdint>

#include "platform/monotonic_clock.hpp"

namespace shmq {

inline std::uint64_t monotonic_now_ns() { return platform::monotonic_now_ns(); }

// A point in monotonic time; `never` for operations without a time limit.
// after() reads the clock only when the deadline is first consulted, so an
// operation that completes at once (the common case) never pays for it.
class Deadline {
public:
    static Deadline never() { return Deadline(UINT64_MAX, 0); }
    static Deadline after(std::chrono::nanoseconds timeout) {
        return Deadline(unresolved, timeout.count() < 0 ? 0 : static_cast<std::uint64_t>(timeout.count()));
    }
    bool is_never() const { return at_ns() == UINT64_MAX; }
    bool expired() const { return !is_never() && monotonic_now_ns() >= at_ns(); }
    // Nanoseconds left, capped at `cap` (so waits can wake up to re-check state).
    std::uint64_t remaining_ns(std::uint64_t cap) const {
        const auto now = monotonic_now_ns();
        if (at_ns() <= now) return 0;
        const auto left = at_ns() - now;
        return left < cap ? left : cap;
    }
    std::uint64_t at_ns() const {
        if (at_ns_ == unresolved) {
            const auto now = monotonic_now_ns();
            at_ns_ = span_ns_ > UINT64_MAX - 1 - now ? UINT64_MAX : now + span_ns_;
        }
        return at_ns_;
    }

private:
    static constexpr std::uint64_t unresolved = UINT64_MAX - 1;
    Deadline(std::uint64_t at_ns, std::uint64_t span_ns) : at_ns_(at_ns), span_ns_(span_ns) {}
    mutable std::uint64_t at_ns_;
    std::uint64_t span_ns_;
};

}  // namespace shmq
