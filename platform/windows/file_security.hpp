// The access a file gets, from a FileAccess: Windows has no mode bits, so
// they become a DACL (protected: nothing inherited from the directory). This
// process's user (the service account, or whoever runs the broker) keeps full
// control; the group's bits give the configured group access, the read-only
// group gets read access alone, the others' bits give Everyone access. Read
// and write bits are honoured; execute means nothing for shmq's files.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "platform/file_access.hpp"

namespace shmq::platform::win32 {

class FileSecurity {
public:
    // Groups are 32-bit ids (see security_identity.hpp) this process looked
    // up by name; one it never met is an error, not a silently missing entry.
    explicit FileSecurity(const FileAccess& access);
    ~FileSecurity();
    FileSecurity(const FileSecurity&) = delete;
    FileSecurity& operator=(const FileSecurity&) = delete;

    // For CreateFileW; null when the descriptor could not be built (`error`
    // says why).
    void* attributes();
    // The DACL alone (a PACL), for SetSecurityInfo; null on error.
    void* dacl();
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
