// Migration at start-up (docs/crash-safety.md, "Migration at start-up"): a
// sound segment laid out for another configuration has its queued messages,
// and those of its companion segments (daemon/companion_segments.hpp),
// carried into a new segment, which then takes the name.
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "common/client_registry.hpp"
#include "common/logging.hpp"
#include "common/queue_contents.hpp"
#include "common/test_crash_point.hpp"
#include "daemon/broker.hpp"
#include "daemon/client_reaper.hpp"
#include "daemon/segment_migration.hpp"
#include "platform/file_owner.hpp"
#include "platform/process.hpp"
#include "platform/store_visibility.hpp"

namespace shmq::daemon {

namespace {

// Whether the segment file at `path` is sound and holds no queued message
// (nor a delivery awaiting redelivery); false when it cannot be read.
bool holds_no_message(const std::string& path, bool file_backed) {
    std::unique_ptr<SegmentMapping> mapping;
    std::string why;
    SegmentView view;
    if (SegmentMapping::open_path(path, file_backed, mapping, why) != platform::FileError::none ||
        SegmentView::validate(mapping->base(), mapping->size(), view, why, /*writable=*/false) != Status::ok) {
        return false;
    }
    for (std::uint32_t index = 0; index < view.queue_count(); ++index) {
        if (!view.queue_usable(index)) return false;
        const auto contents = read_queue_contents(view.ring(index));
        if (!contents.damage.empty() || !contents.messages.empty()) return false;
    }
    return true;
}

// Every client of `view` gets broker_stopped from its next call on, and one
// blocked anywhere wakes to see it.
void wake_for_stop(SegmentView& view) {
    view.root().state.store(static_cast<std::uint32_t>(layout::BrokerState::stopping), std::memory_order_release);
    for (std::uint32_t index = 0; index < view.queue_count(); ++index) {
        if (!view.queue_usable(index)) continue;
        view.ring(index).control().not_empty.notify_all();
        view.ring(index).control().not_full.notify_all();
    }
    for (std::uint32_t index = 0; index < view.topic_count(); ++index) {
        if (!view.topic_usable(index)) continue;
        view.topic(index).control().published.notify_all();
        view.topic(index).control().room.notify_all();
    }
    view.root().broker_event.notify_all();
}

bool exists(const std::string& path) {
    std::uint32_t owner = 0;
    return platform::file_owner(path, owner);
}

}  // namespace

// The existing segment is sound but laid out for another configuration: its
// queued messages, and those of its companions, are carried into a new
// segment, which then takes the name (docs/crash-safety.md, "Migration at
// start-up"). One that cannot hold them leaves the old segment set aside,
// whole, for `shmq replay`, and its companions with it.
bool Broker::migrate_existing(std::unique_ptr<SegmentMapping> existing, const std::string& difference) {
    const std::string path = SegmentMapping::file_system_path(address_);
    char boot_id[sizeof existing->root()->boot_id];
    platform::read_boot_id(boot_id);
    const bool same_boot = ensure_previous_broker_gone(*existing->root(), boot_id);
    SHMQ_LOG(warning) << "segment '" << address_ << "' is laid out for another configuration (" << difference
                      << "); carrying its queued messages into a new segment";
    // The new segment lists no live segment, nor (the main one) a group the
    // configuration lacks: what those hold is carried now or never read again.
    const auto listed = companions(view_, path);
    auto opened = open_companions(listed);
    prepare_to_carry(view_, address_, same_boot);
    std::vector<const SegmentView*> views{&view_};
    for (auto& companion : opened) {
        prepare_to_carry(companion.view, companion.segment.path,
                         ensure_previous_broker_gone(*companion.mapping->root(), boot_id));
        views.push_back(&companion.view);
    }
    const auto plan = plan_migration(views, config_);
    const auto carried_from = opened.size();
    opened.clear();
    if (!plan.left_behind.empty()) {
        std::string names;
        for (const auto& queue : plan.left_behind) names += (names.empty() ? "'" : ", '") + queue + "'";
        SHMQ_LOG(warning) << "segment '" << address_ << "': queues the configuration no longer has (removed from "
                          << "the file, by a reload or while the broker was down) are dropped: " << names << "; the "
                          << plan.left_behind_messages << " messages still queued in them are set aside, not lost";
    }
    if (!plan.impossible.empty()) {
        // The companions first: the old segment, which lists them, is the
        // last to go, so that a broker killed in between finds them again.
        set_aside_companions(listed);
        view_ = SegmentView{};
        existing.reset();
        set_aside_existing(difference + "; its messages cannot be carried over: " + plan.impossible);
        return false;
    }
    view_ = SegmentView{};
    existing.reset();
    const std::string building = path + ".building";
    const std::string old = path + ".migrating";
    build_under(building);
    try {
        carry_messages(view_, plan);
    } catch (const std::exception& failure) {
        view_ = SegmentView{};
        segment_.reset();
        std::remove(building.c_str());
        throw StartError("segment '" + path + "': " + failure.what() + "; the old segment is left as it was");
    }
    if (segment_->file_backed()) flush_reporting_failure();
    crash_point("migration_built");
    if (std::rename(path.c_str(), old.c_str()) != 0) {
        const int code = errno;
        view_ = SegmentView{};
        segment_.reset();
        std::remove(building.c_str());
        throw StartError("cannot move segment '" + path + "' to '" + old + "' to migrate it: " + std::strerror(code));
    }
    crash_point("migration_old_moved");
    if (std::rename(building.c_str(), path.c_str()) != 0) {
        const int code = errno;
        view_ = SegmentView{};
        segment_.reset();
        std::rename(old.c_str(), path.c_str());
        throw StartError("cannot name the migrated segment '" + path + "': " + std::strerror(code));
    }
    crash_point("migration_new_in_place");
    dispose_of_migrated(old);
    migrated_ = true;
    SHMQ_LOG(warning) << "segment '" << address_ << "' migrated to the configured layout: "
                      << carried_messages(plan) << " queued messages carried over ("
                      << carried_redeliveries(plan) << " unacknowledged deliveries of them to be delivered again)"
                      << (carried_from == 0 ? "" : ", from it and " + std::to_string(carried_from) + " companion segments");
    return true;
}

// The companions the old segment `old` lists: its live segments, and, the
// main one's, the segments of the groups the configuration no longer has.
// A live segment lists none: any process may write its table.
// A group's segment is followed by the live segments it lists: its old
// rings' messages are carried before their successors'.
std::vector<CompanionSegment> Broker::companions(const SegmentView& old, const std::string& path) const {
    if (!lists_live_segments()) return {};
    std::vector<CompanionSegment> all;
    for (auto& companion : companions_of(old, path, kind_ == Kind::main ? &listing_ : nullptr)) {
        all.push_back(companion);
        std::unique_ptr<SegmentMapping> mapping;
        std::string why;
        SegmentView view;
        if (!companion.lists_live ||
            SegmentMapping::open_path(companion.path, SegmentMapping::is_file(address_), mapping, why) !=
                platform::FileError::none ||
            SegmentView::validate(mapping->base(), mapping->size(), view, why, /*writable=*/false) != Status::ok) {
            continue;  // one that cannot be read is set aside when opened to be carried
        }
        for (auto& live : companions_of(view, companion.path, nullptr)) {
            live.what += " of " + companion.what;
            all.push_back(std::move(live));
        }
    }
    return all;
}

// Each companion that exists, mapped and validated; one that cannot be read
// is set aside at once, with the command that replays what it holds.
std::vector<Broker::OpenCompanion> Broker::open_companions(const std::vector<CompanionSegment>& companions) {
    std::vector<OpenCompanion> opened;
    for (const auto& companion : companions) {
        if (!exists(companion.path)) continue;
        OpenCompanion open{companion, nullptr, SegmentView{}};
        std::string why;
        if (SegmentMapping::open_path(companion.path, SegmentMapping::is_file(address_), open.mapping, why) ==
                platform::FileError::none &&
            SegmentView::validate(open.mapping->base(), open.mapping->size(), open.view, why) == Status::ok) {
            opened.push_back(std::move(open));
            continue;
        }
        open = OpenCompanion{};
        const auto to = set_aside(companion.path, companion.path, companion.what + " cannot be read: " + why);
        SHMQ_LOG(error) << "once the broker runs, send the queued messages of " << companion.what
                        << " into it with: shmq replay " << to << " --remove";
    }
    return opened;
}

// What a dead broker left in `view` (the segment `what`) made readable as a
// whole: its clients told to stop, the dead ones' claims given back (or, from
// an earlier boot, every one of them), the sends still running given a
// moment to finish, and every queue verified.
void Broker::prepare_to_carry(SegmentView& view, const std::string& what, bool same_boot) {
    // Clients still attached get broker_stopped from now on; a send already
    // past that check finishes its claimed slot within the grace below.
    wake_for_stop(view);
    if (same_boot) {
        reap_dead_clients(view);
    } else {
        reset_after_reboot(view, what);
    }
    let_writers_finish(view, what);
    verify_queues(view);
}

// A main segment that cannot be migrated takes its companions aside with it:
// their queues belong to its layout, and a new main segment lists none of
// them. Their messages are kept in the set-aside files, for `shmq replay`;
// one that holds no message (say, its queues were removed by a reload and
// drained) is removed instead.
void Broker::set_aside_companions(const std::vector<CompanionSegment>& companions) {
    for (const auto& companion : companions) {
        if (!exists(companion.path)) continue;
        if (holds_no_message(companion.path, SegmentMapping::is_file(address_))) {
            std::remove(companion.path.c_str());
            SHMQ_LOG(info) << companion.what << " removed with its main segment: it held no message";
            continue;
        }
        const auto to = set_aside(companion.path, companion.path, "the main segment that lists it is not migrated");
        SHMQ_LOG(error) << "once the broker runs, send the queued messages of " << companion.what
                        << " into it with: shmq replay " << to << " --remove";
    }
}

// A send that passed the client's stop check before the segment was marked
// stopping is not acknowledged until its slot is ready: such writers get a
// bounded moment to finish, so that no send that returns ok is left behind.
// Those still writing after it (stopped, or starved of CPU) are withdrawn as
// the reaper withdraws a client it takes for dead: their records are marked
// reclaiming, so that the publish they may still make fails its check of
// the record and is taken back (QueueRing::publish_checked) instead of
// returning ok for a message the migration did not carry.
void Broker::let_writers_finish(SegmentView& view, const std::string& what) {
    const auto deadline = std::chrono::steady_clock::now() + writer_grace;
    for (bool first = true;; first = false) {
        std::vector<OwnerStamp> writers;
        for (std::uint32_t index = 0; index < view.queue_count(); ++index) {
            if (!view.queue_usable(index)) continue;
            const auto owners = claims_in_progress(view.ring(index));
            writers.insert(writers.end(), owners.begin(), owners.end());
        }
        if (writers.empty()) return;
        if (first) {
            SHMQ_LOG(info) << "segment '" << what << "': sends in progress: " << writers.size() << "; waiting up to "
                           << writer_grace.count() << " s for them to finish";
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            withdraw_writers(view, writers);
            SHMQ_LOG(warning) << "segment '" << what << "': " << writers.size()
                              << " sends still unfinished after the grace; their clients were withdrawn, so those "
                                 "sends fail instead of returning ok, and their messages are not carried over";
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

void Broker::withdraw_writers(SegmentView& view, const std::vector<OwnerStamp>& writers) {
    bool marked = false;
    for (const auto& writer : writers) {
        // Stamps come from words any client could write: bounded, and only
        // the tenant they name (its generation) is marked.
        if (writer.is_none() || writer.client_index >= view.client_capacity()) continue;
        auto& record = view.client(writer.client_index);
        const auto word = record.word.load(std::memory_order_acquire);
        if (layout::ClientWord::state(word) != layout::ClientState::active ||
            layout::ClientWord::generation(word) != (writer.generation & SlotWord::generation_mask)) {
            continue;
        }
        marked = mark_reclaiming(record, word) || marked;
    }
    if (marked) platform::wait_for_every_cpus_stores();
}

// A broker killed during a migration left the old segment at NAME.migrating:
// if the new one had taken the name, the migration is finished; else the
// old segment, which still holds every message (and lists its companions,
// untouched), takes its name back and is migrated again.
void Broker::finish_interrupted_migration() {
    const std::string path = SegmentMapping::file_system_path(address_);
    const std::string old = path + ".migrating";
    if (!exists(old)) return;
    if (exists(path)) {
        SHMQ_LOG(warning) << "a migration of segment '" << path
                          << "' was interrupted after the new segment took the name: finishing it";
        dispose_of_migrated(old);
        return;
    }
    SHMQ_LOG(warning) << "a migration of segment '" << path
                      << "' was interrupted before the new segment took the name: the old segment takes it back";
    if (std::rename(old.c_str(), path.c_str()) != 0) {
        throw StartError("cannot move the interrupted migration's segment '" + old + "' back to '" + path +
                         "': " + std::strerror(errno) + "; move it by hand");
    }
}

// The old segment once its messages were carried over, companions first,
// each after what it lists (a group's live segments before the group's
// segment): the old segment lists them, so it goes last, and a broker killed
// in between finds the rest through it. A companion carried is removed
// before anything could adopt it again (a reload's next live segment has
// its name).
void Broker::dispose_of_migrated(const std::string& old) {
    const std::string path = SegmentMapping::file_system_path(address_);
    if (lists_live_segments()) {
        std::unique_ptr<SegmentMapping> mapping;
        std::string why;
        SegmentView view;
        std::vector<CompanionSegment> listed;
        if (SegmentMapping::open_path(old, SegmentMapping::is_file(address_), mapping, why) ==
                platform::FileError::none &&
            SegmentView::validate(mapping->base(), mapping->size(), view, why, /*writable=*/false) == Status::ok) {
            listed = companions(view, path);
        }
        view = SegmentView{};
        mapping.reset();
        for (auto companion = listed.rbegin(); companion != listed.rend(); ++companion) {
            if (exists(companion->path) && dispose_of_carried(companion->path, companion->path)) {
                SHMQ_LOG(info) << companion->what << " removed: every message it held was carried over";
            }
        }
        crash_point("migration_companions_disposed");
    }
    dispose_of_carried(old, path);
}

// One segment whose messages were carried over: removed (true), unless it
// holds messages of queues the configuration no longer has (or cannot be
// read again), which are set aside (as NAMED_AFTER.stale-TIME) for
// `shmq replay`, never discarded.
bool Broker::dispose_of_carried(const std::string& file, const std::string& named_after) {
    std::unique_ptr<SegmentMapping> mapping;
    std::string why;
    SegmentView view;
    MigrationPlan plan;
    if (SegmentMapping::open_path(file, SegmentMapping::is_file(address_), mapping, why) == platform::FileError::none &&
        SegmentView::validate(mapping->base(), mapping->size(), view, why, /*writable=*/false) == Status::ok) {
        plan = plan_migration({&view}, config_);
        why = plan.impossible;
    }
    view = SegmentView{};
    mapping.reset();
    if (why.empty() && plan.left_behind.empty()) {
        std::remove(file.c_str());
        return true;
    }
    std::string queues;
    for (const auto& name : plan.left_behind) queues += " --queue " + name;
    set_aside(file, named_after,
              why.empty() ? "it holds " + std::to_string(plan.left_behind_messages) +
                                " messages of queues the configuration no longer has; add them back and replay "
                                "only them with: shmq replay FILE" + queues
                          : "it cannot be read again after its migration: " + why);
    return false;
}

}  // namespace shmq::daemon
