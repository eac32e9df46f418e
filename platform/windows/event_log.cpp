#include "platform/windows/event_log.hpp"

#include <windows.h>

#include <atomic>
#include <stdexcept>

#include "event_messages.h"  // made by windmc from event_messages.mc
#include "platform/service_host.hpp"
#include "platform/windows/win32_text.hpp"

namespace shmq::platform {

namespace win32 {

namespace {

std::wstring source_key(const std::string& name) {
    return L"SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\" + widen(name);
}

// The source open_service_event_log() opened; nullptr before.
std::atomic<HANDLE> open_source{nullptr};

// ReportEventW takes strings of at most 31,839 characters; a longer log line
// (a configuration's error listing) is cut rather than lost.
constexpr std::size_t longest_event_text = 31'000;

}  // namespace

void register_event_source(const std::string& name, const std::string& message_file) {
    HKEY key = nullptr;
    LSTATUS status = ::RegCreateKeyExW(HKEY_LOCAL_MACHINE, source_key(name).c_str(), 0, nullptr, 0, KEY_SET_VALUE,
                                       nullptr, &key, nullptr);
    if (status != ERROR_SUCCESS) {
        throw std::runtime_error("cannot register event source '" + name + "': " + error_text(status));
    }
    const std::wstring file = widen(message_file);
    const DWORD types = EVENTLOG_ERROR_TYPE | EVENTLOG_WARNING_TYPE | EVENTLOG_INFORMATION_TYPE;
    status = ::RegSetValueExW(key, L"EventMessageFile", 0, REG_EXPAND_SZ, reinterpret_cast<const BYTE*>(file.c_str()),
                              static_cast<DWORD>((file.size() + 1) * sizeof(wchar_t)));
    if (status == ERROR_SUCCESS) {
        status = ::RegSetValueExW(key, L"TypesSupported", 0, REG_DWORD, reinterpret_cast<const BYTE*>(&types),
                                  sizeof types);
    }
    ::RegCloseKey(key);
    if (status != ERROR_SUCCESS) {
        remove_event_source(name);  // not half registered
        throw std::runtime_error("cannot register event source '" + name + "': " + error_text(status));
    }
}

void remove_event_source(const std::string& name) {
    const LSTATUS status = ::RegDeleteKeyW(HKEY_LOCAL_MACHINE, source_key(name).c_str());
    if (status != ERROR_SUCCESS && status != ERROR_FILE_NOT_FOUND) {
        throw std::runtime_error("cannot remove event source '" + name + "': " + error_text(status));
    }
}

}  // namespace win32

std::string open_service_event_log(const std::string& name) {
    if (win32::open_source.load() != nullptr) return {};
    const HANDLE source = ::RegisterEventSourceW(nullptr, win32::widen(name).c_str());
    if (source == nullptr) return "cannot open event source '" + name + "': " + win32::last_error_text();
    // Never deregistered: the handle serves until the process ends.
    win32::open_source.store(source);
    return {};
}

void report_service_event(EventSeverity severity, const std::string& text) {
    const HANDLE source = win32::open_source.load();
    if (source == nullptr) return;
    WORD type = EVENTLOG_INFORMATION_TYPE;
    DWORD event = SHMQ_EVENT_INFORMATION;
    switch (severity) {
    case EventSeverity::information: break;
    case EventSeverity::warning:
        type = EVENTLOG_WARNING_TYPE;
        event = SHMQ_EVENT_WARNING;
        break;
    case EventSeverity::error:
        type = EVENTLOG_ERROR_TYPE;
        event = SHMQ_EVENT_ERROR;
        break;
    }
    const std::wstring message = win32::widen(text.substr(0, win32::longest_event_text));
    const wchar_t* strings[] = {message.c_str()};
    // A full or unavailable event log does not stop the broker: the log file
    // has the line too.
    ::ReportEventW(source, type, 0, event, nullptr, 1, 0, strings, nullptr);
}

}  // namespace shmq::platform
