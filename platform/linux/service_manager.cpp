// systemd's notification protocol through libsystemd (sd_notify), which
// handles $NOTIFY_SOCKET in all its forms (paths, abstract sockets) and
// $WATCHDOG_PID. Failures to notify are not fatal: the broker serves either
// way, and systemd reports a unit that never became ready.
#include "platform/service_manager.hpp"

#include <systemd/sd-daemon.h>
#include <ctime>
#include <unistd.h>

namespace shmq::platform {

void report_service_ready(const std::string& status) {
    const std::string state = "READY=1\nSTATUS=" + status + "\nMAINPID=" + std::to_string(::getpid());
    sd_notify(0, state.c_str());
}

void report_service_stopping() { sd_notify(0, "STOPPING=1"); }

// With the time, as systemd 253's Type=notify-reload requires (older ones
// ignore the field), so that one unit file serves both.
void report_service_reloading() {
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    const auto usec = static_cast<unsigned long long>(now.tv_sec) * 1'000'000ull +
                      static_cast<unsigned long long>(now.tv_nsec) / 1000ull;
    sd_notify(0, ("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec)).c_str());
}

std::chrono::microseconds service_watchdog_interval() {
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0) return std::chrono::microseconds(0);
    return std::chrono::microseconds(usec);
}

void report_service_alive() { sd_notify(0, "WATCHDOG=1"); }

}  // namespace shmq::platform
