#include "common/wait_event.hpp"

#include <climits>

#include "platform/word_wait.hpp"

namespace shmq {

std::uint32_t WaitEvent::prepare_wait() {
    waiters_.fetch_add(1, std::memory_order_relaxed);
    // Either the waiter's re-check of its condition (any load after the
    // fence) sees the notifier's change, or the notifier's load of the word
    // sees it armed: the arming and the fence here pair with the fence in
    // notify(), or with the seq_cst change and seq_cst load of
    // notify_after_seq_cst(), in the one order of seq_cst operations.
    const auto ticket = sequence_.fetch_or(armed_bit, std::memory_order_seq_cst) | armed_bit;
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return ticket;
}

void WaitEvent::cancel_wait() {
    if (waiters_.fetch_sub(1, std::memory_order_relaxed) == 1) disarm_if_alone();
}

bool WaitEvent::wait(std::uint32_t ticket, std::uint64_t max_ns) {
    if (max_ns > 0) platform::wait_on_word(sequence_, ticket, max_ns);
    // A scribbled count may wrap: taken as "others wait", which costs at most
    // a wake-up call.
    const auto others = waiters_.fetch_sub(1, std::memory_order_relaxed) - 1;
    if (others == 0) {
        disarm_if_alone();
        return false;
    }
    // The notify that woke this waiter disarmed the word; whoever still
    // sleeps needs it armed again, and the caller's re-check after this
    // fence covers what was notified while it was not.
    sequence_.fetch_or(armed_bit, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return true;
}

void WaitEvent::notify(int count) {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const auto word = sequence_.load(std::memory_order_relaxed);
    if ((word & armed_bit) != 0) wake(word, count);
}

void WaitEvent::notify_all() { notify(INT_MAX); }

bool WaitEvent::armed() const { return (sequence_.load(std::memory_order_relaxed) & armed_bit) != 0; }

// For the last waiter leaving without having been woken (its condition held
// after all, or its time ran out): a word left armed would cost the next
// notify a wake-up call for nobody, and in a stream that is most notifies
// (measured: ten times the wake-up calls of a batch stream under `block`).
void WaitEvent::disarm_if_alone() {
    auto word = sequence_.load(std::memory_order_relaxed);
    if ((word & armed_bit) == 0) return;
    if (!sequence_.compare_exchange_strong(word, word + 1, std::memory_order_seq_cst, std::memory_order_relaxed)) {
        return;
    }
    // A waiter that armed the word before this swap, but counted itself
    // after this one's decrement, may already sleep on the armed value: the
    // swap read its arming, so this load sees its count, and wakes it.
    if (waiters_.load(std::memory_order_seq_cst) != 0) platform::wake_word(sequence_, INT_MAX);
}

void WaitEvent::wake(std::uint32_t armed_word, int count) {
    // Disarmed and bumped in one step: a waiter about to sleep on the armed
    // value returns at once, and only one of several notifiers racing here
    // makes the call. The one that loses leaves its wake-up to the waiter the
    // winner wakes, which re-arms and re-checks (wait()); so does a waiter
    // whose word was scribbled meanwhile, at the latest after its sleep slice.
    auto expected = armed_word;
    if (!sequence_.compare_exchange_strong(expected, armed_word + 1, std::memory_order_release,
                                           std::memory_order_relaxed)) {
        return;
    }
    platform::wake_word(sequence_, count);
}

}  // namespace shmq
