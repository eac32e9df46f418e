// An exclusive, advisory lock on a file, held for as long as the object lives
// (the file is removed when it is released) and released by the kernel when
// the process dies, however it dies (the file then stays, to be reused). The
// broker holds one for its segment, so that two brokers can never decide at
// the same time whether to create, adopt or set aside the same segment.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

namespace shmq::platform {

class ExclusiveLock {
public:
    enum class Outcome { acquired, held_elsewhere, failed };

    // Creates `path` if needed (with `mode`) and takes the lock without
    // waiting. On held_elsewhere, `message` names the holder's pid when it
    // wrote one; on failed, why.
    static Outcome try_acquire(const std::string& path, unsigned mode, std::unique_ptr<ExclusiveLock>& lock,
                               std::string& message);
    ~ExclusiveLock();
    ExclusiveLock(const ExclusiveLock&) = delete;
    ExclusiveLock& operator=(const ExclusiveLock&) = delete;

private:
    // `descriptor`: the lock file, a descriptor on Linux, a HANDLE on Windows.
    ExclusiveLock(std::intptr_t descriptor, std::string path) : descriptor_(descriptor), path_(std::move(path)) {}
    std::intptr_t descriptor_;
    std::string path_;
};

}  // namespace shmq::platform
