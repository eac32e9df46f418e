// Where named segments live. A name in a directory that other users may write
// (/dev/shm) can be squatted by any local user; a service broker's directory
// (/run/shmq, made by the systemd unit for the shmq user alone) cannot. The
// client's owner check (client/broker_trust.hpp) makes a squatter harmless to
// clients wherever the name lives (docs/security.md).
#pragma once

#include <string>
#include <vector>

namespace shmq::platform {

// The directory a broker puts a named segment in: $SHMQ_RUNTIME_DIR, else /dev/shm.
std::string broker_segment_directory();
// Where a client looks for a named segment, in order: $SHMQ_RUNTIME_DIR alone
// when it is set; else /run/shmq (a service broker's), then /dev/shm.
std::vector<std::string> client_segment_directories();

}  // namespace shmq::platform
