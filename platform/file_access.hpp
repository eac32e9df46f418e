// Who may open a segment file, and how: its mode, its group, and optionally a
// second group that may only read it. Given to a file when the broker creates
// it, and again when a broker adopts it, so that a changed configuration
// never leaves an old permission behind.
#pragma once

#include <cstdint>
#include <string>

namespace shmq::platform {

struct FileAccess {
    std::uint32_t mode = 0600;
    std::int64_t group = -1;  // the file's group; -1: leave it as it is
    // A group given read permission alone, through a POSIX ACL entry (the
    // kernel then refuses its members an O_RDWR open); -1: no such group, and
    // any ACL entry an earlier configuration added is removed.
    std::int64_t read_only_group = -1;
};

// Applies `access` to the open file `descriptor` (a descriptor on Linux, a
// HANDLE on Windows, where the mode bits and groups become a DACL). False
// with `message` when the system refuses (a file system without POSIX ACLs
// says so by name).
bool apply_file_access(std::intptr_t descriptor, const FileAccess& access, std::string& message);

}  // namespace shmq::platform
