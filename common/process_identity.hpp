// Who a process is, in a way that survives pid reuse: the pid plus the start
// time the kernel recorded for it. A dead client whose pid was handed to a new
// process is still recognised as dead.
#pragma once

#include <cstdint>
#include <sys/types.h>

namespace shmq {

struct ProcessIdentity {
    std::int32_t pid = 0;
    std::uint32_t reserved = 0;
    std::uint64_t start_time = 0;  // clock ticks since boot (/proc/PID/stat field 22)

    static ProcessIdentity self();
    static ProcessIdentity of(pid_t pid);  // start_time 0 if the process does not exist
};

// True while the process the identity names is running (a zombie counts as dead).
bool is_alive(const ProcessIdentity& identity);

// This boot's id (/proc/sys/kernel/random/boot_id), NUL-terminated.
void read_boot_id(char (&boot_id)[40]);

// The calling process's PID namespace (the inode of /proc/self/ns/pid), or 0
// when it cannot be read. Pids, and so identities, mean something only
// within one namespace.
std::uint64_t own_pid_namespace();

// The start time of `pid`, or 0 when it does not exist or is a zombie.
std::uint64_t process_start_time(pid_t pid);

}  // namespace shmq
