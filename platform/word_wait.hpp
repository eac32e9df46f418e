// Cross-process sleep and wake-up on a 32-bit word in shared memory: the one
// blocking primitive the data path needs (common/wait_event.* builds its
// ticket protocol on it). A waiter killed while asleep leaves nothing behind:
// the operating system forgets a dead waiter.
#pragma once

#include <atomic>
#include <cstdint>

namespace shmq::platform {

static_assert(std::atomic<std::uint32_t>::is_always_lock_free, "wait words must be lock-free");

// Sleeps while `word` holds `expected`, for at most `max_ns` nanoseconds of
// monotonic time, or until woken; returns at once when the word differs. May
// also return spuriously: the caller re-checks its condition in every case.
void wait_on_word(std::atomic<std::uint32_t>& word, std::uint32_t expected, std::uint64_t max_ns);

// Wakes up to `count` processes sleeping on `word`.
void wake_word(std::atomic<std::uint32_t>& word, int count);

}  // namespace shmq::platform
