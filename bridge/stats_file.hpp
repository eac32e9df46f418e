// The statistics file: the routes' counters in the Prometheus text format,
// replaced whole at every interval (written aside, then renamed over), so a
// reader (`shmq-bridge --stats`, node_exporter's textfile collector) never
// sees half of it.
#pragma once

#include <string>
#include <vector>

#include "bridge/route_counters.hpp"

namespace shmq::bridge {

// False with the reason in `error` when the file cannot be written.
bool write_stats_file(const std::string& path, const std::vector<const RouteCounters*>& routes, std::string& error);

}  // namespace shmq::bridge
