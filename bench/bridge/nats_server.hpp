// A single-node nats-server with JetStream on loopback for the bridge
// benchmark (started as the bridge's tests start theirs: see
// testing/nats_cluster.hpp), its store in a scratch directory, stopped with
// the object.
#pragma once

#include <string>

#include "testing/nats_cluster.hpp"

namespace shmq::bench {

class NatsServer {
public:
    // Starts `program` and returns once it accepts connections. Throws
    // std::runtime_error (with its log) if it does not.
    NatsServer(const std::string& program, const std::string& directory);
    ~NatsServer();
    NatsServer(const NatsServer&) = delete;
    NatsServer& operator=(const NatsServer&) = delete;

    std::string url() const { return node_.url(); }

private:
    nats_testing::NatsNode node_;
};

}  // namespace shmq::bench
