// The names of the quarantine reasons kept in shared memory, as logs, `shmq
// list`, stats and metrics show them.
#pragma once

#include <atomic>
#include <cstdint>

#include "common/layout.hpp"

namespace shmq {

// The name of a QuarantineReason value read from shared memory: any process
// may have written it, so a value this build does not know is "unknown".
const char* quarantine_reason_name(std::uint32_t reason);

// Takes a queue or topic out of service for `reason`, unless it already is:
// the first finding is the one worth keeping (what follows is often its
// consequence).
void mark_quarantined(std::atomic<std::uint32_t>& quarantined, layout::QuarantineReason reason);

}  // namespace shmq
