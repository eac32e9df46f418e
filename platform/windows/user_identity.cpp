// Users and groups are SIDs, looked up by account name; their 32-bit ids are
// described in security_identity.hpp.
#include "platform/user_identity.hpp"

#include <vector>
#include <windows.h>

#include "platform/windows/security_identity.hpp"
#include "platform/windows/win32_text.hpp"

namespace shmq::platform {

namespace {

// A name that is a plain decimal id (as ownership settings allow).
bool numeric_id(const std::string& name, std::uint32_t& id) {
    if (name.empty() || name.size() > 10 || name.find_first_not_of("0123456789") != std::string::npos) return false;
    const unsigned long long value = std::stoull(name);
    if (value > UINT32_MAX) return false;
    id = static_cast<std::uint32_t>(value);
    return true;
}

// The SID an account name names, when it names one of `accepted` kinds.
bool account_id(const std::string& name, std::initializer_list<SID_NAME_USE> accepted, std::uint32_t& id) {
    if (name.empty()) return false;
    const std::wstring wide = win32::widen(name);
    DWORD sid_size = 0, domain_size = 0;
    SID_NAME_USE use{};
    ::LookupAccountNameW(nullptr, wide.c_str(), nullptr, &sid_size, nullptr, &domain_size, &use);
    if (sid_size == 0) return false;
    std::vector<unsigned char> sid(sid_size);
    std::wstring domain(domain_size, L'\0');
    if (!::LookupAccountNameW(nullptr, wide.c_str(), sid.data(), &sid_size, domain.data(), &domain_size, &use)) {
        return false;
    }
    for (const SID_NAME_USE kind : accepted) {
        if (use == kind) {
            id = win32::id_of_sid(sid.data());
            return true;
        }
    }
    return false;
}

}  // namespace

std::uint32_t effective_user() { return win32::id_of_sid(win32::own_sid().data()); }

bool user_id_of(const std::string& name, std::uint32_t& id) {
    return account_id(name, {SidTypeUser, SidTypeWellKnownGroup}, id) || numeric_id(name, id);
}

bool group_id_of(const std::string& name, std::uint32_t& id) {
    return account_id(name, {SidTypeGroup, SidTypeAlias, SidTypeWellKnownGroup}, id) || numeric_id(name, id);
}

std::string describe_user(std::uint32_t id) {
    const std::string number = "id " + std::to_string(id);
    std::vector<unsigned char> sid;
    if (!win32::sid_of(id, sid)) return number;
    wchar_t name[256], domain[256];
    DWORD name_size = 256, domain_size = 256;
    SID_NAME_USE use{};
    if (::LookupAccountSidW(nullptr, sid.data(), name, &name_size, domain, &domain_size, &use)) {
        const std::wstring who = domain_size > 0 ? std::wstring(domain) + L"\\" + name : std::wstring(name);
        return win32::narrow(who) + " (" + number + ")";
    }
    return number;
}

}  // namespace shmq::platform
