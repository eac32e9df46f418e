#include "cli/message_output.hpp"

#include <cerrno>
#include <cstdio>
#include <system_error>

namespace shmq::cli {

namespace {
[[noreturn]] void fail_writing() {
    throw std::system_error(errno, std::generic_category(), "cannot write to standard output");
}
}  // namespace

void flush_output() {
    if (std::fflush(stdout) != 0) fail_writing();
}

void write_message(const char* data, std::size_t size, bool flush) {
    if (std::fwrite(data, 1, size, stdout) != size || std::fputc('\n', stdout) == EOF) fail_writing();
    if (flush) flush_output();
}

}  // namespace shmq::cli
