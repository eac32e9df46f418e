// How an operator asks the daemon to stop: SIGTERM and SIGINT on Linux (what
// systemd, `kill` and Ctrl-C send). One thread waits for them, so stopping
// needs no async-signal-safe code.
#pragma once

#include <string>

namespace shmq::platform {

// Routes stop requests to wait_for_stop_request() alone. Call before any
// thread starts: threads inherit this routing.
void capture_stop_requests();

// Blocks until a stop request arrives; returns what it was (e.g. "SIGTERM").
std::string wait_for_stop_request();

}  // namespace shmq::platform
