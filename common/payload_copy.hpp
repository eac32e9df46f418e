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
// in glibc, 14 k), and 4 MiB 1.7x (docs/benchmarks.md, "1 MiB"). So
// payloads from string_copy_threshold on take copy_large_payload (which
// uses `rep movsb` where the CPU copies strings fast), and smaller ones
// memcpy, which C libraries do well.
#pragma once

#include <cstddef>
#include <cstring>

namespace shmq {

// Below every L2 cache's size, so only copies a C library might do for
// the cache's sake change hands; far above rep movsb's start-up cost.
inline constexpr std::size_t string_copy_threshold = 64 * 1024;

// Out of line: the hot path of a short message keeps its registers (the
// string copy's are fixed: rdi, rsi, rcx).
void copy_large_payload(void* to, const void* from, std::size_t size);

inline void copy_payload(void* to, const void* from, std::size_t size) {
    if (__builtin_expect(size >= string_copy_threshold, 0)) {
        copy_large_payload(to, from, size);
    } else {
        std::memcpy(to, from, size);
    }
}

}  // namespace shmq
