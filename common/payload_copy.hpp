// Copies of whole payloads into a slot, or out of one, whose other side
// reads (or refills) them at once from another CPU.
//
// From some size on, C libraries change how they copy, for a copy nobody
// reads soon: glibc 2.36 on AMD leaves `rep movsb` for a vector loop from
// the L2 cache's size on (1 MiB on this project's benchmark host), and
// every x86 build turns to non-temporal stores past about 3/4 of the L3.
// Handing a message over between two CPUs is the opposite case: between two
// processes, a 1 MiB message went 2.3x slower through memcpy than through
// `rep movsb` (6.0 k against 14 k msg/s; 1 MiB - 1 byte, still `rep movsb`
// in glibc, 14 k), and 4 MiB 1.7x (docs/benchmarks.md, "1 MiB"). So large
// payloads move by `rep movsb` on x86-64 CPUs whose fast string copy
// (ERMS) makes it the best large copy, and by memcpy below that size (where
// C libraries pick well), on other CPUs, and under the sanitizers, which do
// not see into an assembler statement.
#pragma once

#include <cstddef>
#include <cstring>

#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#include <cpuid.h>
#define SHMQ_PAYLOAD_COPY_BY_STRING 1
#endif

namespace shmq {

// Below every L2 cache's size, so only copies a C library might do for
// the cache's sake change hands; far above rep movsb's start-up cost.
inline constexpr std::size_t string_copy_threshold = 64 * 1024;

#ifdef SHMQ_PAYLOAD_COPY_BY_STRING
inline bool cpu_copies_strings_fast() {
    static const bool fast = [] {
        unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
        if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0) return false;
        constexpr unsigned erms = 1u << 9;  // CPUID.(EAX=7, ECX=0):EBX bit 9
        return (ebx & erms) != 0;
    }();
    return fast;
}
#endif

inline void copy_payload(void* to, const void* from, std::size_t size) {
#ifdef SHMQ_PAYLOAD_COPY_BY_STRING
    if (size >= string_copy_threshold && cpu_copies_strings_fast()) {
        asm volatile("rep movsb" : "+D"(to), "+S"(from), "+c"(size) : : "memory");
        return;
    }
#endif
    std::memcpy(to, from, size);
}

}  // namespace shmq
