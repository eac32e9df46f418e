#include "platform/windows/service_status.hpp"

#include <mutex>

namespace shmq::platform::win32 {

namespace {

std::mutex guard;
SERVICE_STATUS_HANDLE status_handle = nullptr;
SERVICE_STATUS status{};

}  // namespace

void attach_service_status(SERVICE_STATUS_HANDLE handle) {
    std::lock_guard<std::mutex> lock(guard);
    status_handle = handle;
    status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
}

bool running_as_service() {
    std::lock_guard<std::mutex> lock(guard);
    return status_handle != nullptr;
}

void report_service_state(DWORD state, DWORD wait_hint_ms, int exit_status) {
    std::lock_guard<std::mutex> lock(guard);
    if (status_handle == nullptr) return;
    // The SCM takes no control while the service starts, and none but the
    // stop's end after it began stopping.
    status.dwControlsAccepted = state == SERVICE_RUNNING
                                    ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN | SERVICE_ACCEPT_PARAMCHANGE
                                    : 0;
    // A pending state's checkpoint rises with each report of it, which tells
    // the SCM that the service is making progress.
    status.dwCheckPoint = state == status.dwCurrentState && wait_hint_ms != 0 ? status.dwCheckPoint + 1 : 0;
    status.dwCurrentState = state;
    status.dwWaitHint = wait_hint_ms;
    status.dwWin32ExitCode = exit_status == 0 ? NO_ERROR : ERROR_SERVICE_SPECIFIC_ERROR;
    status.dwServiceSpecificExitCode = static_cast<DWORD>(exit_status);
    ::SetServiceStatus(status_handle, &status);
}

}  // namespace shmq::platform::win32
