// A second reference beside the limit ring: the textbook bounded
// multi-producer multi-consumer ring (D. Vyukov's: one compare-and-swap of a
// shared position per message on each side, and each slot's sequence word
// saying whose turn it is), in a MAP_SHARED mapping, spinning then yielding.
// It keeps none of shmq's promises (a process killed between its swap and
// its store wedges the ring for good), so it is no peer. What it shows is
// what sharing one queue among several producers and consumers costs on the
// machine at hand before any crash safety: shmq's queues are such a queue,
// and the limit ring is not (docs/benchmarks.md, "The textbook MPMC ring").
#include <atomic>
#include <cstring>
#include <immintrin.h>
#include <sched.h>
#include <stdexcept>
#include <vector>

#include "bench/anonymous_mapping.hpp"
#include "bench/transport.hpp"

namespace shmq::bench {

namespace {

// A wait polls with a pause, and after this many polls yields the CPU at
// each one: with more processes than CPUs (many-to-many) a waiter must let
// the process it waits for run, as shmq's spinning waits do. Busy polling
// alone measured the scheduler there: 4x4 at under half of 2x2.
constexpr unsigned polls_before_yield = 64;

void wait_a_little(unsigned& polls) {
    if (++polls < polls_before_yield) {
        _mm_pause();
    } else {
        ::sched_yield();
    }
}

// Position p uses slot p % depth; its sequence word is p while the slot is
// free for the write of p, p + 1 once that message is in it, and p + depth
// once it is taken.
struct Slot {
    std::atomic<std::uint64_t> sequence;
    std::uint64_t length;
};

struct alignas(cache_line) Position {
    std::atomic<std::uint64_t> value;
};

struct Ring {
    Position* tail;  // the producers' next position
    Position* head;  // the consumers'
    std::byte* slots;
    std::size_t depth;
    std::size_t stride;

    Slot& slot(std::uint64_t position) const { return *reinterpret_cast<Slot*>(slots + (position % depth) * stride); }
};

class MpmcSender : public SingleSender {
public:
    explicit MpmcSender(const Ring& ring) : ring_(ring) {}

private:
    void send_one(const void* data, std::size_t size) override {
        auto position = ring_.tail->value.load(std::memory_order_relaxed);
        unsigned polls = 0;
        for (;;) {
            Slot& slot = ring_.slot(position);
            const auto sequence = slot.sequence.load(std::memory_order_acquire);
            if (sequence == position) {
                if (ring_.tail->value.compare_exchange_weak(position, position + 1, std::memory_order_relaxed)) {
                    slot.length = size;
                    std::memcpy(reinterpret_cast<std::byte*>(&slot) + sizeof(Slot), data, size);
                    slot.sequence.store(position + 1, std::memory_order_release);
                    return;
                }
            } else if (sequence < position) {
                wait_a_little(polls);  // full, or its last message still being taken
                position = ring_.tail->value.load(std::memory_order_relaxed);
            } else {
                position = ring_.tail->value.load(std::memory_order_relaxed);
            }
        }
    }

    Ring ring_;
};

class MpmcReceiver : public SingleReceiver {
public:
    explicit MpmcReceiver(const Ring& ring) : ring_(ring) {}

private:
    std::size_t receive_one(void* data, std::size_t capacity) override {
        auto position = ring_.head->value.load(std::memory_order_relaxed);
        unsigned polls = 0;
        for (;;) {
            Slot& slot = ring_.slot(position);
            const auto sequence = slot.sequence.load(std::memory_order_acquire);
            if (sequence == position + 1) {
                if (ring_.head->value.compare_exchange_weak(position, position + 1, std::memory_order_relaxed)) {
                    const std::size_t length = slot.length;
                    if (length > capacity) throw std::runtime_error("mpmc ring: message larger than the buffer");
                    std::memcpy(data, reinterpret_cast<const std::byte*>(&slot) + sizeof(Slot), length);
                    slot.sequence.store(position + ring_.depth, std::memory_order_release);
                    return length;
                }
            } else if (sequence < position + 1) {
                wait_a_little(polls);  // empty, or the message still being written
                position = ring_.head->value.load(std::memory_order_relaxed);
            } else {
                position = ring_.head->value.load(std::memory_order_relaxed);
            }
        }
    }

    Ring ring_;
};

class MpmcRingTransport : public Transport {
public:
    ~MpmcRingTransport() override { teardown(); }
    std::string name() const override { return "mpmc_ring"; }
    std::string mode() const override { return "spin_then_yield"; }
    bool multi_producer() const override { return true; }

    void setup(const ChannelSpec& spec) override {
        depth_ = spec.depth;
        const std::size_t stride = whole_cache_lines(sizeof(Slot) + spec.message_size);
        const std::size_t per_ring = 2 * sizeof(Position) + depth_ * stride;
        mapping_ = AnonymousMapping(per_ring * spec.channels, "mpmc ring");
        for (std::size_t channel = 0; channel < spec.channels; ++channel) {
            std::byte* base = mapping_.data() + channel * per_ring;
            auto* tail = new (base) Position{{0}};
            auto* head = new (base + sizeof(Position)) Position{{0}};
            const Ring ring{tail, head, base + 2 * sizeof(Position), depth_, stride};
            for (std::uint64_t position = 0; position < depth_; ++position) {
                new (&ring.slot(position)) Slot{{position}, 0};
            }
            rings_.push_back(ring);
        }
    }
    std::size_t depth() const override { return depth_; }
    std::unique_ptr<Sender> sender(std::size_t channel) override {
        return std::make_unique<MpmcSender>(rings_.at(channel));
    }
    std::unique_ptr<Receiver> receiver(std::size_t channel) override {
        return std::make_unique<MpmcReceiver>(rings_.at(channel));
    }
    void teardown() override {
        rings_.clear();
        mapping_ = AnonymousMapping();
    }

private:
    AnonymousMapping mapping_;
    std::size_t depth_ = 0;
    std::vector<Ring> rings_;
};

}  // namespace

std::unique_ptr<Transport> make_mpmc_ring() { return std::make_unique<MpmcRingTransport>(); }

}  // namespace shmq::bench
