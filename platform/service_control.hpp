// For the tests alone (library shmq_service_control, Windows only): what the
// Service Control Manager knows of a service, and the parameter-change
// control, which Wine's sc.exe can neither show (it has no `qc` nor
// `qfailure`) nor send (no `control`).
#pragma once

#include <string>

namespace shmq::platform {

struct ServiceFacts {
    bool automatic_start = false;
    std::string command_line;
    // Whether the SCM told its recovery actions; Wine's does not keep them.
    bool recovery_known = false;
    std::string recovery_unknown_why;
    unsigned restart_actions = 0;  // how many of them restart the service
    bool recovery_on_any_failure = false;  // also on a stop with a nonzero exit status
};

// False, with `error`, when the service cannot be read.
bool read_service_facts(const std::string& name, ServiceFacts& facts, std::string& error);

// Sends SERVICE_CONTROL_PARAMCHANGE; false, with `error`, when refused.
bool send_service_paramchange(const std::string& name, std::string& error);

}  // namespace shmq::platform
