#include "common/test_crash_point.hpp"

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace shmq::detail {

const char* const crash_at = std::getenv("SHMQ_TEST_CRASH_AT");

void crash_if_named(const char* name) {
    if (std::strcmp(crash_at, name) != 0) return;
    // Said on stderr so that a test log shows which step died; then the
    // same death as kill -9, with nothing flushed or unwound.
    static const char said[] = "shmq: SHMQ_TEST_CRASH_AT reached, killing this process\n";
    [[maybe_unused]] const auto written = ::write(STDERR_FILENO, said, sizeof said - 1);
    ::kill(::getpid(), SIGKILL);
}

}  // namespace shmq::detail
