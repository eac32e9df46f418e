// Publishing: copy a message into a topic's ring, or lend a slot of it to the
// caller (a Loan) and publish that, waiting when the slot to reuse is still
// needed.
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
    return client_->impl_->view.topic(index_).geometry().max_message_size;
}

std::uint32_t Topic::capacity() const { return client_->impl_->view.topic(index_).geometry().capacity; }

std::uint32_t Topic::history() const { return client_->impl_->view.topic(index_).geometry().history; }

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
    auto attempt = [&](const Deadline&) { return ring.try_publish(data, size, stamp); };
    return detail::wait_until_done(impl, ring.control().room, timeout, attempt, [&] { return ring.may_have_room(); });
}

Status Topic::loan(std::size_t size, Loan& loan, Timeout timeout) {
    loan.cancel();
    if (client_ == nullptr) return Status::invalid_argument;
    auto& impl = *client_->impl_;
    if (impl.view.broker_stopping()) return Status::broker_stopped;
    auto& ring = impl.view.topic(index_);
    if (size > ring.geometry().max_message_size) return Status::message_too_large;
    note_publisher();
    const auto stamp = impl.stamp;
    std::uint64_t position = 0;
    auto attempt = [&](const Deadline&) { return ring.claim(stamp, position); };
    const Status status =
        detail::wait_until_done(impl, ring.control().room, timeout, attempt, [&] { return ring.may_have_room(); });
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
