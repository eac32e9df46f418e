// Under the Service Control Manager (service_host.cpp), the broker's
// readiness is the service's RUNNING state (the counterpart of READY=1) and
// its stop STOP_PENDING; run in a console, there is nobody to tell. The SCM
// has no reloading state nor a watchdog: a reload is reported as nothing,
// and the liveness the SCM watches is the process's.
#include "platform/service_manager.hpp"

#include "platform/windows/service_status.hpp"

namespace shmq::platform {

namespace {

// How long the SCM is told to wait for the stop's end: the broker's clean
// stop wakes clients and writes a persistent segment back, seconds at most.
constexpr DWORD stop_wait_hint_ms = 30'000;

}  // namespace

void report_service_ready(const std::string&) { win32::report_service_state(SERVICE_RUNNING); }
void report_service_stopping() { win32::report_service_state(SERVICE_STOP_PENDING, stop_wait_hint_ms); }
void report_service_reloading() {}
std::chrono::microseconds service_watchdog_interval() { return std::chrono::microseconds{0}; }
void report_service_alive() {}

}  // namespace shmq::platform
