// Test-only crash points: `crash_point("name")` kills the calling process
// with SIGKILL when the environment variable SHMQ_TEST_CRASH_AT equals
// "name", so that a test can kill a real process at an exact step of a
// multi-step protocol (a queue's claim and take, the broker's dead-letter
// move) without a debugger. SHMQ_TEST_PAUSE_AT equal to "name" stops the
// process there instead (SIGSTOP), for a test to check what others see while
// it is stalled at that step, then let it go on (SIGCONT). Compiled in always
// and inert unless a variable is set: on the data path the cost is one load
// and one branch, inline. The names are listed where they are used
// (docs/crash-safety.md); setting the variables in production is a bug.
#pragma once

namespace shmq {

namespace detail {
// Whether SHMQ_TEST_CRASH_AT or SHMQ_TEST_PAUSE_AT was set when libshmq (or
// shmqd) was loaded: false in production. The environment of a running
// process does not change what a test asked for.
extern const bool test_steps_armed;
void act_if_named(const char* name);
}  // namespace detail

inline void crash_point(const char* name) {
    if (detail::test_steps_armed) detail::act_if_named(name);
}

}  // namespace shmq
