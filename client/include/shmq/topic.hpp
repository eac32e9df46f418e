// libshmq publish/subscribe: fan-out topics next to the queues.
//
//     shmq::Topic prices;
//     client->open_topic("prices", prices);
//     prices.publish("EURUSD 1.0842");
//
//     shmq::Subscription subscription;
//     client->subscribe("prices", subscription);   // from now on, every message
//     std::string message;
//     subscription.receive(message, std::chrono::seconds(1));
//
// Zero copy: a publisher fills a buffer inside the segment and publishes it
// (Topic::loan, Loan::data, Topic::publish(Loan&)); a subscriber reads a
// message in place through a View that pins it until released.
//
// Every subscriber receives every message published after it subscribed (and
// the history it asked for), in publish order per publisher. When the slowest
// subscriber is a whole ring behind, the topic's slow_subscriber policy says
// what happens: `block` makes publishers wait (or time out), `drop` makes that
// subscriber lose its oldest unread message, counted in lost(). A view pins its
// slot under both policies, so a view held for long holds publishers up.
//
// A reload that changes a topic's settings gives it a successor of the same
// name: handles opened before follow it without a reattach. Publishes go to
// the successor at once; a subscription reads the old ring to its end, then
// the successor from its first message (docs/crash-safety.md, "Live settings
// change"). Views of the old ring stay readable until released.
//
// Calls never throw; each returns a shmq::Status. This header is included by
// shmq/client.hpp; it may also be included on its own.
#pragma once

#include "shmq/client.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace shmq {

// The ring of a topic inside the segment: opaque to users, who hold it only
// through a Loan or a View.
class TopicRing;

struct SubscribeOptions {
    // How many of the latest messages to receive before the live ones: at
    // most the topic's configured `history`, and only what the ring still
    // holds. 0: only messages published from now on.
    std::uint32_t from_history = 0;
    // Kept for compatibility: subscribing takes no lock and never waits
    // (it was the wait for the topic's publisher lock, which is gone).
    Timeout timeout = wait_forever;
};

// A slot of a topic's ring lent to a publisher: fill data(), then publish it
// with Topic::publish(Loan&). Destroying or cancelling an unpublished loan
// gives the slot up; subscribers skip it. Until it is published or given up,
// subscribers wait at its position (messages are delivered in ring order), so
// fill it promptly. Move-only; must not outlive its Client.
class SHMQ_API Loan {
public:
    Loan() = default;
    ~Loan() { cancel(); }
    Loan(Loan&& other) noexcept { *this = std::move(other); }
    Loan& operator=(Loan&& other) noexcept;
    Loan(const Loan&) = delete;
    Loan& operator=(const Loan&) = delete;

    // True between a successful Topic::loan() and its publish or cancel.
    bool is_active() const { return ring_ != nullptr; }
    // The buffer to fill, inside the segment: capacity() bytes are writable.
    void* data() { return data_; }
    // How many bytes publish() sends: the size asked for in Topic::loan().
    std::size_t size() const { return size_; }
    // The topic's max_message_size.
    std::size_t capacity() const { return capacity_; }
    // Changes how many bytes publish() sends. message_too_large above
    // capacity(), invalid_argument when the loan is not active.
    Status resize(std::size_t size);
    // Gives the slot up unpublished; subscribers skip it. Does nothing when
    // the loan is not active.
    void cancel();

private:
    friend class Topic;
    // Which client claimed the slot (its record and generation), so that
    // cancel() gives up only this loan's claim.
    TopicRing* ring_ = nullptr;
    std::uint16_t owner_record_ = 0;
    std::uint32_t owner_generation_ = 0;
    std::uint64_t position_ = 0;
    std::byte* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

// A handle for publishing to one topic of an attached Client. Cheap to copy;
// valid while the Client lives; usable from any number of threads at once.
class SHMQ_API Topic {
public:
    Topic() = default;

    bool is_open() const { return client_ != nullptr; }
    const std::string& name() const;
    // The settings of the ring publishes go to: after a reload changed the
    // topic's settings, its successor's.
    std::uint32_t max_message_size() const;
    std::uint32_t capacity() const;
    std::uint32_t history() const;  // most history a subscriber may ask for

    // Publishes a copy of `data`. Waits while the slot to reuse is still
    // needed (block: the slowest subscriber has not read its message yet;
    // either policy: a view pins it, or its publisher is still writing it)
    // until the timeout passes (timeout; no_wait: queue_full) or the broker
    // stops (broker_stopped). message_too_large above max_message_size.
    Status publish(const void* data, std::size_t size, Timeout timeout = wait_forever);
    Status publish(std::string_view message, Timeout timeout = wait_forever) {
        return publish(message.data(), message.size(), timeout);
    }

