#include "common/segment_size.hpp"

#include <limits>

#include "common/layout.hpp"

namespace shmq {

namespace {

// What rbtree_best_fit and the named index cost, generously: a header per
// allocation plus up to a cache line of alignment padding.
constexpr std::uint64_t per_allocation_overhead = 2 * layout::cache_line;
constexpr std::uint64_t fixed_overhead = 64 * 1024;
constexpr std::uint64_t saturated = std::numeric_limits<std::uint64_t>::max();

std::uint64_t aligned(std::uint64_t bytes) {
    if (bytes > saturated - layout::cache_line) return saturated;
    return (bytes + layout::cache_line - 1) / layout::cache_line * layout::cache_line;
}

std::uint64_t times(std::uint64_t a, std::uint64_t b) { return b != 0 && a > saturated / b ? saturated : a * b; }

}  // namespace

SegmentSize::SegmentSize(std::uint64_t max_clients, std::uint64_t queue_count, std::uint64_t topic_count) {
    const std::uint64_t records = max_clients + layout::broker_records;
    add(fixed_overhead);
    add(aligned(sizeof(layout::SegmentRoot)) + per_allocation_overhead);
    add(aligned(times(queue_count, sizeof(layout::QueueControl))) + per_allocation_overhead);
    add(aligned(times(records, sizeof(layout::ClientRecord))) + per_allocation_overhead);
    add(aligned(times(topic_count, sizeof(layout::TopicControl))) + per_allocation_overhead);
    add(aligned(times(records, queue_count + topic_count)) + per_allocation_overhead);
}

void SegmentSize::add_queue(std::uint32_t capacity, std::uint32_t max_message_size) {
    add(times(layout::slot_stride_for(max_message_size), capacity));
    add(per_allocation_overhead);
}

void SegmentSize::add_topic(std::uint32_t capacity, std::uint32_t max_message_size, std::uint32_t max_subscribers) {
    add(times(layout::topic_slot_stride_for(max_message_size, max_subscribers), capacity));
    add(per_allocation_overhead);
    add(times(max_subscribers, sizeof(layout::SubscriberRecord)));
    add(per_allocation_overhead);
}

std::uint64_t SegmentSize::bytes() const { return aligned(bytes_); }

void SegmentSize::add(std::uint64_t bytes) { bytes_ = bytes > saturated - bytes_ ? saturated : bytes_ + bytes; }

}  // namespace shmq
