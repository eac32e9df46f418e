// A small number naming the calling thread within this process, for the
// leases of single-producer and single-consumer queues, which go to one
// thread of one client (QueueRing::hold_lease). Pure C++: no OS thread id
// is needed, only distinct numbers for the threads that live at once.
#pragma once

#include <atomic>
#include <cstdint>

namespace shmq {

namespace detail {
// 1, 2, 3, ... in the order threads first ask; 24 bits, as a lease word
// keeps them (layout::lease_of). After 16 million threads the numbers come
// round again, and a new thread could then pass for a gone one that held a
// lease: a detach still frees it. Out of line: each thread asks once.
[[gnu::noinline]] inline std::uint32_t next_thread_token() {
    static std::atomic<std::uint32_t> last{0};
    std::uint32_t next = 0;
    do next = (last.fetch_add(1, std::memory_order_relaxed) + 1) & 0xFF'FFFF;
    while (next == 0);
    return next;
}
}  // namespace detail

// Every send and receive on a single-side queue asks (QueueRing::hold_lease).
// Initial-exec and zero-initialised, the read is a load at a fixed offset
// from the thread pointer: in a shared library the default model called
// __tls_get_addr and a guard, 44 instructions a message (callgrind,
// shmq_data_path --mode exclusive; docs/benchmarks.md). Static TLS is what
// a library loaded with dlopen (the Python module) may lack, but glibc
// keeps a surplus for such small variables.
inline std::uint32_t this_thread_token() {
    [[gnu::tls_model("initial-exec")]] static thread_local std::uint32_t token = 0;
    if (token == 0) token = detail::next_thread_token();
    return token;
}

}  // namespace shmq
