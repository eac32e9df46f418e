// The access a created file gets, from Linux-style mode bits: Windows has no
// mode bits, so they become a DACL (protected: nothing inherited from the
// directory). The owner's bits give this process's user access; the group's
// give the configured group access when its SID is known; the others' give
// Everyone access. Read and write bits are honoured; execute means nothing
// for shmq's files.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace shmq::platform::win32 {

class FileSecurity {
public:
    // `group`: the 32-bit id of a group (see security_identity.hpp), or -1.
    FileSecurity(std::uint32_t mode, std::int64_t group);
    ~FileSecurity();
    FileSecurity(const FileSecurity&) = delete;
    FileSecurity& operator=(const FileSecurity&) = delete;

    // For CreateFileW; null when the descriptor could not be built (`error`
    // says why).
    void* attributes();
    const std::string& error() const { return error_; }

private:
    struct Native;
    std::unique_ptr<Native> native_;
    std::string error_;
};

// The owner of the file open as `handle`, as a 32-bit id; false when it
// cannot be read.
bool owner_of_handle(void* handle, std::uint32_t& owner);

}  // namespace shmq::platform::win32
