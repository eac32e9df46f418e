// Finds attached clients whose process is gone and releases what they held:
// slots they were writing are abandoned (consumers skip them), at_most_once
// messages they were reading are freed, at_least_once deliveries they held go
// back for redelivery, their topic subscriptions end (views released, so the
// slots they pinned can be reused), and their record is freed for the next
// client.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "common/segment_view.hpp"

namespace shmq::daemon {

struct ReapSummary {
    std::uint32_t reclaimed_clients = 0;
};

// Active client records seen without a start time, and since when by this
// broker's clock. A client writes its start time right after the
// compare-and-swap that claims its record, so a record still without one
// after `grace` was not claimed by a client (a scribble): it would otherwise
// count as alive for as long as its pid lives, and such records could fill
// the client table for good (issue 16, item 10).
class MissingStartTimes {
public:
    static constexpr std::chrono::seconds grace{5};
    // True once record `index` has shown `word` without a start time for
    // longer than `grace`.
    bool overdue(std::uint32_t index, std::uint64_t word);

private:
    struct Sighting {
        std::uint64_t word = 0;
        std::uint64_t since_ns = 0;
    };
    std::vector<Sighting> sightings_;  // by record index
};

// Marks `record`, read as the active `word`, reclaiming, unless its word
// changed since: a publish its client makes from then on is withdrawn
// rather than acknowledged (QueueRing::publish_checked), once the caller
// has waited for every CPU's stores (platform/store_visibility.hpp). Only
// the broker moves a record out of reclaiming.
bool mark_reclaiming(layout::ClientRecord& record, std::uint64_t word);

// One pass over the client table. Logs each client it reclaims.
// `everyone_is_dead`: after a reboot no recorded process can be alive, whatever
// its pid now names. `missing`: the broker's memory of records without a
// start time across passes; without it, such a record lives while its pid does.
ReapSummary reap_dead_clients(SegmentView& view, bool everyone_is_dead = false, MissingStartTimes* missing = nullptr);

}  // namespace shmq::daemon
