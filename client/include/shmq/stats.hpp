// A snapshot of a broker's queues, topics and clients, as `shmq stats`, its
// JSON and the Prometheus metrics show it. Plain data: the client library
// fills it (Client::stats) and so does the broker itself for its metrics
// endpoint, both through common/broker_stats.hpp, so that they cannot differ.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace shmq {

struct QueueStats {
    std::string name;
    std::uint32_t capacity = 0;
    std::uint32_t max_message_size = 0;
    std::string overflow;
    std::string delivery;
    bool quarantined = false;
    // Why, when quarantined: damaged_metadata, inconsistent_counters,
    // damaged_slot, inconsistent_subscriber, or unknown (docs/operations.md).
    std::string quarantine_reason;
    // A reload removed it from the configuration: it takes no more messages,
    // and its consumers drain what is left (depth). The segment keeps it
    // until the broker restarts.
    bool removed = false;
    std::uint64_t depth = 0;      // messages waiting: queued (some perhaps still being written)
                                  // plus at_least_once deliveries awaiting redelivery
    std::uint64_t enqueued = 0;   // slots claimed by producers, ever
    std::uint64_t dequeued = 0;   // messages taken by consumers, ever
    std::uint64_t rejected = 0;
    std::uint64_t dropped = 0;
    std::uint64_t abandoned = 0;  // writes cut short by a producer's death, and persistent
                                  // messages a power loss lost or tore (skipped holes)
    std::uint64_t lost_in_read = 0;
    std::uint64_t redelivered = 0;
    std::uint64_t dead_lettered = 0;
    std::uint32_t producers = 0;  // attached clients that sent to it
    std::uint32_t consumers = 0;  // attached clients that received from it
    // The group it is restricted to; empty: open to every client of the broker.
    std::string access_group;
    // False: restricted to a group whose segment this process may not open;
    // only the name and the group are known then, every other field is empty.
    bool accessible = true;
    // True: this process is among the group's readers (access.readers) and
    // maps its segment read-only: the figures are known, but sending and
    // receiving are refused with permission_denied.
    bool read_only = false;
    // "single" when one thread of one client at a time may send (receive):
    // the queue's producers: single (consumers: single); else "many".
    std::string producers_sharing = "many";
    std::string consumers_sharing = "many";
    // Of a single side: the pid of the client whose thread holds its lease
    // (anyone else gets Status::exclusive_held); 0 while nobody does.
    std::int32_t producer_lease_pid = 0;
    std::int32_t consumer_lease_pid = 0;
};

// One subscription to a topic, as `shmq stats` shows it.
struct SubscriberStats {
    std::uint32_t record = 0;         // the topic's subscriber record
    std::uint32_t client_record = 0;  // the subscribing client's record
    std::int32_t pid = 0;
    std::string program;
    std::uint64_t lag = 0;       // messages published that it has not read yet
    std::uint64_t received = 0;  // messages delivered to it
    std::uint64_t lost = 0;      // messages it lost under the drop policy
    std::uint32_t views = 0;     // zero-copy views it holds
};

struct TopicStats {
    std::string name;
    std::uint32_t capacity = 0;
    std::uint32_t max_message_size = 0;
    std::uint32_t history = 0;
    std::uint32_t max_subscribers = 0;
    std::string slow_subscriber;
    bool quarantined = false;
    std::string quarantine_reason;  // as QueueStats::quarantine_reason
    bool removed = false;           // as QueueStats::removed: its subscribers read what is left
    std::uint64_t published = 0;      // messages published, ever (including ones being written)
    std::uint64_t abandoned = 0;      // claims never published: a publisher died, or a loan was cancelled
    std::uint64_t dropped = 0;        // messages subscribers lost under the drop policy, ever
    std::uint64_t subscriptions = 0;  // subscribe calls that succeeded, ever
    std::uint32_t publishers = 0;     // attached clients that published to it
    std::vector<SubscriberStats> subscribers;
    std::string access_group;  // as QueueStats::access_group
    bool accessible = true;    // as QueueStats::accessible
    bool read_only = false;    // as QueueStats::read_only
};

struct ClientInfo {
    std::uint32_t record = 0;
    std::int32_t pid = 0;
    std::string program;
    std::uint64_t attached_ms = 0;  // how long ago it attached
};

struct BrokerStats {
    std::string broker;
    std::int32_t broker_pid = 0;
    bool broker_alive = false;
    std::uint32_t broker_epoch = 0;
    std::uint64_t segment_size = 0;
    // How long the running broker has served the segment; 0 when it is not
    // running.
    std::uint64_t uptime_ms = 0;
    // Clients that died attached and whose records the broker reclaimed,
    // since the segment was built.
    std::uint64_t reclaimed_clients = 0;
    std::vector<QueueStats> queues;
    std::vector<TopicStats> topics;
    std::vector<ClientInfo> clients;
};

}  // namespace shmq
