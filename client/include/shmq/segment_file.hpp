// The messages a set-aside segment holds: a broker that could not reuse its
// segment (damaged, or its messages did not fit the new configuration)
// moved it to NAME.stale-TIME instead of deleting it. This reads such a file
// without any broker, read-only, trusting nothing in it; `shmq replay` sends
// what it finds back into a running broker (docs/operations.md, "Set-aside
// segments").
#pragma once

#include <string>
#include <vector>

#include "shmq/export.h"
#include "shmq/status.hpp"

namespace shmq {

struct SavedQueue {
    std::string name;
    // Unacknowledged at_least_once deliveries first, then the queued
    // messages, in the order consumers would have received them.
    std::vector<std::string> messages;
    // Non-empty when the queue could not be read whole (quarantined,
    // contradictory counters or slots): `messages` holds what was sound.
    std::string damage;
};

// Maps the segment file at `path` read-only, validates it and reads every
// queue's messages into `queues`. version_mismatch for a segment of another
// shmq layout version, corrupt_segment for one that does not validate,
// broker_not_found when nothing is at `path`, permission_denied; `error`
// (when given) then says why.
SHMQ_API Status read_segment_file(const std::string& path, std::vector<SavedQueue>& queues,
                                  std::string* error = nullptr);

}  // namespace shmq
