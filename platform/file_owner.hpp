// Who owns what is at a path (without following a symbolic link), for the
// broker's checks against a name squatted by another user.
#pragma once

#include <cstdint>
#include <string>

namespace shmq::platform {

// False when nothing is at `path` (or it cannot be examined).
bool file_owner(const std::string& path, std::uint32_t& owner);
// Makes the file at `path` readable and writable by its owner alone (a
// POSIX ACL's named entries too: the mode's group bits become its mask).
// A symbolic link at `path` is left alone, and its target untouched.
bool restrict_to_owner(const std::string& path);

}  // namespace shmq::platform
