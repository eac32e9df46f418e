// libFuzzer target: SegmentView::validate, the gate every process passes
// before it touches a broker segment. The input is the segment: whatever
// validate accepts must be safe to use, so after an accepted input this
// target checks what the view promises and touches, through it, what a
// client reads and writes of every table, queue slot, topic slot and
// subscriber record (AddressSanitizer sees any byte outside the segment).
// Mutexes are never locked: validate vouches for where things lie, not for
// what they hold, and a pthread mutex made of fuzzer bytes may block or fail
// inside glibc, which would say nothing about validate.
//
// The input is a segment file's whole contents, anything at all: it is also
// written to a real file and opened the way a client attaches
// (SegmentMapping::open, then validate against the real length of the
// mapping), which must agree with the in-memory check and never hang.
#include <fstream>
#include <memory>
#include <unistd.h>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "common/layout.hpp"
#include "common/segment_mapping.hpp"
#include "common/segment_view.hpp"

namespace {

using namespace shmq;

// Aborts, which libFuzzer reports as a crash with the input that caused it.
void require(bool condition, const char* what) {
    if (condition) return;
    std::fprintf(stderr, "fuzz_segment_validator: SegmentView::validate %s\n", what);
    std::abort();
}

// The mapping a client would get: aligned like mmap'ed memory (to a cache
// line, which is all the layout relies on) and exactly `size` bytes, so that
// AddressSanitizer flags the first byte past its end.
class Segment {
public:
    explicit Segment(std::size_t size)
        : size_(size), base_(static_cast<std::byte*>(::operator new(size, std::align_val_t{layout::cache_line}))) {
        std::memset(base_, 0, size_);
    }
    ~Segment() { ::operator delete(base_, std::align_val_t{layout::cache_line}); }
    Segment(const Segment&) = delete;
    Segment& operator=(const Segment&) = delete;

