// libshmq: attach to a running shmqd broker and move messages through its
// shared-memory queues and topics with no broker round trip on the data path.
// Topics (publish/subscribe) are in shmq/topic.hpp, included at the end.
//
//     std::unique_ptr<shmq::Client> client;
//     if (shmq::Client::attach({}, client) != shmq::Status::ok) ...
//     shmq::Queue orders;
//     client->open_queue("orders", orders);
//     orders.send("hello");
//     std::string message;
//     orders.receive(message, std::chrono::seconds(1));
//
// Calls never throw; each returns a shmq::Status (shmq/status.hpp). A Client
// and its Queue handles may be used from any number of threads at once, but
// a queue configured `producers: single` (`consumers: single`) is leased to
// the first thread that sends (receives) on it, until its Client detaches:
// any other thread, of this client or another, gets Status::exclusive_held.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "shmq/batch.hpp"
#include "shmq/export.h"
#include "shmq/stats.hpp"
#include "shmq/status.hpp"

namespace shmq {

using Timeout = std::chrono::nanoseconds;
inline constexpr Timeout wait_forever = Timeout::max();
inline constexpr Timeout no_wait = Timeout::zero();

// How a call that has to wait does so.
enum class WaitStrategy {
    block,            // sleep at once (least CPU, ~20 µs wake-up on an idle core);
                      // only a receive that finds a message mid-copy polls for
                      // it first, for at most 2 µs
    spin_then_block,  // poll for `spin` first (past 5 µs yielding the CPU between
                      // polls to other threads that want it), then sleep (the default)
    busy_poll         // never sleep (lowest latency, burns a core)
};

struct AttachOptions {
    // The broker's segment: its name (shared memory), or the absolute path of
    // a persistent broker's file; empty: $SHMQ_BROKER, else "shmq".
    std::string broker;
    WaitStrategy wait = WaitStrategy::spin_then_block;
    std::chrono::microseconds spin{50};
    std::string program;  // shown by `shmq stats`; empty: this process's name
    // Whose segment to trust, as a user name or id. A segment owned by anyone
    // else is refused (untrusted_segment), so that another local user cannot
    // pose as the broker. Empty: $SHMQ_BROKER_OWNER, else root, the `shmq`
    // system user, or this process's own user.
    std::string broker_owner;
};

class Client;
class Topic;
class Subscription;
struct SubscribeOptions;

// A handle on one queue of an attached Client. Cheap to copy; valid while the
// Client lives.
class SHMQ_API Queue {
public:
    Queue() = default;

    bool is_open() const { return client_ != nullptr; }
    const std::string& name() const;
    std::uint32_t max_message_size() const;
    std::uint32_t capacity() const;

    // Blocks (per the queue's overflow policy) until there is room, the
    // timeout passes (timeout), or the broker stops (broker_stopped).
    // no_wait makes it a try: queue_full instead of waiting.
    Status send(const void* data, std::size_t size, Timeout timeout = wait_forever);
    Status send(std::string_view message, Timeout timeout = wait_forever) {
        return send(message.data(), message.size(), timeout);
    }
    Status try_send(const void* data, std::size_t size) { return send(data, size, no_wait); }

    // Copies the next message into `buffer`. On an at_least_once queue the
    // message stays in flight until acknowledge(*delivery) (pass `delivery`);
    // unacknowledged, it is redelivered after the queue's ack timeout.
    Status receive(void* buffer, std::size_t capacity, std::size_t& size, Timeout timeout = wait_forever,
                   std::uint64_t* delivery = nullptr);
    Status try_receive(void* buffer, std::size_t capacity, std::size_t& size, std::uint64_t* delivery = nullptr) {
        return receive(buffer, capacity, size, no_wait, delivery);
    }
    // Convenience: receives into `message`, sized to fit.
    Status receive(std::string& message, Timeout timeout = wait_forever, std::uint64_t* delivery = nullptr);
    Status acknowledge(std::uint64_t delivery);
    // acknowledge() of each of `count` deliveries, in order; a producer
    // waiting for room is woken once for the slots they free rather than once
    // per slot. `acknowledged` counts those that were ok; not_acknowledgeable
    // when any was not (the others are acknowledged all the same).
    Status acknowledge_batch(const std::uint64_t* deliveries, std::size_t count, std::size_t& acknowledged);
    // Where in the queue an at_least_once delivery this client still holds
    // was queued: the ring position, counted from the segment's creation, the
    // same for every redelivery of the message (and across a broker restart
    // that adopts the segment). A stable identity for the message, e.g. for
    // deduplication downstream. not_acknowledgeable when the delivery is not
    // held (acknowledged, reclaimed, or another client's).
    Status delivery_position(std::uint64_t delivery, std::uint64_t& position) const;

    // Sends all `count` messages in order, waiting for room as needed; `sent`
    // says how many went before a timeout, queue_full or broker_stopped. A
    // batch holding a message over max_message_size sends nothing and
    // returns message_too_large.
    Status send_batch(const OutgoingMessage* messages, std::size_t count, std::size_t& sent,
                      Timeout timeout = wait_forever);
    // Waits for at least one message, then takes up to `count` that are ready.
    // no_wait makes it a try: empty instead of waiting.
    Status receive_batch(IncomingMessage* messages, std::size_t count, std::size_t& received,
                         Timeout timeout = wait_forever);

