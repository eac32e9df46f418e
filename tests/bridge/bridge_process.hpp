// Real processes for the bridge's tests: nats-server nodes (started by
// testing/nats_cluster.hpp, which the benchmark shares) and shmq-bridge,
// exec'd with their output in a log file, on free loopback ports.
#pragma once

#include <chrono>
#include <string>
#include <sys/types.h>
#include <vector>

#include "testing/nats_cluster.hpp"
#include "tests/support/files.hpp"

namespace shmq::test {

using nats_testing::free_port;
using nats_testing::NatsNode;
using nats_testing::port_accepts;
using nats_testing::spawn;

// The nats-server this build found, in `count` nodes: see
// nats_testing::start_nats_cluster.
inline std::vector<NatsNode> start_nats_cluster(const std::string& dir, int count) {
    return nats_testing::start_nats_cluster(SHMQ_NATS_SERVER, dir, count);
}
// SIGTERM, then SIGKILL if it has not exited within `grace`; reaps it.
void stop_process(pid_t pid, std::chrono::milliseconds grace = std::chrono::seconds(10));
void kill_process(pid_t pid);  // SIGKILL, reaped

std::string read_text_file(const std::string& path);
// The last `lines` lines of `path`, for a failure's report.
std::string tail_of(const std::string& path, std::size_t lines = 30);

// The value of metric `name` for `route` in a Prometheus text file; -1 when absent.
long long metric_of(const std::string& stats_file, const std::string& name, const std::string& route);

std::string bridge_binary();
// Writes bridge.yaml into `dir` and returns its path: `broker`, stats every
// 100 ms into `stats_file`, one NATS node and `routes` (YAML list items).
std::string write_bridge_config(const TempDir& dir, const std::string& broker, const std::string& stats_file,
                                const NatsNode& node, const std::string& routes);

}  // namespace shmq::test
