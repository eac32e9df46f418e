// What the two shmq transports (queues, topics) share: attaching a benchmark
// child to the run's broker with the wait strategy under test.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "bench/transport.hpp"
#include "shmq/client.hpp"

namespace shmq::bench {

const char* wait_name(ShmqWait wait);

[[noreturn]] inline void fail(const char* what, Status status) {
    throw std::runtime_error(std::string("shmq: ") + what + ": " + to_string(status));
}

// Throws std::runtime_error with the library's explanation on failure.
std::unique_ptr<Client> attach_client(const std::string& broker, ShmqWait wait);

}  // namespace shmq::bench
