// CreateProcessW with a command line quoted the way the C runtime splits it
// back into arguments; TerminateProcess is the Windows kill -9.
#include "platform/child_process.hpp"

#include <stdexcept>
#include <windows.h>

#include "platform/windows/win32_text.hpp"

namespace shmq::platform {

namespace {

HANDLE native(std::intptr_t handle) { return reinterpret_cast<HANDLE>(handle); }

}  // namespace

ChildProcess::ChildProcess(const std::string& program, const std::vector<std::string>& arguments,
                           const std::string& output_path) {
    std::wstring command_line = win32::quoted_argument(win32::widen(program));
    for (const auto& argument : arguments) command_line += L" " + win32::quoted_argument(win32::widen(argument));
    STARTUPINFOW startup{};
    startup.cb = sizeof startup;
    HANDLE output = INVALID_HANDLE_VALUE;
    if (!output_path.empty()) {
        SECURITY_ATTRIBUTES inheritable{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
        output = ::CreateFileW(win32::widen(output_path).c_str(), GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE,
                               &inheritable, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
        if (output == INVALID_HANDLE_VALUE) {
            throw std::runtime_error("cannot create " + output_path + ": " + win32::last_error_text());
        }
        startup.dwFlags = STARTF_USESTDHANDLES;
        startup.hStdInput = ::GetStdHandle(STD_INPUT_HANDLE);
        startup.hStdOutput = output;
        startup.hStdError = output;
    }
    PROCESS_INFORMATION process{};
    const BOOL started = ::CreateProcessW(nullptr, command_line.data(), nullptr, nullptr, output != INVALID_HANDLE_VALUE,
                                          0, nullptr, nullptr, &startup, &process);
    const std::string why = started ? std::string() : win32::last_error_text();
    if (output != INVALID_HANDLE_VALUE) ::CloseHandle(output);
    if (!started) throw std::runtime_error("cannot start " + program + ": " + why);
    ::CloseHandle(process.hThread);
    handle_ = reinterpret_cast<std::intptr_t>(process.hProcess);
    id_ = static_cast<std::int32_t>(process.dwProcessId);
}

ChildProcess::~ChildProcess() {
    int status = 0;
    if (!ended_) {
        kill();
        wait(std::chrono::seconds(60), status);
    }
    ::CloseHandle(native(handle_));
}

void ChildProcess::kill() {
    if (!ended_) ::TerminateProcess(native(handle_), 137);
}

bool ChildProcess::wait(std::chrono::milliseconds timeout, int& exit_status) {
    if (!ended_) {
        if (::WaitForSingleObject(native(handle_), static_cast<DWORD>(timeout.count())) != WAIT_OBJECT_0) return false;
        DWORD code = 0;
        ::GetExitCodeProcess(native(handle_), &code);
        ended_ = true;
        exit_status_ = static_cast<int>(code);
    }
    exit_status = exit_status_;
    return true;
}

}  // namespace shmq::platform
