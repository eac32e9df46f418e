// What the broker knows of its own segment, kept in its own memory, so that it
// can tell when another process damaged the segment and put back what it
// owns. Any process that may write the segment may also scribble on its root
// or truncate its file (the truncation guard keeps everyone alive through
// that, with the lost pages read as zeros); the broker checks both every tick.
#pragma once

#include <array>

#include <cstdint>
#include <string>
#include <vector>

#include "common/layout.hpp"
#include "common/segment_mapping.hpp"
#include "common/segment_view.hpp"

namespace shmq::daemon {

class SegmentIntegrity {
public:
    SegmentIntegrity() = default;
    // Takes the root's identity and every queue's and topic's fixed metadata
    // as they are now (validated, the broker's own).
    explicit SegmentIntegrity(const SegmentView& view);

    // "" when the segment is whole; otherwise what was wrong, already
    // repaired: the file's length restored, the root's identity and the
    // queues' and topics' metadata rewritten. The messages lost with the
    // pages cannot be restored: the caller re-verifies.
    std::string check_and_repair(const SegmentMapping& segment, const SegmentView& view) const;

    // The broker appended to the segment's AccessTable (a reload added
    // restricted queues or topics): the table as it wrote it is its own now.
    void take_access_table(const layout::AccessTable& written);

private:
    // The root's fields that never change while a broker runs on it.
    struct Identity {
        std::uint64_t magic = 0;
        std::uint32_t layout_version = 0;
        std::uint32_t root_size = 0;
        std::uint64_t segment_size = 0;
        std::uint32_t state = 0;
        ProcessIdentity broker{};
        char boot_id[40] = {};
        std::uint64_t pid_namespace = 0;
        std::uint32_t queue_count = 0;
        std::uint32_t client_capacity = 0;
        std::uint32_t liveness_interval_ms = 0;
        std::uint32_t broker_record = 0;
        std::uint64_t queues_offset = 0;
        std::uint64_t clients_offset = 0;
        std::uint64_t roles_offset = 0;
        std::uint32_t topic_count = 0;
        std::uint64_t topics_offset = 0;
        std::uint64_t access_offset = 0;
        std::uint64_t events_offset = 0;
        bool operator==(const Identity& other) const;
    };
    static Identity capture(const layout::SegmentRoot& root);
    static void restore(const Identity& identity, layout::SegmentRoot& root);

    Identity copy_;
    // The restricted queues and topics the segment lists: the table's bytes
    // (its count is atomic, so the table itself is not assignable).
    std::array<std::byte, sizeof(layout::AccessTable)> access_{};
    // The bytes of each QueueControl and TopicControl before its first
    // changing field, as the broker laid them out.
    std::vector<std::vector<std::byte>> queue_metadata_;
    std::vector<std::vector<std::byte>> topic_metadata_;
};

}  // namespace shmq::daemon
