// Hints to the CPU's caches: a line of the segment that this process is
// about to read or write, fetched now (for a write, in the state a write
// needs). Only hints: they change no value any load or store sees, fault on
// no address, and a CPU without the instruction takes them as no-ops.
#pragma once

namespace shmq {

inline void prefetch_for_write(const void* address) {
#if defined(__x86_64__) || defined(__i386__)
    // PREFETCHW, whatever -march says (GCC emits it for __builtin_prefetch
    // only when told the CPU has it); older CPUs decode it as a no-op.
    asm volatile("prefetchw %0" : : "m"(*static_cast<const char*>(address)));
#else
    __builtin_prefetch(address, 1, 3);
#endif
}

inline void prefetch_for_read(const void* address) { __builtin_prefetch(address, 0, 3); }

}  // namespace shmq
