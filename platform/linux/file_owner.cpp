#include "platform/file_owner.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace shmq::platform {

bool file_owner(const std::string& path, std::uint32_t& owner) {
    struct stat facts {};
    if (::lstat(path.c_str(), &facts) != 0) return false;
    owner = static_cast<std::uint32_t>(facts.st_uid);
    return true;
}

bool restrict_to_owner(const std::string& path) {
    // Not chmod(path): it follows a symbolic link, and what is set aside may
    // be another user's link, whose target root must not touch. O_NONBLOCK:
    // a FIFO must not block the open. A link needs nothing: it holds no data.
    const int descriptor = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (descriptor < 0) return errno == ELOOP;
    const bool restricted = ::fchmod(descriptor, S_IRUSR | S_IWUSR) == 0;
    ::close(descriptor);
    return restricted;
}

}  // namespace shmq::platform
