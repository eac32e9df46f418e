// How a broker spreads its queues and topics over segments: the open ones in
// the main segment, which every client opens, and those restricted to an
// access group in a segment per group beside it (NAME.access-GROUP), created
// with mode 0660 and that group, so that the kernel keeps everybody else out
// of their memory (docs/security.md). The main segment lists the restricted
// ones, so that a client outside a group can be told why it may not use them.
#pragma once

#include <vector>

#include "common/access_listing.hpp"
#include "config/broker_config.hpp"

namespace shmq::daemon {

struct SegmentPlan {
    config::BrokerConfig main;  // the open queues and topics
    AccessListing listing;      // what the main segment's root lists
    // One configuration per access group, in the order of listing.groups:
    // named MAIN.access-GROUP, mode 0660, group GROUP (and its readers' group
    // read-only, by an ACL entry), the same client table size; with
    // persist_path, in the file PERSIST_PATH.access-GROUP.
    std::vector<config::BrokerConfig> restricted;
};

SegmentPlan plan_segments(const config::BrokerConfig& config);

}  // namespace shmq::daemon
