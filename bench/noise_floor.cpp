#include "bench/noise_floor.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "bench/processes.hpp"

namespace shmq::bench {

namespace {

constexpr std::uint64_t interruption_ns = 1000;
constexpr std::size_t max_recorded = 1 << 20;  // per CPU, more than any machine shows in a run

}  // namespace

NoiseFloor measure_noise_floor(double seconds) {
    constexpr std::size_t cpus = 2;  // the two the benchmark pins its processes to
    // Scratch: the time each CPU lost, then each CPU's interruptions in ns.
    ProcessGroup group(cpus * sizeof(std::uint64_t) + cpus * max_recorded * sizeof(std::uint32_t));
    auto* lost_ns = reinterpret_cast<std::uint64_t*>(group.scratch());
    auto* gaps = reinterpret_cast<std::uint32_t*>(lost_ns + cpus);
    for (std::size_t cpu = 0; cpu < cpus; ++cpu) {
        group.spawn(static_cast<int>(cpu), [&, cpu](ChildReport& report) {
            std::uint32_t* mine = gaps + cpu * max_recorded;
            group.arrive_and_wait();
            const std::uint64_t end = now_ns() + static_cast<std::uint64_t>(seconds * 1e9);
            constexpr std::uint64_t cap = UINT32_MAX;
            std::uint64_t last = now_ns(), lost = 0, count = 0;
            while (last < end) {
                const std::uint64_t now = now_ns();
                const std::uint64_t gap = now - last;
                if (gap > interruption_ns) {
                    if (count < max_recorded) mine[count] = static_cast<std::uint32_t>(std::min(gap, cap));
                    ++count;
                    lost += gap;
                }
                last = now;
            }
            report.count = std::min<std::uint64_t>(count, max_recorded);
            lost_ns[cpu] = lost;
        });
    }
    group.wait_ready(std::chrono::seconds(10));
    group.start();
    if (!group.wait({}, Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(seconds) + std::chrono::seconds(30)))) {
        throw std::runtime_error("the noise probes did not finish");
    }
    group.check();
    std::vector<std::uint32_t> all;
    double lost = 0;
    for (std::size_t cpu = 0; cpu < cpus; ++cpu) {
        const auto& report = group.control().children[cpu];
        all.insert(all.end(), gaps + cpu * max_recorded, gaps + cpu * max_recorded + report.count);
        lost += static_cast<double>(lost_ns[cpu]);
    }
    NoiseFloor floor;
    floor.interruptions_per_second = static_cast<double>(all.size()) / seconds / cpus;
    floor.lost_percent = 100.0 * lost / (seconds * 1e9) / cpus;
    if (!all.empty()) {
        std::nth_element(all.begin(), all.begin() + all.size() / 2, all.end());
        floor.median_interruption_us = all[all.size() / 2] / 1000.0;
    }
    return floor;
}

}  // namespace shmq::bench
