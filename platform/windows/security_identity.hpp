// Windows names users and groups by security identifiers (SIDs), of variable
// length; shmq's interfaces carry a 32-bit id, as uids and gids on Linux. The
// id of a SID is a hash of it, except LocalSystem's, which is 0: the service
// account trusted as root is on Linux. Every SID this process has met is
// remembered, so that an id can be turned back into its SID and its name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace shmq::platform::win32 {

// The id of the SID at `sid` (a PSID), remembered for sid_of.
std::uint32_t id_of_sid(const void* sid);
// The SID of an id met before in this process; false for an id never met.
bool sid_of(std::uint32_t id, std::vector<unsigned char>& sid);
// The SID of this process's user (its token's user).
const std::vector<unsigned char>& own_sid();

}  // namespace shmq::platform::win32
