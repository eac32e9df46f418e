// systemd starts shmqd as a plain program (systemd/shmqd.service): there is
// no service to install or to run under here, and shmqd does not offer the
// options that would call these.
#include "platform/service_host.hpp"

#include <stdexcept>

namespace shmq::platform {

namespace {

[[noreturn]] void not_here() {
    throw std::logic_error("Windows services do not exist on Linux: install systemd/shmqd.service instead");
}

}  // namespace

bool service_hosting_supported() { return false; }
std::string service_directory() { not_here(); }
std::string install_service(const std::string&, const std::string&, const std::string&,
                            const std::vector<std::string>&) {
    not_here();
}
void uninstall_service(const std::string&, unsigned) { not_here(); }
int run_as_service(const std::string&, const std::function<int()>&) { not_here(); }
std::string open_service_event_log(const std::string&) { not_here(); }
void report_service_event(EventSeverity, const std::string&) { not_here(); }

}  // namespace shmq::platform
