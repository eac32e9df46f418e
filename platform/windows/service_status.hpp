// What this process last told the Service Control Manager about itself, and
// the telling: shared by the service's host (service_host.cpp), which reports
// the start and the end, and service_manager.cpp, which reports the broker's
// readiness and its stop. Outside a service, reports go nowhere.
#pragma once

#include <windows.h>
#include <winsvc.h>

namespace shmq::platform::win32 {

// From now on reports go to the SCM through `handle`.
void attach_service_status(SERVICE_STATUS_HANDLE handle);
bool running_as_service();

// `state` is a SERVICE_* state; `wait_hint_ms` how long until the next
// report for a pending state; `exit_status` the daemon's, for
// SERVICE_STOPPED.
void report_service_state(DWORD state, DWORD wait_hint_ms = 0, int exit_status = 0);

}  // namespace shmq::platform::win32
