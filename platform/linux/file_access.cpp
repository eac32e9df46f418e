#include "platform/file_access.hpp"

#include <cerrno>
#include <cstring>
#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace shmq::platform {

namespace {

// The kernel's own ACL format (linux/posix_acl_xattr.h), written as the
// extended attribute system.posix_acl_access: six fixed entries need no
// library. Entries in the order the kernel requires (by tag, then id).
bool set_read_only_group(int descriptor, std::uint32_t mode, std::uint32_t group, std::string& message) {
    struct Acl {
        posix_acl_xattr_header header;
        posix_acl_xattr_entry entries[5];
    } acl{};
    const auto entry = [](std::uint16_t tag, std::uint32_t permissions, std::uint32_t id) {
        posix_acl_xattr_entry made{};
        made.e_tag = tag;  // little-endian fields: this is a little-endian machine's kernel ABI
        made.e_perm = static_cast<std::uint16_t>(permissions);
        made.e_id = id;
        return made;
    };
    static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the ACL attribute is little-endian");
    const std::uint32_t owner_bits = (mode >> 6) & 07;
    const std::uint32_t group_bits = (mode >> 3) & 07;
    acl.header.a_version = POSIX_ACL_XATTR_VERSION;
    acl.entries[0] = entry(ACL_USER_OBJ, owner_bits, ACL_UNDEFINED_ID);
    acl.entries[1] = entry(ACL_GROUP_OBJ, group_bits, ACL_UNDEFINED_ID);
    acl.entries[2] = entry(ACL_GROUP, ACL_READ, group);
    // The mask bounds every group entry: it must let the owning group keep
    // its bits and the readers read.
    acl.entries[3] = entry(ACL_MASK, group_bits | ACL_READ, ACL_UNDEFINED_ID);
    acl.entries[4] = entry(ACL_OTHER, mode & 07, ACL_UNDEFINED_ID);
    if (::fsetxattr(descriptor, "system.posix_acl_access", &acl, sizeof acl, 0) == 0) return true;
    const int code = errno;
    message = code == EOPNOTSUPP
                  ? "its file system does not support POSIX ACLs, which a read-only group (readers) needs: mount it "
                    "with ACLs (tmpfs needs a kernel with CONFIG_TMPFS_POSIX_ACL), or remove readers"
                  : std::string("cannot give group ") + std::to_string(group) + " read access by an ACL: " +
                        std::strerror(code);
    return false;
}

}  // namespace

bool apply_file_access(std::intptr_t handle, const FileAccess& access, std::string& message) {
    const int descriptor = static_cast<int>(handle);
    if (access.group >= 0 && ::fchown(descriptor, static_cast<uid_t>(-1), static_cast<gid_t>(access.group)) != 0) {
        message = "cannot give it to group " + std::to_string(access.group) + ": " + std::strerror(errno);
        return false;
    }
    if (access.read_only_group < 0) {
        // An entry left by an earlier configuration would keep its readers in.
        if (::fremovexattr(descriptor, "system.posix_acl_access") != 0 && errno != ENODATA && errno != EOPNOTSUPP) {
            message = std::string("cannot remove its ACL: ") + std::strerror(errno);
            return false;
        }
    }
    // After the ACL's removal, so that the group bits are the mode's again.
    if (::fchmod(descriptor, access.mode) != 0) {
        message = std::string("cannot set its permissions: ") + std::strerror(errno);
        return false;
    }
    return access.read_only_group < 0 ||
           set_read_only_group(descriptor, access.mode, static_cast<std::uint32_t>(access.read_only_group), message);
}

}  // namespace shmq::platform
