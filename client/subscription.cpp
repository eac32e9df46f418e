// Subscribing: receive every message of a topic through a cursor of one's
// own, by copy or in place (a View pins its slot), waiting for the next one
// to be published.
#include <utility>

#include "client_impl.hpp"
#include "shmq/client.hpp"
#include "wait_loop.hpp"

namespace shmq {

View& View::operator=(View&& other) noexcept {
    if (this != &other) {
        release();
        ring_ = std::exchange(other.ring_, nullptr);
        handle_ = other.handle_;
        message_ = std::exchange(other.message_, PinnedMessage{});
    }
    return *this;
}

void View::release() {
    if (ring_ == nullptr) return;
    ring_->release_view(handle_, message_);
    ring_ = nullptr;
    message_ = PinnedMessage{};
}

Subscription& Subscription::operator=(Subscription&& other) noexcept {
    if (this != &other) {
        unsubscribe();
        client_ = std::exchange(other.client_, nullptr);
        topic_ = other.topic_;
        handle_ = std::exchange(other.handle_, SubscriberHandle{});
    }
    return *this;
}

const std::string& Subscription::topic() const {
    static const std::string none;
    return client_ == nullptr ? none : client_->impl_->view.topic_name(topic_);
}

Status Subscription::receive(void* buffer, std::size_t capacity, std::size_t& size, Timeout timeout) {
    size = 0;
    if (client_ == nullptr) return Status::invalid_argument;
    auto& impl = *client_->impl_;
    if (impl.view.broker_stopping()) return Status::broker_stopped;
    auto& ring = impl.view.topic(topic_);
    auto attempt = [&](const Deadline&) { return ring.try_receive(handle_, buffer, capacity, size); };
    return detail::wait_until_done(impl, ring.control().published, timeout, attempt,
                                   [&] { return ring.may_have_message(handle_); });
}

Status Subscription::receive(std::string& message, Timeout timeout) {
    if (client_ == nullptr) return Status::invalid_argument;
    message.resize(client_->impl_->view.topic(topic_).geometry().max_message_size);
    std::size_t size = 0;
    const Status status = receive(message.data(), message.size(), size, timeout);
    message.resize(status == Status::ok ? size : 0);
    return status;
}

Status Subscription::read(View& view, Timeout timeout) {
    view.release();
    if (client_ == nullptr) return Status::invalid_argument;
    auto& impl = *client_->impl_;
    if (impl.view.broker_stopping()) return Status::broker_stopped;
    auto& ring = impl.view.topic(topic_);
    PinnedMessage message;
    auto attempt = [&](const Deadline&) { return ring.try_read(handle_, message); };
    const Status status = detail::wait_until_done(impl, ring.control().published, timeout, attempt,
                                                  [&] { return ring.may_have_message(handle_); });
    if (status != Status::ok) return status;
    view.ring_ = &ring;
    view.handle_ = handle_;
    view.message_ = message;
    return Status::ok;
}

std::uint64_t Subscription::received() const {
    if (client_ == nullptr) return 0;
    return client_->impl_->view.topic(topic_).counters(handle_.index).received;
}

std::uint64_t Subscription::lost() const {
    if (client_ == nullptr) return 0;
    return client_->impl_->view.topic(topic_).counters(handle_.index).lost;
}

void Subscription::unsubscribe() {
    if (client_ == nullptr) return;
    client_->impl_->view.topic(topic_).unsubscribe(handle_);
    client_ = nullptr;
    handle_ = SubscriberHandle{};
}

}  // namespace shmq
