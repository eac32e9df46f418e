// An out route: messages taken from a shmq queue (or a topic subscription)
// published to a JetStream subject, pipelined: up to `window` publishes
// await their acks at once. A queue's at_least_once delivery is acknowledged
// to shmq only once JetStream acked its publish, so a bridge killed at any
// instant leaves every unconfirmed message to be redelivered by shmq; each
// carries a Nats-Msg-Id made from its origin (broker run and ring position),
// so JetStream's duplicate window drops what had been stored already.
//
// Publishes go out with core NATS, each with a reply subject of the route's
// own inbox that ends in its sequence; the route reads the PubAcks itself
// (bridge/pub_ack.hpp) and fails a publish whose ack is not back within
// publish_ack_timeout_ms, like jsPubOptions.MaxWait would. The acks come
// through a synchronous subscription that the route's own thread reads
// between publishes: an ack crosses one thread boundary (nats.c's reader to
// the route), and the route's state has no other thread to share it with.
//
// A topic has no redelivery: a route reads it from its message's position
// (shmq::View::position, in the Msg-Id) and, when it starts, subscribes with
// the topic's whole history and skips what the stream's last message says
// JetStream already has (bridge/topic_resume.hpp). What the bridge missed
// beyond that history is counted as lost.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include <nats/nats.h>

#include "bridge/bridge_config.hpp"
#include "bridge/broker_link.hpp"
#include "bridge/nats_link.hpp"
#include "bridge/route_counters.hpp"
#include "bridge/topic_resume.hpp"
#include "shmq/client.hpp"

namespace shmq::bridge {

class OutRoute {
public:
    OutRoute(const RouteSettings& settings, const BridgeConfig& config, NatsLink& nats, RouteCounters& counters);
    ~OutRoute();
    OutRoute(const OutRoute&) = delete;
    OutRoute& operator=(const OutRoute&) = delete;

    // The JetStream context and the stream (created when allowed).
    bool prepare(std::string& error);
    // Moves messages until `stop` is set, through broker and NATS outages.
    void run(const std::atomic<bool>& stop);

private:
    // A publish's bookkeeping, kept with its message until its ack.
    struct Pending {
        // Bridge-local: its reply subject's last token, and the order
        // failures are republished in.
        std::uint64_t sequence = 0;
        std::uint64_t delivery = 0;  // the shmq delivery to acknowledge (0: none)
        std::uint64_t attachment = 0;
    };
    // A message of a batch taken from the queue, in the order to publish.
    struct Placed {
        std::uint64_t position = 0;
        bool known = false;  // the ring position (otherwise: the batch index)
        std::size_t index = 0;
    };
    // A built message with its bookkeeping: awaiting its publish (batch_),
    // its ack (pending_) or its second chance (failed_).
    struct Built {
        natsMsg* message;
        Pending pending;
    };

    bool subscribe_acks(std::string& error);
    // Handles the acks nats.c holds, waiting up to `wait` for the first one
    // when none is there yet.
    void collect_acks(std::chrono::milliseconds wait);
    void acknowledged(natsMsg* reply);
    void release_spent();
    void fail(std::uint64_t sequence, Built built, std::string reason);
    void expire_overdue();
    bool open_source(Client& client, const std::atomic<bool>& stop);
    bool open_topic(Client& client, const std::atomic<bool>& stop, Status& status);
    void wait_for_predecessor(const std::atomic<bool>& stop);
    void pump(const std::atomic<bool>& stop);
    bool take(std::vector<IncomingMessage>& messages, std::size_t wanted, Timeout wait, std::size_t& taken,
              Status& status);
    bool forward_topic(std::size_t wanted, Timeout wait, std::size_t& taken, Status& status);
    bool admit(std::uint64_t position);
    void count_lost_by_drop();
    void prepare_in_order(std::vector<IncomingMessage>& messages, std::size_t taken);
    void prepare(const void* data, std::size_t size, std::uint64_t delivery, const std::string& id);
    void publish_prepared();
    const std::string& message_id(const std::string& prefix, std::uint64_t number);
    // A delivery JetStream stored, to acknowledge to shmq with the rest of
    // its run (acknowledge_confirmed).
    void confirm(const Pending& pending);
    void acknowledge_confirmed();
    void republish_failed(const std::atomic<bool>& stop);
    void wait_for_acks(const std::atomic<bool>& stop, std::chrono::milliseconds limit);
    void refresh_lag();

    RouteSettings settings_;
    std::string origin_;
    NatsLink& nats_;
    RouteCounters& counters_;
    BrokerLink broker_;
    jsCtx* js_ = nullptr;  // the stream's set-up, topic resumption and republishing
    natsSubscription* acks_ = nullptr;  // synchronous: read by the route's thread alone
    std::string inbox_;  // "_INBOX.<nuid>.": a publish's reply subject is this and its sequence
    std::string reply_;  // the reply subject being built

    Queue queue_;
    Subscription subscription_;
    std::size_t message_capacity_ = 0;
    bool identified_ = false;      // at_least_once queue: Msg-Id from the ring position
    std::string queue_prefix_;     // its Msg-Id without the position
    std::string run_prefix_;       // otherwise: from this bridge run and a counter
    std::string id_;               // the Msg-Id being built
    std::vector<Placed> order_;      // reused batch after batch
    std::vector<Built> batch_;      // built, not yet published; reused
    // The pump waits for this much room in the window before it takes more:
    // a batch per publishing round rather than a message per ack.
    std::size_t refill_ = 1;
    std::uint64_t next_sequence_ = 1;
    // topic: where this subscription's history starts to be new to JetStream.
    std::string topic_prefix_;
    ResumePoint resume_;
    bool resuming_ = false;      // until the first message not skipped
    std::uint64_t skipped_ = 0;  // history already in the stream
    std::uint64_t lost_by_drop_ = 0;  // the subscription's lost() counted so far
    std::string last_id_;  // ordered: the Msg-Id the next publish expects last in the stream
    std::chrono::steady_clock::time_point lag_checked_;

    std::unordered_map<std::uint64_t, Built> pending_;  // by sequence
    // The sequences published, oldest first, with the time their acks are
    // due; an entry acked meanwhile is dropped when it reaches the front.
    std::deque<std::pair<std::uint64_t, std::chrono::steady_clock::time_point>> deadlines_;
    std::map<std::uint64_t, Built> failed_;
    // Acks read and messages acknowledged, destroyed together (collect_acks).
    std::vector<natsMsg*> spent_;
    std::vector<std::uint64_t> confirmed_;  // deliveries of that run to acknowledge to shmq
    std::string last_failure_;
    std::uint64_t attachment_ = 0;  // bumped on every (re)attachment: older deliveries are not acked
};

}  // namespace shmq::bridge
