#include "platform/standard_input.hpp"

#include <cerrno>
#include <system_error>
#include <unistd.h>

namespace shmq::platform {

std::size_t read_standard_input(void* buffer, std::size_t capacity) {
    ssize_t got;
    do {
        got = ::read(STDIN_FILENO, buffer, capacity);
    } while (got < 0 && errno == EINTR);
    if (got < 0) throw std::system_error(errno, std::generic_category(), "cannot read standard input");
    return static_cast<std::size_t>(got);
}

}  // namespace shmq::platform
