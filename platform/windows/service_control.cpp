#include "platform/service_control.hpp"

#include <memory>
#include <vector>
#include <windows.h>
#include <winsvc.h>

#include "platform/windows/win32_text.hpp"

namespace shmq::platform {

namespace {

struct ServiceHandleCloser {
    void operator()(SC_HANDLE handle) const { ::CloseServiceHandle(handle); }
};
using ServiceHandle = std::unique_ptr<std::remove_pointer_t<SC_HANDLE>, ServiceHandleCloser>;

bool open_service(const std::string& name, DWORD access, ServiceHandle& manager, ServiceHandle& service,
                  std::string& error) {
    manager.reset(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
    if (manager) service.reset(::OpenServiceW(manager.get(), win32::widen(name).c_str(), access));
    if (!service) error = "cannot open service '" + name + "': " + win32::last_error_text();
    return static_cast<bool>(service);
}

// A QueryServiceConfig*W answer, sized as the SCM asks.
template <typename Query>
bool query(Query&& call, std::vector<unsigned char>& buffer) {
    DWORD needed = 0;
    buffer.assign(sizeof(SERVICE_FAILURE_ACTIONSW), 0);
    if (call(buffer.data(), static_cast<DWORD>(buffer.size()), &needed)) return true;
    if (::GetLastError() != ERROR_INSUFFICIENT_BUFFER) return false;
    buffer.assign(needed, 0);
    return call(buffer.data(), needed, &needed) != 0;
}

}  // namespace

bool read_service_facts(const std::string& name, ServiceFacts& facts, std::string& error) {
    ServiceHandle manager, service;
    if (!open_service(name, SERVICE_QUERY_CONFIG, manager, service, error)) return false;
    std::vector<unsigned char> buffer;
    if (!query([&](unsigned char* data, DWORD size, DWORD* needed) {
            return ::QueryServiceConfigW(service.get(), reinterpret_cast<QUERY_SERVICE_CONFIGW*>(data), size, needed);
        }, buffer)) {
        error = "cannot read the configuration of service '" + name + "': " + win32::last_error_text();
        return false;
    }
    const auto* config = reinterpret_cast<const QUERY_SERVICE_CONFIGW*>(buffer.data());
    facts.automatic_start = config->dwStartType == SERVICE_AUTO_START;
    facts.command_line = win32::narrow(config->lpBinaryPathName ? config->lpBinaryPathName : L"");
    const auto query_config2 = [&](DWORD level) {
        return query([&](unsigned char* data, DWORD size, DWORD* needed) {
            return ::QueryServiceConfig2W(service.get(), level, data, size, needed);
        }, buffer);
    };
    if (!query_config2(SERVICE_CONFIG_FAILURE_ACTIONS)) {
        facts.recovery_unknown_why = "QueryServiceConfig2W(SERVICE_CONFIG_FAILURE_ACTIONS): " + win32::last_error_text();
        return true;
    }
    const auto* failure = reinterpret_cast<const SERVICE_FAILURE_ACTIONSW*>(buffer.data());
    for (DWORD i = 0; i < failure->cActions; ++i) {
        if (failure->lpsaActions[i].Type == SC_ACTION_RESTART) ++facts.restart_actions;
    }
    if (!query_config2(SERVICE_CONFIG_FAILURE_ACTIONS_FLAG)) {
        facts.recovery_unknown_why =
            "QueryServiceConfig2W(SERVICE_CONFIG_FAILURE_ACTIONS_FLAG): " + win32::last_error_text();
        return true;
    }
    facts.recovery_on_any_failure =
        reinterpret_cast<const SERVICE_FAILURE_ACTIONS_FLAG*>(buffer.data())->fFailureActionsOnNonCrashFailures != 0;
    facts.recovery_known = true;
    return true;
}

bool send_service_paramchange(const std::string& name, std::string& error) {
    ServiceHandle manager, service;
    if (!open_service(name, SERVICE_PAUSE_CONTINUE, manager, service, error)) return false;
    SERVICE_STATUS status{};
    if (!::ControlService(service.get(), SERVICE_CONTROL_PARAMCHANGE, &status)) {
        error = "service '" + name + "' refused the paramchange control: " + win32::last_error_text();
        return false;
    }
    return true;
}

}  // namespace shmq::platform
