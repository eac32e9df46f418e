// shmq-bridge's configuration: where NATS is, which shmq broker to attach
// to, and the routes between them. Plain data, loaded and checked by
// load_bridge_config().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace shmq::bridge {

struct NatsSettings {
    std::vector<std::string> urls;        // several: the client fails over between them
    std::string name = "shmq-bridge";     // the connection's name, as the NATS server shows it
    std::string credentials;              // a .creds file (JWT + NKey seed); empty: none
    std::string user, password;           // plain user/password authentication; empty: none
    std::uint32_t reconnect_wait_ms = 500;
    std::uint32_t connect_timeout_ms = 2000;
    std::uint32_t request_timeout_ms = 5000;  // JetStream API calls (stream lookup, creation)
};

struct StreamSettings {
    std::string name;
    bool create = false;                  // create it when missing (otherwise: an error)
    std::vector<std::string> subjects;    // when created; empty: the route's subject
    std::uint32_t replicas = 1;
    std::string retention = "limits";     // limits, interest or workqueue
    std::string storage = "file";         // file or memory
    std::int64_t max_messages = -1;       // -1: unlimited
    std::int64_t max_bytes = -1;
    std::uint64_t max_age_s = 0;          // 0: unlimited
    std::uint64_t duplicate_window_s = 120;
};

struct RouteSettings {
    std::string name;
    enum class Direction { out, in } direction = Direction::out;
    // The shmq side: exactly one of them.
    std::string queue;
    std::string topic;
    std::string subject;  // out: published to; in: the consumer's filter (empty: the whole stream)
    StreamSettings stream;
    // out: publishes awaiting JetStream's ack at once (the pipelining window).
    std::uint32_t window = 256;
    std::uint32_t publish_ack_timeout_ms = 5000;
    // out: keep the stream in the route's order through failures: each
    // publish expects the previous one to be the stream's last message
    // (Nats-Expected-Last-Msg-Id), so that when one fails the ones after it
    // fail too and all go again in order. Only for a stream this route alone
    // writes to.
    bool ordered = false;
    // in: the durable consumer, how many messages one fetch asks for, and how
    // long JetStream waits for an ack before redelivering.
    std::string consumer;
    std::uint32_t batch = 256;
    std::uint32_t ack_wait_s = 30;
};

struct BridgeConfig {
    std::string file;                   // where it was read from, for messages
    std::string broker;                 // the shmq broker; empty: the client's default
    std::string broker_owner;           // as shmq::AttachOptions::broker_owner
    // Where this bridge's messages come from, in their Nats-Msg-Id: must
    // differ between bridges that publish into one stream. Empty: the broker's
    // name.
    std::string origin;
    NatsSettings nats;
    std::vector<RouteSettings> routes;
    std::string stats_file;             // empty: no statistics file
    std::uint32_t stats_interval_ms = 1000;
};

// Reads and checks `path`: INI when it ends in .ini (bridge/ini_config.hpp),
// YAML otherwise. Returns false with every problem found,
// one per line and each naming its key, in `errors`.
bool load_bridge_config(const std::string& path, BridgeConfig& config, std::string& errors);

}  // namespace shmq::bridge
