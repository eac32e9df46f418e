// Real processes for the bridge's tests: nats-server nodes and shmq-bridge,
// exec'd with their output in a log file, on free loopback ports.
#pragma once

#include <chrono>
#include <string>
#include <sys/types.h>
#include <vector>

namespace shmq::test {

// A TCP port nothing listens on now (the kernel's pick for port 0).
int free_port();
// Until something accepts connections on 127.0.0.1:`port`, or `timeout`.
bool port_accepts(int port, std::chrono::milliseconds timeout);

// Runs `argv` (argv[0] a path) with stdout and stderr appended to `log`.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log);
// SIGTERM, then SIGKILL if it has not exited within `grace`; reaps it.
void stop_process(pid_t pid, std::chrono::milliseconds grace = std::chrono::seconds(10));
void kill_process(pid_t pid);  // SIGKILL, reaped

std::string read_text_file(const std::string& path);
// The last `lines` lines of `path`, for a failure's report.
std::string tail_of(const std::string& path, std::size_t lines = 30);

// The value of metric `name` for `route` in a Prometheus text file; -1 when absent.
long long metric_of(const std::string& stats_file, const std::string& name, const std::string& route);

// One nats-server with JetStream, part of a cluster when `routes` is not empty.
struct NatsNode {
    std::string name;
    int client_port = 0;
    int cluster_port = 0;
    std::string config_file;
    std::string log_file;
    pid_t pid = -1;
    void start();
    std::string url() const { return "nats://127.0.0.1:" + std::to_string(client_port); }
};

// Writes `count` nodes' configuration files (JetStream store under `dir`),
// clustered together when count > 1, and starts them.
std::vector<NatsNode> start_nats_cluster(const std::string& dir, int count);

std::string bridge_binary();

}  // namespace shmq::test
