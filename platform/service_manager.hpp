// The service manager the daemon runs under (systemd on Linux): told when the
// broker is ready, that it is alive, that it is reloading its configuration,
// and that it is stopping. When the daemon
// was not started by one, every call does nothing.
#pragma once

#include <chrono>
#include <string>

namespace shmq::platform {

// `status` is a line for people (`systemctl status` shows it).
void report_service_ready(const std::string& status);
void report_service_stopping();
// A configuration reload begins; report_service_ready() says it is over.
void report_service_reloading();

// How often the service manager wants report_service_alive(); zero when it
// does not watch this process.
std::chrono::microseconds service_watchdog_interval();
void report_service_alive();

}  // namespace shmq::platform
