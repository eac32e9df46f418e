// _putenv_s updates both the C runtime's copy of the environment (getenv)
// and the process's own (GetEnvironmentVariableW, and what children inherit).
#include "platform/environment.hpp"

#include <cstdlib>

namespace shmq::platform {

bool set_environment(const std::string& name, const std::string& value) {
    return ::_putenv_s(name.c_str(), value.c_str()) == 0;
}

}  // namespace shmq::platform
