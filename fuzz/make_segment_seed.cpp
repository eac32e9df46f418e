// Writes the seed corpus of fuzz_segment_validator: a few small, valid broker
// segments with queues and topics, laid out as shmqd lays them out (see
// common/layout.hpp), each checked with SegmentView::validate before it is
// written, so that a layout change makes this program fail instead of
// seeding the fuzzer with garbage.
// They are generated at run time rather than committed because their bytes
// follow the layout of the build that fuzzes them.
//
// Usage: make_segment_seed DIRECTORY
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <new>
#include <string>
#include <vector>

#include "common/layout.hpp"
#include "common/segment_view.hpp"
#include "common/slot_word.hpp"

namespace {

using namespace shmq;

struct QueueSpec {
    const char* name;
    std::uint32_t capacity;
    std::uint32_t max_message_size;
    std::uint8_t overflow;  // config::OverflowPolicy
    std::uint8_t delivery;  // config::DeliveryMode
};

struct TopicSpec {
    const char* name;
    std::uint32_t capacity;
    std::uint32_t max_message_size;
    std::uint32_t max_subscribers;
    std::uint32_t history;
    std::uint8_t slow_subscriber;  // config::SlowSubscriberPolicy
};

struct SegmentSpec {
    const char* file;
    std::vector<QueueSpec> queues;
    std::vector<TopicSpec> topics;
    std::uint32_t client_capacity;
};

std::uint64_t align_up(std::uint64_t offset, std::uint64_t alignment) {
    return (offset + alignment - 1) / alignment * alignment;
}

// A cache-line-aligned, zeroed buffer holding one segment image.
class Image {
public:
    explicit Image(std::size_t size)
        : size_(size), base_(static_cast<std::byte*>(::operator new(size, std::align_val_t{layout::cache_line}))) {
        std::memset(base_, 0, size_);
    }
    ~Image() { ::operator delete(base_, std::align_val_t{layout::cache_line}); }
    Image(const Image&) = delete;
    Image& operator=(const Image&) = delete;

