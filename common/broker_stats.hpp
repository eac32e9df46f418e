// The one place a segment's figures are read into shmq::BrokerStats: the
// client library's Client::stats (and so `shmq stats`, its JSON, its
// Prometheus text, the C API and Python) and the broker's own metrics
// endpoint both gather here, so the numbers mean the same everywhere.
// Nothing is locked: each counter is read once, with the same atomic loads
// the data path uses, so gathering never slows a producer or a consumer.
#pragma once

#include <string>

#include "common/segment_view.hpp"
#include "shmq/stats.hpp"

namespace shmq {

// The segment's root, its queues and topics, and the clients in its table
// (the broker's own record left out). Queues and topics restricted to an
// access group live in that group's segment: the caller adds them.
BrokerStats gather_stats(const SegmentView& view, const std::string& broker_name);

}  // namespace shmq
