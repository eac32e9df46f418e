// membarrier(MEMBARRIER_CMD_GLOBAL): every thread of every process passes a
// memory barrier (the kernel waits for an RCU grace period, ~8 ms on a
// 2-CPU VM), without the processes registering first. A kernel without it
// (before 4.3) or a seccomp filter refusing it gets the fallback: a pause
// far longer than any store buffer holds a store.
#include "platform/store_visibility.hpp"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

namespace shmq::platform {

void wait_for_every_cpus_stores() {
    if (::syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0) return;
    const timespec pause{0, 20'000'000};
    ::nanosleep(&pause, nullptr);
}

}  // namespace shmq::platform
