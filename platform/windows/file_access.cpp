// The segment's access control on Windows: the FileAccess becomes the file's
// DACL (see file_security.hpp), replacing whatever an earlier configuration
// left, so that a group removed from the configuration loses its access.
#include "platform/file_access.hpp"

#include <aclapi.h>
#include <windows.h>

#include "platform/windows/file_security.hpp"
#include "platform/windows/win32_text.hpp"

namespace shmq::platform {

bool apply_file_access(std::intptr_t descriptor, const FileAccess& access, std::string& message) {
    win32::FileSecurity security(access);
    auto* acl = static_cast<PACL>(security.dacl());
    if (acl == nullptr) {
        message = security.error();
        return false;
    }
    // The mapping's handle was opened for reading and writing the data; a
    // second handle to the same file, opened for WRITE_DAC (which its owner,
    // the broker's account, always holds), changes the access list.
    const HANDLE writer = ::ReOpenFile(reinterpret_cast<HANDLE>(descriptor), READ_CONTROL | WRITE_DAC,
                                       FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, 0);
    if (writer == INVALID_HANDLE_VALUE) {
        message = "cannot open it to change its access list: " + win32::last_error_text();
        return false;
    }
    const DWORD status = ::SetSecurityInfo(writer, SE_FILE_OBJECT,
                                           DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION, nullptr,
                                           nullptr, acl, nullptr);
    ::CloseHandle(writer);
    if (status != ERROR_SUCCESS) {
        message = "cannot set its access list: " + win32::error_text(status);
        return false;
    }
    return true;
}

}  // namespace shmq::platform
