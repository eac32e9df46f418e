#include "bench/idle_broker.hpp"

#include <thread>

#include "bench/broker_process.hpp"
#include "bench/processes.hpp"

namespace shmq::bench {

IdleCpu measure_idle_broker(const std::string& shmqd, double seconds) {
    BrokerProcess broker(shmqd, {{"small", 64, 64, false}, {"medium", 64, 4096, false}, {"large", 8, 1 << 20, false}});
    // Start-up (building the segment) is not idle time: count from READY on.
    const CpuTime before = broker.cpu_time();
    const auto start = Clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    const CpuTime after = broker.cpu_time();
    const double wall = std::chrono::duration<double>(Clock::now() - start).count();
    return IdleCpu{100.0 * (after.stat_seconds - before.stat_seconds) / wall,
                   100.0 * (after.precise_seconds - before.precise_seconds) / wall,
                   static_cast<double>(after.runs - before.runs) / wall};
}

}  // namespace shmq::bench
