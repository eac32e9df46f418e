// An in route: a durable JetStream pull consumer feeding a shmq queue (or
// topic). A message is acked to JetStream only after shmq's send returned
// ok; while the queue is full, fetching waits (and tells JetStream the
// message is in progress), so back-pressure reaches the stream and nothing
// is dropped. Redeliveries of messages this bridge run already sent to shmq
// (an ack lost with a NATS node) are recognised by their stream sequence and
// skipped. Messages go to shmq in stream order, also when older ones were
// out with a lost fetch or a killed predecessor: newer ones are held until
// those came back (docs/bridge.md, "Order").
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_set>

#include <nats/nats.h>

#include "bridge/bridge_config.hpp"
#include "bridge/broker_link.hpp"
#include "bridge/held_messages.hpp"
#include "bridge/nats_link.hpp"
#include "bridge/route_counters.hpp"
#include "shmq/client.hpp"

namespace shmq::bridge {

class InRoute {
public:
    InRoute(const RouteSettings& settings, const BridgeConfig& config, NatsLink& nats, RouteCounters& counters);
    ~InRoute();
    InRoute(const InRoute&) = delete;
    InRoute& operator=(const InRoute&) = delete;

    // The JetStream context, the stream's existence and the durable consumer.
    bool prepare(std::string& error);
    void run(const std::atomic<bool>& stop);

private:
    enum class Outcome { sent, rejected, stopped };
    bool open_destination(Client& client);
    void take(natsMsg* message, const std::atomic<bool>& stop);
    void release(const std::atomic<bool>& stop);
    bool nothing_older_elsewhere();
    bool held_too_long(std::chrono::steady_clock::duration held) const;
    // The consumer's delivered and unacked messages (also updates the lag).
    std::optional<std::uint64_t> unacked_messages();
    Outcome deliver(natsMsg* message, std::uint64_t stream_sequence, const std::atomic<bool>& stop);
    Status send_once(const char* data, std::size_t size);
    bool already_sent(std::uint64_t stream_sequence) const;
    void remember(std::uint64_t stream_sequence);
    void refresh_lag();

    RouteSettings settings_;
    NatsLink& nats_;
    RouteCounters& counters_;
    BrokerLink broker_;
    jsCtx* js_ = nullptr;
    natsSubscription* subscription_ = nullptr;
    Queue queue_;
    Topic topic_;
    // Stream sequences sent to shmq lately, oldest first, to skip their
    // redeliveries; bounded, as JetStream redelivers only what is unacked.
    std::unordered_set<std::uint64_t> sent_;
    std::deque<std::uint64_t> sent_order_;
    // Fetched, not yet sent to shmq: released in stream order.
    HeldMessages held_;
    // The consumer's number of the last delivery this run received, and
    // whether a delivery may have gone elsewhere since (or before the
    // first): then older messages may be out, and held_ waits for them.
    std::optional<std::uint64_t> last_delivery_;
    bool order_unsure_ = true;
    bool holding_reported_ = false;
    std::optional<std::chrono::steady_clock::time_point> holding_since_;
    bool consumer_info_failing_ = false;
    std::chrono::steady_clock::time_point lag_checked_;
};

}  // namespace shmq::bridge
