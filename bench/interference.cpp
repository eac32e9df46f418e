#include "bench/interference.hpp"

#include <fstream>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>

namespace shmq::bench {

namespace {

// All CPUs' non-idle time from the first line of /proc/stat, in ticks:
// user nice system idle iowait irq softirq steal (guest time is in user).
std::uint64_t busy_ticks() {
    std::ifstream stat("/proc/stat");
    std::string line;
    std::getline(stat, line);
    std::istringstream fields(line.substr(line.find(' ')));
    std::uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    fields >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
    return user + nice + system + irq + softirq + steal;
}

std::uint64_t ticks_of(const rusage& usage) {
    const auto micros = [](const timeval& time) {
        return static_cast<std::uint64_t>(time.tv_sec) * 1'000'000 + static_cast<std::uint64_t>(time.tv_usec);
    };
    return (micros(usage.ru_utime) + micros(usage.ru_stime)) * static_cast<std::uint64_t>(::sysconf(_SC_CLK_TCK)) /
           1'000'000;
}

// This process and every child it has reaped (the benchmark's processes and
// the brokers they ran on).
std::uint64_t own_ticks() {
    rusage self{}, children{};
    ::getrusage(RUSAGE_SELF, &self);
    ::getrusage(RUSAGE_CHILDREN, &children);
    return ticks_of(self) + ticks_of(children);
}

}  // namespace

Interference::Interference()
    : busy_ticks_(busy_ticks()), own_ticks_(own_ticks()), start_(std::chrono::steady_clock::now()) {}

double Interference::foreign_share() const {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const auto busy = busy_ticks() - busy_ticks_;
    const auto own = own_ticks() - own_ticks_;
    const double capacity = seconds * static_cast<double>(::sysconf(_SC_CLK_TCK)) *
                            static_cast<double>(::sysconf(_SC_NPROCESSORS_ONLN));
    if (capacity <= 0 || busy <= own) return 0;
    return static_cast<double>(busy - own) / capacity;
}

bool wait_for_quiet(std::chrono::milliseconds patience) {
    const auto end = std::chrono::steady_clock::now() + patience;
    do {
        const Interference window;
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        if (window.foreign_share() < disturbed_share) return true;
    } while (std::chrono::steady_clock::now() < end);
    return false;
}

}  // namespace shmq::bench
