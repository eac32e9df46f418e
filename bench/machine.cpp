#include "bench/machine.hpp"

#include <boost/version.hpp>
#include <ctime>
#include <fstream>
#include <sys/utsname.h>
#include <unistd.h>
#include <zmq.h>

namespace shmq::bench {

namespace {

std::string first_line(const char* path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

// The "model name" lscpu shows, from /proc/cpuinfo.
std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("model name", 0) == 0) {
            const auto colon = line.find(':');
            if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
        }
    }
    return "unknown";
}

}  // namespace

Machine describe_machine() {
    Machine machine;
    machine.cpu_model = cpu_model();
    machine.cpus = static_cast<unsigned>(::sysconf(_SC_NPROCESSORS_ONLN));
    utsname names{};
    if (::uname(&names) == 0) machine.kernel = std::string(names.sysname) + " " + names.release;
#if defined(__clang__)
    machine.compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
    machine.compiler = "g++ " __VERSION__;
#endif
    machine.boost = std::to_string(BOOST_VERSION / 100000) + "." + std::to_string(BOOST_VERSION / 100 % 1000) + "." +
                    std::to_string(BOOST_VERSION % 100);
    int major = 0, minor = 0, patch = 0;
    zmq_version(&major, &minor, &patch);
    machine.zmq = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
    machine.clocksource = first_line("/sys/devices/system/clocksource/clocksource0/current_clocksource");
    std::ifstream("/proc/loadavg") >> machine.load_average;
    const std::time_t now = std::time(nullptr);
    char date[32];
    std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    machine.date = date;
    return machine;
}

}  // namespace shmq::bench
