#include "daemon/segment_integrity.hpp"

#include <cstddef>
#include <cstring>

#include "common/read_once.hpp"

namespace shmq::daemon {

namespace {

// Everything of a control block before `quarantined` is written once, when
// the segment is built, and never again.
template <typename Control>
constexpr std::size_t fixed_bytes = offsetof(Control, quarantined);

template <typename Control>
std::vector<std::byte> copy_fixed(const Control& control) {
    std::vector<std::byte> bytes(fixed_bytes<Control>);
    const auto* from = reinterpret_cast<const volatile std::byte*>(&control);
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = from[i];
    return bytes;
}

// Rewrites the fixed bytes of `control` when they differ; true if they did.
// Compared in place: this runs every tick, and allocates nothing (a thread
// that allocates all the time makes fork() in a process that embeds the
// broker risky for allocators without fork handlers).
template <typename Control>
bool restore_fixed(Control& control, const std::vector<std::byte>& bytes) {
    if (bytes.empty()) return false;
    const auto* now = reinterpret_cast<const volatile std::byte*>(&control);
    bool same = true;
    for (std::size_t i = 0; i < bytes.size() && same; ++i) same = now[i] == bytes[i];
    if (same) return false;
    std::memcpy(static_cast<void*>(&control), bytes.data(), bytes.size());
    return true;
}

}  // namespace

SegmentIntegrity::SegmentIntegrity(const SegmentView& view) : copy_(capture(view.root())) {
    take_access_table(view.access_table());
    for (std::uint32_t index = 0; index < view.queue_count(); ++index) {
        queue_metadata_.push_back(view.queue_usable(index) ? copy_fixed(view.ring(index).control())
                                                           : std::vector<std::byte>{});
    }
    for (std::uint32_t index = 0; index < view.topic_count(); ++index) {
        topic_metadata_.push_back(view.topic_usable(index) ? copy_fixed(view.topic(index).control())
                                                           : std::vector<std::byte>{});
    }
}

bool SegmentIntegrity::Identity::operator==(const Identity& other) const {
    return magic == other.magic && layout_version == other.layout_version && root_size == other.root_size &&
           segment_size == other.segment_size && state == other.state && broker.pid == other.broker.pid &&
           broker.start_time == other.broker.start_time && std::memcmp(boot_id, other.boot_id, sizeof boot_id) == 0 &&
           pid_namespace == other.pid_namespace &&
           queue_count == other.queue_count && client_capacity == other.client_capacity &&
           liveness_interval_ms == other.liveness_interval_ms && broker_record == other.broker_record &&
           queues_offset == other.queues_offset && clients_offset == other.clients_offset &&
           roles_offset == other.roles_offset && topic_count == other.topic_count &&
           topics_offset == other.topics_offset && access_offset == other.access_offset &&
           events_offset == other.events_offset;
}

SegmentIntegrity::Identity SegmentIntegrity::capture(const layout::SegmentRoot& root) {
    Identity identity;
    identity.magic = read_once(root.magic);
    identity.layout_version = read_once(root.layout_version);
    identity.root_size = read_once(root.root_size);
    identity.segment_size = read_once(root.segment_size);
    identity.state = root.state.load(std::memory_order_acquire);
    identity.broker.pid = read_once(root.broker.pid);
    identity.broker.start_time = read_once(root.broker.start_time);
    for (std::size_t i = 0; i < sizeof identity.boot_id; ++i) identity.boot_id[i] = read_once(root.boot_id[i]);
    identity.pid_namespace = read_once(root.pid_namespace);
    identity.queue_count = read_once(root.queue_count);
    identity.client_capacity = read_once(root.client_capacity);
    identity.liveness_interval_ms = read_once(root.liveness_interval_ms);
    identity.broker_record = root.broker_record.load(std::memory_order_relaxed);
    identity.queues_offset = read_once(root.queues_offset);
    identity.clients_offset = read_once(root.clients_offset);
    identity.roles_offset = read_once(root.roles_offset);
    identity.topic_count = read_once(root.topic_count);
    identity.topics_offset = read_once(root.topics_offset);
    identity.access_offset = read_once(root.access_offset);
    identity.events_offset = read_once(root.events_offset);
    return identity;
}

// The identity words first and the state last, with release, so that a
// client that sees `ready` again sees a whole root.
void SegmentIntegrity::restore(const Identity& identity, layout::SegmentRoot& root) {
    root.layout_version = identity.layout_version;
    root.root_size = identity.root_size;
    root.segment_size = identity.segment_size;
    root.broker = identity.broker;
    std::memcpy(root.boot_id, identity.boot_id, sizeof identity.boot_id);
    root.pid_namespace = identity.pid_namespace;
    root.queue_count = identity.queue_count;
    root.client_capacity = identity.client_capacity;
    root.liveness_interval_ms = identity.liveness_interval_ms;
    root.broker_record.store(identity.broker_record, std::memory_order_relaxed);
    root.queues_offset = identity.queues_offset;
    root.clients_offset = identity.clients_offset;
    root.roles_offset = identity.roles_offset;
    root.topic_count = identity.topic_count;
    root.topics_offset = identity.topics_offset;
    root.access_offset = identity.access_offset;
    root.events_offset = identity.events_offset;
    root.magic = identity.magic;
    root.state.store(identity.state, std::memory_order_release);
}

std::string SegmentIntegrity::check_and_repair(const SegmentMapping& segment, const SegmentView& view) const {
    std::string damage;
    std::uint64_t length = 0;
    if (!segment.length_intact(length)) {
        damage = "its file was resized to " + std::to_string(length) + " bytes (it has " +
                 std::to_string(segment.size()) + ")";
        segment.restore_length();
    }
    std::byte* canary = segment.base() + copy_.segment_size - sizeof layout::tail_canary;
    std::uint64_t tail = 0;
    std::memcpy(&tail, canary, sizeof tail);
    if (tail != layout::tail_canary) {
        if (damage.empty()) damage = "its file was truncated (its last page was lost)";
        std::memcpy(canary, &layout::tail_canary, sizeof layout::tail_canary);
    }
    auto& root = *reinterpret_cast<layout::SegmentRoot*>(segment.base());
    if (!(capture(root) == copy_)) {
        damage += std::string(damage.empty() ? "" : "; ") + "its header was overwritten";
        restore(copy_, root);
    }
    std::uint32_t rewritten = 0;
    for (std::uint32_t index = 0; index < queue_metadata_.size(); ++index) {
        if (restore_fixed(view.ring(index).control(), queue_metadata_[index])) ++rewritten;
    }
    for (std::uint32_t index = 0; index < topic_metadata_.size(); ++index) {
        if (restore_fixed(view.topic(index).control(), topic_metadata_[index])) ++rewritten;
    }
    if (std::memcmp(static_cast<const void*>(&view.access_table()), access_.data(),
                    sizeof access_) != 0) {
        std::memcpy(static_cast<void*>(&view.access_table()), access_.data(), sizeof access_);
        damage += std::string(damage.empty() ? "" : "; ") + "its list of restricted queues and topics was overwritten";
    }
    if (rewritten > 0) {
        damage += std::string(damage.empty() ? "" : "; ") + "the metadata of " + std::to_string(rewritten) +
                  " queues and topics was overwritten";
    }
    return damage;
}

void SegmentIntegrity::take_access_table(const layout::AccessTable& written) {
    std::memcpy(access_.data(), static_cast<const void*>(&written), sizeof access_);
}

}  // namespace shmq::daemon