    // Appends copies of up to `max_count` waiting messages, oldest first, to
    // `messages` without taking them: nothing in the queue changes, and
    // consumers may take messages meanwhile (one taken while it was copied is
    // left out, never returned torn). Never waits; ok with none is an empty
    // queue. Deliveries awaiting redelivery are not shown.
    Status peek(std::size_t max_count, std::vector<std::string>& messages);

private:
    friend class Client;
    Queue(Client* client, std::uint32_t index) : client_(client), index_(index) {}
    SHMQ_LOCAL void note_role(std::uint8_t role);
    // The queue of the same name that took this one's place when a reload
    // changed its settings (client/queue.cpp); not open when there is none.
    SHMQ_LOCAL Queue successor() const;
    // The successor's acknowledge(): not_acknowledgeable without one.
    SHMQ_LOCAL Status successor_acknowledge(std::uint64_t delivery);
    // What send, send_batch, receive and receive_batch share
    // (client/queue.cpp).
    template <typename OnRing, typename OnSuccessor>
    SHMQ_LOCAL Status transfer(std::uint8_t role, Timeout timeout, OnRing on_ring, OnSuccessor on_successor);
    // send and receive the whole way, for a call whose first try, which
    // answered `first`, must wait or met a retired queue (client/queue.cpp).
    SHMQ_LOCAL Status send_waiting(const void* data, std::size_t size, Timeout timeout, Status first);
    SHMQ_LOCAL Status receive_waiting(void* buffer, std::size_t capacity, std::size_t& size, Timeout timeout,
                                      std::uint64_t* delivery, Status first);

    Client* client_ = nullptr;
    std::uint32_t index_ = 0;
};

// The broker's answer to Client::reload_configuration().
struct ReloadOutcome {
    enum class Result {
        applied,        // the file loaded and every change took effect
        needs_restart,  // the file loaded; the changes that can be made live were, the others wait for a restart
        refused         // the file did not load or validate: nothing changed
    };
    Result result = Result::refused;
    // The broker's report, one line each: what changed, what needs a
    // restart, or every error of the file (file:line: key).
    std::string report;
};

class SHMQ_API Client {
public:
    // Attaches to the broker's segment and takes a client record. On failure
    // `error` (if given) says what went wrong and names the segment.
    static Status attach(const AttachOptions& options, std::unique_ptr<Client>& client, std::string* error = nullptr);
    ~Client();  // detaches: gives the client record back
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    const std::string& broker_name() const;
    Status open_queue(std::string_view name, Queue& queue);
    std::vector<std::string> queue_names() const;
    // A handle for publishing to topic `name`: topic_not_found when the
    // broker has none of that name, queue_quarantined when it is corrupt.
    Status open_topic(std::string_view name, Topic& topic);
    // Subscribes to topic `name`: from now on, every message published to
    // it reaches `subscription` (after the history `options` asks for). A
    // subscription still active in `subscription` ends first. Besides
    // open_topic()'s statuses: too_many_subscribers when the topic's
    // max_subscribers are all taken. Subscribing takes no lock and never
    // waits (options.timeout is kept for compatibility).
    Status subscribe(std::string_view name, Subscription& subscription);
    Status subscribe(std::string_view name, Subscription& subscription, const SubscribeOptions& options);
    std::vector<std::string> topic_names() const;
    BrokerStats stats() const;
    // Why the queue or topic `name`, restricted to an access group, cannot be
    // used by this process (open_queue and the others then return
    // permission_denied, say): names the group and the segment, and says when
    // this process may only read it. Empty when `name` is not restricted, or
    // this process may use it.
    std::string access_error(std::string_view name) const;
    // Asks the broker to re-read its configuration file, as SIGHUP does, and
    // waits up to `timeout` for its answer in `outcome`. ok once it answered
    // (whatever the answer); timeout, broker_stopped, or corrupt_segment when
    // the answer cannot be read.
    Status reload_configuration(ReloadOutcome& outcome, Timeout timeout);

    // Hidden with all it holds, so that no instance of a template over its
    // types (std::vector<AccessPart>, say) is exported along with Client.
    struct SHMQ_LOCAL Impl;

private:
    SHMQ_LOCAL Client* restricted_part(std::string_view name, bool topic, Status& refused) const;
    SHMQ_LOCAL void add_restricted_stats(BrokerStats& stats) const;
    // The segments reloads added (client/live_parts.cpp).
    SHMQ_LOCAL Client* live_part(std::string_view name, bool topic) const;
    SHMQ_LOCAL std::vector<Client*> live_parts() const;
    SHMQ_LOCAL Client* live_segment(std::uint32_t generation) const;
    friend class Queue;
    friend class Topic;
    friend class Subscription;
    SHMQ_LOCAL explicit Client(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// Which delivery of its message an at_least_once token is: 1 for the first,
// 2 for the first redelivery, and so on (modulo 65536).
inline std::uint16_t delivery_attempt(std::uint64_t delivery) { return static_cast<std::uint16_t>(delivery); }

// The broker name a client uses when none is given: $SHMQ_BROKER, else "shmq".
SHMQ_API std::string default_broker_name();

// Empty when `broker` can name a broker (a name, or the absolute path of a
// persistent broker's file); otherwise a sentence saying what is wrong, so
// that a tool can refuse it before attaching.
SHMQ_API std::string broker_name_problem(std::string_view broker);

// The shared-memory layout version this library speaks; a broker of another
// one is refused at attach (Status::version_mismatch).
SHMQ_API std::uint32_t segment_layout_version();

}  // namespace shmq

// Last, because it builds on everything above; either header may be included
// first.
#include "shmq/topic.hpp"
