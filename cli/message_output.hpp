// Printing received messages on standard output in the chosen framing, so
// that a failed write (a full disk, a closed pipe) is an error rather than
// silence.
#pragma once

#include <cstddef>

#include "cli/framing.hpp"

namespace shmq::cli {

// Pushes what was printed out of the process. Throws std::system_error if
// writing fails.
void flush_output();

// Writes one message, framed, to stdout. With `flush`, also pushes it out of
// the process (see flush_output). Throws std::system_error if writing fails.
void write_message(const char* data, std::size_t size, Framing framing, bool flush);

}  // namespace shmq::cli
