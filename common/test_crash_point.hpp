// Test-only crash points: `crash_point("name")` kills the calling process
// with SIGKILL when the environment variable SHMQ_TEST_CRASH_AT equals
// "name", so that a test can kill a real process at an exact step of a
// multi-step protocol (a queue's claim and take, the broker's dead-letter
// move) without a debugger. Compiled in always and inert unless the variable
// is set: on the data path the cost is one load and one branch, inline. The
// names are listed where they are used (docs/crash-safety.md); setting the
// variable in production is a bug.
#pragma once

namespace shmq {

namespace detail {
// SHMQ_TEST_CRASH_AT as the process found it when libshmq (or shmqd) was
// loaded; null in production. The environment of a running process does not
// change what a test asked for.
extern const char* const crash_at;
void crash_if_named(const char* name);
}  // namespace detail

inline void crash_point(const char* name) {
    if (detail::crash_at != nullptr) detail::crash_if_named(name);
}

}  // namespace shmq