    // Claims the next slot of the ring for `loan`, waiting as publish() does;
    // `size` is how many bytes publish(Loan&) will send (message_too_large
    // above max_message_size). A loan still active in `loan` is cancelled
    // first.
    Status loan(std::size_t size, Loan& loan, Timeout timeout = wait_forever);
    // Publishes the loan's size() bytes; the loan is then no longer active.
    // Never waits. invalid_argument when the loan is not active.
    Status publish(Loan& loan);

private:
    friend class Client;
    friend class Subscription;
    Topic(Client* client, std::uint32_t index) : client_(client), index_(index) {}
    SHMQ_LOCAL void note_publisher();
    // The topic of the same name that took this one's place when a reload
    // changed its settings (client/topic.cpp); not open when there is none.
    SHMQ_LOCAL Topic successor() const;

    Client* client_ = nullptr;
    std::uint32_t index_ = 0;
};

// A message read in place, inside the segment. Its slot is pinned (no
// publisher reuses it) until release() or destruction, even if this
// subscriber falls behind under `drop`, and even if other subscribers die.
// Move-only. Release views before their Subscription ends: ending it releases
// them, after which data() must not be used. A View may be released from any
// thread.
class SHMQ_API View {
public:
    View() = default;
    ~View() { release(); }
    View(View&& other) noexcept { *this = std::move(other); }
    View& operator=(View&& other) noexcept;
    View(const View&) = delete;
    View& operator=(const View&) = delete;

    bool is_valid() const { return ring_ != nullptr; }
    // The message, read-only: size() bytes.
    const void* data() const { return data_; }
    std::size_t size() const { return size_; }
    std::string_view text() const { return std::string_view(reinterpret_cast<const char*>(data_), size_); }
    // The message's position in the topic's ring: one more for each message
    // published to the topic (a loan given up also takes one), the same for
    // every subscriber. It is the message's place in the topic's order for as
    // long as the broker runs on this segment, so a subscriber that stopped
    // may tell, from the position it last read, which messages of the history
    // it has already seen and whether some are gone.
    std::uint64_t position() const { return position_; }
    // Unpins the message; does nothing when the view holds none.
    void release();

private:
    friend class Subscription;
    // The subscriber record (and its word, which tells this subscription
    // from a later one in the same record) and the pin that release() drops.
    TopicRing* ring_ = nullptr;
    std::uint32_t subscriber_ = 0;
    std::uint64_t subscriber_word_ = 0;
    const std::byte* data_ = nullptr;
    std::size_t size_ = 0;
    std::uint64_t position_ = 0;
    std::uint32_t pin_entry_ = 0;
};

// One subscription to a topic, from Client::subscribe() until destruction
// or unsubscribe(). Move-only; must not outlive its Client. Use it from one
// thread at a time.
class SHMQ_API Subscription {
public:
    Subscription() = default;
    ~Subscription() { unsubscribe(); }
    Subscription(Subscription&& other) noexcept { *this = std::move(other); }
    Subscription& operator=(Subscription&& other) noexcept;
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;

    bool is_active() const { return client_ != nullptr; }
    // The topic's name; empty when not subscribed.
    const std::string& topic() const;

    // Copies the next message into `buffer`, waiting until one is published,
    // the timeout passes (timeout; no_wait: empty) or the broker stops
    // (broker_stopped). buffer_too_small leaves the message to be read again
    // with a larger buffer. invalid_argument when not subscribed.
    Status receive(void* buffer, std::size_t capacity, std::size_t& size, Timeout timeout = wait_forever);
    // Convenience: receives into `message`, sized to fit.
    Status receive(std::string& message, Timeout timeout = wait_forever);
    // Hands out the next message in place, waiting as receive() does. A view
    // already held in `view` is released first. At most
    // layout::max_views_per_subscriber (4) views at once: too_many_views
    // beyond.
    Status read(View& view, Timeout timeout = wait_forever);

    // Messages delivered by receive() and read() so far.
    std::uint64_t received() const;
    // Messages this subscription lost under the `drop` policy: published
    // after it subscribed, but overwritten before it read them (after a
    // reload changed the topic's settings, in the old ring and its
    // successor together).
    std::uint64_t lost() const;
    // Ends the subscription now, releasing its views; publishers no longer
    // wait for it. Does nothing when not subscribed.
    void unsubscribe();

private:
    friend class Client;
    // After a reload changed the topic's settings (client/subscription.cpp):
    // join its successor from its first message, as soon as the change is
    // seen; and once this ring is read to its end, go on there.
    SHMQ_LOCAL void join_successor();
    SHMQ_LOCAL bool move_to_successor();
    // What receive() and read() share: the wait, and going on in the
    // successor (client/subscription.cpp).
    template <typename Attempt>
    SHMQ_LOCAL Status wait_following(Timeout timeout, Attempt attempt);
    Client* client_ = nullptr;
    std::uint32_t topic_ = 0;
    std::uint32_t subscriber_ = 0;       // as View's
    std::uint64_t subscriber_word_ = 0;  // 0: no subscription
};

}  // namespace shmq
