// A small number naming the calling thread within this process, for the
// leases of single-producer and single-consumer queues, which go to one
// thread of one client (QueueRing::hold_lease). Pure C++: no OS thread id
// is needed, only distinct numbers for the threads that live at once.
#pragma once

#include <atomic>
#include <cstdint>

namespace shmq {

// 1, 2, 3, ... in the order threads first ask; 24 bits, as a lease word
// keeps them (layout::lease_of). After 16 million threads the numbers come
// round again, and a new thread could then pass for a gone one that held a
// lease: a detach still frees it.
inline std::uint32_t this_thread_token() {
    static std::atomic<std::uint32_t> last{0};
    thread_local const std::uint32_t token = [] {
        std::uint32_t next = 0;
        do next = (last.fetch_add(1, std::memory_order_relaxed) + 1) & 0xFF'FFFF;
        while (next == 0);
        return next;
    }();
    return token;
}

}  // namespace shmq
