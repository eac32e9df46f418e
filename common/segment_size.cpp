#include "common/segment_size.hpp"

#include <limits>

#include "common/layout.hpp"

namespace shmq {

namespace {

constexpr std::uint64_t saturated = std::numeric_limits<std::uint64_t>::max();

// Each piece starts on a cache line; an empty table still takes one line.
std::uint64_t piece(std::uint64_t bytes) {
    if (bytes == 0) bytes = 1;
    if (bytes > saturated - layout::cache_line) return saturated;
    return (bytes + layout::cache_line - 1) / layout::cache_line * layout::cache_line;
}

std::uint64_t times(std::uint64_t a, std::uint64_t b) { return b != 0 && a > saturated / b ? saturated : a * b; }

}  // namespace

// The order and sizes of daemon/segment_builder.cpp's layout: the root, the
// queue, topic and client tables, the roles, the access table, the client event ring, then each queue's slots, each
// topic's slots and subscriber records, and the tail canary.
SegmentSize::SegmentSize(std::uint64_t max_clients, std::uint64_t queue_count, std::uint64_t topic_count) {
    const std::uint64_t records = max_clients + layout::broker_records;
    add(piece(sizeof(layout::SegmentRoot)));
    add(piece(times(queue_count, sizeof(layout::QueueControl))));
    add(piece(times(topic_count, sizeof(layout::TopicControl))));
    add(piece(times(records, sizeof(layout::ClientRecord))));
    add(piece(times(records, queue_count + topic_count)));
    add(piece(sizeof(layout::AccessTable)));
    add(piece(sizeof(layout::ClientEventRing)));
    add(piece(layout::tail_canary_bytes));
}

void SegmentSize::add_queue(std::uint32_t capacity, std::uint32_t max_message_size) {
    add(piece(times(layout::slot_stride_for(max_message_size), capacity)));
    add(piece(layout::claim_words_bytes(capacity)));
    add(piece(layout::take_words_bytes(capacity)));
}

void SegmentSize::add_topic(std::uint32_t capacity, std::uint32_t max_message_size, std::uint32_t max_subscribers) {
    add(piece(times(layout::topic_slot_stride_for(max_message_size, max_subscribers), capacity)));
    add(piece(times(max_subscribers, sizeof(layout::SubscriberRecord))));
}

std::uint64_t SegmentSize::bytes() const { return bytes_; }

void SegmentSize::add(std::uint64_t bytes) { bytes_ = bytes > saturated - bytes_ ? saturated : bytes_ + bytes; }

}  // namespace shmq
