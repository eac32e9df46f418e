#include "common/client_events.hpp"

#include <algorithm>
#include <cstring>

#include "common/monotonic_clock.hpp"

namespace shmq {

void announce_client_event(layout::ClientEventRing& ring, std::uint32_t kind, std::uint32_t record,
                           std::uint32_t generation, std::int32_t pid, std::uint64_t attached_at_ns,
                           std::string_view program) {
    const auto sequence = ring.next.fetch_add(1, std::memory_order_relaxed);
    auto& entry = ring.entries[sequence % layout::client_event_capacity];
    // Unpublished first: a reader that finds the entry mid-write skips it
    // rather than take half of this event for the whole of an older one.
    entry.sequence.store(0, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    entry.kind.store(kind, std::memory_order_relaxed);
    entry.record.store(record, std::memory_order_relaxed);
    entry.generation.store(generation, std::memory_order_relaxed);
    entry.pid.store(pid, std::memory_order_relaxed);
    entry.attached_at_ns.store(attached_at_ns, std::memory_order_relaxed);
    entry.at_ns.store(monotonic_now_ns(), std::memory_order_relaxed);
    char name[layout::client_event_program_words * 8] = {};
    std::memcpy(name, program.data(), std::min(program.size(), sizeof name - 1));
    for (std::size_t word = 0; word < layout::client_event_program_words; ++word) {
        std::uint64_t bytes = 0;
        std::memcpy(&bytes, name + word * 8, 8);
        entry.program[word].store(bytes, std::memory_order_relaxed);
    }
    entry.sequence.store(sequence + 1, std::memory_order_release);
    ring.appended.notify_all();
}

ClientEventReader::ClientEventReader(const layout::ClientEventRing& ring)
    : next_(ring.next.load(std::memory_order_acquire)) {}

bool ClientEventReader::has_news(const layout::ClientEventRing& ring) const {
    return ring.next.load(std::memory_order_acquire) != next_ && stalled_since_ns_ == 0;
}

ClientEventReader::Drained ClientEventReader::drain(const layout::ClientEventRing& ring,
                                                    std::uint32_t client_capacity) {
    Drained drained;
    const std::uint64_t published = ring.next.load(std::memory_order_acquire);
    if (published < next_) {
        drained.counter_reset = true;
        next_ = published;
        stalled_since_ns_ = 0;
        give_up_below_ = 0;
        return drained;
    }
    if (published - next_ > layout::client_event_capacity) {
        drained.missed = published - next_ - layout::client_event_capacity;
        next_ = published - layout::client_event_capacity;
    }
    while (next_ < published) {
        const auto& entry = ring.entries[next_ % layout::client_event_capacity];
        const auto stamp = entry.sequence.load(std::memory_order_acquire);
        if (stamp < next_ + 1) {
            // Taken but not yet published: its writer gets a while.
            if (next_ >= give_up_below_) {
                const auto now = monotonic_now_ns();
                if (stalled_since_ns_ == 0) {
                    stalled_since_ns_ = now;
                    stalled_below_ = published;
                }
                if (now - stalled_since_ns_ < stall_limit_ns) break;
                give_up_below_ = stalled_below_;
                stalled_since_ns_ = 0;
            }
            ++drained.unreadable;
            ++next_;
            continue;
        }
        stalled_since_ns_ = 0;
        ClientEventRecord event;
        event.kind = entry.kind.load(std::memory_order_relaxed);
        event.record = entry.record.load(std::memory_order_relaxed);
        event.generation = entry.generation.load(std::memory_order_relaxed);
        event.pid = entry.pid.load(std::memory_order_relaxed);
        event.attached_at_ns = entry.attached_at_ns.load(std::memory_order_relaxed);
        event.at_ns = entry.at_ns.load(std::memory_order_relaxed);
        char name[layout::client_event_program_words * 8];
        for (std::size_t word = 0; word < layout::client_event_program_words; ++word) {
            const auto bytes = entry.program[word].load(std::memory_order_relaxed);
            std::memcpy(name + word * 8, &bytes, 8);
        }
        event.program.assign(name, strnlen(name, sizeof name));
        // Overwritten by an event of a later lap, before or while it was
        // read: the sequence tells.
        std::atomic_thread_fence(std::memory_order_acquire);
        const bool overwritten = stamp != next_ + 1 || entry.sequence.load(std::memory_order_relaxed) != stamp;
        ++next_;
        if (overwritten) {
            ++drained.missed;
            continue;
        }
        const bool known_kind =
            event.kind == layout::client_event_attached || event.kind == layout::client_event_detached;
        if (!known_kind || event.record >= client_capacity) {
            ++drained.unreadable;
            continue;
        }
        drained.events.push_back(std::move(event));
    }
    return drained;
}

}  // namespace shmq