    std::byte* base() const { return base_; }
    std::size_t size() const { return size_; }

private:
    std::size_t size_;
    std::byte* base_;
};

// Where everything of one segment lies, as offsets from its base.
struct Plan {
    std::uint64_t queues = 0;
    std::uint64_t topics = 0;
    std::uint64_t clients = 0;
    std::uint64_t roles = 0;
    std::uint64_t access = 0;
    std::uint64_t events = 0;
    std::vector<std::uint64_t> queue_slots;
    std::vector<std::uint64_t> topic_slots;
    std::vector<std::uint64_t> subscribers;
    std::uint64_t size = 0;
};

Plan plan_segment(const SegmentSpec& spec) {
    Plan plan;
    // The root at offset 0, as in every segment.
    std::uint64_t cursor = align_up(sizeof(layout::SegmentRoot), layout::cache_line);
    // Control blocks and client records are cache-line aligned types, so
    // each of these tables ends where the next may start.
    plan.queues = cursor;
    cursor += spec.queues.size() * sizeof(layout::QueueControl);
    plan.topics = cursor;
    cursor += spec.topics.size() * sizeof(layout::TopicControl);
    plan.clients = cursor;
    cursor += spec.client_capacity * sizeof(layout::ClientRecord);
    plan.roles = cursor;
    cursor += spec.client_capacity * (spec.queues.size() + spec.topics.size());
    // The access table (no restricted queues in these seeds).
    plan.access = cursor = align_up(cursor, layout::cache_line);
    cursor += sizeof(layout::AccessTable);
    plan.events = cursor = align_up(cursor, layout::cache_line);
    cursor += sizeof(layout::ClientEventRing);
    for (const auto& queue : spec.queues) {
        plan.queue_slots.push_back(cursor = align_up(cursor, layout::cache_line));
        cursor += layout::slot_stride_for(queue.max_message_size) * queue.capacity;
        cursor += layout::claim_words_bytes(queue.capacity);  // right after the slots, all 0: no claim yet
        cursor += layout::take_words_bytes(queue.capacity);   // then the take words, all 0: nothing decided
    }
    for (const auto& topic : spec.topics) {
        plan.topic_slots.push_back(cursor = align_up(cursor, layout::cache_line));
        cursor += layout::topic_slot_stride_for(topic.max_message_size, topic.max_subscribers) * topic.capacity;
        plan.subscribers.push_back(cursor);
        cursor += topic.max_subscribers * sizeof(layout::SubscriberRecord);
    }
    plan.size = cursor;
    return plan;
}

// A queue with one message waiting, so that the seed covers a used slot too.
void build_queue(std::byte* base, const QueueSpec& queue, std::uint64_t slots_offset, layout::QueueControl& control) {
    std::strncpy(control.name, queue.name, sizeof control.name - 1);
    control.capacity = queue.capacity;
    control.max_message_size = queue.max_message_size;
    control.slot_stride = layout::slot_stride_for(queue.max_message_size);
    control.slots_offset = slots_offset;
    control.overflow = queue.overflow;
    control.delivery = queue.delivery;
    control.max_deliveries = 5;
    control.ack_timeout_ms = 30000;
    for (std::uint32_t slot = 0; slot < queue.capacity; ++slot) {
        auto* header = new (base + slots_offset + slot * control.slot_stride) layout::SlotHeader{};
        header->position.store(UINT64_MAX, std::memory_order_relaxed);  // as the broker leaves a fresh slot
    }
    auto& first = *reinterpret_cast<layout::SlotHeader*>(base + slots_offset);
    const char message[] = "seed";
    const auto length = std::min<std::uint32_t>(sizeof message - 1, queue.max_message_size);
    std::memcpy(reinterpret_cast<std::byte*>(&first) + layout::slot_header_size, message, length);
    first.length = length;
    first.position.store(0, std::memory_order_relaxed);
    first.word.store(SlotWord::make(SlotState::ready), std::memory_order_relaxed);
    control.tail.store(1, std::memory_order_relaxed);
}

void build_topic(std::byte* base, const TopicSpec& topic, std::uint64_t slots_offset, std::uint64_t subscribers_offset,
                 layout::TopicControl& control) {
    std::strncpy(control.name, topic.name, sizeof control.name - 1);
    control.capacity = topic.capacity;
    control.max_message_size = topic.max_message_size;
    control.slot_stride = layout::topic_slot_stride_for(topic.max_message_size, topic.max_subscribers);
    control.slots_offset = slots_offset;
    control.subscribers_offset = subscribers_offset;
    control.max_subscribers = topic.max_subscribers;
    control.history = topic.history;
    control.slow_subscriber = topic.slow_subscriber;
    for (std::uint32_t slot = 0; slot < topic.capacity; ++slot) {
        auto* header = new (base + slots_offset + slot * control.slot_stride) layout::TopicSlotHeader{};
        header->position.store(UINT64_MAX, std::memory_order_relaxed);  // as the broker leaves a fresh slot
    }
    auto* records = reinterpret_cast<layout::SubscriberRecord*>(base + subscribers_offset);
    for (std::uint32_t record = 0; record < topic.max_subscribers; ++record) {
        new (&records[record]) layout::SubscriberRecord{};
    }
}

// "" when validate accepts the segment with every queue and topic usable.
std::string check(std::byte* base, std::size_t size) {
    SegmentView view;
    std::string error;
    if (SegmentView::validate(base, size, view, error) != Status::ok) return error;
    for (std::uint32_t index = 0; index < view.queue_count(); ++index) {
        if (!view.queue_usable(index)) return "queue '" + view.queue_name(index) + "' is unusable";
    }
    for (std::uint32_t index = 0; index < view.topic_count(); ++index) {
        if (!view.topic_usable(index)) return "topic '" + view.topic_name(index) + "' is unusable";
    }
    return "";
}

// Builds the segment, validates it, and writes it: the fuzzer's input is the
// segment file's contents.
bool write_seed(const SegmentSpec& spec, const std::string& directory) {
    const Plan plan = plan_segment(spec);
    Image image(plan.size);
    std::byte* base = image.base();
    auto* root = new (base) layout::SegmentRoot();
    root->magic = layout::magic;
    root->layout_version = layout::version;
    root->root_size = sizeof(layout::SegmentRoot);
    root->segment_size = image.size();
    root->state.store(static_cast<std::uint32_t>(layout::BrokerState::ready), std::memory_order_relaxed);
    root->broker_epoch.store(1, std::memory_order_relaxed);
    root->broker.pid = 1;
    root->queue_count = static_cast<std::uint32_t>(spec.queues.size());
    root->topic_count = static_cast<std::uint32_t>(spec.topics.size());
    root->client_capacity = spec.client_capacity;
    root->liveness_interval_ms = 100;
    root->broker_record.store(0, std::memory_order_relaxed);
    root->queues_offset = plan.queues;
    root->topics_offset = plan.topics;
    root->clients_offset = plan.clients;
    root->roles_offset = plan.roles;
    root->access_offset = plan.access;
    new (base + plan.access) layout::AccessTable{};
    root->events_offset = plan.events;
    new (base + plan.events) layout::ClientEventRing();

    auto* queues = reinterpret_cast<layout::QueueControl*>(base + plan.queues);
    for (std::size_t index = 0; index < spec.queues.size(); ++index) {
        build_queue(base, spec.queues[index], plan.queue_slots[index], *new (&queues[index]) layout::QueueControl());
    }
    auto* topics = reinterpret_cast<layout::TopicControl*>(base + plan.topics);
    for (std::size_t index = 0; index < spec.topics.size(); ++index) {
        build_topic(base, spec.topics[index], plan.topic_slots[index], plan.subscribers[index],
                    *new (&topics[index]) layout::TopicControl());
    }
    auto* clients = reinterpret_cast<layout::ClientRecord*>(base + plan.clients);
    for (std::uint32_t index = 0; index < spec.client_capacity; ++index) new (&clients[index]) layout::ClientRecord();
    // The broker's own record, as a running broker holds it.
    clients[0].word.store(layout::ClientWord::make(layout::ClientState::active, 1, 1), std::memory_order_relaxed);
    std::strncpy(clients[0].program, "shmqd", sizeof clients[0].program - 1);

    std::string error = check(base, image.size());
    if (error.empty()) {
        const std::string path = directory + "/" + spec.file;
        std::ofstream out(path, std::ios::binary);
        out.write(reinterpret_cast<const char*>(base), static_cast<std::streamsize>(image.size()));
        if (!out.good()) error = "cannot write " + path;
    }
    for (std::size_t index = 0; index < spec.queues.size(); ++index) queues[index].~QueueControl();
    for (std::size_t index = 0; index < spec.topics.size(); ++index) topics[index].~TopicControl();
    if (error.empty()) return true;
    std::fprintf(stderr, "make_segment_seed: %s: %s\n", spec.file, error.c_str());
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_segment_seed DIRECTORY\n");
        return 2;
    }
    constexpr std::uint8_t block = 0, reject = 1, drop_oldest = 2;
    constexpr std::uint8_t at_most_once = 0, at_least_once = 1;
    constexpr std::uint8_t slow_block = 0, slow_drop = 1;
    const SegmentSpec seeds[] = {
        {"one-queue", {{"orders", 4, 32, block, at_most_once}}, {}, 2},
        {"two-queues", {{"jobs", 2, 100, reject, at_least_once}, {"events", 3, 8, drop_oldest, at_most_once}}, {}, 3},
        {"nothing", {}, {}, 1},
        // 65 subscribers: two pin words per slot.
        {"queue-and-topics",
         {{"orders", 2, 16, block, at_most_once}},
         {{"prices", 4, 24, 65, 2, slow_drop}, {"changes", 2, 8, 1, 0, slow_block}},
         2},
    };
    bool ok = true;
    for (const auto& seed : seeds) ok = write_seed(seed, argv[1]) && ok;
    return ok ? 0 : 1;
}
