// Liveness and start times from /proc, the boot id from the kernel's random
// driver, the PID namespace from /proc/self/ns/pid.
#include "platform/process.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace shmq::platform {

namespace {

// /proc/PID/stat is "pid (comm) state ppid ...": comm may hold spaces and
// parentheses, so fields are counted from the last ')'.
bool read_stat(std::int32_t pid, char& state, std::uint64_t& start_time) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    char buffer[1024];
    const ssize_t n = ::read(fd, buffer, sizeof buffer - 1);
    ::close(fd);
    if (n <= 0) return false;
    buffer[n] = '\0';
    const char* cursor = std::strrchr(buffer, ')');
    if (cursor == nullptr || cursor[1] != ' ') return false;
    cursor += 2;
    state = *cursor;
    // Field 3 is the state; skip to field 22 (starttime, clock ticks since boot).
    for (int field = 3; field < 22; ++field) {
        cursor = std::strchr(cursor, ' ');
        if (cursor == nullptr) return false;
        ++cursor;
    }
    start_time = std::strtoull(cursor, nullptr, 10);
    return true;
}

}  // namespace

std::int32_t current_process_id() { return static_cast<std::int32_t>(::getpid()); }

std::string current_program_name() {
    std::ifstream comm("/proc/self/comm");
    std::string name;
    std::getline(comm, name);
    return name;
}

std::uint64_t process_start_time(std::int32_t pid) {
    if (pid <= 0) return 0;
    char state = 0;
    std::uint64_t start_time = 0;
    if (!read_stat(pid, state, start_time)) return 0;
    if (state == 'Z' || state == 'X') return 0;
    return start_time;
}

void read_boot_id(char (&boot_id)[40]) {
    std::memset(boot_id, 0, sizeof boot_id);
    const int fd = ::open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    const ssize_t n = ::read(fd, boot_id, sizeof boot_id - 1);
    ::close(fd);
    for (ssize_t i = 0; i < n; ++i) {
        if (boot_id[i] == '\n') boot_id[i] = '\0';
    }
}

std::uint64_t own_pid_namespace() {
    struct stat status {};
    if (::stat("/proc/self/ns/pid", &status) != 0) return 0;
    return static_cast<std::uint64_t>(status.st_ino);
}

void die_abruptly() {
    ::kill(::getpid(), SIGKILL);
    // SIGKILL cannot be caught; should the kill itself fail, still never return.
    std::_Exit(137);
}

void stop_until_continued() { ::raise(SIGSTOP); }

}  // namespace shmq::platform
