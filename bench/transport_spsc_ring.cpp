// The hardware-limit reference: the least a shared-memory queue between two
// processes can do. One lock-free single-producer single-consumer ring per
// channel in a MAP_SHARED mapping, busy polling on both sides, each side
// caching the other's index so that the shared lines move only when the ring
// looks full or empty. Like every other transport it copies in and out.
#include <atomic>
#include <cstring>
#include <immintrin.h>
#include <sys/mman.h>
#include <system_error>
#include <vector>

#include "bench/transport.hpp"

namespace shmq::bench {

namespace {

constexpr std::size_t cache_line = 64;

struct alignas(cache_line) RingControl {
    alignas(cache_line) std::atomic<std::uint64_t> head{0};  // next position to read; written by the consumer
    alignas(cache_line) std::atomic<std::uint64_t> tail{0};  // next position to write; written by the producer
};

struct SlotHeader {
    std::uint64_t length;
};

struct Ring {
    RingControl* control;
    std::byte* slots;
    std::size_t depth;
    std::size_t stride;

    std::byte* slot(std::uint64_t position) const { return slots + (position % depth) * stride; }
};

class RingSender : public SingleSender {
public:
    explicit RingSender(const Ring& ring) : ring_(ring) {}

private:
    void send_one(const void* data, std::size_t size) override {
        const auto tail = ring_.control->tail.load(std::memory_order_relaxed);
        while (tail - cached_head_ == ring_.depth) {
            cached_head_ = ring_.control->head.load(std::memory_order_acquire);
            if (tail - cached_head_ == ring_.depth) _mm_pause();
        }
        std::byte* slot = ring_.slot(tail);
        const SlotHeader header{size};
        std::memcpy(slot, &header, sizeof header);
        std::memcpy(slot + sizeof header, data, size);
        ring_.control->tail.store(tail + 1, std::memory_order_release);
    }

    Ring ring_;
    std::uint64_t cached_head_ = 0;
};

class RingReceiver : public SingleReceiver {
public:
    explicit RingReceiver(const Ring& ring) : ring_(ring) {}

private:
    std::size_t receive_one(void* data, std::size_t capacity) override {
        const auto head = ring_.control->head.load(std::memory_order_relaxed);
        while (head == cached_tail_) {
            cached_tail_ = ring_.control->tail.load(std::memory_order_acquire);
            if (head == cached_tail_) _mm_pause();
        }
        const std::byte* slot = ring_.slot(head);
        SlotHeader header;
        std::memcpy(&header, slot, sizeof header);
        if (header.length > capacity) throw std::runtime_error("spsc ring: message larger than the buffer");
        std::memcpy(data, slot + sizeof header, header.length);
        ring_.control->head.store(head + 1, std::memory_order_release);
        return header.length;
    }

    Ring ring_;
    std::uint64_t cached_tail_ = 0;
};

class SpscRingTransport : public Transport {
public:
    ~SpscRingTransport() override { teardown(); }
    std::string name() const override { return "spsc_ring"; }
    std::string mode() const override { return "busy_poll"; }

    void setup(const ChannelSpec& spec) override {
        depth_ = spec.depth;
        const std::size_t stride = (sizeof(SlotHeader) + spec.message_size + cache_line - 1) / cache_line * cache_line;
        const std::size_t per_ring = sizeof(RingControl) + depth_ * stride;
        size_ = per_ring * spec.channels;
        // Mapped before fork, so both children share it at the same address.
        void* memory = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (memory == MAP_FAILED) {
            size_ = 0;
            throw std::system_error(errno, std::generic_category(), "spsc ring: mmap");
        }
        memory_ = static_cast<std::byte*>(memory);
        for (std::size_t channel = 0; channel < spec.channels; ++channel) {
            std::byte* base = memory_ + channel * per_ring;
            rings_.push_back(Ring{new (base) RingControl, base + sizeof(RingControl), depth_, stride});
        }
    }
    std::size_t depth() const override { return depth_; }
    std::unique_ptr<Sender> sender(std::size_t channel) override {
        return std::make_unique<RingSender>(rings_.at(channel));
    }
    std::unique_ptr<Receiver> receiver(std::size_t channel) override {
        return std::make_unique<RingReceiver>(rings_.at(channel));
    }
    void teardown() override {
        if (memory_ != nullptr) ::munmap(memory_, size_);
        memory_ = nullptr;
        rings_.clear();
    }

private:
    std::byte* memory_ = nullptr;
    std::size_t size_ = 0;
    std::size_t depth_ = 0;
    std::vector<Ring> rings_;
};

}  // namespace

std::unique_ptr<Transport> make_spsc_ring() { return std::make_unique<SpscRingTransport>(); }

}  // namespace shmq::bench
