// POSIX streams never translate line endings: nothing to do.
#include "platform/standard_output.hpp"

namespace shmq::platform {

void use_binary_standard_output() {}

}  // namespace shmq::platform
