// The hardware-limit reference: the least a shared-memory queue between two
// processes can do. One lock-free single-producer single-consumer ring per
// channel in a MAP_SHARED mapping, busy polling on both sides, copying in and
// out with memcpy like every other transport (shmq's own copies of 64 KiB
// and more are faster: common/payload_copy.hpp).
//
// Each slot carries its own sequence word and the two sides keep their
// positions to themselves, so a message moves only the slot's own cache
// lines. A first version shared head and tail indices instead; it was
// bistable: while the consumer kept up, the ring ran empty and every message
// also moved the tail index's line (6.6 M msg/s at 64 B), and only when it
// ran full did it reach 26.7 M, run to run at random. A limit must not
// depend on such luck.
#include <atomic>
#include <cstring>
#include <immintrin.h>
#include <stdexcept>
#include <vector>

#include "bench/anonymous_mapping.hpp"
#include "bench/transport.hpp"

namespace shmq::bench {

namespace {

// Position p uses slot p % depth. Its sequence word is p while the slot is
// free for the producer's write of position p, and p + 1 once that message
// is in it; the consumer frees it for the next lap by storing p + depth.
struct Slot {
    std::atomic<std::uint64_t> sequence;
    std::uint64_t length;
    // the payload follows
};

struct Ring {
    std::byte* slots;
    std::size_t depth;
    std::size_t stride;

    Slot& slot(std::uint64_t position) const { return *reinterpret_cast<Slot*>(slots + (position % depth) * stride); }
};

class RingSender : public SingleSender {
public:
    explicit RingSender(const Ring& ring) : ring_(ring) {}

private:
    void send_one(const void* data, std::size_t size) override {
        Slot& slot = ring_.slot(position_);
        while (slot.sequence.load(std::memory_order_acquire) != position_) _mm_pause();
        slot.length = size;
        std::memcpy(reinterpret_cast<std::byte*>(&slot) + sizeof(Slot), data, size);
        slot.sequence.store(position_ + 1, std::memory_order_release);
        ++position_;
    }

    Ring ring_;
    std::uint64_t position_ = 0;
};

class RingReceiver : public SingleReceiver {
public:
    explicit RingReceiver(const Ring& ring) : ring_(ring) {}

private:
    std::size_t receive_one(void* data, std::size_t capacity) override {
        Slot& slot = ring_.slot(position_);
        while (slot.sequence.load(std::memory_order_acquire) != position_ + 1) _mm_pause();
        const std::size_t length = slot.length;
        if (length > capacity) throw std::runtime_error("spsc ring: message larger than the buffer");
        std::memcpy(data, reinterpret_cast<const std::byte*>(&slot) + sizeof(Slot), length);
        slot.sequence.store(position_ + ring_.depth, std::memory_order_release);
        ++position_;
        return length;
    }

    Ring ring_;
    std::uint64_t position_ = 0;
};

class SpscRingTransport : public Transport {
public:
    ~SpscRingTransport() override { teardown(); }
    std::string name() const override { return "spsc_ring"; }
    std::string mode() const override { return "busy_poll"; }

    void setup(const ChannelSpec& spec) override {
        depth_ = spec.depth;
        const std::size_t stride = whole_cache_lines(sizeof(Slot) + spec.message_size);
        const std::size_t per_ring = depth_ * stride;
        mapping_ = AnonymousMapping(per_ring * spec.channels, "spsc ring");
        for (std::size_t channel = 0; channel < spec.channels; ++channel) {
            const Ring ring{mapping_.data() + channel * per_ring, depth_, stride};
            for (std::uint64_t position = 0; position < depth_; ++position) {
                new (&ring.slot(position)) Slot{{position}, 0};
            }
            rings_.push_back(ring);
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
        rings_.clear();
        mapping_ = AnonymousMapping();
    }

private:
    AnonymousMapping mapping_;  // mapped before fork, so both children share it at the same address
    std::size_t depth_ = 0;
    std::vector<Ring> rings_;
};

}  // namespace

std::unique_ptr<Transport> make_spsc_ring() { return std::make_unique<SpscRingTransport>(); }

}  // namespace shmq::bench
