// The data path: copy a message in or out of a queue's ring, and wait (spin,
// then sleep on a futex) when there is no room or nothing to take. A queue a
// reload changed the settings of is superseded by a successor of the same
// name: sends that it refuses go to the successor, receives drain it first
// and then go there too (docs/crash-safety.md, "Live settings change").
#include <algorithm>
#include <utility>

#include "client_impl.hpp"
#include "common/monotonic_clock.hpp"
#include "platform/store_visibility.hpp"
#include "shmq/client.hpp"
#include "wait_loop.hpp"

namespace shmq {

const std::string& Queue::name() const { return client_->impl_->view.queue_name(index_); }

// The longest a receive on this handle may return: its successors' too.
std::uint32_t Queue::max_message_size() const {
    const auto own = client_->impl_->view.ring(index_).geometry().max_message_size;
    const Queue next = successor();
    return next.is_open() ? std::max(own, next.max_message_size()) : own;
}

// The newest ring's, where sends go.
std::uint32_t Queue::capacity() const {
    const Queue next = successor();
    return next.is_open() ? next.capacity() : client_->impl_->view.ring(index_).geometry().capacity;
}

// The mark is read once and trusted for nothing but which live segment to
// look in: one this process validates as any live segment, of a generation
// above the one holding this queue (so that a scribbled mark cannot make a
// loop), and holding a queue of this name.
Queue Queue::successor() const {
    const auto retired = client_->impl_->view.ring(index_).control().retired.load(std::memory_order_seq_cst);
    Client* part = client_->live_segment(layout::successor_generation(retired));
    if (part == nullptr) return {};
    const auto& view = part->impl_->view;
    const auto index = view.find_queue(name());
    if (index == layout::no_queue || !view.queue_usable(index)) return {};
    return Queue(part, index);
}

void Queue::note_role(std::uint8_t role) {
    mark_role(client_->impl_->view.role(client_->impl_->stamp.client_index, index_), role);
}

namespace {

// Runs a producer's attempt under the queue's overflow policy: under reject a
// full queue is an answer, not a reason to wait; the others wait for room.
// A waiter about to sleep on a queue with a single consumer first fences for
// it, whose move of head (a plain store) orders nothing
// (QueueRing::stores_own_head): a few microseconds a sleep, where a fence
// in every receive cost the consumer most of its time.
template <typename Attempt, typename WorthTrying>
Status produce(Client::Impl& impl, QueueRing& ring, Timeout timeout, const Deadline& deadline, Attempt attempt,
               WorthTrying worth_trying) {
    if (ring.geometry().overflow == layout::overflow_reject) return attempt(deadline);
    const auto may_have_room = [&] { return ring.may_have_room(); };
    const auto sleep_limit = [&]() -> std::uint64_t {
        if (ring.waiters_must_fence_for_consumers()) platform::fence_registered_processes();
        return may_have_room() ? 0 : detail::sleep_slice_ns();
    };
    return detail::wait_until_done(impl, ring.control().not_full, timeout, deadline, attempt, worth_trying,
                                   may_have_room, sleep_limit);
}

// A send or a batch that finds the queue full waits, while it spins, for
// room for a run of messages rather than for one slot. Claiming each slot the
// moment a consumer frees it keeps both ends on the same few slots (with the
// ring full, the slot at tail is the very one the consumer is taking at
// head), and every message then moves their cache lines between the two
// CPUs twice (measured between two Python processes, 64 B batches: the
// consumer took 0.48 µs a message, against 0.07 µs draining the same queue
// alone; 64 B single sends against the limit ring: 0.45-0.50x waiting for
// one slot, 0.57x for 16). At most half the ring, so that both ends keep
// working. The wait still tries now and then whatever this says, and decides
// whether to sleep on any room at all (a sleeping producer is woken at each
// freed slot), so room for fewer messages is still used.
constexpr std::uint64_t batch_room = 64;
// A single send waits for room for the sends that most likely follow it.
constexpr std::uint64_t send_room = 16;

std::uint64_t room_worth_waiting_for(std::size_t left, std::uint32_t capacity) {
    return std::max<std::uint64_t>(1, std::min<std::uint64_t>({left, batch_room, capacity / 2}));
}

// A producer marks a message ready with a plain store and then looks for
// sleepers with no fence between (QueueRing::mark_ready), so a consumer that
// armed its event just then may be missed. What orders the two sides is the
// producer's earlier move of tail: a consumer that finds tail past head
// after arming does not count on a wake-up, and sleeps only briefly, each
// time twice as long, while that message is still being written. One that
// finds nothing claimed sleeps until woken: the next claim's producer sees
// it armed (docs/crash-safety.md, "Wake-ups"). On a queue with a single
// producer, whose move of tail is a plain store too (QueueRing::
// stores_own_tail), the consumer fences for it after arming.
constexpr std::uint64_t first_brief_sleep_ns = 50'000;

// A receive that waits by sleeping (WaitStrategy::block) and finds the
// position at head claimed, its message still being copied in, polls for it
// up to this long before it sleeps. The copy takes well under a microsecond,
// whereas a sleep costs the consumer a wake-up (~20 µs on an idle core) and
// the producer the system call that makes it. Past this the producer was
// most likely preempted mid-copy, and a sleep is the right answer. (A
// spinning receive polls anyway; the look at tail this takes would pull the
// producers' line at every empty try of its spin.) Measured, 64 B
// many-to-many under `block`, where consumers keep catching producers
// mid-copy: a fifth of the futex calls, and in the host's fast phase 2x2 at
// 1.1-1.2x of 1x1 instead of 0.5-0.9x (docs/benchmarks.md).
constexpr std::uint64_t claim_in_flight_poll_ns = 2'000;

template <typename Attempt>
Status consume(Client::Impl& impl, QueueRing& ring, Timeout timeout, const Deadline& deadline, Attempt attempt) {
    const auto may_have_message = [&] { return ring.may_have_message(); };
    const bool sleeps_at_once = impl.options.wait == WaitStrategy::block;
    const auto attempt_through_claim = [&](const Deadline& at) {
        const Status status = attempt(at);
        if (status != Status::empty || !sleeps_at_once || !ring.claim_pending_at_head()) return status;
        return detail::poll_briefly(may_have_message, claim_in_flight_poll_ns) ? attempt(at) : status;
    };
    std::uint64_t brief_sleep_ns = first_brief_sleep_ns;
    const auto sleep_limit = [&]() -> std::uint64_t {
        if (ring.waiters_must_fence_for_producers()) platform::fence_registered_processes();
        if (may_have_message()) return 0;
        if (!ring.claim_pending_at_head()) return detail::sleep_slice_ns();
        return std::exchange(brief_sleep_ns, std::min(brief_sleep_ns * 2, detail::sleep_slice_ns()));
    };
    return detail::wait_until_done(impl, ring.control().not_empty, timeout, deadline, attempt_through_claim,
                                   may_have_message, may_have_message, sleep_limit);
}

}  // namespace

// What send, send_batch, receive and receive_batch share: the broker's state
// first, then the role (what the reaper and the detach look at), and
// `on_ring(impl, ring, stamp, deadline)`, which copies in or out. A ring
// that a reload superseded answers queue_removed: the call goes on with
// `on_successor(next, left)` in the successor, with what is left of the
// timeout.
template <typename OnRing, typename OnSuccessor>
Status Queue::transfer(std::uint8_t role, Timeout timeout, OnRing on_ring, OnSuccessor on_successor) {
    auto& impl = *client_->impl_;
    if (impl.view.broker_stopping()) return Status::broker_stopped;
    auto& ring = impl.view.ring(index_);
    note_role(role);
    const auto deadline = detail::deadline_after(timeout);
    const Status status = on_ring(impl, ring, impl.stamp, deadline);
    if (status != Status::queue_removed) return status;
    Queue next = successor();
    return next.is_open() ? on_successor(next, detail::remaining(timeout, deadline)) : status;
}

// The common send finds room at once, and the common receive a message: a
// first try with nothing around it settles them. Only a call that must wait,
// or that met a queue a reload retired, goes the whole way (transfer), which
// tries again: its setup around one try was as many instructions as the
// try's own claim or take (callgrind, docs/benchmarks.md).
Status Queue::send(const void* data, std::size_t size, Timeout timeout) {
    if (client_ == nullptr) return Status::invalid_argument;
    auto& impl = *client_->impl_;
    if (impl.view.broker_stopping()) return Status::broker_stopped;
    auto& ring = impl.view.ring(index_);
    note_role(layout::role_producer);
    const Status first = ring.try_send(data, size, impl.stamp);
    // Under reject a full queue is the answer (and a second try would count
    // a second refusal).
    const bool may_wait = first == Status::queue_full && timeout != no_wait &&
                          ring.geometry().overflow != layout::overflow_reject;
    if (!may_wait && first != Status::queue_removed) return first;
    return send_waiting(data, size, timeout, first);
}

// The wait's first try would repeat send()'s at once, moving the slot's
// cache line for nothing: it answers what that one did.
Status Queue::send_waiting(const void* data, std::size_t size, Timeout timeout, Status first) {
    bool tried = true;
    return transfer(
        layout::role_producer, timeout,
        [&](Client::Impl& impl, QueueRing& ring, const OwnerStamp stamp, const Deadline& deadline) {
            return produce(impl, ring, timeout, deadline,
                           [&](const Deadline&) {
                               return std::exchange(tried, false) ? first : ring.try_send(data, size, stamp);
                           },
                           [&] {
                               return ring.may_have_room_for(
                                   room_worth_waiting_for(send_room, ring.geometry().capacity));
                           });
        },
        [&](Queue& next, Timeout left) { return next.send(data, size, left); });
}

Status Queue::send_batch(const OutgoingMessage* messages, std::size_t count, std::size_t& sent, Timeout timeout) {
    sent = 0;
    if (client_ == nullptr) return Status::invalid_argument;
    return transfer(
        layout::role_producer, timeout,
        [&](Client::Impl& impl, QueueRing& ring, const OwnerStamp stamp, const Deadline& deadline) {
            // A producer that spins hands a batch over grouped, for
            // consumers that most likely spin too; one that blocks, eagerly.
            const auto handoff = impl.options.wait == WaitStrategy::block ? QueueRing::Handoff::eager
                                                                          : QueueRing::Handoff::grouped;
            return produce(impl, ring, timeout, deadline, [&](const Deadline&) {
                Status status = Status::ok;
                sent += ring.try_send_batch(messages + sent, count - sent, stamp, handoff, status);
                return status;
            }, [&] { return ring.may_have_room_for(room_worth_waiting_for(count - sent, ring.geometry().capacity)); });
        },
        [&](Queue& next, Timeout left) {
            std::size_t more = 0;
            const Status rest = next.send_batch(messages + sent, count - sent, more, left);
            sent += more;
            return rest;
        });
}

Status Queue::receive(void* buffer, std::size_t capacity, std::size_t& size, Timeout timeout, std::uint64_t* delivery) {
    size = 0;
    if (client_ == nullptr) return Status::invalid_argument;
    auto& impl = *client_->impl_;
    if (impl.view.broker_stopping()) return Status::broker_stopped;
    note_role(layout::role_consumer);
    std::uint64_t token = 0;
    const Status first =
        impl.view.ring(index_).try_receive(buffer, capacity, size, token, impl.stamp, QueueRing::Look::quick);
    if (delivery != nullptr) *delivery = token;
    if ((first != Status::empty || timeout == no_wait) && first != Status::queue_removed) return first;
    return receive_waiting(buffer, capacity, size, timeout, delivery, first);
}

// As send_waiting: the wait's first try answers what receive()'s quick one
// did (a second try at once would read tail, the producers' cache line);
// the tries after it check the slot against tail.
Status Queue::receive_waiting(void* buffer, std::size_t capacity, std::size_t& size, Timeout timeout,
                              std::uint64_t* delivery, Status first) {
    bool tried = true;
    return transfer(
        layout::role_consumer, timeout,
        [&](Client::Impl& impl, QueueRing& ring, const OwnerStamp stamp, const Deadline& deadline) {
            std::uint64_t token = 0;
            const Status status = consume(impl, ring, timeout, deadline, [&](const Deadline&) {
                if (std::exchange(tried, false)) return first;
                return ring.try_receive(buffer, capacity, size, token, stamp, QueueRing::Look::checking);
            });
            if (delivery != nullptr) *delivery = token;
            return status;
        },
        // Drained: nothing of it can be delivered again, so the successor's
        // messages come after every one of its own.
        [&](Queue& next, Timeout left) { return next.receive(buffer, capacity, size, left, delivery); });
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
    return transfer(
        layout::role_consumer, timeout,
        [&](Client::Impl& impl, QueueRing& ring, const OwnerStamp stamp, const Deadline& deadline) {
            auto look = QueueRing::Look::quick;  // the first try's; the wait's check
            return consume(impl, ring, timeout, deadline, [&](const Deadline&) {
                Status status = Status::ok;
                received = ring.try_receive_batch(messages, count, stamp, std::exchange(look, QueueRing::Look::checking),
                                                  status);
                return status;
            });
        },
        // What this ring gave is returned before anything of the successor's.
        [&](Queue& next, Timeout left) {
            return received != 0 ? Status::queue_removed : next.receive_batch(messages, count, received, left);
        });
}

Status Queue::peek(std::size_t max_count, std::vector<std::string>& messages) {
    if (client_ == nullptr) return Status::invalid_argument;
    auto& impl = *client_->impl_;
    if (impl.view.broker_stopping()) return Status::broker_stopped;
    const auto& ring = impl.view.ring(index_);
    if (ring.control().quarantined.load(std::memory_order_relaxed) != 0) return Status::queue_quarantined;
    // No role is noted: a look is not consuming, and changes nothing.
    const auto before = messages.size();
    ring.peek(max_count, messages);
    const auto seen = messages.size() - before;
    Queue next = successor();
    return next.is_open() && seen < max_count ? next.peek(max_count - seen, messages) : Status::ok;
}

Status Queue::acknowledge(std::uint64_t delivery) {
    if (client_ == nullptr) return Status::invalid_argument;
    auto& impl = *client_->impl_;
    // A delivery of the successor's is only made once this ring was drained,
    // when it holds no unacknowledged delivery that the token could match.
    const Status status = impl.view.ring(index_).acknowledge(delivery, impl.stamp);
    return status == Status::not_acknowledgeable ? successor_acknowledge(delivery) : status;
}

Status Queue::acknowledge_batch(const std::uint64_t* deliveries, std::size_t count, std::size_t& acknowledged) {
    acknowledged = 0;
    if (client_ == nullptr || (deliveries == nullptr && count > 0)) return Status::invalid_argument;
    auto& impl = *client_->impl_;
    Status status = Status::ok;
    // In chunks, so that the results need no allocation.
    constexpr std::size_t chunk = 64;
    Status results[chunk];
    for (std::size_t done = 0; done < count;) {
        const std::size_t size = std::min(chunk, count - done);
        acknowledged += impl.view.ring(index_).acknowledge_batch(deliveries + done, size, impl.stamp, results);
        for (std::size_t i = 0; i < size; ++i) {
            if (results[i] == Status::ok) continue;
            // As acknowledge(): a delivery of the successor's, made once this
            // ring was drained (rare: a reload changed the queue).
            const Status again = successor_acknowledge(deliveries[done + i]);
            if (again == Status::ok) {
                ++acknowledged;
            } else {
                status = again;
            }
        }
        done += size;
    }
    return status;
}

Status Queue::successor_acknowledge(std::uint64_t delivery) {
    Queue next = successor();
    return next.is_open() ? next.acknowledge(delivery) : Status::not_acknowledgeable;
}

Status Queue::delivery_position(std::uint64_t delivery, std::uint64_t& position) const {
    if (client_ == nullptr) return Status::invalid_argument;
    auto& impl = *client_->impl_;
    const Status status = impl.view.ring(index_).delivery_position(delivery, impl.stamp, position);
    if (status != Status::not_acknowledgeable) return status;
    const Queue next = successor();
    return next.is_open() ? next.delivery_position(delivery, position) : status;
}

}  // namespace shmq
