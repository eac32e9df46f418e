// Other processes' use of the CPUs, the one thing that skews a pinned
// benchmark most on a shared machine: a busy-polling pair that shares a CPU
// with a compiler runs 50 times slower, and neither nice nor the pinning
// helps (autogroup shares the CPUs out per session). So each run waits for
// the CPUs to go quiet first, and measures how much of them others took
// while it ran: such a run is repeated, or flagged if it stays disturbed.
#pragma once

#include <chrono>
#include <cstdint>

namespace shmq::bench {

// A run during which others used more than this share of all CPUs' time.
inline constexpr double disturbed_share = 0.05;

class Interference {
public:
    Interference();  // starts measuring
    // The share of all CPUs' time (0..1) used by processes other than this
    // one and its reaped children since construction. /proc/stat counts in
    // 10 ms ticks, so short intervals read coarsely.
    double foreign_share() const;

private:
    std::uint64_t busy_ticks_;
    std::uint64_t own_ticks_;
    std::chrono::steady_clock::time_point start_;
};

// Waits, up to `patience`, for an interval of 250 ms in which others used
// less than disturbed_share of the CPUs. Returns whether it found one.
bool wait_for_quiet(std::chrono::milliseconds patience);

}  // namespace shmq::bench
