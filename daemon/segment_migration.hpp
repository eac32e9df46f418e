// Carrying the queued messages of a segment laid out for an earlier
// configuration into one built for the current configuration, at start-up
// (docs/operations.md, "Restarting with a changed file"). The old segment
// is read as untrusted (common/queue_contents.hpp); the broker builds the new
// one, carries the messages in, and swaps the files (daemon/broker.cpp,
// docs/crash-safety.md, "Migration").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/queue_contents.hpp"
#include "common/segment_view.hpp"
#include "config/broker_config.hpp"

namespace shmq::daemon {

struct MigrationPlan {
    // A queue of the old segment that the configuration still has, by name.
    struct Carried {
        std::string name;
        QueueContents contents;
    };
    std::vector<Carried> carried;
    // Queues of the old segment the configuration no longer has, and that
    // hold messages: the old file is set aside, not removed, for them.
    std::vector<std::string> left_behind;
    std::uint64_t left_behind_messages = 0;
    // Non-empty: why the messages cannot be carried (a damaged queue, a
    // message longer than its queue's new max_message_size, more messages
    // than its new capacity).
    std::string impossible;
};

// Reads every queue of the validated `old_views` (a main segment first,
// then the segments carried with it, daemon/companion_segments.hpp) and
// checks that what the configuration keeps of them fits `config`'s queues.
// A name found in several of them is carried in the order of the views.
MigrationPlan plan_migration(const std::vector<const SegmentView*>& old_views, const config::BrokerConfig& config);

// Sends the carried messages, in order, into the queues of the same name of
// `view` (a segment built for `config` that no client can open yet), under
// a client record of its own. Throws std::runtime_error naming the queue
// when one does not take them all.
void carry_messages(SegmentView& view, const MigrationPlan& plan);

// The total of the carried messages, and of the unacknowledged deliveries among them.
std::uint64_t carried_messages(const MigrationPlan& plan);
std::uint64_t carried_redeliveries(const MigrationPlan& plan);

}  // namespace shmq::daemon
