#include "common/payload_copy.hpp"

// `rep movsb` on x86-64 CPUs that report fast string copies (ERMS), where
// it is the best copy for a hand-over at any size past the threshold;
// memcpy elsewhere, and under the sanitizers, which do not see into an
// assembler statement.
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#include <cpuid.h>
#define SHMQ_PAYLOAD_COPY_BY_STRING 1
#endif

namespace shmq {

#ifdef SHMQ_PAYLOAD_COPY_BY_STRING
namespace {

bool cpu_copies_strings_fast() {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0) return false;
    constexpr unsigned erms = 1u << 9;  // CPUID.(EAX=7, ECX=0):EBX bit 9
    return (ebx & erms) != 0;
}

const bool copies_strings_fast = cpu_copies_strings_fast();

}  // namespace
#endif

void copy_large_payload(void* to, const void* from, std::size_t size) {
#ifdef SHMQ_PAYLOAD_COPY_BY_STRING
    if (copies_strings_fast) {
        asm volatile("rep movsb" : "+D"(to), "+S"(from), "+c"(size) : : "memory");
        return;
    }
#endif
    std::memcpy(to, from, size);
}

}  // namespace shmq
