#include "common/segment_view.hpp"

#include <cstring>

#include "common/quarantine_reason.hpp"
#include "common/read_once.hpp"

namespace shmq {

namespace {

// True when [offset, offset + count * element) lies within `size` bytes,
// computed without overflow.
bool range_fits(std::uint64_t offset, std::uint64_t count, std::uint64_t element, std::uint64_t size) {
    if (offset > size) return false;
    if (element != 0 && count > (size - offset) / element) return false;
    return true;
}

constexpr std::uint32_t max_capacity = 1u << 24;
constexpr std::uint32_t max_message_size = 64u << 20;

void copy_name(char (&to)[layout::queue_name_capacity], const char (&from)[layout::queue_name_capacity]) {
    for (std::size_t i = 0; i < layout::queue_name_capacity; ++i) to[i] = read_once(from[i]);
}

// The immutable part of a QueueControl, as read once.
struct QueueMetadata {
    char name[layout::queue_name_capacity];
    std::uint32_t capacity;
    std::uint32_t max_message_size;
    std::uint64_t slot_stride;
    std::uint64_t slots_offset;
    std::uint8_t overflow;
    std::uint8_t delivery;
    std::uint32_t max_deliveries;
    std::uint32_t ack_timeout_ms;
    std::uint8_t checksummed;
    std::uint8_t exclusive;

    explicit QueueMetadata(const layout::QueueControl& control)
        : capacity(read_once(control.capacity)),
          max_message_size(read_once(control.max_message_size)),
          slot_stride(read_once(control.slot_stride)),
          slots_offset(read_once(control.slots_offset)),
          overflow(read_once(control.overflow)),
          delivery(read_once(control.delivery)),
          max_deliveries(read_once(control.max_deliveries)),
          ack_timeout_ms(read_once(control.ack_timeout_ms)),
          checksummed(read_once(control.checksummed)),
          exclusive(read_once(control.exclusive)) {
        copy_name(name, control.name);
    }
};

// The immutable part of a TopicControl, as read once.
struct TopicMetadata {
    char name[layout::queue_name_capacity];
    std::uint32_t capacity;
    std::uint32_t max_message_size;
    std::uint64_t slot_stride;
    std::uint64_t slots_offset;
    std::uint64_t subscribers_offset;
    std::uint32_t max_subscribers;
    std::uint32_t history;
    std::uint8_t slow_subscriber;

