// Windows has no cross-process futex: WaitOnAddress and WakeByAddress work
// within one process only. So a sleeper waits on the word's address in slices
// of at most one millisecond and re-reads the word between them: a wake from
// this process ends the wait at once, a change made by another process is seen
// within a slice (about a millisecond, or the timer's resolution: up to 16 ms
// on a default Windows timer). Nothing is registered anywhere, so a sleeper
// killed mid-wait leaves nothing behind. The cost is latency and a wake-up
// per slice while idle; named events keyed by segment and offset would cut
// both and are the next step (docs/platform.md).
#include "platform/word_wait.hpp"

#include <windows.h>

#include "platform/monotonic_clock.hpp"

namespace shmq::platform {

namespace {
constexpr std::uint64_t slice_ns = 1'000'000;
}  // namespace

void wait_on_word(std::atomic<std::uint32_t>& word, std::uint32_t expected, std::uint64_t max_ns) {
    const std::uint64_t deadline = monotonic_now_ns() + max_ns;
    for (;;) {
        if (word.load(std::memory_order_acquire) != expected) return;
        const std::uint64_t now = monotonic_now_ns();
        if (now >= deadline) return;
        const std::uint64_t left = deadline - now;
        const DWORD milliseconds = left < slice_ns ? 0 : 1;
        ::WaitOnAddress(reinterpret_cast<volatile void*>(&word), &expected, sizeof expected, milliseconds);
        if (milliseconds == 0) return;
    }
}

void wake_word(std::atomic<std::uint32_t>& word, int count) {
    if (count == 1) {
        ::WakeByAddressSingle(reinterpret_cast<void*>(&word));
    } else {
        ::WakeByAddressAll(reinterpret_cast<void*>(&word));
    }
}

}  // namespace shmq::platform
