#include "platform/environment.hpp"

#include <cstdlib>

namespace shmq::platform {

bool set_environment(const std::string& name, const std::string& value) {
    return ::setenv(name.c_str(), value.c_str(), 1) == 0;
}

}  // namespace shmq::platform
