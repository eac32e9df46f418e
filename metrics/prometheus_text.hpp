// A broker's statistics in the Prometheus text exposition format (version
// 0.0.4): what `shmq stats --prometheus` prints for node exporter's textfile
// collector and what shmqd serves on `metrics_listen`. One formatter for
// both, so the two cannot drift apart.
//
// Why a folder of its own: common/ knows no file format, cli/ uses only the
// public API and the daemon must not use the client library's internals. This
// library depends on nothing but the plain data of shmq/stats.hpp (the
// public vocabulary, below every layer), so the CLI and the daemon can both
// link it. Each fills BrokerStats through common/broker_stats.hpp: the CLI
// through the public Client::stats, the daemon directly from its segments.
//
// Metric names follow Prometheus conventions: a `shmq_` prefix, counters end
// in `_total`, sizes in bytes, times in seconds; every series carries the
// broker's name.
#pragma once

#include <string>

#include "shmq/stats.hpp"

namespace shmq::metrics {

// The Content-Type of this text when served over HTTP.
inline constexpr const char* prometheus_content_type = "text/plain; version=0.0.4; charset=utf-8";

std::string prometheus_text(const BrokerStats& stats);

}  // namespace shmq::metrics
