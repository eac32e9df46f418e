// Real nats-server nodes with JetStream on loopback, for the bridge's tests
// and its benchmark: their configuration files, free ports, start-up and
// the wait until they accept connections.
#pragma once

#include <chrono>
#include <string>
#include <sys/types.h>
#include <vector>

namespace shmq::nats_testing {

// A TCP port nothing listens on now (the kernel's pick for port 0).
int free_port();
// Until something accepts connections on 127.0.0.1:`port`, or `timeout`.
bool port_accepts(int port, std::chrono::milliseconds timeout);

// Runs `argv` (argv[0] a path) with stdout and stderr appended to `log`.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log);

// One nats-server with JetStream, part of a cluster when it has peers.
struct NatsNode {
    std::string program;  // the nats-server to run
    std::string name;
    int client_port = 0;
    int cluster_port = 0;
    std::string config_file;
    std::string log_file;
    pid_t pid = -1;
    // Starts it (again, after a kill: same ports, same store).
    void start();
    std::string url() const { return "nats://127.0.0.1:" + std::to_string(client_port); }
};

// Writes `count` nodes' configuration files (JetStream store under `dir`),
// clustered together when count > 1, starts them, and returns once each
// accepts connections. Throws std::runtime_error with the log of a node
// that does not.
std::vector<NatsNode> start_nats_cluster(const std::string& program, const std::string& dir, int count);

}  // namespace shmq::nats_testing
