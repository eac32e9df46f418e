#include "platform/windows/file_security.hpp"

#include <aclapi.h>
#include <vector>
#include <windows.h>

#include "platform/windows/security_identity.hpp"
#include "platform/windows/win32_text.hpp"

namespace shmq::platform::win32 {

struct FileSecurity::Native {
    SECURITY_DESCRIPTOR descriptor{};
    SECURITY_ATTRIBUTES attributes{};
    PACL acl = nullptr;
    std::vector<std::vector<unsigned char>> sids;
};

namespace {

DWORD access_of(std::uint32_t bits) {
    DWORD access = 0;
    if (bits & 4) access |= FILE_GENERIC_READ;
    if (bits & 2) access |= FILE_GENERIC_WRITE | DELETE;
    return access;
}

std::vector<unsigned char> everyone_sid() {
    std::vector<unsigned char> sid(SECURITY_MAX_SID_SIZE);
    DWORD size = static_cast<DWORD>(sid.size());
    if (!::CreateWellKnownSid(WinWorldSid, nullptr, sid.data(), &size)) return {};
    sid.resize(size);
    return sid;
}

// A group's SID from its id; false (with `error`) for an id never looked up.
bool group_sid(std::int64_t group, const char* role, std::vector<unsigned char>& sid, std::string& error) {
    if (sid_of(static_cast<std::uint32_t>(group), sid)) return true;
    error = std::string("cannot grant access to the ") + role + " group " + std::to_string(group) +
            ": no account of that id is known (name the group by its account name)";
    return false;
}

}  // namespace

FileSecurity::FileSecurity(const FileAccess& access) : native_(std::make_unique<Native>()) {
    const std::uint32_t mode = access.mode;
    std::vector<std::pair<std::vector<unsigned char>, DWORD>> grants;
    // Full control for this process's user: it is the broker's account,
    // which must always be able to repair, resize and move the file.
    grants.emplace_back(own_sid(), FILE_ALL_ACCESS);
    if (access.group >= 0 && access_of((mode >> 3) & 7) != 0) {
        std::vector<unsigned char> sid;
        if (!group_sid(access.group, "configured", sid, error_)) return;
        grants.emplace_back(sid, access_of((mode >> 3) & 7));
    }
    if (access.read_only_group >= 0) {
        std::vector<unsigned char> sid;
        if (!group_sid(access.read_only_group, "read-only (readers)", sid, error_)) return;
        grants.emplace_back(sid, FILE_GENERIC_READ);
    }
    if (access_of(mode & 7) != 0) grants.emplace_back(everyone_sid(), access_of(mode & 7));

    std::vector<EXPLICIT_ACCESSW> entries;
    for (auto& [sid, rights] : grants) {
        if (sid.empty() || rights == 0) continue;
        native_->sids.push_back(sid);
        EXPLICIT_ACCESSW entry{};
        entry.grfAccessPermissions = rights;
        entry.grfAccessMode = SET_ACCESS;
        entry.grfInheritance = NO_INHERITANCE;
        entry.Trustee.TrusteeForm = TRUSTEE_IS_SID;
        entry.Trustee.TrusteeType = TRUSTEE_IS_UNKNOWN;
        entry.Trustee.ptstrName = reinterpret_cast<LPWSTR>(native_->sids.back().data());
        entries.push_back(entry);
    }
    const DWORD status = ::SetEntriesInAclW(static_cast<ULONG>(entries.size()), entries.data(), nullptr, &native_->acl);
    if (status != ERROR_SUCCESS) {
        error_ = "cannot build its access list: " + error_text(status);
        return;
    }
    if (!::InitializeSecurityDescriptor(&native_->descriptor, SECURITY_DESCRIPTOR_REVISION) ||
        !::SetSecurityDescriptorDacl(&native_->descriptor, TRUE, native_->acl, FALSE) ||
        !::SetSecurityDescriptorControl(&native_->descriptor, SE_DACL_PROTECTED, SE_DACL_PROTECTED)) {
        error_ = "cannot build its security descriptor: " + last_error_text();
        return;
    }
    native_->attributes.nLength = sizeof native_->attributes;
    native_->attributes.lpSecurityDescriptor = &native_->descriptor;
    native_->attributes.bInheritHandle = FALSE;
}

FileSecurity::~FileSecurity() {
    if (native_->acl != nullptr) ::LocalFree(native_->acl);
}

void* FileSecurity::attributes() { return error_.empty() ? &native_->attributes : nullptr; }

void* FileSecurity::dacl() { return error_.empty() ? native_->acl : nullptr; }

bool owner_of_handle(void* handle, std::uint32_t& owner) {
    PSID sid = nullptr;
    PSECURITY_DESCRIPTOR descriptor = nullptr;
    if (::GetSecurityInfo(static_cast<HANDLE>(handle), SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, &sid, nullptr,
                          nullptr, nullptr, &descriptor) != ERROR_SUCCESS) {
        return false;
    }
    owner = id_of_sid(sid);
    ::LocalFree(descriptor);
    return true;
}

}  // namespace shmq::platform::win32