    std::byte* base() const { return base_; }
    std::size_t size() const { return size_; }
    // True when [pointer, pointer + bytes) lies within the segment. Compared
    // as integers: a pointer a faulty view hands out need not point into it.
    bool holds(const void* pointer, std::uint64_t bytes) const {
        const auto begin = reinterpret_cast<std::uintptr_t>(base_);
        const auto at = reinterpret_cast<std::uintptr_t>(pointer);
        return at >= begin && at - begin <= size_ && bytes <= size_ - (at - begin);
    }

private:
    std::size_t size_;
    std::byte* base_;
};

// Reads through a volatile sink, so that the compiler keeps every load.
template <typename T>
void touch(const T& value) {
    static volatile T sink;
    sink = value;
}

void check_queue(const Segment& segment, const SegmentView& view, std::uint32_t index) {
    const auto& name = view.queue_name(index);
    require(name.size() < layout::queue_name_capacity, "accepted a queue name longer than its field");
    if (!name.empty()) {
        const auto found = view.find_queue(name);
        require(found != layout::no_queue && view.queue_name(found) == name,
                "made a view whose find_queue misses a listed name");
    }
    if (!view.queue_usable(index)) return;

    const auto& ring = view.ring(index);
    const auto& geometry = ring.geometry();
    const auto& control = ring.control();
    require(segment.holds(&control, sizeof control), "accepted a queue control block outside the segment");
    require(std::memchr(control.name, '\0', sizeof control.name) != nullptr,
            "accepted a usable queue with an unterminated name");
    require(geometry.capacity == control.capacity && geometry.max_message_size == control.max_message_size &&
                geometry.slot_stride == control.slot_stride,
            "copied a geometry that differs from the segment's");
    require(geometry.capacity > 0, "accepted a queue without slots");
    require(geometry.slot_stride >= layout::slot_header_size + geometry.max_message_size,
            "accepted slots too small for the largest message");
    // At most 2^24 slots of at most 2^26 + 64 bytes: the product fits.
    const std::uint64_t slot_bytes = std::uint64_t{geometry.capacity} * geometry.slot_stride;
    require(segment.holds(&ring.slot_at(0), slot_bytes), "accepted slots outside the segment");
    require(reinterpret_cast<std::uintptr_t>(&ring.slot_at(0)) % alignof(layout::SlotHeader) == 0,
            "accepted misaligned slots");

    // What a consumer reads of every slot, and the last byte a producer may write.
    for (std::uint64_t position = 0; position < geometry.capacity; ++position) {
        auto& slot = ring.slot_at(position);
        touch(slot.word.load(std::memory_order_relaxed));
        touch(slot.position.load(std::memory_order_relaxed));
        touch(slot.length.load(std::memory_order_relaxed));
        touch(slot.ack_deadline_ns.load(std::memory_order_relaxed));
        if (geometry.max_message_size > 0) touch(ring.payload_of(slot)[geometry.max_message_size - 1]);
    }
    // The lock-free peeks a client makes before deciding to wait.
    touch(ring.may_have_room());
    touch(ring.may_have_message());
}

void check_topic(const Segment& segment, const SegmentView& view, std::uint32_t index) {
    const auto& name = view.topic_name(index);
    require(name.size() < layout::queue_name_capacity, "accepted a topic name longer than its field");
    if (!name.empty()) {
        const auto found = view.find_topic(name);
        require(found != layout::no_queue && view.topic_name(found) == name,
                "made a view whose find_topic misses a listed name");
    }
    if (!view.topic_usable(index)) return;

    const auto& ring = view.topic(index);
    const auto& geometry = ring.geometry();
    const auto& control = ring.control();
    require(segment.holds(&control, sizeof control), "accepted a topic control block outside the segment");
    require(std::memchr(control.name, '\0', sizeof control.name) != nullptr,
            "accepted a usable topic with an unterminated name");
    require(geometry.capacity == control.capacity && geometry.max_message_size == control.max_message_size &&
                geometry.slot_stride == control.slot_stride && geometry.max_subscribers == control.max_subscribers,
            "copied a topic geometry that differs from the segment's");
    require(geometry.capacity > 0 && geometry.max_subscribers > 0, "accepted a topic without slots or subscribers");
    require(std::uint64_t{geometry.pin_words} * 64 >= geometry.max_subscribers &&
                geometry.payload_offset >= sizeof(layout::TopicSlotHeader) + 8ull * geometry.pin_words &&
                geometry.slot_stride >= geometry.payload_offset + geometry.max_message_size,
            "accepted topic slots too small for their pins and largest message");
    // The view hands out payloads only; each slot starts payload_offset before.
    const std::byte* first = ring.payload(0) - geometry.payload_offset;
    require(segment.holds(first, std::uint64_t{geometry.capacity} * geometry.slot_stride),
            "accepted topic slots outside the segment");
    require(reinterpret_cast<std::uintptr_t>(first) % alignof(layout::TopicSlotHeader) == 0,
            "accepted misaligned topic slots");
    // Where the ring found its subscriber records; it does not say.
    require(segment.holds(segment.base() + control.subscribers_offset,
                          std::uint64_t{geometry.max_subscribers} * sizeof(layout::SubscriberRecord)),
            "accepted subscriber records outside the segment");

    // What a subscriber reads of every slot: header, pin words, payload.
    for (std::uint64_t position = 0; position < geometry.capacity; ++position) {
        std::byte* payload = ring.payload(position);
        const auto& slot = *reinterpret_cast<const layout::TopicSlotHeader*>(payload - geometry.payload_offset);
        touch(slot.word.load(std::memory_order_relaxed));
        touch(slot.position.load(std::memory_order_relaxed));
        touch(slot.length.load(std::memory_order_relaxed));
        const auto* pins = reinterpret_cast<const std::atomic<std::uint64_t>*>(&slot + 1);
        for (std::uint32_t word = 0; word < geometry.pin_words; ++word) {
            touch(pins[word].load(std::memory_order_relaxed));
        }
        if (geometry.max_message_size > 0) touch(payload[geometry.max_message_size - 1]);
    }
    // Every subscriber record, through the ring's own lock-free readers.
    for (std::uint32_t subscriber = 0; subscriber < geometry.max_subscribers; ++subscriber) {
        touch(ring.counters(subscriber).cursor);
        touch(ring.subscriber_owner(subscriber).generation);
    }
    touch(ring.may_have_room());
}

void check_view(const Segment& segment, const SegmentView& view) {
    require(segment.holds(&view.root(), sizeof(layout::SegmentRoot)), "accepted a root outside the segment");
    touch(view.broker_stopping());

    const std::uint32_t clients = view.client_capacity();
    const std::uint32_t queues = view.queue_count();
    const std::uint32_t topics = view.topic_count();
    require(clients > 0, "accepted an empty client table");
    require(segment.holds(&view.client(0), std::uint64_t{clients} * sizeof(layout::ClientRecord)),
            "accepted a client table outside the segment");
    for (std::uint32_t client = 0; client < clients; ++client) {
        const auto& record = view.client(client);
        touch(record.word.load(std::memory_order_relaxed));
        touch(record.start_time.load(std::memory_order_relaxed));
        touch(record.attached_at_ns.load(std::memory_order_relaxed));
        for (const char c : record.program) touch(c);
    }
    if (queues + topics > 0) {
        require(segment.holds(&view.role(0, 0), std::uint64_t{clients} * (queues + topics)),
                "accepted a role table outside the segment");
        for (std::uint32_t client = 0; client < clients; ++client) {
            for (std::uint32_t queue = 0; queue < queues; ++queue) {
                touch(view.role(client, queue).load(std::memory_order_relaxed));
            }
            for (std::uint32_t topic = 0; topic < topics; ++topic) {
                touch(view.topic_role(client, topic).load(std::memory_order_relaxed));
            }
        }
    }
    for (std::uint32_t queue = 0; queue < queues; ++queue) check_queue(segment, view, queue);
    for (std::uint32_t topic = 0; topic < topics; ++topic) check_topic(segment, view, topic);
}

// The attach path on a real file: open, map, validate. Returns its status.
Status attach_path(const std::uint8_t* data, std::size_t size) {
    static const std::string name = "shmq-fuzz-" + std::to_string(::getpid());
    const std::string path = SegmentMapping::file_system_path(name);
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
        require(out.good(), "(fuzz harness) could not write its scratch file");
    }
    std::unique_ptr<SegmentMapping> mapping;
    std::string why;
    const auto opened = SegmentMapping::open(name, mapping, why);
    SegmentMapping::remove(name);
    if (opened != platform::FileError::none) {
        require(size < sizeof(layout::SegmentRoot) && !why.empty(), "(open) refused a file long enough to hold a root");
        return Status::corrupt_segment;
    }
    SegmentView view;
    const Status status = SegmentView::validate(mapping->base(), mapping->size(), view, why);
    require(status == Status::ok || !why.empty(), "refused a mapped segment without saying why");
    return status;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Exactly the input's bytes, so that AddressSanitizer flags any read past them.
    Segment segment(size == 0 ? 1 : size);
    std::memcpy(segment.base(), data, size);

    SegmentView view;
    std::string error;
    const Status status = SegmentView::validate(segment.base(), size, view, error);
    if (status == Status::ok) {
        check_view(segment, view);
    } else {
        require(!error.empty(), "refused a segment without saying why");
    }
    require((attach_path(data, size) == Status::ok) == (status == Status::ok),
            "judged the same bytes differently in memory and in a mapped file");
    return 0;
}
