#include "bench/bridge/nats_server.hpp"

#include <chrono>

#include "bench/daemon_process.hpp"

namespace shmq::bench {

NatsServer::NatsServer(const std::string& program, const std::string& directory)
    : node_(nats_testing::start_nats_cluster(program, directory, 1).front()) {}

NatsServer::~NatsServer() { terminate_and_reap(node_.pid, std::chrono::seconds(10)); }

}  // namespace shmq::bench
