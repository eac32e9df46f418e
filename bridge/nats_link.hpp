// The bridge's one connection to the NATS cluster, shared by its routes:
// failover between the configured URLs and reconnection for as long as the
// bridge runs (nats.c keeps publishing into its reconnect buffer meanwhile).
#pragma once

#include <atomic>
#include <string>

#include <nats/nats.h>

#include "bridge/bridge_config.hpp"

namespace shmq::bridge {

class NatsLink {
public:
    explicit NatsLink(const NatsSettings& settings);
    ~NatsLink();
    NatsLink(const NatsLink&) = delete;
    NatsLink& operator=(const NatsLink&) = delete;

    // Tries every URL once; false with the reason in `error` (no server
    // reachable, authentication refused...). Once connected, the client
    // reconnects by itself forever.
    bool connect(std::string& error);
    natsConnection* connection() const { return connection_; }
    // A JetStream context (for its API calls and synchronous publishes);
    // nullptr with `error` when it cannot be made.
    jsCtx* jetstream(std::string& error) const;
    std::uint32_t request_timeout_ms() const { return settings_.request_timeout_ms; }

private:
    static void on_disconnected(natsConnection* connection, void* self);
    static void on_reconnected(natsConnection* connection, void* self);
    static void on_error(natsConnection* connection, natsSubscription* subscription, natsStatus status, void* self);

    NatsSettings settings_;
    natsOptions* options_ = nullptr;
    natsConnection* connection_ = nullptr;
    std::atomic<bool> closing_{false};  // the disconnection of a clean stop is no news
};

// "status text (last error)" for a failed nats.c call, the way logs say it.
std::string nats_error(natsStatus status);

// Makes sure the route's stream exists: creates it when missing and allowed,
// otherwise an error naming the stream. false with `error` on failure.
bool ensure_stream(jsCtx* js, const RouteSettings& route, std::string& error);

}  // namespace shmq::bridge
