// The benchmark's own NATS connection (nats.c, as the bridge uses it): the
// JetStream stream both paths write to, asynchronous publishes with the
// bridge's window, and core subscriptions that see a message the moment the
// server takes it. Every failure throws std::runtime_error naming it.
#pragma once

#include <cstdint>
#include <string>

#include <nats/nats.h>

namespace shmq::bench {

class JetStreamClient {
public:
    JetStreamClient(const std::string& url, int window);
    ~JetStreamClient();
    JetStreamClient(const JetStreamClient&) = delete;
    JetStreamClient& operator=(const JetStreamClient&) = delete;

    // An R1 file stream on `subjects` (e.g. "bench.>").
    void create_stream(const std::string& name, const std::string& subjects);
    void purge_stream(const std::string& name);
    std::uint64_t stream_messages(const std::string& name);

    // Up to the window's publishes await their acks at once.
    void publish_async(const std::string& subject, const void* data, std::size_t size);
    // The same with a Nats-Msg-Id header, as the bridge sends each message:
    // JetStream then also checks and records the id in its duplicate window.
    void publish_async_with_id(const std::string& subject, const void* data, std::size_t size, const std::string& id);
    // Until every asynchronous publish is acked; the failed ones counted.
    void wait_for_publish_acks();
    std::uint64_t failed_publishes() const { return failed_; }
    // One publish, waiting for its ack.
    void publish(const std::string& subject, const void* data, std::size_t size);

    natsSubscription* subscribe(const std::string& subject);
    // The next message of `subscription` (the caller destroys it), or throws
    // after `timeout_ms`.
    natsMsg* next_message(natsSubscription* subscription, std::int64_t timeout_ms);

private:
    static void on_publish_error(jsCtx* js, jsPubAckErr* error, void* closure);

    natsConnection* connection_ = nullptr;
    jsCtx* js_ = nullptr;
    std::uint64_t failed_ = 0;
};

}  // namespace shmq::bench
