// Reading a small file whole, for configuration: only a regular file, and
// only up to a bound, because /dev/zero would be read until memory runs out
// and a FIFO would block the reader (the broker, or --check-config) forever.
#pragma once

#include <cstddef>
#include <string>

namespace shmq::platform {

enum class SmallFileError {
    none,
    cannot_read,  // `detail` holds the operating system's reason
    not_regular,  // `detail` says what it is instead: "a directory", "a FIFO", ...
    too_large,    // more than max_bytes (the bound is on what was read: the file may grow)
};

SmallFileError read_small_file(const std::string& path, std::size_t max_bytes, std::string& content,
                               std::string& detail);

}  // namespace shmq::platform
