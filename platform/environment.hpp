// Setting a variable of this process's environment, seen by getenv() here and
// inherited by the processes it starts.
#pragma once

#include <string>

namespace shmq::platform {

// False when the environment refuses it (an invalid name, no memory).
bool set_environment(const std::string& name, const std::string& value);

}  // namespace shmq::platform
