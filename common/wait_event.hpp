// A wake-up signal in shared memory that any process can wait on, built on the
// platform's wait on a word (platform/word_wait.hpp). Unlike a condition
// variable it has no lock to be left held and no internal state a killed
// waiter can corrupt: the operating system forgets a dead waiter. Timeouts
// measure monotonic time.
//
// Usage (the waiter re-checks its condition between prepare and wait, so a
// notify that lands in between is never lost):
//     auto ticket = event.prepare_wait();
//     if (condition_holds()) { event.cancel_wait(); ... }
//     else event.wait(ticket, max_ns);
// and the notifier, after making the condition true: event.notify(n), or
// event.notify_after_seq_cst(n) when a seq_cst read-modify-write made it true.
#pragma once

#include <atomic>
#include <cstdint>

namespace shmq {

class WaitEvent {
public:
    std::uint32_t prepare_wait();
    void cancel_wait();
    // Sleeps until notified, until `max_ns` passed, or spuriously; the caller
    // re-checks its condition in every case.
    void wait(std::uint32_t ticket, std::uint64_t max_ns);
    // Wakes up to `count` waiters. Cheap when nobody waits: a fence and a load.
    void notify(int count);
    // notify() for a caller whose change that wakes the waiters was a
    // seq_cst read-modify-write it has just made: that already orders the
    // load of the waiter count after the change, so the fence is left out
    // (one locked instruction less per message on the data path).
    void notify_after_seq_cst(int count);
    void notify_all();

private:
    std::atomic<std::uint32_t> sequence_{0};
    // A hint: a waiter killed while counted here leaves it one too high, which
    // costs a wake-up system call per notify and nothing else.
    std::atomic<std::uint32_t> waiters_{0};
};

}  // namespace shmq
