// The clock every wait and deadline in shmq measures: monotonic, one time line
// for every process of the machine (deadlines are stored in shared memory and
// compared by other processes), never stepped by NTP or an operator.
#pragma once

#include <cstdint>

namespace shmq::platform {

std::uint64_t monotonic_now_ns();

}  // namespace shmq::platform
