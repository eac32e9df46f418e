// The data path: copy a message in or out of a queue's ring, and wait (spin,
// then sleep on a futex) when there is no room or nothing to take.
#include <immintrin.h>

#include "client_impl.hpp"
#include "common/monotonic_clock.hpp"
#include "shmq/client.hpp"

namespace shmq {

namespace {

// How long one sleep lasts at most before the waiter re-checks the broker's
// state on its own: a broker that was killed cannot wake anybody.
constexpr std::uint64_t sleep_slice_ns = 100'000'000;

bool is_wait_condition(Status status) { return status == Status::queue_full || status == Status::empty; }

// Runs `attempt` until it stops asking to wait, sleeping on `event` between
// tries once the spin budget is spent. `ready` is a lock-free peek that says
// whether another attempt might succeed.
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

}  // namespace

const std::string& Queue::name() const { return client_->impl_->view.queue_name(index_); }

std::uint32_t Queue::max_message_size() const {
    return client_->impl_->view.ring(index_).geometry().max_message_size;
}

std::uint32_t Queue::capacity() const { return client_->impl_->view.ring(index_).geometry().capacity; }

void Queue::note_role(std::uint8_t role) {
    auto& roles = client_->impl_->view.role(client_->impl_->stamp.client_index, index_);
    if ((roles.load(std::memory_order_relaxed) & role) == 0) roles.fetch_or(role, std::memory_order_relaxed);
}

Status Queue::send(const void* data, std::size_t size, Timeout timeout) {
    std::size_t sent = 0;
    OutgoingMessage message{data, size};
    return send_batch(&message, 1, sent, timeout);
}

Status Queue::send_batch(const OutgoingMessage* messages, std::size_t count, std::size_t& sent, Timeout timeout) {
    sent = 0;
    if (client_ == nullptr) return Status::invalid_argument;
    auto& impl = *client_->impl_;
    if (impl.view.broker_stopping()) return Status::broker_stopped;
    auto& ring = impl.view.ring(index_);
    note_role(layout::role_producer);
    const auto stamp = impl.stamp;
    const bool reject = ring.geometry().overflow == 1;
    auto attempt = [&](const Deadline& deadline) {
        Status status = Status::ok;
        sent += ring.try_send_batch(messages + sent, count - sent, stamp, deadline, status);
        return status;
    };
    // Under the reject policy a full queue is an answer, not a reason to wait.
    if (reject) return attempt(timeout == wait_forever ? Deadline::never() : Deadline::after(timeout));
    return wait_until_done(impl, ring.control().not_full, timeout, attempt, [&] { return ring.may_have_room(); });
}

Status Queue::receive(void* buffer, std::size_t capacity, std::size_t& size, Timeout timeout, std::uint64_t* delivery) {
    IncomingMessage message{buffer, capacity, 0, 0};
    std::size_t received = 0;
    const Status status = receive_batch(&message, 1, received, timeout);
    size = message.size;
    if (delivery != nullptr) *delivery = message.delivery;
    return status;
}

Status Queue::receive(std::string& message, Timeout timeout, std::uint64_t* delivery) {
    message.resize(max_message_size());
    std::size_t size = 0;
    const Status status = receive(message.data(), message.size(), size, timeout, delivery);
    message.resize(status == Status::ok ? size : 0);
    return status;
}

Status Queue::receive_batch(IncomingMessage* messages, std::size_t count, std::size_t& received, Timeout timeout) {
    received = 0;
    if (client_ == nullptr || count == 0) return Status::invalid_argument;
    auto& impl = *client_->impl_;
    if (impl.view.broker_stopping()) return Status::broker_stopped;
    auto& ring = impl.view.ring(index_);
    note_role(layout::role_consumer);
    const auto stamp = impl.stamp;
    auto attempt = [&](const Deadline& deadline) {
        Status status = Status::ok;
        received = ring.try_receive_batch(messages, count, stamp, deadline, status);
        return status;
    };
    return wait_until_done(impl, ring.control().not_empty, timeout, attempt, [&] { return ring.may_have_message(); });
}

Status Queue::acknowledge(std::uint64_t delivery) {
    if (client_ == nullptr) return Status::invalid_argument;
    auto& impl = *client_->impl_;
    return impl.view.ring(index_).acknowledge(delivery, impl.stamp);
}

}  // namespace shmq
