// A read-only walk of one queue's ring that yields the messages it holds:
// what a restart carries into a segment of another layout
// (daemon/segment_migration.cpp) and what `shmq replay` sends from a
// set-aside segment (client/segment_file.cpp). It writes no word of shared
// memory, so it works on a read-only mapping of a file nothing runs on.
//
// Nothing read is trusted: head, tail and every slot's word, position and
// length are read once and checked against the ring's own copy of its
// geometry (taken when the segment was validated); what contradicts them is
// reported as damage, never followed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/queue_ring.hpp"

namespace shmq {

struct QueueContents {
    // Deliveries awaiting an acknowledgement or a redelivery first (at_least_once:
    // at-least-once allows the duplicate), then the messages ready in
    // [head, tail), each group in position order: the order consumers would
    // have received them in.
    std::vector<std::string> messages;
    std::uint64_t redeliveries = 0;  // how many of `messages` are unacknowledged deliveries
    std::uint64_t writing = 0;       // claims still being written: sends not acknowledged, not carried
    // Non-empty when the queue is quarantined or its counters or slots
    // contradict each other: `messages` then holds what could be read
    // soundly, which may not be all.
    std::string damage;
};

QueueContents read_queue_contents(const QueueRing& ring);

// The producers of the claims in [head, tail) still being written (sends
// that have not returned yet), one entry per claim (QueueRing::claimer_of).
// An owner not known (a lease word already freed, a scribbled claim word)
// is a stamp that is_none().
std::vector<OwnerStamp> claims_in_progress(const QueueRing& ring);

}  // namespace shmq
