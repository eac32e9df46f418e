#include "platform/file_owner.hpp"

#include <sys/stat.h>

namespace shmq::platform {

bool file_owner(const std::string& path, std::uint32_t& owner) {
    struct stat facts {};
    if (::lstat(path.c_str(), &facts) != 0) return false;
    owner = static_cast<std::uint32_t>(facts.st_uid);
    return true;
}

bool restrict_to_owner(const std::string& path) { return ::chmod(path.c_str(), S_IRUSR | S_IWUSR) == 0; }

}  // namespace shmq::platform
