#include "daemon/client_reaper.hpp"

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "common/logging.hpp"
#include "common/monotonic_clock.hpp"
#include "common/process_identity.hpp"
#include "platform/process.hpp"
#include "platform/store_visibility.hpp"

namespace shmq::daemon {

namespace {

// Whether `identity` is the calling process, without asking /proc each time:
// the broker's own record is checked every tick, and is_alive() costs four
// system calls (~13 µs) to learn what the broker knows. The start time is
// what tells the broker from a dead predecessor that had its pid (adoption
// after a reboot); it is read once per thread and process.
bool is_this_process(const ProcessIdentity& identity) {
    thread_local ProcessIdentity self{};
    const auto pid = platform::current_process_id();
    if (identity.pid != pid) return false;
    if (self.pid != pid) self = ProcessIdentity::self();  // first use, or a forked child
    return identity.start_time == self.start_time;
}

bool is_dead(const layout::ClientRecord& record, std::uint32_t index, std::uint64_t word, MissingStartTimes* missing) {
    ProcessIdentity identity;
    identity.pid = layout::ClientWord::pid(word);
    identity.start_time = record.start_time.load(std::memory_order_acquire);
    if (identity.start_time == 0 && missing != nullptr && missing->overdue(index, word)) return true;
    return !is_this_process(identity) && !is_alive(identity);
}

// Releases every slot and subscription the dead client `stamp` held. Queues
// and topics take no lock, so this never waits for another process.
void reclaim_slots(SegmentView& view, OwnerStamp stamp, ReclaimCounts& total, TopicReclaimCounts& topic_total) {
    for (std::uint32_t queue = 0; queue < view.queue_count(); ++queue) {
        if (!view.queue_usable(queue)) continue;
        ReclaimCounts counts;
        view.ring(queue).reclaim(stamp, counts);
        if (counts.abandoned_writes + counts.lost_reads + counts.redeliveries + counts.undone_takes > 0) {
            SHMQ_LOG(debug) << "record " << stamp.client_index << ": queue '" << view.queue_name(queue)
                            << "': released " << counts.abandoned_writes << " slots mid-write, " << counts.lost_reads
                            << " mid-read, " << counts.redeliveries << " deliveries, " << counts.undone_takes
                            << " takes not begun";
        }
        total.abandoned_writes += counts.abandoned_writes;
        total.lost_reads += counts.lost_reads;
        total.redeliveries += counts.redeliveries;
        total.undone_takes += counts.undone_takes;
    }
    for (std::uint32_t topic = 0; topic < view.topic_count(); ++topic) {
        if (!view.topic_usable(topic)) continue;
        TopicReclaimCounts counts;
        view.topic(topic).reclaim(stamp, counts);
        if (counts.abandoned_writes + counts.subscriptions > 0) {
            SHMQ_LOG(debug) << "record " << stamp.client_index << ": topic '" << view.topic_name(topic)
                            << "': abandoned " << counts.abandoned_writes << " unpublished messages, freed "
                            << counts.subscriptions << " subscriptions";
        }
        topic_total.abandoned_writes += counts.abandoned_writes;
        topic_total.subscriptions += counts.subscriptions;
    }
}

}  // namespace

bool MissingStartTimes::overdue(std::uint32_t index, std::uint64_t word) {
    if (index >= sightings_.size()) sightings_.resize(index + 1);
    auto& sighting = sightings_[index];
    const auto now = monotonic_now_ns();
    if (sighting.word != word) {
        sighting = Sighting{word, now};  // a new tenant: its grace starts now
        return false;
    }
    return now - sighting.since_ns > static_cast<std::uint64_t>(std::chrono::nanoseconds(grace).count());
}

bool mark_reclaiming(layout::ClientRecord& record, std::uint64_t word) {
    const auto reclaiming = layout::ClientWord::make(layout::ClientState::reclaiming,
                                                     layout::ClientWord::generation(word),
                                                     layout::ClientWord::pid(word));
    return record.word.compare_exchange_strong(word, reclaiming, std::memory_order_acq_rel);
}

ReapSummary reap_dead_clients(SegmentView& view, bool everyone_is_dead, MissingStartTimes* missing) {
    ReapSummary summary;
    // First every dead client's record is marked reclaiming, then their
    // slots are released: between the two, one wait until every store made
    // on the machine is visible (platform/store_visibility.hpp), so that a
    // client taken for dead while it was alive either finds its record
    // reclaiming after a publish, or published before the reaper looks.
    std::vector<std::uint32_t> dead;
    for (std::uint32_t index = 0; index < view.client_capacity(); ++index) {
        auto& record = view.client(index);
        auto word = record.word.load(std::memory_order_acquire);
        const auto state = layout::ClientWord::state(word);
        if (state == layout::ClientState::free) continue;
        if (state == layout::ClientState::active) {
            if (!everyone_is_dead && !is_dead(record, index, word, missing)) continue;
            SHMQ_LOG(debug) << "record " << index << ": pid " << layout::ClientWord::pid(word)
                            << (everyone_is_dead ? " belongs to an earlier boot" : " is gone") << "; reclaiming it";
            // Mark it first: a broker killed during the reclaim resumes it
            // after restart instead of forgetting the client.
            if (!mark_reclaiming(record, word)) continue;
        }
        dead.push_back(index);
    }
    // No process of an earlier boot runs.
    if (!dead.empty() && !everyone_is_dead) platform::wait_for_every_cpus_stores();
    for (const auto index : dead) {
        auto& record = view.client(index);
        const auto word = record.word.load(std::memory_order_acquire);
        // Only this broker moves a record out of reclaiming.
        if (layout::ClientWord::state(word) != layout::ClientState::reclaiming) continue;
        const OwnerStamp stamp{static_cast<std::uint16_t>(index), layout::ClientWord::generation(word)};
        ReclaimCounts total;
        TopicReclaimCounts topic_total;
        reclaim_slots(view, stamp, total, topic_total);
        view.clear_roles(index);
        const std::string program(record.program, strnlen(record.program, sizeof record.program));
        record.start_time.store(0, std::memory_order_relaxed);
        record.word.store(layout::ClientWord::make(layout::ClientState::free, stamp.generation, 0),
                          std::memory_order_release);
        ++summary.reclaimed_clients;
        view.root().reclaimed_clients.fetch_add(1, std::memory_order_relaxed);
        SHMQ_LOG(warning) << "client pid " << layout::ClientWord::pid(word) << " (" << program
                          << ") died; reclaimed its record: " << total.abandoned_writes << " interrupted writes skipped, "
                          << total.lost_reads << " at_most_once messages lost mid-read, " << total.redeliveries
                          << " deliveries queued for redelivery, " << total.undone_takes
                          << " takes not begun queued again, " << topic_total.abandoned_writes
                          << " unpublished topic messages abandoned, " << topic_total.subscriptions
                          << " subscriptions ended";
    }
    return summary;
}

}  // namespace shmq::daemon
