// Windows flushes store buffers only across the calling process's own CPUs
// (FlushProcessWriteBuffers), not another process's. A store a CPU executed
// leaves its store buffer within microseconds, and at once at an interrupt
// or a context switch, so a pause of 20 ms is the bound used instead.
#include "platform/store_visibility.hpp"

#include <windows.h>

namespace shmq::platform {

void wait_for_every_cpus_stores() { ::Sleep(20); }

// No barrier reaches another process's CPUs, so a process keeps its own
// fences, and a waiter has nothing to do for it.
bool let_waiters_fence_for_this_process() { return false; }

void fence_registered_processes() {}

}  // namespace shmq::platform
