// Starting and stopping the daemons a run needs (shmqd, iceoryx's RouDi)
// from the driver, whose SIGCHLD stays blocked (processes.hpp).
#pragma once

#include <chrono>
#include <string>
#include <sys/types.h>
#include <vector>

namespace shmq::bench {

// Forks and execs `arguments` (the program first) with `environment` added
// (NAME=VALUE each) and the signal mask cleared; stdout and stderr go to
// `output` when it is not empty. Throws std::system_error if fork fails; a
// failed exec makes the child exit with status 127.
pid_t start_daemon(const std::vector<std::string>& arguments, const std::vector<std::string>& environment,
                   const std::string& output);

// SIGTERM, then SIGKILL if `pid` has not exited within `grace`; reaps it.
void terminate_and_reap(pid_t pid, std::chrono::milliseconds grace);

// Whether `pid` has exited (reaping it if so); its wait status in `status`.
bool has_exited(pid_t pid, int& status);

}  // namespace shmq::bench
