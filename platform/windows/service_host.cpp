// shmqd as a Windows service: its registration with the Service Control
// Manager (automatic start, restarted by the SCM when it fails) and its life
// under it. The SCM starts the program and waits in
// StartServiceCtrlDispatcherW's thread for controls; the daemon runs in the
// service's main thread, reporting START_PENDING until the broker is ready
// (service_manager.cpp reports RUNNING then), and STOPPED with its exit
// status when it returns.
#include "platform/service_host.hpp"

#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>

#include "platform/windows/event_log.hpp"
#include "platform/windows/operator_requests.hpp"
#include "platform/windows/service_status.hpp"
#include "platform/windows/win32_text.hpp"

namespace shmq::platform {

namespace {

// How long the SCM is told to wait for the broker's start before it
// considers the service hung; a large segment's reservation or an adoption
// takes seconds, not this.
constexpr DWORD start_wait_hint_ms = 60'000;
// Recovery: restarted 5 s after a first and a second failure, 30 s after
// more; the count of failures starts over after a day without one.
constexpr DWORD first_restart_ms = 5'000;
constexpr DWORD later_restart_ms = 30'000;
constexpr DWORD failure_count_reset_s = 24 * 60 * 60;

struct ServiceHandleCloser {
    void operator()(SC_HANDLE handle) const { ::CloseServiceHandle(handle); }
};
using ServiceHandle = std::unique_ptr<std::remove_pointer_t<SC_HANDLE>, ServiceHandleCloser>;

ServiceHandle open_manager(DWORD access) {
    ServiceHandle manager(::OpenSCManagerW(nullptr, nullptr, access));
    if (!manager) {
        throw std::runtime_error("cannot open the Service Control Manager: " + win32::last_error_text() +
                                 " (installing and removing a service needs an administrator)");
    }
    return manager;
}

std::string program_path() {
    std::wstring path(MAX_PATH, L'\0');
    for (;;) {
        const DWORD length = ::GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size()));
        if (length == 0) throw std::runtime_error("cannot find this program's path: " + win32::last_error_text());
        if (length < path.size()) {
            path.resize(length);
            return win32::narrow(path);
        }
        path.resize(path.size() * 2);
    }
}

// Returns a warning when the SCM does not know recovery actions at all
// (Wine's answers ERROR_INVALID_LEVEL; every Windows since Vista knows them).
std::string configure_recovery(SC_HANDLE service, const std::string& name) {
    SC_ACTION actions[] = {{SC_ACTION_RESTART, first_restart_ms},
                           {SC_ACTION_RESTART, first_restart_ms},
                           {SC_ACTION_RESTART, later_restart_ms}};
    SERVICE_FAILURE_ACTIONSW failure{};
    failure.dwResetPeriod = failure_count_reset_s;
    failure.cActions = sizeof actions / sizeof actions[0];
    failure.lpsaActions = actions;
    // A failure is also a stop with a nonzero exit status (a configuration
    // that no longer loads, a segment that cannot be built), not only a
    // crash.
    SERVICE_FAILURE_ACTIONS_FLAG on_any_failure{TRUE};
    if (!::ChangeServiceConfig2W(service, SERVICE_CONFIG_FAILURE_ACTIONS, &failure) ||
        !::ChangeServiceConfig2W(service, SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, &on_any_failure)) {
        const DWORD error = ::GetLastError();
        const std::string why = win32::error_text(error);
        if (error == ERROR_INVALID_LEVEL) {
            return "this Service Control Manager has no recovery actions (" + why + "): service '" + name +
                   "' will not be restarted when it fails";
        }
        throw std::runtime_error("cannot set the recovery actions of service '" + name + "': " + why);
    }
    return {};
}

// What the service's main thread needs; the dispatcher calls it with no
// argument of ours.
struct Hosted {
    std::wstring name;
    const std::function<int()>* daemon = nullptr;
    int exit_status = 1;
};
Hosted hosted;

DWORD WINAPI on_control(DWORD control, DWORD, void*, void*) {
    switch (control) {
    case SERVICE_CONTROL_STOP:
        win32::post_operator_request({OperatorRequest::Kind::stop, "the service's stop control"});
        return NO_ERROR;
    case SERVICE_CONTROL_SHUTDOWN:
        win32::post_operator_request({OperatorRequest::Kind::stop, "the system's shutdown"});
        return NO_ERROR;
    case SERVICE_CONTROL_PARAMCHANGE:
        win32::post_operator_request({OperatorRequest::Kind::reload, "the service's paramchange control"});
        return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE: return NO_ERROR;
    default: return ERROR_CALL_NOT_IMPLEMENTED;
    }
}

