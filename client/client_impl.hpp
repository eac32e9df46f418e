// What a Client holds: the mapping, the validated view of the segment, and
// the client record it took. Private to libshmq.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "common/access_listing.hpp"
#include "common/segment_mapping.hpp"
#include "common/segment_view.hpp"
#include "common/slot_word.hpp"
#include "common/topic_ring.hpp"
#include "shmq/client.hpp"

namespace shmq {

struct Client::Impl {
    std::string broker_name;
    AttachOptions options;
    // The name this process gives in the client records it takes.
    std::string program() const;
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
    // As the main segment listed it at attach, checked, and extended by
    // the groups and names reloads appended to its table since
    // (known_access() in client/client.cpp), under `access_mutex`: any
    // thread may open a queue. Only a name the main segment does not hold is
    // looked up here.
    std::mutex access_mutex;
    AccessListing access;
    // One per group of `access`, in its order. Any thread reads them without
    // the lock, so they never move: a part is filled, under `access_mutex`,
    // before `part_count` publishes it with release, and never changes again.
    std::array<AccessPart, layout::max_access_segments> parts;
    std::atomic<std::uint32_t> part_count{0};
    std::uint32_t joined_parts() const { return part_count.load(std::memory_order_acquire); }
    // Joins the segment of each group of `access` that has no part yet: at
    // attach every group, later those a reload appended. Under
    // `access_mutex`, or before another thread can see this Impl.
    void join_access_parts(const std::string& program);

    // A segment a reload added beside this part's (SEGMENT.live-GENERATION,
    // listed in this part's LiveTable: the main segment's, or an access
    // group's), joined the first time this process looks for a name its
    // other segments do not hold, or for a successor there. Parts
    // are only ever appended, under `live_mutex` (any thread may open a
    // queue), and live as long as this Impl: handles point at their Client.
    struct LivePart {
        std::uint32_t generation = 0;
        std::unique_ptr<Client> client;
    };
    std::mutex live_mutex;
    std::vector<LivePart> live;
    // In a live part: the Client that lists it, and its generation; a
    // superseded queue's successor is only looked for in a later generation
    // (Client::live_segment, client/live_parts.cpp). Null and 0 in the main
    // segment's and access parts.
    const Client* main = nullptr;
    std::uint32_t live_generation = 0;

    // The subscriptions to this part's topics that a reload's change of a
    // topic's settings concerns (client/subscription.cpp), by topic index,
    // record index and record word: the successor subscription joined while
    // the old ring is still being read, and the counts of the rings read
    // before this one. Under `follow_mutex`: any thread may subscribe.
    struct Following {
        Client* part = nullptr;  // the successor's segment; null: none joined
        std::uint32_t topic = 0;
        SubscriberHandle handle;
        std::uint64_t received_before = 0;
        std::uint64_t lost_before = 0;
    };
    using FollowingKey = std::tuple<std::uint32_t, std::uint32_t, std::uint64_t>;
    std::mutex follow_mutex;
    std::map<FollowingKey, Following> following;
};

// Waits for the broker to mark the segment of `impl` ready, validates it,
// reads the restricted queues it lists and takes a client record in it (not
// for a read-only mapping). `why` says what failed.
Status join_segment(Client::Impl& impl, const std::string& program, std::string& why);

// Marks `role` in this client's role byte for a queue or topic, so that the
// reaper (and the client's own detach) know where to look for what it holds.
// A plain load first: once set, the common case, no write to shared memory.
inline void mark_role(std::atomic<std::uint8_t>& roles, std::uint8_t role) {
    if ((roles.load(std::memory_order_relaxed) & role) == 0) roles.fetch_or(role, std::memory_order_relaxed);
}

}  // namespace shmq
