// CLOCK_MONOTONIC: system-wide, so a deadline one process stores in the
// segment means the same instant to every other (Boost's timed waits take
// CLOCK_REALTIME instead: boostorg/interprocess#212).
#include "platform/monotonic_clock.hpp"

#include <ctime>

namespace shmq::platform {

std::uint64_t monotonic_now_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace shmq::platform
