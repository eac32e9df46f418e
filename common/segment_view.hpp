// A validated, process-local view of a mapped broker segment. Everything a
// process reads from shared memory goes through here first: the root's magic
// and layout version, the bounds of every table, and each queue's and topic's
// geometry, which the view copies so that later scribbles on shared metadata
// cannot steer this process out of bounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/layout.hpp"
#include "common/queue_ring.hpp"
#include "shmq/status.hpp"
#include "common/topic_ring.hpp"

namespace shmq {

class SegmentView {
public:
    SegmentView() = default;

    // Checks the root (at `base`) and every table against `mapped_size`, the
    // real length of this process's mapping. On failure returns
    // version_mismatch or corrupt_segment and says why in `error`. A queue or
    // topic whose own metadata is bad is quarantined, not fatal: marked so in
    // the segment too, unless the mapping is not `writable` (a read-only
    // mapping faults on any write; the view alone marks it unusable then).
    static Status validate(std::byte* base, std::size_t mapped_size, SegmentView& view, std::string& error,
                           bool writable = true);

    layout::SegmentRoot& root() const { return *root_; }
    // The restricted queues and topics the segment lists, unchecked: read it
    // with read_access_listing (common/access_listing.hpp).
    layout::AccessTable& access_table() const { return *access_; }
    // Where clients announce their attach and detach (common/client_events.hpp).
    layout::ClientEventRing& client_events() const { return *events_; }
    std::uint32_t queue_count() const { return static_cast<std::uint32_t>(rings_.size()); }
    std::uint32_t client_capacity() const { return client_capacity_; }

    // Index of the queue called `name`, or layout::no_queue. The queue may be
    // unusable: check queue_usable() before touching its ring.
    std::uint32_t find_queue(std::string_view name) const;
    const std::string& queue_name(std::uint32_t index) const { return names_[index]; }
    QueueRing& ring(std::uint32_t index) { return rings_[index]; }
    const QueueRing& ring(std::uint32_t index) const { return rings_[index]; }
    // False when the queue's metadata failed validation in this view.
    bool queue_usable(std::uint32_t index) const { return usable_[index]; }
    // QueueRing::let_waiters_fence_for_this_process() on every queue.
    void let_waiters_fence_for_this_process() {
        for (auto& ring : rings_) ring.let_waiters_fence_for_this_process();
    }

    std::uint32_t topic_count() const { return static_cast<std::uint32_t>(topics_.size()); }
    // Index of the topic called `name`, or layout::no_queue; check
    // topic_usable() before touching its ring.
    std::uint32_t find_topic(std::string_view name) const;
    const std::string& topic_name(std::uint32_t index) const { return topic_names_[index]; }
    TopicRing& topic(std::uint32_t index) { return topics_[index]; }
    const TopicRing& topic(std::uint32_t index) const { return topics_[index]; }
    bool topic_usable(std::uint32_t index) const { return topic_usable_[index]; }

    layout::ClientRecord& client(std::uint32_t index) const { return clients_[index]; }
    // Each client has one role byte per queue, then one per topic.
    std::atomic<std::uint8_t>& role(std::uint32_t client_index, std::uint32_t queue_index) const {
        return roles_[static_cast<std::size_t>(client_index) * roles_per_client_ + queue_index];
    }
    std::atomic<std::uint8_t>& topic_role(std::uint32_t client_index, std::uint32_t topic_index) const {
        return role(client_index, static_cast<std::uint32_t>(rings_.size()) + topic_index);
    }
    // Forgets what the client used every queue and topic for.
    void clear_roles(std::uint32_t client_index) const;

    // Only the broker's own word for it counts: a root that another process
    // damaged (zeroed by a truncation, say) is not a stop, and the broker
    // repairs it within a tick.
    bool broker_stopping() const {
        const auto state = root_->state.load(std::memory_order_acquire);
        return state == static_cast<std::uint32_t>(layout::BrokerState::stopping) ||
               state == static_cast<std::uint32_t>(layout::BrokerState::stopped);
    }
    bool broker_ready() const {
        return root_->state.load(std::memory_order_acquire) == static_cast<std::uint32_t>(layout::BrokerState::ready);
    }

private:
    layout::SegmentRoot* root_ = nullptr;
    layout::ClientRecord* clients_ = nullptr;
    std::atomic<std::uint8_t>* roles_ = nullptr;
    // The queues plus the topics: role() is on every send and receive, where
    // working it out from the two vectors' sizes cost a dozen instructions.
    std::size_t roles_per_client_ = 0;
    layout::AccessTable* access_ = nullptr;
    layout::ClientEventRing* events_ = nullptr;
    std::uint32_t client_capacity_ = 0;
    std::vector<QueueRing> rings_;
    std::vector<std::string> names_;
    std::vector<bool> usable_;
    std::vector<TopicRing> topics_;
    std::vector<std::string> topic_names_;
    std::vector<bool> topic_usable_;
};

}  // namespace shmq
