// What a Client holds: the mapping, the validated view of the segment, and
// the client record it took. Private to libshmq.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/access_listing.hpp"
#include "common/segment_mapping.hpp"
#include "common/segment_view.hpp"
#include "common/slot_word.hpp"
#include "shmq/client.hpp"

namespace shmq {

struct Client::Impl {
    std::string broker_name;
    AttachOptions options;
    std::unique_ptr<SegmentMapping> segment;
    SegmentView view;
    OwnerStamp stamp;
    // An access group's segment this process may only read (it is among the
    // group's readers): mapped read-only, with no client record in it, so
    // nothing here may write to it. Its queues and topics give figures only.
    bool read_only = false;

    // The segment of one access group, beside the main one: a Client of its
    // own when this process may open it (its Queue and Topic handles point at
    // that Client), else why not.
    struct AccessPart {
        std::string group;
        std::unique_ptr<Client> client;
        Status status = Status::ok;
        std::string why;
    };
    AccessListing access;  // as the main segment listed it at attach, checked
    std::vector<AccessPart> parts;  // in the order of access.groups
};

// Marks `role` in this client's role byte for a queue or topic, so that the
// reaper (and the client's own detach) know where to look for what it holds.
// A plain load first: once set, the common case, no write to shared memory.
inline void mark_role(std::atomic<std::uint8_t>& roles, std::uint8_t role) {
    if ((roles.load(std::memory_order_relaxed) & role) == 0) roles.fetch_or(role, std::memory_order_relaxed);
}

}  // namespace shmq
