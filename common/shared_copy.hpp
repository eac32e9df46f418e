// Copies of small payloads into and out of a slot that another process may be
// rewriting at the same moment. A consumer copies a small at_most_once
// message out *before* its take (docs/crash-safety.md, "Copy, then take"),
// and keeps the copy only if the take then finds the slot's word unchanged;
// meanwhile another consumer may have taken that message and a producer
// refilled the slot. Such a copy is thrown away, but the bytes were read
// while being written: both sides therefore move these payloads as relaxed
// atomic 8-byte words, which the memory model (and ThreadSanitizer) allows,
// where memcpy against memcpy would be a data race.
//
// `shared` is 8-byte aligned, and the slot has room for `size` rounded up to
// 8 bytes (layout::slot_stride_for rounds to a cache line), so the last word
// is read and written whole; the private side gets exactly `size` bytes.
//
// On x86-64 the copy out reads 16 bytes at a time by an instruction of its
// own (inline assembly, which the compiler does not model as a C++ access,
// so no data race in its terms; a torn 16 bytes is thrown away like any
// raced copy). Word by word, a consumer taking a backlog of 64 B messages
// made 0.32x the limit ring on an Intel Xeon host, and 0.45x reading 16
// bytes at a time, the round trip unchanged (docs/benchmarks.md). Under the
// sanitizers, which see no access inside assembly, the copy stays atomic
// words, which they check.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#include <immintrin.h>
#define SHMQ_SHARED_COPY_BY_VECTOR 1
#endif

namespace shmq {

inline void copy_from_shared(void* to, const std::byte* shared, std::size_t size) {
    auto* out = static_cast<std::byte*>(to);
    const auto* words = reinterpret_cast<const std::uint64_t*>(shared);
    std::size_t done = 0;
#ifdef SHMQ_SHARED_COPY_BY_VECTOR
    for (; done + 16 <= size; done += 16) {
        __m128i chunk;
        asm("movdqu %1, %0" : "=x"(chunk) : "m"(*reinterpret_cast<const char(*)[16]>(shared + done)));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + done), chunk);
    }
#endif
    // Four words a round: the loop's own bookkeeping was as many
    // instructions as the copy (callgrind, docs/benchmarks.md).
    for (; done + 32 <= size; done += 32) {
        const std::uint64_t a = __atomic_load_n(words + done / 8, __ATOMIC_RELAXED);
        const std::uint64_t b = __atomic_load_n(words + done / 8 + 1, __ATOMIC_RELAXED);
        const std::uint64_t c = __atomic_load_n(words + done / 8 + 2, __ATOMIC_RELAXED);
        const std::uint64_t d = __atomic_load_n(words + done / 8 + 3, __ATOMIC_RELAXED);
        std::memcpy(out + done, &a, 8);
        std::memcpy(out + done + 8, &b, 8);
        std::memcpy(out + done + 16, &c, 8);
        std::memcpy(out + done + 24, &d, 8);
    }
    for (; done + 8 <= size; done += 8) {
        const std::uint64_t word = __atomic_load_n(words + done / 8, __ATOMIC_RELAXED);
        std::memcpy(out + done, &word, 8);
    }
    if (done < size) {
        const std::uint64_t word = __atomic_load_n(words + done / 8, __ATOMIC_RELAXED);
        std::memcpy(out + done, &word, size - done);
    }
}

inline void copy_to_shared(std::byte* shared, const void* from, std::size_t size) {
    const auto* in = static_cast<const std::byte*>(from);
    auto* words = reinterpret_cast<std::uint64_t*>(shared);
    std::size_t done = 0;
    for (; done + 32 <= size; done += 32) {  // four words a round, as above
        std::uint64_t a, b, c, d;
        std::memcpy(&a, in + done, 8);
        std::memcpy(&b, in + done + 8, 8);
        std::memcpy(&c, in + done + 16, 8);
        std::memcpy(&d, in + done + 24, 8);
        __atomic_store_n(words + done / 8, a, __ATOMIC_RELAXED);
        __atomic_store_n(words + done / 8 + 1, b, __ATOMIC_RELAXED);
        __atomic_store_n(words + done / 8 + 2, c, __ATOMIC_RELAXED);
        __atomic_store_n(words + done / 8 + 3, d, __ATOMIC_RELAXED);
    }
    for (; done + 8 <= size; done += 8) {
        std::uint64_t word;
        std::memcpy(&word, in + done, 8);
        __atomic_store_n(words + done / 8, word, __ATOMIC_RELAXED);
    }
    if (done < size) {
        std::uint64_t word = 0;
        std::memcpy(&word, in + done, size - done);
        __atomic_store_n(words + done / 8, word, __ATOMIC_RELAXED);
    }
}

}  // namespace shmq

#undef SHMQ_SHARED_COPY_BY_VECTOR