    explicit TopicMetadata(const layout::TopicControl& control)
        : capacity(read_once(control.capacity)),
          max_message_size(read_once(control.max_message_size)),
          slot_stride(read_once(control.slot_stride)),
          slots_offset(read_once(control.slots_offset)),
          subscribers_offset(read_once(control.subscribers_offset)),
          max_subscribers(read_once(control.max_subscribers)),
          history(read_once(control.history)),
          slow_subscriber(read_once(control.slow_subscriber)) {
        copy_name(name, control.name);
    }
};

// Returns "" when the queue's geometry is sound, else what is wrong.
const char* check_queue(const QueueMetadata& queue, std::uint64_t segment_size) {
    if (std::memchr(queue.name, '\0', sizeof queue.name) == nullptr) return "its name is not terminated";
    if (queue.capacity == 0 || queue.capacity > max_capacity) return "its capacity is out of range";
    if (queue.max_message_size == 0 || queue.max_message_size > max_message_size) return "its max_message_size is out of range";
    if (queue.slot_stride != layout::slot_stride_for(queue.max_message_size)) return "its slot stride is wrong";
    if (queue.slots_offset % layout::cache_line != 0) return "its slots are misaligned";
    if (queue.slots_offset < sizeof(layout::SegmentRoot)) return "its slots overlap the segment's header";
    if (!range_fits(queue.slots_offset, queue.capacity, queue.slot_stride, segment_size)) return "its slots lie outside the segment";
    // Within the segment by the check above, so the sum cannot wrap.
    const std::uint64_t claim_words_offset = queue.slots_offset + std::uint64_t{queue.capacity} * queue.slot_stride;
    if (!range_fits(claim_words_offset, queue.capacity, sizeof(std::uint64_t), segment_size)) {
        return "its claim words lie outside the segment";
    }
    const std::uint64_t take_words_offset = claim_words_offset + layout::claim_words_bytes(queue.capacity);
    if (!range_fits(take_words_offset, queue.capacity, sizeof(std::uint64_t), segment_size)) {
        return "its take words lie outside the segment";
    }
    if (queue.overflow > 2 || queue.delivery > 1) return "its policy is unknown";
    if ((queue.exclusive & ~layout::exclusive_mask) != 0) return "its producers or consumers setting is unknown";
    return "";
}

constexpr std::uint32_t max_subscribers = 1024;

// Returns "" when the topic's geometry is sound, else what is wrong.
const char* check_topic(const TopicMetadata& topic, std::uint64_t segment_size) {
    if (std::memchr(topic.name, '\0', sizeof topic.name) == nullptr) return "its name is not terminated";
    if (topic.capacity == 0 || topic.capacity > max_capacity) return "its capacity is out of range";
    if (topic.max_message_size == 0 || topic.max_message_size > max_message_size) return "its max_message_size is out of range";
    if (topic.max_subscribers == 0 || topic.max_subscribers > max_subscribers) return "its max_subscribers is out of range";
    if (topic.history >= topic.capacity) return "its history is not less than its capacity";
    if (topic.slot_stride != layout::topic_slot_stride_for(topic.max_message_size, topic.max_subscribers)) {
        return "its slot stride is wrong";
    }
    if (topic.slots_offset < sizeof(layout::SegmentRoot) || topic.subscribers_offset < sizeof(layout::SegmentRoot)) {
        return "its slots or subscriber records overlap the segment's header";
    }
    if (topic.slots_offset % layout::cache_line != 0 || topic.subscribers_offset % layout::cache_line != 0) {
        return "its slots or subscriber records are misaligned";
    }
    if (!range_fits(topic.slots_offset, topic.capacity, topic.slot_stride, segment_size)) return "its slots lie outside the segment";
    if (!range_fits(topic.subscribers_offset, topic.max_subscribers, sizeof(layout::SubscriberRecord), segment_size)) {
        return "its subscriber records lie outside the segment";
    }
    if (topic.slow_subscriber > 1) return "its slow_subscriber policy is unknown";
    return "";
}

// The topics' process-local rings, or a quarantine mark for each unsound one.
void add_topics(std::byte* base, std::uint64_t size, layout::TopicControl* controls, std::uint32_t count,
                bool writable, std::vector<TopicRing>& rings, std::vector<std::string>& names,
                std::vector<bool>& usable) {
    rings.reserve(count);
    for (std::uint32_t index = 0; index < count; ++index) {
        auto& control = controls[index];
        const TopicMetadata topic(control);
        const char* problem = check_topic(topic, size);
        usable.push_back(*problem == '\0');
        const bool named = std::memchr(topic.name, '\0', sizeof topic.name) != nullptr;
        names.emplace_back(named ? topic.name : "");
        if (!usable.back()) {
            if (writable) mark_quarantined(control.quarantined, layout::QuarantineReason::damaged_metadata);
            rings.emplace_back();
            continue;
        }
        TopicGeometry geometry;
        geometry.capacity = topic.capacity;
        geometry.max_message_size = topic.max_message_size;
        geometry.slot_stride = topic.slot_stride;
        geometry.payload_offset = layout::topic_payload_offset(topic.max_subscribers);
        geometry.max_subscribers = topic.max_subscribers;
        geometry.pin_words = layout::topic_pin_words(topic.max_subscribers);
        geometry.history = topic.history;
        geometry.slow_subscriber = topic.slow_subscriber;
        rings.emplace_back(&control, base + topic.slots_offset,
                           reinterpret_cast<layout::SubscriberRecord*>(base + topic.subscribers_offset), geometry);
    }
}

}  // namespace

Status SegmentView::validate(std::byte* base, std::size_t mapped_size, SegmentView& view, std::string& error,
                             bool writable) {
    if (mapped_size < sizeof(layout::SegmentRoot)) {
        error = "the segment is smaller than its header (" + std::to_string(mapped_size) + " bytes)";
        return Status::corrupt_segment;
    }
    auto* root = reinterpret_cast<layout::SegmentRoot*>(base);
    if (read_once(root->magic) != layout::magic) {
        error = "the file is not a shmq segment (bad magic)";
        return Status::version_mismatch;
    }
    const std::uint32_t version = read_once(root->layout_version);
    if (version != layout::version || read_once(root->root_size) != sizeof(layout::SegmentRoot)) {
        error = "the segment has layout version " + std::to_string(version) + ", this build speaks " +
                std::to_string(layout::version);
        return Status::version_mismatch;
    }
    // The stored size is only believed up to what is really mapped.
    const std::uint64_t size = read_once(root->segment_size);
    if (size > mapped_size || size < sizeof(layout::SegmentRoot)) {
        error = "the segment claims " + std::to_string(size) + " bytes but " + std::to_string(mapped_size) +
                " are mapped";
        return Status::corrupt_segment;
    }
    const std::uint32_t queues = read_once(root->queue_count);
    const std::uint32_t topics = read_once(root->topic_count);
    const std::uint32_t clients = read_once(root->client_capacity);
    const std::uint64_t queues_offset = read_once(root->queues_offset);
    const std::uint64_t topics_offset = read_once(root->topics_offset);
    const std::uint64_t clients_offset = read_once(root->clients_offset);
    const std::uint64_t roles_offset = read_once(root->roles_offset);
    const std::uint64_t access_offset = read_once(root->access_offset);
    const std::uint64_t events_offset = read_once(root->events_offset);
    if (clients == 0 || clients > 0xFFFF || queues > (1u << 20) || topics > (1u << 20)) {
        error = "the segment's table sizes are out of range";
        return Status::corrupt_segment;
    }
    constexpr std::uint64_t first_table = sizeof(layout::SegmentRoot);  // nothing overlaps the root
    if (queues_offset < first_table || topics_offset < first_table || clients_offset < first_table ||
        roles_offset < first_table || !range_fits(queues_offset, queues, sizeof(layout::QueueControl), size) ||
        !range_fits(clients_offset, clients, sizeof(layout::ClientRecord), size) ||
        !range_fits(topics_offset, topics, sizeof(layout::TopicControl), size) ||
        !range_fits(roles_offset, static_cast<std::uint64_t>(clients) * (queues + topics), 1, size) ||
        access_offset < first_table || !range_fits(access_offset, 1, sizeof(layout::AccessTable), size) ||
        access_offset % alignof(layout::AccessTable) != 0 || events_offset < first_table ||
        !range_fits(events_offset, 1, sizeof(layout::ClientEventRing), size) ||
        events_offset % alignof(layout::ClientEventRing) != 0 ||
        queues_offset % alignof(layout::QueueControl) != 0 || topics_offset % alignof(layout::TopicControl) != 0 ||
        clients_offset % alignof(layout::ClientRecord) != 0) {
        error = "a table of the segment lies outside it or is misaligned";
        return Status::corrupt_segment;
    }
    view = SegmentView();
    view.root_ = root;
    view.client_capacity_ = clients;
    view.clients_ = reinterpret_cast<layout::ClientRecord*>(base + clients_offset);
    view.roles_ = reinterpret_cast<std::atomic<std::uint8_t>*>(base + roles_offset);
    view.roles_per_client_ = std::size_t{queues} + topics;
    view.access_ = reinterpret_cast<layout::AccessTable*>(base + access_offset);
    view.events_ = reinterpret_cast<layout::ClientEventRing*>(base + events_offset);
    auto* controls = reinterpret_cast<layout::QueueControl*>(base + queues_offset);
    view.rings_.reserve(queues);
    for (std::uint32_t index = 0; index < queues; ++index) {
        auto& control = controls[index];
        const QueueMetadata queue(control);
        const char* problem = check_queue(queue, size);
        const bool usable = *problem == '\0';
        view.usable_.push_back(usable);
        // Keep the name of a quarantined queue when it is readable, so that
        // opening it says "quarantined" rather than "not found".
        const bool named = std::memchr(queue.name, '\0', sizeof queue.name) != nullptr;
        view.names_.emplace_back(named ? queue.name : "");
        if (!usable) {
            if (writable) mark_quarantined(control.quarantined, layout::QuarantineReason::damaged_metadata);
            view.rings_.emplace_back();
            continue;
        }
        RingGeometry geometry;
        geometry.capacity = queue.capacity;
        geometry.max_message_size = queue.max_message_size;
        geometry.slot_stride = queue.slot_stride;
        geometry.overflow = queue.overflow;
        geometry.delivery = queue.delivery;
        geometry.max_deliveries = queue.max_deliveries;
        geometry.ack_timeout_ms = queue.ack_timeout_ms;
        geometry.checksummed = queue.checksummed != 0;
        geometry.exclusive = queue.exclusive;
        view.rings_.emplace_back(&control, base + queue.slots_offset, geometry, view.clients_, view.client_capacity_);
    }
    add_topics(base, size, reinterpret_cast<layout::TopicControl*>(base + topics_offset), topics, writable,
               view.topics_, view.topic_names_, view.topic_usable_);
    return Status::ok;
}

std::uint32_t SegmentView::find_queue(std::string_view name) const {
    for (std::uint32_t index = 0; index < names_.size(); ++index) {
        if (!names_[index].empty() && names_[index] == name) return index;
    }
    return layout::no_queue;
}

std::uint32_t SegmentView::find_topic(std::string_view name) const {
    for (std::uint32_t index = 0; index < topic_names_.size(); ++index) {
        if (!topic_names_[index].empty() && topic_names_[index] == name) return index;
    }
    return layout::no_queue;
}

void SegmentView::clear_roles(std::uint32_t client_index) const {
    for (std::size_t index = 0; index < roles_per_client_; ++index) {
        role(client_index, static_cast<std::uint32_t>(index)).store(0, std::memory_order_relaxed);
    }
}

}  // namespace shmq
