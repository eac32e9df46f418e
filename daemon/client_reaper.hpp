// Finds attached clients whose process is gone and releases what they held:
// slots they were writing are abandoned (consumers skip them), at_most_once
// messages they were reading are freed, at_least_once deliveries they held go
// back for redelivery, their topic subscriptions end (views released, so the
// slots they pinned can be reused), and their record is freed for the next
// client.
#pragma once

#include <cstdint>

#include "common/segment_view.hpp"

namespace shmq::daemon {

struct ReapSummary {
    std::uint32_t reclaimed_clients = 0;
    std::uint32_t postponed_clients = 0;  // a lock was held too long; retried next tick
};

// One pass over the client table. Logs each client it reclaims.
// `everyone_is_dead`: after a reboot no recorded process can be alive, whatever
// its pid now names.
ReapSummary reap_dead_clients(SegmentView& view, bool everyone_is_dead = false);

}  // namespace shmq::daemon
