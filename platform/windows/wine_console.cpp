// Wine's own exports tell whether this is Wine and where its Unix file
// system is: wine_get_dos_file_name (kernel32) names /proc as a Windows
// path. A Wine process's /proc/PID/cmdline is its Windows command line, its
// arguments separated by NULs. The signal is sent by the shell's kill, a
// Unix program that Wine's CreateProcessW runs as such.
#include "platform/wine_console.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>
#include <windows.h>

#include "platform/windows/win32_text.hpp"

namespace shmq::platform {

namespace {

// The Windows path of a Unix path, through Wine; "" when not under Wine.
std::wstring dos_path_of(const char* unix_path) {
    using DosFileName = WCHAR*(CDECL*)(const char*);
    const HMODULE kernel32 = ::GetModuleHandleW(L"kernel32.dll");
    const auto convert =
        kernel32 == nullptr
            ? nullptr
            : reinterpret_cast<DosFileName>(reinterpret_cast<void*>(::GetProcAddress(kernel32, "wine_get_dos_file_name")));
    if (convert == nullptr) return {};
    WCHAR* converted = convert(unix_path);
    if (converted == nullptr) return {};
    std::wstring path(converted);
    ::HeapFree(::GetProcessHeap(), 0, converted);
    return path;
}

std::string command_line_of(const std::filesystem::path& process) {
    std::ifstream in(process / "cmdline", std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    std::string text = content.str();
    for (char& c : text) {
        if (c == '\0') c = ' ';
    }
    return text;
}

}  // namespace

std::string send_ctrl_c_under_wine(const std::string& command_line_part) {
    const std::wstring proc = dos_path_of("/proc");
    if (proc.empty()) return "not running under Wine (no wine_get_dos_file_name): no Unix signal to send";
    std::vector<std::string> found;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(proc, error)) {
        const std::string pid = entry.path().filename().string();
        if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
        if (command_line_of(entry.path()).find(command_line_part) != std::string::npos) found.push_back(pid);
    }
    if (error) return "cannot list /proc: " + error.message();
    if (found.size() != 1) {
        return std::to_string(found.size()) + " processes have '" + command_line_part +
               "' in their command line in /proc, not one";
    }
    std::wstring command_line = L"/bin/sh -c \"kill -INT " + win32::widen(found.front()) + L"\"";
    STARTUPINFOW startup{};
    startup.cb = sizeof startup;
    PROCESS_INFORMATION process{};
    if (!::CreateProcessW(nullptr, command_line.data(), nullptr, nullptr, FALSE, 0, nullptr, nullptr, &startup,
                          &process)) {
        return "cannot run /bin/sh to send SIGINT to Unix process " + found.front() + ": " +
               win32::last_error_text();
    }
    // Not handles of a process that can be waited for: Wine runs a Unix
    // program outside its own process table.
    ::CloseHandle(process.hThread);
    ::CloseHandle(process.hProcess);
    return {};
}

}  // namespace shmq::platform
