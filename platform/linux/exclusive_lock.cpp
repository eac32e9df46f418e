#include "platform/exclusive_lock.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace shmq::platform {

namespace {

// True when `path` still names the file open as `descriptor`: a holder that
// released the lock removes the file, and a lock taken on a removed file
// would exclude nobody.
bool still_named(int descriptor, const std::string& path) {
    struct stat opened {}, named {};
    return ::fstat(descriptor, &opened) == 0 && ::lstat(path.c_str(), &named) == 0 && opened.st_dev == named.st_dev &&
           opened.st_ino == named.st_ino;
}

}  // namespace

ExclusiveLock::Outcome ExclusiveLock::try_acquire(const std::string& path, unsigned mode,
                                                  std::unique_ptr<ExclusiveLock>& lock, std::string& message) {
    for (int attempt = 0; attempt < 100; ++attempt) {
        const int descriptor = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, mode);
        struct stat opened {};
        if (descriptor < 0 || ::fstat(descriptor, &opened) != 0 || opened.st_uid != ::geteuid()) {
            const int code = errno;
            struct stat named {};
            if (::lstat(path.c_str(), &named) == 0 && named.st_uid != ::geteuid()) {
                if (descriptor >= 0) ::close(descriptor);
                if (::geteuid() == 0 && ::unlink(path.c_str()) == 0) continue;  // root clears a squatter's file
                message = "lock file '" + path + "' belongs to uid " + std::to_string(named.st_uid) +
                          ", not to this broker's user: another local user may be squatting the name";
                return Outcome::failed;
            }
            if (descriptor >= 0) ::close(descriptor);
            message = "cannot open lock file '" + path + "': " + std::strerror(code);
            return Outcome::failed;
        }
        if (::flock(descriptor, LOCK_EX | LOCK_NB) != 0) {
            const int code = errno;
            if (code == EWOULDBLOCK) {
                char holder[24] = {};
                const ssize_t got = ::pread(descriptor, holder, sizeof holder - 1, 0);
                ::close(descriptor);
                message = "lock file '" + path + "' is held by another broker";
                if (got > 0) message += " (pid " + std::string(holder, static_cast<std::size_t>(got)) + ")";
                return Outcome::held_elsewhere;
            }
            ::close(descriptor);
            message = "cannot lock '" + path + "': " + std::strerror(code);
            return Outcome::failed;
        }
        if (!still_named(descriptor, path)) {
            ::close(descriptor);  // its holder removed it as we opened it: take the new one
            continue;
        }
        // The holder's pid, for the message another broker prints; advisory,
        // so a failed write costs nothing but that message.
        const std::string pid = std::to_string(::getpid());
        if (::ftruncate(descriptor, 0) == 0) {
            [[maybe_unused]] const ssize_t written = ::pwrite(descriptor, pid.data(), pid.size(), 0);
        }
        lock.reset(new ExclusiveLock(descriptor, path));
        return Outcome::acquired;
    }
    message = "lock file '" + path + "' keeps being replaced; is another broker starting and stopping in a loop?";
    return Outcome::failed;
}

// Removed before it is unlocked, so that whoever locks next locks a file that
// stays named (see still_named).
ExclusiveLock::~ExclusiveLock() {
    ::unlink(path_.c_str());
    ::close(static_cast<int>(descriptor_));
}

}  // namespace shmq::platform
