#include "common/wait_event.hpp"

#include <climits>
#include <ctime>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace shmq {

namespace {
std::uint32_t* futex_word(std::atomic<std::uint32_t>& word) {
    return reinterpret_cast<std::uint32_t*>(&word);
}
}  // namespace

std::uint32_t WaitEvent::prepare_wait() {
    const auto ticket = sequence_.load(std::memory_order_acquire);
    // seq_cst: pairs with the fence in notify() so that either the waiter sees
    // the notifier's state change, or the notifier sees this waiter.
    waiters_.fetch_add(1, std::memory_order_seq_cst);
    return ticket;
}

void WaitEvent::cancel_wait() { waiters_.fetch_sub(1, std::memory_order_relaxed); }

void WaitEvent::wait(std::uint32_t ticket, std::uint64_t max_ns) {
    if (max_ns > 0) {
        // FUTEX_WAIT's relative timeout is measured on CLOCK_MONOTONIC.
        timespec relative{};
        relative.tv_sec = static_cast<time_t>(max_ns / 1'000'000'000ull);
        relative.tv_nsec = static_cast<long>(max_ns % 1'000'000'000ull);
        ::syscall(SYS_futex, futex_word(sequence_), FUTEX_WAIT, ticket, &relative, nullptr, 0);
    }
    waiters_.fetch_sub(1, std::memory_order_relaxed);
}

void WaitEvent::notify(int count) {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (waiters_.load(std::memory_order_relaxed) == 0) return;
    sequence_.fetch_add(1, std::memory_order_release);
    ::syscall(SYS_futex, futex_word(sequence_), FUTEX_WAKE, count, nullptr, nullptr, 0);
}

void WaitEvent::notify_all() { notify(INT_MAX); }

}  // namespace shmq
