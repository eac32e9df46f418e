#include "platform/standard_output.hpp"

#include <cstdio>
#include <fcntl.h>
#include <io.h>

namespace shmq::platform {

void use_binary_standard_output() { ::_setmode(::_fileno(stdout), _O_BINARY); }

}  // namespace shmq::platform
