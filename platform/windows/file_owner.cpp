// The owner is read from the file's security descriptor; the file is opened
// without following a symbolic link (FILE_FLAG_OPEN_REPARSE_POINT), as lstat
// does on Linux.
#include "platform/file_owner.hpp"

#include <aclapi.h>
#include <windows.h>

#include "platform/windows/file_security.hpp"
#include "platform/windows/win32_text.hpp"

namespace shmq::platform {

bool file_owner(const std::string& path, std::uint32_t& owner) {
    const HANDLE file = ::CreateFileW(win32::widen(path).c_str(), READ_CONTROL,
                                      FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, OPEN_EXISTING,
                                      FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS, nullptr);
    if (file == INVALID_HANDLE_VALUE) return false;
    const bool found = win32::owner_of_handle(file, owner);
    ::CloseHandle(file);
    return found;
}

bool restrict_to_owner(const std::string& path) {
    win32::FileSecurity owner_only(FileAccess{});
    auto* acl = static_cast<PACL>(owner_only.dacl());
    if (acl == nullptr) return false;
    std::wstring wide = win32::widen(path);
    return ::SetNamedSecurityInfoW(wide.data(), SE_FILE_OBJECT,
                                   DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION, nullptr, nullptr,
                                   acl, nullptr) == ERROR_SUCCESS;
}

}  // namespace shmq::platform
