// What the figures were measured on, recorded with them.
#pragma once

#include "bench/results.hpp"

namespace shmq::bench {

Machine describe_machine();

}  // namespace shmq::bench
