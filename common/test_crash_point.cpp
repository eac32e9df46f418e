#include "common/test_crash_point.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "platform/process.hpp"

namespace shmq::detail {

const char* const crash_at = std::getenv("SHMQ_TEST_CRASH_AT");

void crash_if_named(const char* name) {
    if (std::strcmp(crash_at, name) != 0) return;
    // Said on stderr (unbuffered) so that a test log shows which step died;
    // then the same death as kill -9, with nothing flushed or unwound.
    std::fputs("shmq: SHMQ_TEST_CRASH_AT reached, killing this process\n", stderr);
    platform::die_abruptly();
}

}  // namespace shmq::detail