void WINAPI service_main(DWORD, LPWSTR*) {
    const SERVICE_STATUS_HANDLE handle = ::RegisterServiceCtrlHandlerExW(hosted.name.c_str(), on_control, nullptr);
    if (handle == nullptr) return;  // the SCM reports the service as not started
    win32::attach_service_status(handle);
    win32::report_service_state(SERVICE_START_PENDING, start_wait_hint_ms);
    try {
        hosted.exit_status = (*hosted.daemon)();
    } catch (...) {
        hosted.exit_status = 1;
    }
    win32::report_service_state(SERVICE_STOPPED, 0, hosted.exit_status);
}

}  // namespace

bool service_hosting_supported() { return true; }

std::string service_directory() {
    const DWORD length = ::GetEnvironmentVariableW(L"ProgramData", nullptr, 0);
    std::wstring value(length, L'\0');
    if (length == 0 || ::GetEnvironmentVariableW(L"ProgramData", value.data(), length) == 0) {
        throw std::runtime_error("%ProgramData% is not set");
    }
    value.resize(length - 1);
    return win32::narrow(value) + "\\shmq";
}

std::string install_service(const std::string& name, const std::string& display_name, const std::string& description,
                            const std::vector<std::string>& arguments) {
    std::wstring command_line = win32::quoted_argument(win32::widen(program_path()));
    for (const auto& argument : arguments) command_line += L" " + win32::quoted_argument(win32::widen(argument));
    const auto manager = open_manager(SC_MANAGER_CREATE_SERVICE);
    const ServiceHandle service(::CreateServiceW(manager.get(), win32::widen(name).c_str(),
                                                 win32::widen(display_name).c_str(), SERVICE_ALL_ACCESS,
                                                 SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START, SERVICE_ERROR_NORMAL,
                                                 command_line.c_str(), nullptr, nullptr, nullptr, nullptr, nullptr));
    if (!service) {
        throw std::runtime_error("cannot create service '" + name + "': " + win32::last_error_text());
    }
    std::wstring text = win32::widen(description);
    SERVICE_DESCRIPTIONW about{text.data()};
    try {
        if (!::ChangeServiceConfig2W(service.get(), SERVICE_CONFIG_DESCRIPTION, &about)) {
            throw std::runtime_error("cannot describe service '" + name + "': " + win32::last_error_text());
        }
        const std::string warning = configure_recovery(service.get(), name);
        // Last: nothing after it can fail and leave the source behind.
        win32::register_event_source(name, program_path());
        return warning;
    } catch (...) {
        ::DeleteService(service.get());  // not half installed
        throw;
    }
}

void uninstall_service(const std::string& name, unsigned stop_timeout_ms) {
    const auto manager = open_manager(SC_MANAGER_CONNECT);
    const ServiceHandle service(
        ::OpenServiceW(manager.get(), win32::widen(name).c_str(), SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE));
    if (!service) throw std::runtime_error("cannot open service '" + name + "': " + win32::last_error_text());
    SERVICE_STATUS status{};
    if (::ControlService(service.get(), SERVICE_CONTROL_STOP, &status)) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(stop_timeout_ms);
        while (::QueryServiceStatus(service.get(), &status) && status.dwCurrentState != SERVICE_STOPPED) {
            if (std::chrono::steady_clock::now() >= deadline) {
                throw std::runtime_error("service '" + name + "' did not stop within " +
                                         std::to_string(stop_timeout_ms / 1000) + " s; not removed");
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    } else if (::GetLastError() != ERROR_SERVICE_NOT_ACTIVE) {
        throw std::runtime_error("cannot stop service '" + name + "': " + win32::last_error_text() + "; not removed");
    }
    if (!::DeleteService(service.get())) {
        throw std::runtime_error("cannot remove service '" + name + "': " + win32::last_error_text());
    }
    win32::remove_event_source(name);
}

int run_as_service(const std::string& name, const std::function<int()>& daemon) {
    hosted.name = win32::widen(name);
    hosted.daemon = &daemon;
    SERVICE_TABLE_ENTRYW table[] = {{hosted.name.data(), service_main}, {nullptr, nullptr}};
    if (!::StartServiceCtrlDispatcherW(table)) {
        throw std::runtime_error("cannot reach the Service Control Manager: " + win32::last_error_text() +
                                 " (--run-service is what the SCM runs; in a console, run shmqd without it)");
    }
    return hosted.exit_status;
}

}  // namespace shmq::platform
