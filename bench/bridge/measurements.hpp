// The bridge benchmark's measurements, one run each: JetStream publishes
// from the NATS C client directly, and the same messages through a shmq
// queue and shmq-bridge's out route. Each checks that every message reached
// the stream (or the subscriber, unaltered) and throws std::runtime_error
// otherwise: a figure exists only for a verified run.
#pragma once

#include <cstddef>
#include <string>
#include <sys/types.h>
#include <vector>

#include "bench/bridge/jetstream_client.hpp"
#include "shmq/client.hpp"

namespace shmq::bench {

struct BridgeRoute {
    std::string stream;          // the stream both paths write to
    std::string direct_subject;  // published to by the benchmark itself
    std::string bridged_subject; // the out route's subject
    Queue* queue = nullptr;      // the out route's shmq queue
    pid_t bridge = -1;           // shmq-bridge's process, for its CPU time
};

// msg/s: `count` asynchronous publishes, from the first to the last ack;
// with `with_ids`, each carries a Nats-Msg-Id like the bridge's.
double direct_throughput(JetStreamClient& nats, const BridgeRoute& route, std::size_t size, std::size_t count,
                         bool with_ids = false);
// msg/s: `count` messages sent to the shmq queue, from the first send until
// the stream holds them all; the bridge's CPU time per message in `cpu_us`.
double bridged_throughput(JetStreamClient& nats, const BridgeRoute& route, std::size_t size, std::size_t count,
                          double& cpu_us);

// µs per message, one at a time: a publish waiting for its ack.
std::vector<double> publish_ack_round_trips(JetStreamClient& nats, const BridgeRoute& route, std::size_t size,
                                            std::size_t samples);
// µs per message, one at a time, until a core subscriber on the subject has
// it: from an asynchronous publish (direct) or from the shmq send (bridged).
std::vector<double> direct_one_way(JetStreamClient& nats, const BridgeRoute& route, std::size_t size,
                                   std::size_t samples);
std::vector<double> bridged_one_way(JetStreamClient& nats, const BridgeRoute& route, std::size_t size,
                                    std::size_t samples);

}  // namespace shmq::bench
