// Stop signals are blocked in every thread and taken with sigwait by the one
// that waits, so no handler ever runs inside the broker.
#include "platform/stop_requests.hpp"

#include <csignal>
#include <pthread.h>

namespace shmq::platform {

namespace {
sigset_t stop_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    return set;
}
}  // namespace

void capture_stop_requests() {
    const sigset_t set = stop_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

std::string wait_for_stop_request() {
    const sigset_t set = stop_signals();
    int signal_number = 0;
    while (sigwait(&set, &signal_number) != 0) {
    }
    return signal_number == SIGTERM ? "SIGTERM" : "SIGINT";
}

}  // namespace shmq::platform
