#include "common/wait_event.hpp"

#include <climits>

#include "platform/word_wait.hpp"

namespace shmq {

std::uint32_t WaitEvent::prepare_wait() {
    const auto ticket = sequence_.load(std::memory_order_acquire);
    // Either the waiter's re-check of its condition (any load after the
    // fence) sees the notifier's change, or the notifier's load of waiters_
    // sees this waiter: the increment and the fence here pair with the fence
    // in notify(), or with the seq_cst change and seq_cst load of
    // notify_after_seq_cst(), in the one order of seq_cst operations.
    waiters_.fetch_add(1, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return ticket;
}

void WaitEvent::cancel_wait() { waiters_.fetch_sub(1, std::memory_order_relaxed); }

void WaitEvent::wait(std::uint32_t ticket, std::uint64_t max_ns) {
    if (max_ns > 0) platform::wait_on_word(sequence_, ticket, max_ns);
    waiters_.fetch_sub(1, std::memory_order_relaxed);
}

void WaitEvent::notify(int count) {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (waiters_.load(std::memory_order_relaxed) == 0) return;
    sequence_.fetch_add(1, std::memory_order_release);
    platform::wake_word(sequence_, count);
}

void WaitEvent::notify_after_seq_cst(int count) {
    if (waiters_.load(std::memory_order_seq_cst) == 0) return;
    sequence_.fetch_add(1, std::memory_order_release);
    platform::wake_word(sequence_, count);
}

void WaitEvent::notify_all() { notify(INT_MAX); }

}  // namespace shmq
