// Subscribing: receive every message of a topic through a cursor of one's
// own, by copy or in place (a View pins its slot), waiting for the next one
// to be published. A topic a reload changed the settings of is superseded
// by a successor of the same name: a subscription reads the old ring to its
// end, then goes on in the successor from its first message
// (docs/crash-safety.md, "Live settings change").
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

Client::Impl::FollowingKey key_of(std::uint32_t topic, std::uint32_t subscriber, std::uint64_t word) {
    return {topic, subscriber, word};
}

// What this part knows of a subscription that follows a superseded topic:
// above all the counts of the rings it read before the current one.
Client::Impl::Following following_of(Client::Impl& impl, std::uint32_t topic, std::uint32_t subscriber,
                                     std::uint64_t word) {
    std::lock_guard<std::mutex> lock(impl.follow_mutex);
    const auto found = impl.following.find(key_of(topic, subscriber, word));
    return found == impl.following.end() ? Client::Impl::Following{} : found->second;
}

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

// Joined at the first receive or read that sees the mark, not only once the
// old ring is read to its end: from then on the successor's publishers count
// this subscription (under block they wait for it), so what they publish
// while it still reads the old ring is kept for it. Tried again at the next
// call when there is no successor (yet) or no free record in it.
void Subscription::join_successor() {
    auto& impl = *client_->impl_;
    const auto key = key_of(topic_, subscriber_, subscriber_word_);
    {
        std::lock_guard<std::mutex> lock(impl.follow_mutex);
        const auto found = impl.following.find(key);
        if (found != impl.following.end() && found->second.part != nullptr) return;
    }
    const Topic next = Topic(client_, topic_).successor();
    if (!next.is_open()) return;
    auto& next_impl = *next.client_->impl_;
    // The role first, as Client::subscribe: the reaper and the detach look
    // for the subscription by it.
    mark_role(next_impl.view.topic_role(next_impl.stamp.client_index, next.index_), layout::role_consumer);
    SubscriberHandle handle;
    if (next_impl.view.topic(next.index_).subscribe_from_start(next_impl.stamp, handle) != Status::ok) return;
    std::lock_guard<std::mutex> lock(impl.follow_mutex);
    auto& following = impl.following[key];
    following.part = next.client_;
    following.topic = next.index_;
    following.handle = handle;
}

// The old ring is read to its end: the subscription goes on in the
// successor, with the counts so far, and gives its record here up. Views of
// the old ring stay readable until released: nothing is published into it
// again, and its segment stays mapped as long as the Client. False when
// there is no successor to go on in (the topic was removed, or the
// successor has no free subscriber record).
bool Subscription::move_to_successor() {
    join_successor();
    auto& impl = *client_->impl_;
    Client::Impl::Following following;
    {
        std::lock_guard<std::mutex> lock(impl.follow_mutex);
        const auto found = impl.following.find(key_of(topic_, subscriber_, subscriber_word_));
        if (found == impl.following.end() || found->second.part == nullptr) return false;
        following = found->second;
        impl.following.erase(found);
    }
    auto& ring = impl.view.topic(topic_);
    const auto counters = ring.counters(subscriber_);
    ring.unsubscribe(subscriber_of(subscriber_, subscriber_word_));
    client_ = following.part;
    topic_ = following.topic;
    subscriber_ = following.handle.index;
    subscriber_word_ = following.handle.word;
    Client::Impl::Following carried;
    carried.received_before = following.received_before + counters.received;
    carried.lost_before = following.lost_before + counters.lost;
    auto& next_impl = *client_->impl_;
    std::lock_guard<std::mutex> lock(next_impl.follow_mutex);
    next_impl.following[key_of(topic_, subscriber_, subscriber_word_)] = carried;
    return true;
}

// The wait receive() and read() share: `attempt(ring, handle)` on the ring
// the subscription reads now, and once a superseded ring is read to its end
// (queue_removed), again in the successor, with the same deadline.
template <typename Attempt>
Status Subscription::wait_following(Timeout timeout, Attempt attempt) {
    const auto deadline = detail::deadline_after(timeout);
    for (;;) {
        auto& impl = *client_->impl_;
        if (impl.view.broker_stopping()) return Status::broker_stopped;
        auto& ring = impl.view.topic(topic_);
        if (ring.retired()) join_successor();
        const auto handle = subscriber_of(subscriber_, subscriber_word_);
        const auto once = [&](const Deadline&) { return attempt(ring, handle); };
        const auto ready = [&] { return ring.may_have_message(handle); };
        const Status status =
            detail::wait_until_done(impl, ring.control().published, timeout, deadline, once, ready, ready);
        if (status != Status::queue_removed || !move_to_successor()) return status;
    }
}

Status Subscription::receive(void* buffer, std::size_t capacity, std::size_t& size, Timeout timeout) {
    size = 0;
    if (client_ == nullptr) return Status::invalid_argument;
    return wait_following(timeout, [&](TopicRing& ring, const SubscriberHandle& handle) {
        return ring.try_receive(handle, buffer, capacity, size);
    });
}

Status Subscription::receive(std::string& message, Timeout timeout) {
    if (client_ == nullptr) return Status::invalid_argument;
    for (;;) {
        const auto longest = client_->impl_->view.topic(topic_).geometry().max_message_size;
        message.resize(longest);
        std::size_t size = 0;
        const Status status = receive(message.data(), message.size(), size, timeout);
        // It went on to a successor that holds longer messages: the message
        // waits there, to be read again with room for it.
        if (status == Status::buffer_too_small &&
            client_->impl_->view.topic(topic_).geometry().max_message_size > longest) {
            continue;
        }
        message.resize(status == Status::ok ? size : 0);
        return status;
    }
}

Status Subscription::read(View& view, Timeout timeout) {
    view.release();
    if (client_ == nullptr) return Status::invalid_argument;
    TopicRing* read_from = nullptr;
    PinnedMessage message;
    const Status status = wait_following(timeout, [&](TopicRing& ring, const SubscriberHandle& handle) {
        read_from = &ring;
        return ring.try_read(handle, message);
    });
    if (status != Status::ok) return status;
    view.ring_ = read_from;
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
    auto& impl = *client_->impl_;
    return following_of(impl, topic_, subscriber_, subscriber_word_).received_before +
           impl.view.topic(topic_).counters(subscriber_).received;
}

std::uint64_t Subscription::lost() const {
    if (client_ == nullptr) return 0;
    auto& impl = *client_->impl_;
    return following_of(impl, topic_, subscriber_, subscriber_word_).lost_before +
           impl.view.topic(topic_).counters(subscriber_).lost;
}

void Subscription::unsubscribe() {
    if (client_ == nullptr) return;
    auto& impl = *client_->impl_;
    Client::Impl::Following following;
    {
        std::lock_guard<std::mutex> lock(impl.follow_mutex);
        const auto found = impl.following.find(key_of(topic_, subscriber_, subscriber_word_));
        if (found != impl.following.end()) {
            following = found->second;
            impl.following.erase(found);
        }
    }
    if (following.part != nullptr) {
        following.part->impl_->view.topic(following.topic).unsubscribe(following.handle);
    }
    impl.view.topic(topic_).unsubscribe(subscriber_of(subscriber_, subscriber_word_));
    client_ = nullptr;
    subscriber_word_ = 0;
}

}  // namespace shmq
