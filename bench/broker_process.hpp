// The real shmqd, run as a separate process for the length of one benchmark
// run (or the idle measurement). Keeping the broker out of the driver keeps
// the driver single-threaded, so forking the benchmark's children is safe.
#pragma once

#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

namespace shmq::bench {

struct BrokerQueue {
    std::string name;
    std::size_t capacity = 0;
    std::size_t max_message_size = 0;
    bool at_least_once = false;
    bool single = false;  // producers: single, consumers: single
};

// A topic's publishers wait for the slowest subscriber (slow_subscriber:
// block), so no run loses a message.
struct BrokerTopic {
    std::string name;
    std::size_t capacity = 0;
    std::size_t max_message_size = 0;
};

struct CpuTime {
    double stat_seconds = 0;     // utime + stime from /proc/PID/stat (clock-tick resolution)
    double precise_seconds = 0;  // the sum over its threads of /proc/PID/task/*/schedstat (ns resolution)
    std::uint64_t runs = 0;      // times its threads were put on a CPU (schedstat's third field)
};

class BrokerProcess {
public:
    // Writes a configuration for `queues` and `topics`, starts `shmqd` on it and returns once
    // the broker reported READY=1 over the systemd notify protocol. Throws
    // std::runtime_error if it exits or stays silent.
    BrokerProcess(const std::string& shmqd, const std::vector<BrokerQueue>& queues,
                  const std::vector<BrokerTopic>& topics = {});
    // SIGTERM, then waits: the broker removes its segment on the way out.
    ~BrokerProcess();
    BrokerProcess(const BrokerProcess&) = delete;
    BrokerProcess& operator=(const BrokerProcess&) = delete;

    const std::string& name() const { return name_; }
    CpuTime cpu_time() const;

private:
    void stop();

    std::string name_;
    std::string directory_;
    pid_t pid_ = -1;
};

}  // namespace shmq::bench
