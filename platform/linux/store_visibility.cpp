// membarrier(MEMBARRIER_CMD_GLOBAL): every thread of every process passes a
// memory barrier (the kernel waits for an RCU grace period, ~8 ms on a
// 2-CPU VM), without the processes registering first. A kernel without it
// (before 4.3) or a seccomp filter refusing it gets the fallback: a pause
// far longer than any store buffer holds a store.
//
// The data path's expedited form (membarrier GLOBAL_EXPEDITED) reaches only
// processes that registered for it, and costs microseconds, not a grace
// period.
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

// MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED (Linux 4.16): from then on every
// MEMBARRIER_CMD_GLOBAL_EXPEDITED interrupts the CPUs running this process's
// threads, each of which then passes a full barrier. Asked at every call,
// not remembered: registering again is harmless, and a forked child must
// answer for itself.
bool let_waiters_fence_for_this_process() {
    return ::syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0) == 0;
}

// A process whose registration succeeded has a kernel that knows the
// command, so a refusal here (a seccomp filter on this process alone) is
// rare; the slow fence then covers every process, registered or not.
void fence_registered_processes() {
    if (::syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0) == 0) return;
    wait_for_every_cpus_stores();
}

}  // namespace shmq::platform
