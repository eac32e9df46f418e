// Segments are files (see mapped_file.cpp). Without $SHMQ_RUNTIME_DIR a
// broker puts them in %ProgramData%\shmq when that directory exists (the
// service's installation makes it, for the service account alone: the
// counterpart of /run/shmq), else in the user's temporary directory, the
// per-user fallback as /dev/shm is on Linux.
#include "platform/segment_directory.hpp"

#include <windows.h>

#include "platform/windows/win32_text.hpp"

namespace shmq::platform {

namespace {

std::string from_environment(const wchar_t* name) {
    const DWORD length = ::GetEnvironmentVariableW(name, nullptr, 0);
    if (length == 0) return {};
    std::wstring value(length, L'\0');
    const DWORD got = ::GetEnvironmentVariableW(name, value.data(), length);
    value.resize(got);
    return win32::narrow(value);
}

std::string service_directory() {
    const std::string program_data = from_environment(L"ProgramData");
    return program_data.empty() ? std::string() : program_data + "\\shmq";
}

std::string temporary_directory() {
    wchar_t buffer[MAX_PATH + 1];
    const DWORD length = ::GetTempPathW(MAX_PATH + 1, buffer);
    std::wstring path(buffer, length);
    while (!path.empty() && (path.back() == L'\\' || path.back() == L'/')) path.pop_back();
    return win32::narrow(path);
}

}  // namespace

std::string broker_segment_directory() {
    const std::string configured = from_environment(L"SHMQ_RUNTIME_DIR");
    if (!configured.empty()) return configured;
    const std::string service = service_directory();
    const DWORD attributes = service.empty() ? INVALID_FILE_ATTRIBUTES : ::GetFileAttributesW(win32::widen(service).c_str());
    const bool exists = attributes != INVALID_FILE_ATTRIBUTES && (attributes & FILE_ATTRIBUTE_DIRECTORY) != 0;
    return exists ? service : temporary_directory();
}

std::vector<std::string> client_segment_directories() {
    const std::string configured = from_environment(L"SHMQ_RUNTIME_DIR");
    if (!configured.empty()) return {configured};
    std::vector<std::string> directories;
    const std::string service = service_directory();
    if (!service.empty()) directories.push_back(service);
    directories.push_back(temporary_directory());
    return directories;
}

}  // namespace shmq::platform
