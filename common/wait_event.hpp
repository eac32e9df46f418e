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
//     else if (event.wait(ticket, max_ns) && condition_holds()) event.notify(1);
// and the notifier, after making the condition true: event.notify(n), or
// event.notify_after_seq_cst(n) when a seq_cst read-modify-write made it true,
// or event.notify_after_store_waiters_fence(n) when a plain store did and
// the waiter calls platform::fence_registered_processes() between
// prepare_wait() and its check.
//
// The word's low bit says "armed": some waiter may be asleep. A notify makes
// its system call only when it finds the word armed, and disarms it in the
// same step, so a stream of notifies makes one wake-up call per sleep, not
// one per message while the woken waiter is still on its way (measured: a
// futex call every ~20 messages with four producers and four consumers). A
// woken waiter that leaves others asleep re-arms the word for them, and wait()
// returns true: the caller then re-checks its condition and, when it holds,
// hands the wake-up on with notify(1), since a notify that came while the
// word was disarmed woke nobody.
#pragma once

#include <atomic>
#include <cstdint>

namespace shmq {

class WaitEvent {
public:
    std::uint32_t prepare_wait();
    void cancel_wait();
    // Sleeps until notified, until `max_ns` passed, or spuriously; the caller
    // re-checks its condition in every case. True when other waiters are
    // still counted: the caller must then hand a wake-up on if its condition
    // holds (see above). A caller whose notifier wakes every waiter, or that
    // is the only waiter, may ignore it.
    [[nodiscard]] bool wait(std::uint32_t ticket, std::uint64_t max_ns);
    // Wakes up to `count` waiters. Cheap when nobody waits: a fence and a load.
    void notify(int count);
    // notify() for a caller whose change that wakes the waiters (as the
    // waiters check it after prepare_wait) was a seq_cst read-modify-write it
    // has already made: that orders the load of the word after the change,
    // so the fence is left out (one locked instruction less per message on
    // the data path). A queue's producer: its move of tail, which a consumer
    // checks before it sleeps (QueueRing::claim_pending_at_head). Inline:
    // every send and receive makes it, and nobody waits in a busy stream.
    void notify_after_seq_cst(int count) {
        const auto word = sequence_.load(std::memory_order_seq_cst);
        if ((word & armed_bit) != 0) wake(word, count);
    }
    // notify() for a caller whose change was a plain store that every
    // waiter makes visible itself, after arming and before it checks,
    // with platform::fence_registered_processes() (this process having
    // registered: platform::let_waiters_fence_for_this_process()). Either
    // that barrier found the store made (the waiter's check sees it) or
    // this load runs after the barrier (and sees the word armed). Only the
    // compiler must keep the load after the store.
    void notify_after_store_waiters_fence(int count) {
        std::atomic_signal_fence(std::memory_order_seq_cst);
        const auto word = sequence_.load(std::memory_order_relaxed);
        if ((word & armed_bit) != 0) wake(word, count);
    }
    void notify_all();
    // Whether a notify now would make a wake-up call: some waiter armed the
    // word since the last one that did.
    bool armed() const;

private:
    static constexpr std::uint32_t armed_bit = 1;

    void wake(std::uint32_t armed_word, int count);
    void disarm_if_alone();

    // A counter in the upper 31 bits, bumped by each notify that wakes, and
    // the armed bit. Any value is harmless: a waiter sleeps only while the
    // word holds its ticket, and at most one sleep slice.
    std::atomic<std::uint32_t> sequence_{0};
    // Waiters between prepare_wait() and the end of their wait(). A waiter
    // killed while counted here leaves it one too high, which only makes
    // waiters leave the word armed: one wake-up system call more per sleep.
    std::atomic<std::uint32_t> waiters_{0};
};

}  // namespace shmq
