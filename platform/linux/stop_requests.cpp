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
    sigaddset(&set, SIGHUP);
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
    case SIGTERM: return {OperatorRequest::Kind::stop, "SIGTERM"};
    default: return {OperatorRequest::Kind::stop, "SIGINT"};
    }
}

}  // namespace shmq::platform
