#include "common/client_registry.hpp"

#include <cstring>

#include "common/client_events.hpp"
#include "common/monotonic_clock.hpp"
#include "common/process_identity.hpp"
#include "platform/process.hpp"

namespace shmq {

namespace {
std::uint32_t next_generation(std::uint32_t generation) {
    const std::uint32_t next = (generation + 1) & SlotWord::generation_mask;
    return next == 0 ? 1 : next;  // 0 means "no owner" in slot words
}

// A pid, its start time and a lock's owner mean something only in the boot
// and the PID namespace they were taken in, and the broker judges liveness in
// its own: a client of another boot (a persistent segment no broker has
// adopted since the reboot) would be reaped by the adopting broker's reset,
// and one of another PID namespace at its first tick, both while alive.
Status check_same_boot_and_namespace(const layout::SegmentRoot& root) {
    char boot_id[sizeof root.boot_id];
    platform::read_boot_id(boot_id);
    if (std::memcmp(boot_id, root.boot_id, sizeof boot_id) != 0) return Status::segment_from_earlier_boot;
    const auto pid_namespace = platform::own_pid_namespace();
    if (pid_namespace == 0 || pid_namespace != root.pid_namespace) return Status::foreign_pid_namespace;
    return Status::ok;
}

}  // namespace

Status claim_client_record(SegmentView& view, const std::string& program, OwnerStamp& stamp) {
    const Status attachable = check_same_boot_and_namespace(view.root());
    if (attachable != Status::ok) return attachable;
    const auto self = ProcessIdentity::self();
    for (std::uint32_t index = 0; index < view.client_capacity(); ++index) {
        auto& record = view.client(index);
        auto word = record.word.load(std::memory_order_acquire);
        if (layout::ClientWord::state(word) != layout::ClientState::free) continue;
        const auto generation = next_generation(layout::ClientWord::generation(word));
        // One compare-and-swap claims the record and stamps our pid: from this
        // instant the broker can tell whether its holder is alive.
        const auto claimed = layout::ClientWord::make(layout::ClientState::active, generation, self.pid);
        if (!record.word.compare_exchange_strong(word, claimed, std::memory_order_acq_rel)) continue;
        record.start_time.store(self.start_time, std::memory_order_release);
        const auto attached_at = monotonic_now_ns();
        record.attached_at_ns.store(attached_at, std::memory_order_relaxed);
        std::memset(record.program, 0, sizeof record.program);
        std::strncpy(record.program, program.c_str(), sizeof record.program - 1);
        stamp = OwnerStamp{static_cast<std::uint16_t>(index), generation};
        announce_client_event(view.client_events(), layout::client_event_attached, index, generation, self.pid,
                              attached_at, program);
        return Status::ok;
    }
    return Status::too_many_clients;
}

std::uint32_t count_dead_client_records(const SegmentView& view) {
    std::uint32_t dead = 0;
    for (std::uint32_t index = 0; index < view.client_capacity(); ++index) {
        const auto& record = view.client(index);
        const auto word = record.word.load(std::memory_order_acquire);
        if (layout::ClientWord::state(word) != layout::ClientState::active) continue;
        ProcessIdentity holder;
        holder.pid = layout::ClientWord::pid(word);
        holder.start_time = record.start_time.load(std::memory_order_acquire);
        if (!is_alive(holder)) ++dead;
    }
    return dead;
}

void release_client_record(SegmentView& view, OwnerStamp stamp) {
    if (stamp.client_index >= view.client_capacity()) return;
    auto& record = view.client(stamp.client_index);
    auto word = record.word.load(std::memory_order_acquire);
    if (layout::ClientWord::state(word) != layout::ClientState::active ||
        layout::ClientWord::generation(word) != stamp.generation) {
        return;  // the broker already reclaimed it
    }
    // Announced while the record is still ours, so that a client killed
    // right after is logged as detached, then reclaimed, not only reclaimed.
    announce_client_event(view.client_events(), layout::client_event_detached, stamp.client_index, stamp.generation,
                          layout::ClientWord::pid(word), record.attached_at_ns.load(std::memory_order_relaxed),
                          std::string_view(record.program, strnlen(record.program, sizeof record.program)));
    view.clear_roles(stamp.client_index);
    record.start_time.store(0, std::memory_order_relaxed);
    const auto released = layout::ClientWord::make(layout::ClientState::free, stamp.generation, 0);
    record.word.compare_exchange_strong(word, released, std::memory_order_acq_rel);
}

}  // namespace shmq
