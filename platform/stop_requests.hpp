// How an operator asks the daemon to stop or to reload its configuration:
// SIGTERM and SIGINT (what systemd, `kill` and Ctrl-C send) stop it, SIGHUP
// (what operators send by habit to reload a daemon) reloads it. One thread
// waits for them, so handling them needs no async-signal-safe code.
#pragma once

#include <string>

namespace shmq::platform {

struct OperatorRequest {
    enum class Kind { stop, reload };
    Kind kind;
    std::string signal;  // what it was, for the log (e.g. "SIGHUP")
};

// Routes operator requests to wait_for_operator_request() alone. Call before
// any thread starts: threads inherit this routing.
void capture_stop_requests();

// Blocks until an operator request arrives.
OperatorRequest wait_for_operator_request();

}  // namespace shmq::platform
