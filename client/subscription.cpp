// Subscribing: receive every message of a topic through a cursor of one's
// own, by copy or in place (a View pins its slot), waiting for the next one
// to be published.
#include <utility>

#include "client_impl.hpp"
#include "common/topic_ring.hpp"
#include "shmq/client.hpp"
#include "wait_loop.hpp"

namespace shmq {

namespace {

// The public handles keep these internal records as plain fields, so that
// shmq/topic.hpp includes nothing of the library's internals.
SubscriberHandle subscriber_of(std::uint32_t index, std::uint64_t word) { return SubscriberHandle{index, word}; }

PinnedMessage pin_of(const std::byte* data, std::size_t size, std::uint64_t position, std::uint32_t entry) {
    PinnedMessage message;
    message.data = data;
    message.size = size;
    message.position = position;
    message.entry = entry;
    return message;
}

}  // namespace

View& View::operator=(View&& other) noexcept {
    if (this != &other) {
        release();
        ring_ = std::exchange(other.ring_, nullptr);
        subscriber_ = other.subscriber_;
        subscriber_word_ = other.subscriber_word_;
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        position_ = std::exchange(other.position_, 0);
        pin_entry_ = std::exchange(other.pin_entry_, 0);
    }
    return *this;
}

void View::release() {
    if (ring_ == nullptr) return;
    ring_->release_view(subscriber_of(subscriber_, subscriber_word_), pin_of(data_, size_, position_, pin_entry_));
    ring_ = nullptr;
    data_ = nullptr;
    size_ = 0;
    position_ = 0;
    pin_entry_ = 0;
}

Subscription& Subscription::operator=(Subscription&& other) noexcept {
    if (this != &other) {
        unsubscribe();
        client_ = std::exchange(other.client_, nullptr);
        topic_ = other.topic_;
        subscriber_ = other.subscriber_;
        subscriber_word_ = std::exchange(other.subscriber_word_, 0);
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
    const auto handle = subscriber_of(subscriber_, subscriber_word_);
    auto attempt = [&](const Deadline&) { return ring.try_receive(handle, buffer, capacity, size); };
    return detail::wait_until_done(impl, ring.control().published, timeout, attempt,
                                   [&] { return ring.may_have_message(handle); });
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
    const auto handle = subscriber_of(subscriber_, subscriber_word_);
    PinnedMessage message;
    auto attempt = [&](const Deadline&) { return ring.try_read(handle, message); };
    const Status status = detail::wait_until_done(impl, ring.control().published, timeout, attempt,
                                                  [&] { return ring.may_have_message(handle); });
    if (status != Status::ok) return status;
    view.ring_ = &ring;
    view.subscriber_ = subscriber_;
    view.subscriber_word_ = subscriber_word_;
    view.data_ = message.data;
    view.size_ = message.size;
    view.position_ = message.position;
    view.pin_entry_ = message.entry;
    return Status::ok;
}

std::uint64_t Subscription::received() const {
    if (client_ == nullptr) return 0;
    return client_->impl_->view.topic(topic_).counters(subscriber_).received;
}

std::uint64_t Subscription::lost() const {
    if (client_ == nullptr) return 0;
    return client_->impl_->view.topic(topic_).counters(subscriber_).lost;
}

void Subscription::unsubscribe() {
    if (client_ == nullptr) return;
    client_->impl_->view.topic(topic_).unsubscribe(subscriber_of(subscriber_, subscriber_word_));
    client_ = nullptr;
    subscriber_word_ = 0;
}

}  // namespace shmq
