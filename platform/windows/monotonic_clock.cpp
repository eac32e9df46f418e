// The performance counter: monotonic, and one time line for every process of
// the machine since boot (Windows keeps it consistent across processors).
#include "platform/monotonic_clock.hpp"

#include <windows.h>

namespace shmq::platform {

std::uint64_t monotonic_now_ns() {
    static const std::uint64_t frequency = [] {
        LARGE_INTEGER value;
        ::QueryPerformanceFrequency(&value);
        return static_cast<std::uint64_t>(value.QuadPart);
    }();
    LARGE_INTEGER counter;
    ::QueryPerformanceCounter(&counter);
    const auto ticks = static_cast<std::uint64_t>(counter.QuadPart);
    // Split so that ticks * 10^9 never overflows.
    return ticks / frequency * 1'000'000'000ull + ticks % frequency * 1'000'000'000ull / frequency;
}

}  // namespace shmq::platform
