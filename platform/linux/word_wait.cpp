// The Linux futex: its relative FUTEX_WAIT timeout runs on CLOCK_MONOTONIC, so
// a wall-clock step never stretches or cuts a wait short.
#include "platform/word_wait.hpp"

#include <ctime>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace shmq::platform {

namespace {
std::uint32_t* futex_address(std::atomic<std::uint32_t>& word) { return reinterpret_cast<std::uint32_t*>(&word); }
}  // namespace

void wait_on_word(std::atomic<std::uint32_t>& word, std::uint32_t expected, std::uint64_t max_ns) {
    timespec relative{};
    relative.tv_sec = static_cast<time_t>(max_ns / 1'000'000'000ull);
    relative.tv_nsec = static_cast<long>(max_ns % 1'000'000'000ull);
    ::syscall(SYS_futex, futex_address(word), FUTEX_WAIT, expected, &relative, nullptr, 0);
}

void wake_word(std::atomic<std::uint32_t>& word, int count) {
    ::syscall(SYS_futex, futex_address(word), FUTEX_WAKE, count, nullptr, nullptr, 0);
}

}  // namespace shmq::platform
