// Only a disk file is read: a directory, a named pipe or a device is refused
// by its attributes before opening and by its type after.
#include "platform/small_file.hpp"

#include <windows.h>

#include "platform/windows/win32_text.hpp"

namespace shmq::platform {

namespace {

SmallFileError failed(std::string& detail) {
    detail = win32::last_error_text();
    return SmallFileError::cannot_read;
}

}  // namespace

SmallFileError read_small_file(const std::string& path, std::size_t max_bytes, std::string& content,
                               std::string& detail) {
    content.clear();
    const std::wstring wide = win32::widen(path);
    const DWORD attributes = ::GetFileAttributesW(wide.c_str());
    if (attributes == INVALID_FILE_ATTRIBUTES) return failed(detail);
    if (attributes & FILE_ATTRIBUTE_DIRECTORY) {
        detail = "a directory";
        return SmallFileError::not_regular;
    }
    const HANDLE file = ::CreateFileW(wide.c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                                      nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
    if (file == INVALID_HANDLE_VALUE) return failed(detail);
    const DWORD type = ::GetFileType(file);
    if (type != FILE_TYPE_DISK) {
        ::CloseHandle(file);
        detail = type == FILE_TYPE_PIPE ? "a pipe" : type == FILE_TYPE_CHAR ? "a character device" : "not a regular file";
        return SmallFileError::not_regular;
    }
    char buffer[8192];
    for (;;) {
        DWORD got = 0;
        if (!::ReadFile(file, buffer, sizeof buffer, &got, nullptr)) {
            const SmallFileError error = failed(detail);
            ::CloseHandle(file);
            return error;
        }
        if (got == 0) break;
        if (content.size() + got > max_bytes) {
            ::CloseHandle(file);
            content.clear();
            return SmallFileError::too_large;
        }
        content.append(buffer, got);
    }
    ::CloseHandle(file);
    return SmallFileError::none;
}

}  // namespace shmq::platform
