// Writes the seed corpus of fuzz_segment_validator: a few small, valid broker
// segments laid out as shmqd lays them out (see common/layout.hpp), each
// checked with SegmentView::validate before it is written, so that a layout
// change makes this program fail instead of seeding the fuzzer with garbage.
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

struct SegmentSpec {
    const char* file;
    std::vector<QueueSpec> queues;
    std::uint32_t client_capacity;
    bool root_last;  // after every table, as a heap allocator may place it
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

// Builds the segment, validates it, and writes the fuzzer's input format:
// one byte placing the root (in units of its alignment), then the image.
bool write_seed(const SegmentSpec& spec, const std::string& directory) {
    const auto queue_count = static_cast<std::uint32_t>(spec.queues.size());
    std::uint64_t cursor = 0;
    std::uint64_t root_offset = 0;
    if (!spec.root_last) cursor = align_up(sizeof(layout::SegmentRoot), layout::cache_line);
    const std::uint64_t queues_offset = cursor;
    cursor += queue_count * sizeof(layout::QueueControl);
    const std::uint64_t clients_offset = cursor = align_up(cursor, layout::cache_line);
    cursor += spec.client_capacity * sizeof(layout::ClientRecord);
    const std::uint64_t roles_offset = cursor;
    cursor += std::uint64_t{spec.client_capacity} * queue_count;
    std::vector<std::uint64_t> slots_offsets;
    for (const auto& queue : spec.queues) {
        cursor = align_up(cursor, layout::cache_line);
        slots_offsets.push_back(cursor);
        cursor += layout::slot_stride_for(queue.max_message_size) * queue.capacity;
    }
    if (spec.root_last) {
        root_offset = cursor = align_up(cursor, alignof(layout::SegmentRoot));
        cursor += sizeof(layout::SegmentRoot);
    }
    if (root_offset / alignof(layout::SegmentRoot) > 0xFF) {
        std::fprintf(stderr, "make_segment_seed: %s: the root lies too far in for the input format\n", spec.file);
        return false;
    }

    Image image(cursor);
    std::byte* base = image.base();
    auto* root = new (base + root_offset) layout::SegmentRoot();
    root->magic = layout::magic;
    root->layout_version = layout::version;
    root->root_size = sizeof(layout::SegmentRoot);
    root->segment_size = image.size();
    root->state.store(static_cast<std::uint32_t>(layout::BrokerState::ready), std::memory_order_relaxed);
    root->broker_epoch.store(1, std::memory_order_relaxed);
    root->broker.pid = 1;
    root->queue_count = queue_count;
    root->client_capacity = spec.client_capacity;
    root->liveness_interval_ms = 100;
    root->broker_record.store(0, std::memory_order_relaxed);
    root->queues_offset = queues_offset;
    root->clients_offset = clients_offset;
    root->roles_offset = roles_offset;

    auto* controls = reinterpret_cast<layout::QueueControl*>(base + queues_offset);
    for (std::uint32_t index = 0; index < queue_count; ++index) {
        const auto& queue = spec.queues[index];
        auto* control = new (&controls[index]) layout::QueueControl();
        std::strncpy(control->name, queue.name, sizeof control->name - 1);
        control->capacity = queue.capacity;
        control->max_message_size = queue.max_message_size;
        control->slot_stride = layout::slot_stride_for(queue.max_message_size);
        control->slots_offset = slots_offsets[index];
        control->overflow = queue.overflow;
        control->delivery = queue.delivery;
        control->max_deliveries = 5;
        control->ack_timeout_ms = 30000;
        control->dead_letter_index = layout::no_queue;
        for (std::uint32_t slot = 0; slot < queue.capacity; ++slot) {
            auto* header = new (base + control->slots_offset + slot * control->slot_stride) layout::SlotHeader{};
            header->position.store(UINT64_MAX, std::memory_order_relaxed);  // as the broker leaves a fresh slot
        }
        // One message waiting, so that the seed covers a used slot too.
        auto* first = reinterpret_cast<layout::SlotHeader*>(base + control->slots_offset);
        const char message[] = "seed";
        const auto length = std::min<std::uint32_t>(sizeof message - 1, queue.max_message_size);
        std::memcpy(reinterpret_cast<std::byte*>(first) + layout::slot_header_size, message, length);
        first->length = length;
        first->position.store(0, std::memory_order_relaxed);
        first->word.store(SlotWord::make(SlotState::ready), std::memory_order_relaxed);
        control->tail.store(1, std::memory_order_relaxed);
    }
    auto* clients = reinterpret_cast<layout::ClientRecord*>(base + clients_offset);
    for (std::uint32_t index = 0; index < spec.client_capacity; ++index) new (&clients[index]) layout::ClientRecord();
    clients[0].word.store(layout::ClientWord::make(layout::ClientState::active, 1, 1), std::memory_order_relaxed);
    std::strncpy(clients[0].program, "shmqd", sizeof clients[0].program - 1);

    SegmentView view;
    std::string error;
    bool ok = SegmentView::validate(base, image.size(), root, view, error) == Status::ok;
    for (std::uint32_t index = 0; ok && index < view.queue_count(); ++index) {
        if (!view.queue_usable(index)) {
            ok = false;
            error = "queue '" + view.queue_name(index) + "' is unusable";
        }
    }
    if (ok) {
        const std::string path = directory + "/" + spec.file;
        std::ofstream out(path, std::ios::binary);
        out.put(static_cast<char>(root_offset / alignof(layout::SegmentRoot)));
        out.write(reinterpret_cast<const char*>(base), static_cast<std::streamsize>(image.size()));
        ok = out.good();
        if (!ok) error = "cannot write " + path;
    }
    if (!ok) std::fprintf(stderr, "make_segment_seed: %s: %s\n", spec.file, error.c_str());
    for (std::uint32_t index = 0; index < queue_count; ++index) controls[index].~QueueControl();
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_segment_seed DIRECTORY\n");
        return 2;
    }
    constexpr std::uint8_t block = 0, reject = 1, drop_oldest = 2;
    constexpr std::uint8_t at_most_once = 0, at_least_once = 1;
    const SegmentSpec seeds[] = {
        {"one-queue", {{"orders", 4, 32, block, at_most_once}}, 2, false},
        {"two-queues",
         {{"jobs", 2, 100, reject, at_least_once}, {"events", 3, 8, drop_oldest, at_most_once}},
         3,
         false},
        {"no-queues", {}, 1, false},
        {"root-last", {{"telemetry", 2, 16, block, at_most_once}}, 2, true},
    };
    bool ok = true;
    for (const auto& seed : seeds) ok = write_seed(seed, argv[1]) && ok;
    return ok ? 0 : 1;
}
