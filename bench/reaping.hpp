// Reaping the driver's children and daemons when the driver may run under a
// real-time policy (`chrt -f`, as the comparisons in docs/benchmarks.md are
// run).
#pragma once

#include <sys/types.h>

namespace shmq::bench {

// waitpid(pid, &status, options), made under the normal policy. Reaping a
// process flushes its /proc entries, and the kernel's walk of them
// (shrink_dcache_parent) spins until every other task that holds one lets
// go of it. A real-time driver spinning there kept such a task, of lower or
// equal priority on the same CPU, from ever running: a full bench/run.sh
// under `chrt -f 10` hung twice at 100% system time in the iceoryx fan-out
// (perf: d_walk, select_collect), and went on at once when the driver's
// policy was set back to SCHED_OTHER. The policy is restored after.
pid_t reap_process(pid_t pid, int& status, int options);

}  // namespace shmq::bench
