// What each route has done, counted by its threads and read by the
// statistics writer: plain atomics, so that counting costs the data path
// nothing it would notice.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace shmq::bridge {

struct RouteCounters {
    std::string route;
    std::string direction;  // out or in
    std::atomic<std::uint64_t> received{0};      // taken from the source (shmq, or JetStream)
    std::atomic<std::uint64_t> delivered{0};     // confirmed by the destination (JetStream's ack, or shmq's ok)
    std::atomic<std::uint64_t> duplicates{0};    // out: acks JetStream marked duplicate; in: redeliveries skipped
    std::atomic<std::uint64_t> retries{0};       // publishes or sends tried again
    std::atomic<std::uint64_t> errors{0};        // failures seen (each then retried or reported)
    std::atomic<std::uint64_t> paused_ms{0};     // in: time fetching was held back by a full shmq queue
    std::atomic<std::uint64_t> rejected{0};      // in: messages shmq can never take (too large): terminated
    std::atomic<std::uint64_t> lost{0};          // out, topic: messages the route never forwarded (see out_route.hpp)
    std::atomic<std::uint64_t> in_flight{0};     // out: publishes awaiting JetStream's ack
    std::atomic<std::uint64_t> lag{0};           // out: messages waiting in the shmq queue; in: the consumer's pending
    std::atomic<std::uint64_t> reconnects{0};    // reattachments to shmqd
};

// The counters of every route in the Prometheus text format.
std::string prometheus_text(const std::vector<const RouteCounters*>& routes);

}  // namespace shmq::bridge
