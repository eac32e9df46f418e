// Run in a console, shmqd has no service manager to tell anything. The
// Service Control Manager's reports (START_PENDING, RUNNING, STOP_PENDING)
// belong here once shmqd runs as a Windows service (issue 10, item 2).
#include "platform/service_manager.hpp"

namespace shmq::platform {

void report_service_ready(const std::string&) {}
void report_service_stopping() {}
void report_service_reloading() {}
std::chrono::microseconds service_watchdog_interval() { return std::chrono::microseconds{0}; }
void report_service_alive() {}

}  // namespace shmq::platform
