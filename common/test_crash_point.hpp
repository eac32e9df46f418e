// Test-only crash points: `crash_point("name")` kills the calling process
// with SIGKILL when the environment variable SHMQ_TEST_CRASH_AT equals
// "name", so that a test can kill a real process at an exact step of a
// multi-step protocol (the broker's dead-letter move) without a debugger.
// Compiled in always and inert unless the variable is set: the cost is one
// load of a cached pointer. The names are listed where they are used
// (docs/crash-safety.md); setting the variable in production is a bug.
#pragma once

namespace shmq {

void crash_point(const char* name);

}  // namespace shmq
