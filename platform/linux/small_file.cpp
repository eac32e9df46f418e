// The type is checked before opening, and again on what was opened, with
// O_NONBLOCK so that a FIFO swapped in between cannot block the open.
#include "platform/small_file.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace shmq::platform {

namespace {

const char* kind_of(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

class Descriptor {
public:
    explicit Descriptor(int fd) : fd_(fd) {}
    ~Descriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    Descriptor(const Descriptor&) = delete;
    Descriptor& operator=(const Descriptor&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

SmallFileError failed(std::string& detail) {
    detail = std::strerror(errno);
    return SmallFileError::cannot_read;
}

}  // namespace

SmallFileError read_small_file(const std::string& path, std::size_t max_bytes, std::string& content,
                               std::string& detail) {
    content.clear();
    struct stat status {};
    if (::stat(path.c_str(), &status) != 0) return failed(detail);
    if (!S_ISREG(status.st_mode)) {
        detail = kind_of(status.st_mode);
        return SmallFileError::not_regular;
    }
    const Descriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (file.get() < 0) return failed(detail);
    if (::fstat(file.get(), &status) != 0) return failed(detail);
    if (!S_ISREG(status.st_mode)) {
        detail = kind_of(status.st_mode);
        return SmallFileError::not_regular;
    }
    char buffer[8192];
    for (;;) {
        const ssize_t n = ::read(file.get(), buffer, sizeof buffer);
        if (n == 0) return SmallFileError::none;
        if (n < 0) {
            if (errno == EINTR) continue;
            return failed(detail);
        }
        if (content.size() + static_cast<std::size_t>(n) > max_bytes) {
            content.clear();
            return SmallFileError::too_large;
        }
        content.append(buffer, static_cast<std::size_t>(n));
    }
}

}  // namespace shmq::platform
