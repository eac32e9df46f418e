// Console control events stand for SIGINT and SIGTERM: Ctrl-C, Ctrl-Break,
// closing the console window, logoff and shutdown. Windows runs the handler
// in a thread of its own; it only queues the request, and the waiting thread
// then stops the broker the same way as on Linux. Under the Service Control
// Manager, its controls are queued here too (operator_requests.hpp): STOP
// and SHUTDOWN as stops, PARAMCHANGE as a reload.
#include "platform/stop_requests.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <windows.h>

#include "platform/windows/operator_requests.hpp"

namespace shmq::platform {

namespace {

std::mutex guard;
std::condition_variable arrived;
std::deque<OperatorRequest> pending;

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

// Every console control event asks for the same stop, SIGINT's and
// SIGTERM's on Linux: Ctrl-C, Ctrl-Break and the console's closing differ
// only in their name in the log (and in the wait below). A console has no
// counterpart of SIGHUP (`shmq reload` reloads on every platform). Under
// Wine only Ctrl-C can be delivered, so only it is tested
// (docs/guarantees.md, "Windows").
BOOL WINAPI on_control(DWORD event) {
    win32::post_operator_request({OperatorRequest::Kind::stop, name_of(event)});
    if (event == CTRL_CLOSE_EVENT || event == CTRL_LOGOFF_EVENT || event == CTRL_SHUTDOWN_EVENT) {
        // Windows ends the process as soon as this handler returns from these
        // events: hold it here (up to the system's grace period) so that the
        // broker's clean stop finishes first; the process exits under it.
        ::Sleep(INFINITE);
    }
    return TRUE;
}

}  // namespace

void win32::post_operator_request(const OperatorRequest& request) {
    {
        std::lock_guard<std::mutex> lock(guard);
        pending.push_back(request);
    }
    arrived.notify_one();
}

void capture_stop_requests() { ::SetConsoleCtrlHandler(on_control, TRUE); }

OperatorRequest wait_for_operator_request() {
    std::unique_lock<std::mutex> lock(guard);
    arrived.wait(lock, [] { return !pending.empty(); });
    const OperatorRequest request = pending.front();
    pending.pop_front();
    return request;
}

}  // namespace shmq::platform
