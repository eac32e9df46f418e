// Whom a client trusts to be its broker. Any local user can create a segment
// with any name, so a client attaches only to one whose file belongs to a
// trusted user; the check is made on the file actually mapped, so renaming
// another file into place after it cannot fool it.
#pragma once

#include <cstdint>
#include <string>

#include "shmq/status.hpp"

namespace shmq {

// ok when `owner` may be the broker: the configured owner (`configured`, else
// $SHMQ_BROKER_OWNER) when one is named, otherwise root, the `shmq` system
// user or this process's user. Otherwise untrusted_segment, or
// invalid_argument for a configured owner that names no user, with `why`.
Status check_broker_owner(const std::string& configured, std::uint32_t owner, std::string& why);

}  // namespace shmq
