// The bytes a broker's segment takes for a given set of queues, topics and
// clients. The segment builder sizes the segment with this, and configuration
// validation checks the size limit with it, so that a configuration that
// passes the check is exactly one the builder can lay out within the limit.
#pragma once

#include <cstdint>

namespace shmq {

// Configurations whose segment would be larger are refused.
inline constexpr std::uint64_t max_segment_size = 16ull << 30;

// Adds up a segment item by item, so that a caller can tell which queue or
// topic takes it over a limit. Saturates instead of overflowing.
class SegmentSize {
public:
    // The tables: root, queue and topic controls, client records and roles.
    SegmentSize(std::uint64_t max_clients, std::uint64_t queue_count, std::uint64_t topic_count);

    // One queue's slots, headers included.
    void add_queue(std::uint32_t capacity, std::uint32_t max_message_size);
    // One topic's slots (headers and subscriber pins included) and its
    // subscriber records.
    void add_topic(std::uint32_t capacity, std::uint32_t max_message_size, std::uint32_t max_subscribers);

    // The segment's size so far: exactly what the builder lays out.
    std::uint64_t bytes() const;

private:
    void add(std::uint64_t bytes);

    std::uint64_t bytes_ = 0;
};

}  // namespace shmq
