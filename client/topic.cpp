// Publishing: copy a message into a topic's ring, or lend a slot of it to the
// caller (a Loan) and publish that, waiting when the slot to reuse is still
// needed. A topic a reload changed the settings of is superseded by a
// successor of the same name: publishes it refuses go there
// (docs/crash-safety.md, "Live settings change").
#include <utility>

#include "client_impl.hpp"
#include "common/topic_ring.hpp"
#include "shmq/client.hpp"
#include "wait_loop.hpp"

namespace shmq {

Loan& Loan::operator=(Loan&& other) noexcept {
    if (this != &other) {
        cancel();
        ring_ = std::exchange(other.ring_, nullptr);
        owner_record_ = other.owner_record_;
        owner_generation_ = other.owner_generation_;
        position_ = other.position_;
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        capacity_ = std::exchange(other.capacity_, 0);
    }
    return *this;
}

Status Loan::resize(std::size_t size) {
    if (ring_ == nullptr) return Status::invalid_argument;
    if (size > capacity_) return Status::message_too_large;
    size_ = size;
    return Status::ok;
}

void Loan::cancel() {
    if (ring_ == nullptr) return;
    ring_->abandon(position_, OwnerStamp{owner_record_, owner_generation_});
    ring_ = nullptr;
    data_ = nullptr;
    size_ = 0;
}

const std::string& Topic::name() const { return client_->impl_->view.topic_name(index_); }

std::uint32_t Topic::max_message_size() const {
    const Topic next = successor();
    return next.is_open() ? next.max_message_size() : client_->impl_->view.topic(index_).geometry().max_message_size;
}

std::uint32_t Topic::capacity() const {
    const Topic next = successor();
    return next.is_open() ? next.capacity() : client_->impl_->view.topic(index_).geometry().capacity;
}

std::uint32_t Topic::history() const {
    const Topic next = successor();
    return next.is_open() ? next.history() : client_->impl_->view.topic(index_).geometry().history;
}

// As Queue::successor: the mark is read once and trusted for nothing but
// which live segment to look in, one this process validates, of a generation
// above the one holding this topic (no loop), holding a topic of this name.
Topic Topic::successor() const {
    const auto retired = client_->impl_->view.topic(index_).control().retired.load(std::memory_order_seq_cst);
    Client* part = client_->live_segment(layout::successor_generation(retired));
    if (part == nullptr) return {};
    const auto& view = part->impl_->view;
    const auto index = view.find_topic(name());
    if (index == layout::no_queue || !view.topic_usable(index)) return {};
    return Topic(part, index);
}

void Topic::note_publisher() {
    mark_role(client_->impl_->view.topic_role(client_->impl_->stamp.client_index, index_), layout::role_producer);
}

Status Topic::publish(const void* data, std::size_t size, Timeout timeout) {
    if (client_ == nullptr) return Status::invalid_argument;
    auto& impl = *client_->impl_;
    if (impl.view.broker_stopping()) return Status::broker_stopped;
    auto& ring = impl.view.topic(index_);
    note_publisher();
    const auto stamp = impl.stamp;
    // The size is checked against the newest ring's limit, where it goes.
    auto attempt = [&](const Deadline&) {
        return size > ring.geometry().max_message_size && ring.retired() ? Status::queue_removed
                                                                          : ring.try_publish(data, size, stamp);
    };
    const auto deadline = detail::deadline_after(timeout);
    const auto ready = [&] { return ring.may_have_room(); };
    const Status status = detail::wait_until_done(impl, ring.control().room, timeout, deadline, attempt, ready, ready);
    if (status != Status::queue_removed) return status;
    Topic next = successor();
    return next.is_open() ? next.publish(data, size, detail::remaining(timeout, deadline)) : status;
}

Status Topic::loan(std::size_t size, Loan& loan, Timeout timeout) {
    loan.cancel();
    if (client_ == nullptr) return Status::invalid_argument;
    auto& impl = *client_->impl_;
    if (impl.view.broker_stopping()) return Status::broker_stopped;
    auto& ring = impl.view.topic(index_);
    const auto deadline = detail::deadline_after(timeout);
    const auto on_successor = [&] {
        Topic next = successor();
        return next.is_open() ? next.loan(size, loan, detail::remaining(timeout, deadline)) : Status::queue_removed;
    };
    if (size > ring.geometry().max_message_size) {
        return ring.retired() ? on_successor() : Status::message_too_large;
    }
    note_publisher();
    const auto stamp = impl.stamp;
    std::uint64_t position = 0;
    auto attempt = [&](const Deadline&) { return ring.claim(stamp, position); };
    const auto ready = [&] { return ring.may_have_room(); };
    const Status status = detail::wait_until_done(impl, ring.control().room, timeout, deadline, attempt, ready, ready);
    if (status == Status::queue_removed) return on_successor();
    if (status != Status::ok) return status;
    loan.ring_ = &ring;
    loan.owner_record_ = stamp.client_index;
    loan.owner_generation_ = stamp.generation;
    loan.position_ = position;
    loan.data_ = ring.payload(position);
    loan.size_ = size;
    loan.capacity_ = ring.geometry().max_message_size;
    return Status::ok;
}

Status Topic::publish(Loan& loan) {
    if (!loan.is_active()) return Status::invalid_argument;
    loan.ring_->publish(loan.position_, loan.size_, OwnerStamp{loan.owner_record_, loan.owner_generation_});
    loan.ring_ = nullptr;
    loan.data_ = nullptr;
    loan.size_ = 0;
    return Status::ok;
}

}  // namespace shmq
