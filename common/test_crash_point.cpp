#include "common/test_crash_point.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "platform/process.hpp"

namespace shmq {

void crash_point(const char* name) {
    // Read once: the environment does not change under a running broker.
    static const char* const wanted = std::getenv("SHMQ_TEST_CRASH_AT");
    if (wanted == nullptr || std::strcmp(wanted, name) != 0) return;
    // Said on stderr (unbuffered) so that a test log shows which step died;
    // then the same death as kill -9, with nothing flushed or unwound.
    std::fputs("shmq: SHMQ_TEST_CRASH_AT reached, killing this process\n", stderr);
    platform::die_abruptly();
}

}  // namespace shmq
