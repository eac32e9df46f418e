// Time for deadlines. Everything in shmq that waits measures CLOCK_MONOTONIC,
// never the wall clock, so a clock step (NTP, an operator) cannot stall or spin
// a wait (Boost's timed waits take CLOCK_REALTIME: boostorg/interprocess#212).
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>

namespace shmq {

inline std::uint64_t monotonic_now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

// A point in monotonic time; `never` for operations without a time limit.
class Deadline {
public:
    static Deadline never() { return Deadline(UINT64_MAX); }
    static Deadline after(std::chrono::nanoseconds timeout) {
        if (timeout.count() < 0) timeout = std::chrono::nanoseconds(0);
        const auto now = monotonic_now_ns();
        const auto span = static_cast<std::uint64_t>(timeout.count());
        return Deadline(span > UINT64_MAX - now ? UINT64_MAX : now + span);
    }
    bool is_never() const { return at_ns_ == UINT64_MAX; }
    bool expired() const { return !is_never() && monotonic_now_ns() >= at_ns_; }
    // Nanoseconds left, capped at `cap` (so waits can wake up to re-check state).
    std::uint64_t remaining_ns(std::uint64_t cap) const {
        const auto now = monotonic_now_ns();
        if (at_ns_ <= now) return 0;
        const auto left = at_ns_ - now;
        return left < cap ? left : cap;
    }
    std::uint64_t at_ns() const { return at_ns_; }

private:
    explicit Deadline(std::uint64_t at_ns) : at_ns_(at_ns) {}
    std::uint64_t at_ns_;
};

}  // namespace shmq
