// Operator signals are blocked in every thread and taken with sigwait by the
// one that waits, so no handler ever runs inside the broker.
#include "platform/stop_requests.hpp"

#include <csignal>
#include <pthread.h>

namespace shmq::platform {

namespace {
sigset_t operator_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGQUIT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    // Blocked, a SIGPIPE a write of this process raises stays pending on the
    // writing thread (the write fails with EPIPE); one sent by `kill` is taken here.
    sigaddset(&set, SIGPIPE);
    return set;
}
}  // namespace

void capture_stop_requests() {
    const sigset_t set = operator_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

OperatorRequest wait_for_operator_request() {
    const sigset_t set = operator_signals();
    int signal_number = 0;
    while (sigwait(&set, &signal_number) != 0) {
    }
    switch (signal_number) {
    case SIGHUP: return {OperatorRequest::Kind::reload, "SIGHUP"};
    case SIGUSR1: return {OperatorRequest::Kind::reopen_logs, "SIGUSR1"};
    case SIGUSR2: return {OperatorRequest::Kind::ignored, "SIGUSR2"};
    case SIGPIPE: return {OperatorRequest::Kind::ignored, "SIGPIPE"};
    case SIGTERM: return {OperatorRequest::Kind::stop, "SIGTERM"};
    case SIGQUIT: return {OperatorRequest::Kind::stop, "SIGQUIT"};
    default: return {OperatorRequest::Kind::stop, "SIGINT"};
    }
}

}  // namespace shmq::platform
