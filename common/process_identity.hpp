// Who a process is, in a way that survives pid reuse: the pid plus the start
// time the operating system recorded for it. A dead client whose pid was
// handed to a new process is still recognised as dead.
#pragma once

#include <cstdint>

namespace shmq {

struct ProcessIdentity {
    std::int32_t pid = 0;
    std::uint32_t reserved = 0;
    std::uint64_t start_time = 0;  // platform::process_start_time

    static ProcessIdentity self();
    static ProcessIdentity of(std::int32_t pid);  // start_time 0 if the process does not exist
};

// True while the process the identity names is running (a zombie counts as dead).
bool is_alive(const ProcessIdentity& identity);

}  // namespace shmq
