// Reading standard input as it arrives: a call returns as soon as some bytes
// are there (a trickle from a pipe is handed on at once), unlike the C and
// C++ streams, which wait to fill their buffer.
#pragma once

#include <cstddef>

namespace shmq::platform {

// Blocks until input arrives; returns how many bytes were stored (at most
// `capacity`), 0 at end of input. Throws std::system_error if reading fails.
std::size_t read_standard_input(void* buffer, std::size_t capacity);

}  // namespace shmq::platform
