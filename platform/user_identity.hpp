// Users, as the operating system knows them: who this process runs as, and
// names for numeric ids, so that an owner check can name whom it refused.
#pragma once

#include <cstdint>
#include <string>

namespace shmq::platform {

std::uint32_t effective_user();
// The id of user `name`, or of the number `name` spells; false when neither.
bool user_id_of(const std::string& name, std::uint32_t& id);
// The id of group `name`, or of the number `name` spells; false when neither.
bool group_id_of(const std::string& name, std::uint32_t& id);
// "name (uid N)", or "uid N" for an id without a name.
std::string describe_user(std::uint32_t id);

}  // namespace shmq::platform
