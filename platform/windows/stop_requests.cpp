// Console control events stand for SIGINT and SIGTERM: Ctrl-C, Ctrl-Break,
// closing the console window, logoff and shutdown. Windows runs the handler
// in a thread of its own; it only records the event and wakes the waiting
// thread, which then stops the broker the same way as on Linux.
#include "platform/stop_requests.hpp"

#include <atomic>
#include <windows.h>

namespace shmq::platform {

namespace {

std::atomic<DWORD> received{0};
HANDLE arrived = nullptr;

const char* name_of(DWORD event) {
    switch (event) {
    case CTRL_C_EVENT: return "Ctrl-C";
    case CTRL_BREAK_EVENT: return "Ctrl-Break";
    case CTRL_CLOSE_EVENT: return "console closed";
    case CTRL_LOGOFF_EVENT: return "logoff";
    case CTRL_SHUTDOWN_EVENT: return "shutdown";
    default: return "console control event";
    }
}

BOOL WINAPI on_control(DWORD event) {
    DWORD none = 0;
    received.compare_exchange_strong(none, event + 1);
    ::SetEvent(arrived);
    if (event == CTRL_CLOSE_EVENT || event == CTRL_LOGOFF_EVENT || event == CTRL_SHUTDOWN_EVENT) {
        // Windows ends the process as soon as this handler returns from these
        // events: hold it here (up to the system's grace period) so that the
        // broker's clean stop finishes first; the process exits under it.
        ::Sleep(INFINITE);
    }
    return TRUE;
}

}  // namespace

void capture_stop_requests() {
    arrived = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
    ::SetConsoleCtrlHandler(on_control, TRUE);
}

// Every console control event asks for a stop: a console has no
// counterpart of SIGHUP (`shmq reload` reloads on every platform).
OperatorRequest wait_for_operator_request() {
    ::WaitForSingleObject(arrived, INFINITE);
    return {OperatorRequest::Kind::stop, name_of(received.load() - 1)};
}

}  // namespace shmq::platform
