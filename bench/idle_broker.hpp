// The CPU an idle broker burns: the real shmqd with the benchmark's queues and
// no client, measured from its own accounting in /proc.
#pragma once

#include <string>

namespace shmq::bench {

struct IdleCpu {
    double stat_percent = 0;     // utime + stime (clock ticks) over the wall time, % of one CPU
    double precise_percent = 0;  // the same from per-thread schedstat, in nanoseconds
    double wakeups_per_second = 0;  // what the CPU time is mostly spent on when idle
};

IdleCpu measure_idle_broker(const std::string& shmqd, double seconds);

}  // namespace shmq::bench
