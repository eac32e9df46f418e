#include "common/test_crash_point.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "platform/process.hpp"

namespace shmq::detail {

namespace {
const char* const crash_at = std::getenv("SHMQ_TEST_CRASH_AT");
const char* const pause_at = std::getenv("SHMQ_TEST_PAUSE_AT");
}  // namespace

const bool test_steps_armed = crash_at != nullptr || pause_at != nullptr;

void act_if_named(const char* name) {
    // Said on stderr (unbuffered) so that a test log shows which step it was.
    if (crash_at != nullptr && std::strcmp(crash_at, name) == 0) {
        // The same death as kill -9, with nothing flushed or unwound.
        std::fputs("shmq: SHMQ_TEST_CRASH_AT reached, killing this process\n", stderr);
        platform::die_abruptly();
    }
    if (pause_at != nullptr && std::strcmp(pause_at, name) == 0) {
        std::fputs("shmq: SHMQ_TEST_PAUSE_AT reached, stopping this process\n", stderr);
        platform::stop_until_continued();
    }
}

}  // namespace shmq::detail
