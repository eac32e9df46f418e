// How `shmq` ends: its exit codes (documented in `shmq --help`) and the one
// line it writes to stderr for every error.
#pragma once

#include <string>

#include "shmq/client.hpp"

namespace shmq::cli {

enum ExitCode : int {
    exit_ok = 0,
    exit_failure = 1,  // a runtime failure: broker, queue or topic not found, a send failed, ...
    exit_usage = 2,    // the command line is wrong
    exit_timeout = 3,  // consume, subscribe: --timeout passed before a message arrived
    exit_needs_restart = 3,  // reload: the file loaded, but some of its changes need a restart
};

// Writes "shmq: MESSAGE" to stderr and returns `code`, so that a command can
// `return report_error(...)`.
int report_error(int code, const std::string& message);

// A status as a user reads it: its stable name, then what it means, e.g.
// "queue_full (the queue is full)".
std::string status_text(Status status);

}  // namespace shmq::cli
