// A single-node nats-server with JetStream on loopback for the bridge
// benchmark: its own store in a scratch directory, on a port the server
// picks (read back from its ports file), stopped with the object.
#pragma once

#include <string>
#include <sys/types.h>

namespace shmq::bench {

class NatsServer {
public:
    // Starts `program` and returns once it wrote its ports file. Throws
    // std::runtime_error if it exits or stays silent.
    NatsServer(const std::string& program, const std::string& directory);
    ~NatsServer();
    NatsServer(const NatsServer&) = delete;
    NatsServer& operator=(const NatsServer&) = delete;

    const std::string& url() const { return url_; }

private:
    pid_t pid_ = -1;
    std::string url_;
};

}  // namespace shmq::bench
