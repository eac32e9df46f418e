// Running the daemon as a service of a service manager that starts the
// program itself and talks to it through an API: the Windows Service Control
// Manager (SCM). systemd needs none of this (it runs shmqd as any program,
// from systemd/shmqd.service, and service_manager.hpp reports to it): on
// Linux service_hosting_supported() is false and shmqd offers none of the
// options that lead here.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace shmq::platform {

bool service_hosting_supported();

// Where an installed service's files are by default (%ProgramData%\shmq).
std::string service_directory();

// Registers the service `name` to start at boot and to be restarted when it
// fails, running this program with `arguments`, and an event source of the
// same name for report_service_event(). Throws std::runtime_error
// saying why it could not (not an administrator, the name taken, ...).
// Returns a warning for the operator when the service is installed but
// without something the service manager cannot do (Wine's keeps no recovery
// actions), else "".
std::string install_service(const std::string& name, const std::string& display_name,
                            const std::string& description, const std::vector<std::string>& arguments);

// Stops the service `name` if it runs (waiting up to `stop_timeout_ms` for
// it) and removes it and its event source. Throws std::runtime_error saying why it could not.
void uninstall_service(const std::string& name, unsigned stop_timeout_ms);

// Runs `daemon` as the service `name` the service manager has just started:
// it is reported starting until report_service_ready()
// (service_manager.hpp), its stop and shutdown controls arrive as stop
// requests and its parameter-change control as a reload request
// (stop_requests.hpp), and its return value is its exit status, also
// returned here. Throws std::runtime_error when this process was not
// started by the service manager.
int run_as_service(const std::string& name, const std::function<int()>& daemon);

// How an event of the service's log is marked for the operator.
enum class EventSeverity { information, warning, error };

// Opens the system's log of services (the Windows Event Log) for the
// service `name` (its event source, which install_service registered), for
// the rest of this process's life. Returns "" when open, else why not (the
// service then logs to its file alone).
std::string open_service_event_log(const std::string& name);

// Writes `text` to the log open_service_event_log() opened; does nothing
// before. Safe from any thread.
void report_service_event(EventSeverity severity, const std::string& text);

}  // namespace shmq::platform
