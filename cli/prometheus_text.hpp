// The broker's statistics in the Prometheus text exposition format (version
// 0.0.4), for `shmq stats --prometheus` (node exporter's textfile collector).
// Metric names follow Prometheus conventions: a `shmq_` prefix, counters end
// in `_total`, sizes in bytes; every series carries the broker's name.
#pragma once

#include <string>

#include "shmq/client.hpp"

namespace shmq::cli {

std::string prometheus_text(const BrokerStats& stats);

}  // namespace shmq::cli
