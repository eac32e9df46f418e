// How a call that has to wait does so: it retries its operation, spinning
// first (per the client's WaitStrategy) and then sleeping on a futex
// WaitEvent, until the operation stops asking to wait, the timeout passes or
// the broker stops. Private to libshmq; the queue and topic calls use it.
#pragma once

#include <cstdlib>
#include <immintrin.h>
#include <thread>

#include "client_impl.hpp"
#include "common/monotonic_clock.hpp"
#include "common/wait_event.hpp"

namespace shmq::detail {

// How long one sleep lasts at most before the waiter re-checks the broker's
// state on its own: a broker that was killed cannot wake anybody. Test
// only: SHMQ_TEST_SLEEP_SLICE_MS replaces it, so that a test that makes it
// far longer turns a missed wake-up, which the slice would only delay, into
// a wait that runs out its timeout (tests/core/exclusive_queue_tests.cpp).
// Read at each sleep, which costs far more; setting it in production is a
// bug.
inline std::uint64_t sleep_slice_ns() {
    constexpr std::uint64_t normal = 100'000'000;
    const char* test_slice_ms = std::getenv("SHMQ_TEST_SLEEP_SLICE_MS");
    return test_slice_ms == nullptr ? normal : std::strtoull(test_slice_ms, nullptr, 10) * 1'000'000;
}

// Past this much of a spin_then_block spin, the waiter yields its CPU between
// polls. When more waiters than CPUs spin (eight subscribers of one topic
// sharing a core, say), a tight spin holds the CPU that the others need to
// make the very progress it waits for: measured, 1 -> 8 fan-out fell to a
// quarter of plain blocking. A reply in a round trip, or the next message of
// a stream, comes well within the tight part; a yield returns at once when
// nothing else wants the CPU, so the rest still polls every ~0.3 µs.
inline constexpr std::uint64_t tight_spin_ns = 5'000;

// A deadline `timeout` after it is first consulted: an operation that
// completes at once (the common case) never reads the clock.
inline Deadline deadline_after(Timeout timeout) {
    return timeout == wait_forever ? Deadline::never() : Deadline::after(timeout);
}

// What is left of the call's `deadline` for a superseded queue's or topic's
// successor. The deadline reads the clock only once consulted (a call that
// never waited has its whole timeout left), so the common call, which
// neither waits nor meets a successor, reads no clock.
inline Timeout remaining(Timeout timeout, const Deadline& deadline) {
    if (timeout == wait_forever || timeout == no_wait || deadline.is_never()) return timeout;
    return Timeout(static_cast<Timeout::rep>(deadline.remaining_ns(static_cast<std::uint64_t>(timeout.count()))));
}

inline bool is_wait_condition(Status status) { return status == Status::queue_full || status == Status::empty; }

// Polls `ready()` until it holds or `max_ns` passed; whether it held. For a
// condition known to be moments away, where a sleep and the wake-up that
// ends it would cost both sides more than the wait. The clock is read every
// 16th poll: a poll costs less than a clock read.
template <typename Ready>
bool poll_briefly(Ready ready, std::uint64_t max_ns) {
    const auto until = monotonic_now_ns() + max_ns;
    for (std::uint32_t round = 1;; ++round) {
        if (ready()) return true;
        _mm_pause();
        if ((round & 15) == 0 && monotonic_now_ns() >= until) return false;
    }
}

// Runs `attempt(deadline)` until it returns neither queue_full nor empty,
// sleeping on `event` between tries once the spin budget is spent. `ready` is
// a lock-free peek that says whether another attempt might succeed; while
// spinning, `worth_trying` (which may ask for more, e.g. room for a run)
// decides when to try before the periodic tries, but never whether to sleep:
// a waiter that slept on it could miss the only wake-up it gets. Whether and
// how long to sleep, once the event is armed, `sleep_limit` says: 0 not at
// all (try again), else at most that many nanoseconds (a wake-up may come
// first). `deadline` is the call's, `timeout` from the first time it is
// consulted (deadline_after), so that a caller going on elsewhere (a
// superseded queue's successor) knows what is left of it.
template <typename Attempt, typename WorthTrying, typename Ready, typename SleepLimit>
Status wait_until_done(const Client::Impl& client, WaitEvent& event, Timeout timeout, const Deadline& deadline,
                       Attempt attempt, WorthTrying worth_trying, Ready ready, SleepLimit sleep_limit) {
    Status status = attempt(deadline);
    if (!is_wait_condition(status) || timeout == no_wait) return status;
    const auto& options = client.options;
    const std::uint64_t spin_ns = options.wait == WaitStrategy::block ? 0
                                  : options.wait == WaitStrategy::busy_poll
                                      ? UINT64_MAX
                                      : static_cast<std::uint64_t>(options.spin.count()) * 1000;
    const bool polling = spin_ns == UINT64_MAX;  // busy_poll: never yields either
    // Set at the spin's first look at the clock, its 64th round: a message
    // that comes sooner (a reply in a round trip) costs no clock read.
    std::uint64_t spin_until = polling ? UINT64_MAX : 0;
    std::uint64_t yield_from = UINT64_MAX;
    bool spinning = spin_ns > 0;
    bool yielding = false;
    for (std::uint32_t round = 1;; ++round) {
        if (spinning) {
            const bool hinted = worth_trying();
            if (!hinted) {
                if (yielding) {
                    std::this_thread::yield();
                } else {
                    _mm_pause();
                }
            }
            // The clock and the broker's state are read only every so often
            // while spinning tightly (a clock read costs more than a poll),
            // but whatever the hint says: it is read from words any client can
            // write, and may say "try" while the tries keep failing (a run's
            // last slot freed before the ones ahead of it, a scribbled word),
            // which must not keep a waiter spinning past its budget. Not at
            // the first round: its try (a full one) would come right after
            // the call's own, reading the other side's counters for nothing.
            if (yielding || (round & 63) == 0) {
                if (client.view.broker_stopping()) return Status::broker_stopped;
                if (deadline.expired()) return Status::timeout;
                if (!polling) {
                    const auto now = monotonic_now_ns();
                    if (spin_until == 0) {
                        spin_until = now + spin_ns;
                        yield_from = now + tight_spin_ns;
                    }
                    spinning = now < spin_until;
                    yielding = now >= yield_from;
                }
            } else if (!hinted) {
                continue;
            }
            // Then a real attempt, whatever ready() said: ready() is a hint,
            // and must never alone keep a waiter from trying.
        } else {
            if (client.view.broker_stopping()) return Status::broker_stopped;
            if (deadline.expired()) return Status::timeout;
            const auto ticket = event.prepare_wait();
            const std::uint64_t limit = client.view.broker_stopping() ? 0 : sleep_limit();
            if (limit == 0) {
                event.cancel_wait();
            } else if (event.wait(ticket, deadline.remaining_ns(limit)) && ready()) {
                // Others still sleep, and what this waiter was woken for may
                // be more than it takes: hand a wake-up on (WaitEvent).
                event.notify(1);
            }
        }
        status = attempt(deadline);
        if (!is_wait_condition(status)) return status;
        if (client.view.broker_stopping()) return Status::broker_stopped;
        if (deadline.expired()) return Status::timeout;
    }
}

// The usual wait: a notify always follows whatever makes `ready` true, so a
// waiter that found it false may sleep a whole slice.
template <typename Attempt, typename WorthTrying, typename Ready>
Status wait_until_done(const Client::Impl& client, WaitEvent& event, Timeout timeout, const Deadline& deadline,
                       Attempt attempt, WorthTrying worth_trying, Ready ready) {
    return wait_until_done(client, event, timeout, deadline, attempt, worth_trying, ready,
                           [&]() -> std::uint64_t { return ready() ? 0 : sleep_slice_ns(); });
}

template <typename Attempt, typename Ready>
Status wait_until_done(const Client::Impl& client, WaitEvent& event, Timeout timeout, Attempt attempt, Ready ready) {
    return wait_until_done(client, event, timeout, deadline_after(timeout), attempt, ready, ready);
}

}  // namespace shmq::detail
