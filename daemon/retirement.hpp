// Live removal (issue 11): a reload that removes an open queue or topic
// retires it in the segment that holds it, by one word in its control block
// (QueueControl::retired, TopicControl::retired). From then on sends,
// publishes, loans, opens and subscriptions return queue_removed, while
// receives drain what was queued and then return queue_removed too; every
// waiter is woken to see it. The segment keeps the queue until a restart,
// whose migration drops it and sets aside what it still held
// (docs/crash-safety.md, "Live removal").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/segment_view.hpp"
#include "daemon/reload_plan.hpp"

namespace shmq::daemon {

// The indexes of a segment's retired queues and topics: the broker's own
// record, which the shared words are put back to should a client write them.
struct RetiredIndexes {
    std::vector<std::uint32_t> queues;
    std::vector<std::uint32_t> topics;
    // Queues and topics a reload changed the settings of: index, and the
    // generation of the live segment holding the successor
    // (layout::superseded_by).
    struct Superseded {
        std::uint32_t index;
        std::uint32_t generation;
    };
    std::vector<Superseded> superseded_queues;
    std::vector<Superseded> superseded_topics;
    bool holds_queue(std::uint32_t index) const;
    bool holds_topic(std::uint32_t index) const;
};

// Retires those of `names` that `view` holds, and wakes everything blocked on
// them. Adds their indexes to `retired`; returns one log line for each.
std::vector<std::string> retire(SegmentView& view, const ItemNames& names, RetiredIndexes& retired);

// Live settings change: marks each queue and topic of `names` that `view`
// holds and that is still in service as superseded by live segment
// `generation` (which holds its successor, listed already), and wakes
// everything blocked on it: producers and publishers go to the successor,
// consumers drain a queue first, subscribers read a topic to its end first.
// Adds them to `retired`; returns one log line for each.
std::vector<std::string> supersede(SegmentView& view, const ItemNames& names, std::uint32_t generation,
                                   RetiredIndexes& retired);

// A retired word that did not hold the broker's record: another process
// wrote it (any client can write the segment).
struct RetiredScribble {
    std::string what;  // "queue 'NAME'" or "topic 'NAME'"
    std::uint32_t found;
    std::uint32_t restored;  // layout::retired_by_reload, superseded_by(G), or 0: in service
};

// Writes the broker's record back into the retired word of every queue and
// topic of `view`: retired_by_reload or superseded_by(G) for those of
// `retired`, 0 for the rest.
// Both ways matter: a cleared mark would take sends into a removed queue, and
// a mark the broker did not set would retire a queue for every client (a
// denial of service by one write). Returns each word that was wrong.
std::vector<RetiredScribble> keep_retired(SegmentView& view, const RetiredIndexes& retired);

// A broker adopting a segment runs on its configuration file, which holds
// every queue and topic the segment does (else the segment is migrated): a
// retirement left by the previous broker (killed mid-reload, or restarted
// on a file that has the name again) is undone.
void reinstate_all(SegmentView& view);

}  // namespace shmq::daemon
