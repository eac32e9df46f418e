#include "daemon/systemd_notify.hpp"

#include <cstdlib>
#include <cstring>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace shmq::daemon {

bool notify_systemd(const std::string& state) {
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (path == nullptr || *path == '\0') return true;
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::size_t length = std::strlen(path);
    if (length >= sizeof address.sun_path) return false;
    std::memcpy(address.sun_path, path, length);
    if (path[0] == '@') address.sun_path[0] = '\0';  // an abstract socket
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    const auto address_length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length);
    const ssize_t sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                                  reinterpret_cast<const sockaddr*>(&address), address_length);
    ::close(fd);
    return sent == static_cast<ssize_t>(state.size());
}

unsigned long long systemd_watchdog_usec() {
    const char* usec = std::getenv("WATCHDOG_USEC");
    if (usec == nullptr) return 0;
    const char* pid = std::getenv("WATCHDOG_PID");
    if (pid != nullptr && std::strtol(pid, nullptr, 10) != ::getpid()) return 0;
    return std::strtoull(usec, nullptr, 10);
}

}  // namespace shmq::daemon
