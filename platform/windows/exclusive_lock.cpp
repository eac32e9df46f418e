// LockFileEx on NAME.lock: Windows releases a byte-range lock when its holder
// dies, however it dies. The lock covers a byte far past the end, so that the
// holder's pid, written at the start, stays readable to the broker refused.
// The file is not removed on release, unlike on Linux: Windows cannot remove
// a file another broker has open (the name would stay "delete pending" and
// refuse the next opener), and a stale lock file does no harm.
#include "platform/exclusive_lock.hpp"

#include <windows.h>

#include "platform/user_identity.hpp"
#include "platform/windows/file_security.hpp"
#include "platform/windows/win32_text.hpp"

namespace shmq::platform {

namespace {

constexpr DWORD locked_offset_high = 0x40000000;  // 2^62: far past anything written

bool lock(HANDLE file) {
    OVERLAPPED where{};
    where.OffsetHigh = locked_offset_high;
    return ::LockFileEx(file, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &where);
}

std::string holder_pid(HANDLE file) {
    char holder[24] = {};
    DWORD got = 0;
    OVERLAPPED from{};
    if (!::ReadFile(file, holder, sizeof holder - 1, &got, &from)) return {};
    return std::string(holder, got);
}

}  // namespace

ExclusiveLock::Outcome ExclusiveLock::try_acquire(const std::string& path, unsigned mode,
                                                  std::unique_ptr<ExclusiveLock>& lock_held, std::string& message) {
    FileAccess access;
    access.mode = mode;
    win32::FileSecurity security(access);
    const HANDLE file = ::CreateFileW(win32::widen(path).c_str(), GENERIC_READ | GENERIC_WRITE,
                                      FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                                      static_cast<SECURITY_ATTRIBUTES*>(security.attributes()), OPEN_ALWAYS,
                                      FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
    if (file == INVALID_HANDLE_VALUE) {
        message = "cannot open lock file '" + path + "': " + win32::last_error_text();
        return Outcome::failed;
    }
    std::uint32_t owner = 0;
    if (win32::owner_of_handle(file, owner) && owner != effective_user()) {
        ::CloseHandle(file);
        message = "lock file '" + path + "' belongs to " + describe_user(owner) +
                  ", not to this broker's user: another local user may be squatting the name";
        return Outcome::failed;
    }
    if (!lock(file)) {
        const DWORD code = ::GetLastError();
        if (code == ERROR_LOCK_VIOLATION || code == ERROR_IO_PENDING) {
            const std::string pid = holder_pid(file);
            ::CloseHandle(file);
            message = "lock file '" + path + "' is held by another broker";
            if (!pid.empty()) message += " (pid " + pid + ")";
            return Outcome::held_elsewhere;
        }
        ::CloseHandle(file);
        message = "cannot lock '" + path + "': " + win32::error_text(code);
        return Outcome::failed;
    }
    // The holder's pid, for the message another broker prints; advisory, so
    // a failed write costs nothing but that message.
    const std::string pid = std::to_string(::GetCurrentProcessId());
    DWORD written = 0;
    OVERLAPPED at_start{};
    if (::WriteFile(file, pid.data(), static_cast<DWORD>(pid.size()), &written, &at_start)) {
        LARGE_INTEGER end{};
        end.QuadPart = static_cast<LONGLONG>(pid.size());
        ::SetFilePointerEx(file, end, nullptr, FILE_BEGIN);
        ::SetEndOfFile(file);
    }
    lock_held.reset(new ExclusiveLock(reinterpret_cast<std::intptr_t>(file), path));
    return Outcome::acquired;
}

ExclusiveLock::~ExclusiveLock() { ::CloseHandle(reinterpret_cast<HANDLE>(descriptor_)); }

}  // namespace shmq::platform
