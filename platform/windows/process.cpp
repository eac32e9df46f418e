// Processes are opened by id and asked whether they still run and when they
// were created (GetProcessTimes, in 100 ns units since 1601): an id Windows
// gave again to a new process comes with a different creation time.
#include "platform/process.hpp"

#include <cstdlib>
#include <cstring>
#include <windows.h>
#include <winternl.h>

#include "platform/windows/win32_text.hpp"

namespace shmq::platform {

std::int32_t current_process_id() { return static_cast<std::int32_t>(::GetCurrentProcessId()); }

std::string current_program_name() {
    std::wstring path(MAX_PATH, L'\0');
    for (;;) {
        const DWORD length = ::GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size()));
        if (length == 0) return {};
        if (length < path.size()) {
            path.resize(length);
            break;
        }
        path.resize(path.size() * 2);
    }
    std::string name = win32::narrow(path.substr(path.find_last_of(L"\\/") + 1));
    // "shmq.exe" is listed as "shmq", as on Linux.
    if (name.size() > 4 && _stricmp(name.c_str() + name.size() - 4, ".exe") == 0) name.resize(name.size() - 4);
    return name;
}

std::uint64_t process_start_time(std::int32_t pid) {
    if (pid <= 0) return 0;
    HANDLE process = ::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, static_cast<DWORD>(pid));
    if (process == nullptr) {
        // A process of another user still exists: Windows says so by refusing
        // access, and says nothing of its creation time. Such a process is
        // kept as alive with a start time nobody else can have.
        return ::GetLastError() == ERROR_ACCESS_DENIED ? 1 : 0;
    }
    // An ended process lingers while handles to it remain (a zombie counts as
    // exited): its exit code is then no longer STILL_ACTIVE. A process that
    // chose 259 (STILL_ACTIVE) as its own exit code is taken for alive until
    // its last handle closes.
    DWORD exit_code = 0;
    FILETIME created{}, exited{}, kernel{}, user{};
    const bool running = ::GetExitCodeProcess(process, &exit_code) && exit_code == STILL_ACTIVE;
    const bool timed = ::GetProcessTimes(process, &created, &exited, &kernel, &user);
    ::CloseHandle(process);
    if (!running) return 0;
    const std::uint64_t start = (static_cast<std::uint64_t>(created.dwHighDateTime) << 32) | created.dwLowDateTime;
    return timed && start != 0 ? start : 1;
}

namespace {

// Windows counts boots in the registry (Memory Management's PrefetchParameters
// BootId); Wine does not, so its fallback is the kernel's boot instant. The
// boot instant moves when the wall clock is set, so on a system without the
// counter a clock step reads as a new boot (docs/guarantees.md).
bool registry_boot_count(DWORD& count) {
    DWORD size = sizeof count;
    return ::RegGetValueW(HKEY_LOCAL_MACHINE,
                          L"SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Memory Management\\PrefetchParameters",
                          L"BootId", RRF_RT_REG_DWORD, nullptr, &count, &size) == ERROR_SUCCESS;
}

bool boot_instant(std::uint64_t& instant) {
    SYSTEM_TIMEOFDAY_INFORMATION time_of_day{};
    if (::NtQuerySystemInformation(SystemTimeOfDayInformation, &time_of_day, sizeof time_of_day, nullptr) != 0) {
        return false;
    }
    instant = static_cast<std::uint64_t>(time_of_day.BootTime.QuadPart);
    return true;
}

}  // namespace

void read_boot_id(char (&boot_id)[40]) {
    std::memset(boot_id, 0, sizeof boot_id);
    DWORD count = 0;
    std::uint64_t instant = 0;
    std::string text;
    if (registry_boot_count(count)) {
        text = "boot-" + std::to_string(count);
    } else if (boot_instant(instant)) {
        text = "booted-at-" + std::to_string(instant);
    }
    std::memcpy(boot_id, text.data(), text.size() < sizeof boot_id ? text.size() : sizeof boot_id - 1);
}

// Process ids are unique machine-wide on Windows (server silos aside, which
// shmq does not support): one namespace, always the same number.
std::uint64_t own_pid_namespace() { return 1; }

void die_abruptly() {
    ::TerminateProcess(::GetCurrentProcess(), 137);
    // TerminateProcess on oneself does not return; should it fail, still never return.
    std::_Exit(137);
}

void stop_until_continued() { ::SuspendThread(::GetCurrentThread()); }

}  // namespace shmq::platform
