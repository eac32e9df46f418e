#include "common/test_crash_point.hpp"

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace shmq {

void crash_point(const char* name) {
    // Read once: the environment does not change under a running broker.
    static const char* const wanted = std::getenv("SHMQ_TEST_CRASH_AT");
    if (wanted == nullptr || std::strcmp(wanted, name) != 0) return;
    // Said on stderr so that a test log shows which step died; then the
    // same death as kill -9, with nothing flushed or unwound.
    static const char said[] = "shmq: SHMQ_TEST_CRASH_AT reached, killing this process\n";
    [[maybe_unused]] const auto written = ::write(STDERR_FILENO, said, sizeof said - 1);
    ::kill(::getpid(), SIGKILL);
}

}  // namespace shmq
