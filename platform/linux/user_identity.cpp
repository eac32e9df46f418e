#include "platform/user_identity.hpp"

#include <cerrno>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>
#include <vector>

namespace shmq::platform {

std::uint32_t effective_user() { return static_cast<std::uint32_t>(::geteuid()); }

namespace {

// A name that is a plain decimal id (as ownership settings allow).
bool numeric_id(const std::string& name, std::uint32_t& id) {
    if (name.empty() || name.size() > 9 || name.find_first_not_of("0123456789") != std::string::npos) return false;
    id = static_cast<std::uint32_t>(std::stoul(name));
    return true;
}

}  // namespace

bool user_id_of(const std::string& name, std::uint32_t& id) {
    if (name.empty()) return false;
    passwd entry{};
    passwd* found = nullptr;
    std::vector<char> buffer(16384);
    if (::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) {
        id = static_cast<std::uint32_t>(found->pw_uid);
        return true;
    }
    return numeric_id(name, id);
}

bool group_id_of(const std::string& name, std::uint32_t& id) {
    if (name.empty()) return false;
    group entry{};
    group* found = nullptr;
    std::vector<char> buffer(16384);
    // ERANGE: a group with more members than the buffer holds.
    while (::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) == ERANGE &&
           buffer.size() < (1u << 24)) {
        buffer.resize(buffer.size() * 2);
    }
    if (found != nullptr) {
        id = static_cast<std::uint32_t>(found->gr_gid);
        return true;
    }
    return numeric_id(name, id);
}

std::string describe_user(std::uint32_t id) {
    passwd entry{};
    passwd* found = nullptr;
    std::vector<char> buffer(16384);
    const std::string number = "uid " + std::to_string(id);
    if (::getpwuid_r(static_cast<uid_t>(id), &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) {
        return std::string(found->pw_name) + " (" + number + ")";
    }
    return number;
}

}  // namespace shmq::platform
