// How a call that has to wait does so: it retries its operation, spinning
// first (per the client's WaitStrategy) and then sleeping on a futex
// WaitEvent, until the operation stops asking to wait, the timeout passes or
// the broker stops. Private to libshmq; the topic calls use it.
#pragma once

#include <immintrin.h>

#include "client_impl.hpp"
#include "common/monotonic_clock.hpp"
#include "common/wait_event.hpp"

namespace shmq::detail {

// How long one sleep lasts at most before the waiter re-checks the broker's
// state on its own: a broker that was killed cannot wake anybody.
inline constexpr std::uint64_t sleep_slice_ns = 100'000'000;

inline bool is_wait_condition(Status status) { return status == Status::queue_full || status == Status::empty; }

// Runs `attempt(deadline)` until it returns neither queue_full nor empty,
// sleeping on `event` between tries once the spin budget is spent. `ready` is
// a lock-free peek that says whether another attempt might succeed.
template <typename Attempt, typename Ready>
Status wait_until_done(const Client::Impl& client, WaitEvent& event, Timeout timeout, Attempt attempt, Ready ready) {
    const auto deadline = timeout == wait_forever ? Deadline::never() : Deadline::after(timeout);
    Status status = attempt(deadline);
    if (!is_wait_condition(status) || timeout == no_wait) return status;
    const auto& options = client.options;
    const std::uint64_t spin_ns = options.wait == WaitStrategy::block ? 0
                                  : options.wait == WaitStrategy::busy_poll
                                      ? UINT64_MAX
                                      : static_cast<std::uint64_t>(options.spin.count()) * 1000;
    const auto spin_until = spin_ns == UINT64_MAX ? UINT64_MAX : monotonic_now_ns() + spin_ns;
    bool spinning = spin_ns > 0;
    for (std::uint32_t round = 0;; ++round) {
        if (spinning) {
            if (!ready()) {
                _mm_pause();
                // The clock and the broker's state are read only every so
                // often: while spinning, a clock read costs more than a poll.
                if ((round & 63) != 0) continue;
                if (client.view.broker_stopping()) return Status::broker_stopped;
                if (deadline.expired()) return Status::timeout;
                spinning = monotonic_now_ns() < spin_until;
                continue;
            }
        } else {
            if (client.view.broker_stopping()) return Status::broker_stopped;
            if (deadline.expired()) return Status::timeout;
            const auto ticket = event.prepare_wait();
            if (ready() || client.view.broker_stopping()) {
                event.cancel_wait();
            } else {
                event.wait(ticket, deadline.remaining_ns(sleep_slice_ns));
            }
        }
        status = attempt(deadline);
        if (!is_wait_condition(status)) return status;
        if (client.view.broker_stopping()) return Status::broker_stopped;
        if (deadline.expired()) return Status::timeout;
    }
}

}  // namespace shmq::detail
