// systemd sets $JOURNAL_STREAM to the device and inode of the stream it
// connected to the journal; a process whose stderr is still that stream (not
// redirected by a shell in between) may prefix its lines with "<N>", the
// syslog priority (sd-daemon(3)).
#include "platform/journal.hpp"

#include <cstdio>
#include <cstdlib>
#include <sys/stat.h>
#include <unistd.h>

namespace shmq::platform {

bool standard_error_is_journal() {
    const char* stream = std::getenv("JOURNAL_STREAM");
    if (stream == nullptr) return false;
    unsigned long long device = 0;
    unsigned long long inode = 0;
    if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2) return false;
    struct stat status {};
    if (::fstat(STDERR_FILENO, &status) != 0) return false;
    return static_cast<unsigned long long>(status.st_dev) == device &&
           static_cast<unsigned long long>(status.st_ino) == inode;
}

}  // namespace shmq::platform
