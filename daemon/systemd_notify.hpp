// The sd_notify protocol, without linking libsystemd: one datagram to the
// socket named by $NOTIFY_SOCKET. Does nothing when the variable is unset
// (the broker is not running under systemd).
#pragma once

#include <string>

namespace shmq::daemon {

// Sends `state` (e.g. "READY=1\nSTATUS=serving 3 queues"). Returns false only
// when $NOTIFY_SOCKET is set but the message could not be sent.
bool notify_systemd(const std::string& state);

// The watchdog interval systemd asked for ($WATCHDOG_USEC), or 0.
unsigned long long systemd_watchdog_usec();

}  // namespace shmq::daemon
