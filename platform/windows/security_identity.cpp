#include "platform/windows/security_identity.hpp"

#include <map>
#include <mutex>
#include <windows.h>

namespace shmq::platform::win32 {

namespace {

std::mutex known_lock;
std::map<std::uint32_t, std::vector<unsigned char>>& known() {
    static std::map<std::uint32_t, std::vector<unsigned char>> table;
    return table;
}

// FNV-1a: stable across processes and runs, which a 32-bit id must be (it is
// compared with ids other processes computed).
std::uint32_t hash_of(const unsigned char* bytes, std::size_t length) {
    std::uint32_t hash = 2166136261u;
    for (std::size_t i = 0; i < length; ++i) hash = (hash ^ bytes[i]) * 16777619u;
    return hash;
}

}  // namespace

std::uint32_t id_of_sid(const void* sid) {
    auto* native = const_cast<PSID>(sid);
    if (sid == nullptr || !::IsValidSid(native)) return UINT32_MAX;
    const auto length = static_cast<std::size_t>(::GetLengthSid(native));
    const auto* bytes = static_cast<const unsigned char*>(sid);
    std::uint32_t id = 0;
    if (!::IsWellKnownSid(native, WinLocalSystemSid)) {
        id = hash_of(bytes, length);
        if (id == 0) id = 1;  // 0 stands for LocalSystem alone
    }
    const std::lock_guard<std::mutex> hold(known_lock);
    known()[id].assign(bytes, bytes + length);
    return id;
}

bool sid_of(std::uint32_t id, std::vector<unsigned char>& sid) {
    const std::lock_guard<std::mutex> hold(known_lock);
    const auto found = known().find(id);
    if (found == known().end()) return false;
    sid = found->second;
    return true;
}

const std::vector<unsigned char>& own_sid() {
    static const std::vector<unsigned char> sid = [] {
        std::vector<unsigned char> bytes;
        HANDLE token = nullptr;
        if (!::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, &token)) return bytes;
        DWORD needed = 0;
        ::GetTokenInformation(token, TokenUser, nullptr, 0, &needed);
        std::vector<unsigned char> buffer(needed);
        if (needed > 0 && ::GetTokenInformation(token, TokenUser, buffer.data(), needed, &needed)) {
            const PSID user = reinterpret_cast<TOKEN_USER*>(buffer.data())->User.Sid;
            const auto* start = static_cast<const unsigned char*>(user);
            bytes.assign(start, start + ::GetLengthSid(user));
        }
        ::CloseHandle(token);
        return bytes;
    }();
    return sid;
}

}  // namespace shmq::platform::win32
