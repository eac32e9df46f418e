#include "daemon/broker.hpp"

#include <cerrno>
#include <chrono>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <future>
#include <iomanip>
#include <cstring>
#include <ctime>
#include <new>
#include <sstream>
#include <thread>
#include <utility>

#include "common/client_registry.hpp"
#include "common/quarantine_reason.hpp"
#include "common/live_table.hpp"
#include "common/logging.hpp"
#include "common/monotonic_clock.hpp"
#include "common/test_crash_point.hpp"
#include "daemon/client_reaper.hpp"
#include "daemon/reload_plan.hpp"
#include "daemon/segment_builder.hpp"
#include "daemon/segment_plan.hpp"
#include "platform/file_owner.hpp"
#include "platform/service_manager.hpp"
#include "platform/user_identity.hpp"
#include "platform/process.hpp"

namespace shmq::daemon {

namespace {

std::string octal(std::uint32_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "0%o", mode);
    return text;
}

std::uint64_t queued_messages(const SegmentView& view) {
    std::uint64_t total = 0;
    for (std::uint32_t index = 0; index < view.queue_count(); ++index) {
        if (!view.queue_usable(index)) continue;
        auto& control = view.ring(index).control();
        total += control.tail.load(std::memory_order_acquire) - control.head.load(std::memory_order_acquire);
    }
    return total;
}

// Milliseconds since 1970 as UTC, ISO 8601; read from the segment, so any value.
std::string utc_time(std::int64_t unix_ms) {
    const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
    char text[32];
    // std::gmtime's buffer is shared, but only the starting thread calls this.
    const std::tm* parts = unix_ms > 0 ? std::gmtime(&seconds) : nullptr;
    if (parts == nullptr || std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", parts) == 0) {
        return "an unknown time";
    }
    return text;
}

std::string changes(std::size_t count) { return std::to_string(count) + (count == 1 ? " change" : " changes"); }

// A report of several lines as as many log records: each reads on its own in
// the journal.
void log_lines(log::Level level, const std::string& text) {
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) log::write(level, line);
}

}  // namespace

Broker::Broker(config::BrokerConfig config) : whole_config_(config) {
    auto plan = plan_segments(config);
    config_ = std::move(plan.main);
    listing_ = std::move(plan.listing);
    access_configs_ = std::move(plan.restricted);
    address_ = segment_address(config_);
}

Broker::Broker(config::BrokerConfig part, AccessListing listing, Kind kind)
    : config_(std::move(part)), listing_(std::move(listing)), kind_(kind), address_(segment_address(config_)) {}

Broker::~Broker() {
    if (flusher_.joinable()) {
        request_stop();
        flusher_.join();
    }
}

std::uint64_t Broker::segment_size() const { return segment_ ? segment_->size() : 0; }

void Broker::start() {
    // Held for the broker's whole life: create, adopt or set aside is decided
    // by one broker at a time, and a second broker of the same name is refused.
    std::string why;
    const auto lock_path = SegmentMapping::file_system_path(address_) + ".lock";
    switch (platform::ExclusiveLock::try_acquire(lock_path, 0600, lock_, why)) {
    case platform::ExclusiveLock::Outcome::acquired: break;
    case platform::ExclusiveLock::Outcome::held_elsewhere:
        throw StartError("broker '" + config_.name + "' is already running: " + why +
                         "; stop it first or give this broker another name");
    case platform::ExclusiveLock::Outcome::failed: throw StartError(why);
    }
    // Set-aside segments beyond set_aside.keep or older than set_aside.max_age
    // go at every start, not only when another is set aside.
    prune_set_aside(SegmentMapping::file_system_path(address_));
    finish_interrupted_migration();
    // Before the main segment is ready: a client that attaches finds every
    // segment it lists.
    start_access_segments();
    try {
        if (!try_adopt_existing()) build_fresh();
    } catch (...) {
        stop_live_segments();
        stop_access_segments();
        throw;
    }
    const Status claimed = claim_client_record(view_, "shmqd", own_stamp_);
    if (claimed != Status::ok) {
        stop_access_segments();
        throw StartError("segment '" + config_.name + "': the broker cannot take a client record for itself: " +
                         describe(claimed));
    }
    // From here on: the broker's own attach is not news.
    client_events_ = ClientEventReader(view_.client_events());
    auto& root = view_.root();
    root.broker_record.store(own_stamp_.client_index, std::memory_order_relaxed);
    root.broker_epoch.fetch_add(1, std::memory_order_relaxed);
    root.broker_heartbeat_ns.store(monotonic_now_ns(), std::memory_order_relaxed);
    root.broker_started_ns.store(monotonic_now_ns(), std::memory_order_relaxed);
    reported_quarantine_.assign(view_.queue_count(), false);
    reported_topic_quarantine_.assign(view_.topic_count(), false);
    // A request a previous broker left unanswered (it died before it could
    // answer) is answered by this one, at its first tick.
    reload_answered_ = root.reload.answered.load(std::memory_order_acquire);
    known_clients_.assign(view_.client_capacity(), 0);
    known_start_times_.assign(view_.client_capacity(), 0);
    // Release: everything built above is visible to a client that sees `ready`.
    root.state.store(static_cast<std::uint32_t>(layout::BrokerState::ready), std::memory_order_release);
    integrity_ = SegmentIntegrity(view_);

    SHMQ_LOG(info) << "broker '" << config_.name << "' ready: " << config_.queues.size() << " queues, "
                   << config_.topics.size() << " topics, segment "
                   << segment_->size() << " bytes"
                   << (segment_->file_backed() ? " in file " : " in shared memory at ") << segment_->path()
                   << ", permissions " << octal(config_.permissions)
                   << (config_.group.empty() ? "" : ", group " + config_.group) << ", max_clients " << config_.max_clients
                   << (adopted_ ? ", adopted from a previous broker" : "");
    for (const auto& queue : config_.queues) {
        SHMQ_LOG(info) << "queue '" << queue.name << "': capacity " << queue.capacity << ", max_message_size "
                       << queue.max_message_size << ", overflow " << config::to_string(queue.overflow) << ", delivery "
                       << config::to_string(queue.delivery) << ", producers " << config::to_string(queue.producers)
                       << ", consumers " << config::to_string(queue.consumers);
    }
    for (const auto& topic : config_.topics) {
        SHMQ_LOG(info) << "topic '" << topic.name << "': capacity " << topic.capacity << ", max_message_size "
                       << topic.max_message_size << ", history " << topic.history << ", max_subscribers "
                       << topic.max_subscribers << ", slow_subscriber " << config::to_string(topic.slow_subscriber);
    }
    if (segment_->file_backed()) {
        // start() returns with the flusher running: a process that embeds the
        // broker may fork at once, and a thread still starting up can hold
        // its allocator's locks across the fork (seen under AddressSanitizer).
        std::promise<void> running;
        flusher_ = std::thread([this, &running] {
            running.set_value();
            flush_loop();
        });
        running.get_future().wait();
    }
    if (kind_ != Kind::main) return;
    platform::report_service_ready("serving " + std::to_string(config_.queues.size()) + " queues");
}

// Each access group's segment is created, adopted or set aside exactly as
// the main one is, under a lock of its own.
void Broker::start_access_segments() {
    for (auto& part : access_configs_) {
        std::unique_ptr<Broker> broker(new Broker(part, AccessListing{}, Kind::access_group));
        try {
            broker->start();
        } catch (...) {
            stop_access_segments();
            throw;
        }
        access_brokers_.push_back(std::move(broker));
    }
}

// A reload's queues and topics restricted to a group the broker has no
// segment for get the group's segment, made as at start (whole and ready,
// with the group's permissions) before the main segment's AccessTable lists
// the group (list_restricted): no client can find it half built. A broker
// killed before the listing leaves a segment nothing lists, which holds no
// message (no client could find it): the next start on the same file
// adopts it and lists the group then. Should it fail, its queues and
// topics are reported as not added.
void Broker::add_access_segment(ReloadPlan& plan, const config::BrokerConfig& part) {
    std::unique_ptr<Broker> broker(new Broker(part, AccessListing{}, Kind::access_group));
    try {
        broker->start();
    } catch (const std::exception& failure) {
        SHMQ_LOG(error) << "reload: the segment of access group '" << part.group
                        << "' could not be made: " << failure.what();
        withdraw_added(plan, part, whole_config_, failure.what(), "the segment of its access group");
        return;
    }
    access_brokers_.push_back(std::move(broker));
    crash_point("access_segment_built");
}

// A start that failed after some access segments were made removes them again.
void Broker::stop_access_segments() {
    for (auto& part : access_brokers_) part->shut_down();
    access_brokers_.clear();
}

// A restart finds the live segments its main segment lists and runs each,
// adopting it exactly as the main one (or setting it aside, should it not
// match its part of the configuration). The configured open queues and
// topics that no segment holds (added to the file while the broker was down,
// or by a reload the broker died in before it listed the new segment) get
// a live segment of their own, as a reload would have made them.
void Broker::start_live_segments(const std::vector<AdoptedLiveSegment>& adopted, const config::BrokerConfig& extra) {
    for (const auto& segment : adopted) {
        std::unique_ptr<Broker> broker(new Broker(segment.part, AccessListing{}, Kind::live));
        broker->lister_ = this;
        broker->start();
        live_generations_.push_back(segment.generation);
        live_brokers_.push_back(std::move(broker));
    }
    if (extra.queues.empty() && extra.topics.empty()) return;
    if (live_generations_.size() >= layout::max_live_segments) {
        throw StartError("segment '" + config_.name + "' lists " + std::to_string(layout::max_live_segments) +
                         " live segments already and cannot add another for the queues and topics added to the "
                         "file; stop the broker, move its segment files aside and start it again");
    }
    try {
        add_live_segment(extra);
    } catch (const std::exception& failure) {
        throw StartError(failure.what());
    }
}

// Builds a segment for the queues and topics `added` holds, as an access
// group's is built (complete under a temporary name, then renamed, then
// marked ready), and only then lists it in the main segment: no client can
// find it before it is whole. A broker killed before the listing leaves a
// file nothing lists; the next broker to build that generation adopts it
// (it holds no message: no client could find it) or sets it aside.
void Broker::add_live_segment(const config::BrokerConfig& added) {
    const std::uint32_t generation = live_generations_.empty() ? 1 : live_generations_.back() + 1;
    std::unique_ptr<Broker> broker(new Broker(live_segment_config(config_, generation, added), AccessListing{},
                                              Kind::live));
    broker->lister_ = this;
    broker->start();
    crash_point("live_segment_built");
    live_generations_.push_back(generation);
    live_brokers_.push_back(std::move(broker));
    write_live_generations(view_.root().live, live_generations_);
    SHMQ_LOG(info) << log_prefix() << "live segment " << generation << " listed: " << added.queues.size()
                   << " queues and " << added.topics.size() << " topics added";
    crash_point("live_segment_listed");
}

// The broker of access group `group`'s segment; null for a group it has
// none of yet (add_access_segment makes one). By name: a reloaded file may meet its
// groups in another order than the one the broker started with.
Broker* Broker::access_broker(const std::string& group) const {
    for (const auto& part : access_brokers_) {
        if (part->config_.group == group) return part.get();
    }
    return nullptr;
}

// Appends to the main segment's AccessTable the groups and entries of
// `configured` (the listing of the configuration the broker now runs) that
// it does not list yet, each entry under its group's index in the table:
// what is below the counts never changes, and clients that find a name
// nowhere read the table again (docs/crash-safety.md, "Live segments").
// Called once the segments holding them are ready and listed: a group's
// own, or the live segments of its segment.
void Broker::list_restricted(const AccessListing& configured) {
    AccessListing grown;
    if (!extend_listing(listing_, configured, grown) || grown.entries.size() == listing_.entries.size()) return;
    publish_access_listing(grown, view_.access_table());
    integrity_.take_access_table(view_.access_table());
    for (auto group = grown.groups.begin() + static_cast<std::ptrdiff_t>(listing_.groups.size());
         group != grown.groups.end(); ++group) {
        SHMQ_LOG(info) << log_prefix() << "access group '" << *group << "' listed, with the segment "
                       << access_segment_path(segment_->path(), *group);
    }
    for (auto entry = grown.entries.begin() + static_cast<std::ptrdiff_t>(listing_.entries.size());
         entry != grown.entries.end(); ++entry) {
        SHMQ_LOG(info) << log_prefix() << (entry->topic ? "topic '" : "queue '") << entry->name
                       << "' listed as restricted to group '" << grown.groups[entry->group] << "'";
    }
    listing_ = std::move(grown);
    // Listed (a reload not answered yet): the next broker adopts the table
    // as is, the file's listing.
    crash_point("access_entry_listed");
}

// Each segment retires those of the names it holds: the main and live
// segments the open queues and topics, each access group's its restricted ones.
void Broker::retire_removed(const ItemNames& removed) {
    retire_here(removed);
    for (auto& part : access_brokers_) part->retire_here(removed);
    for (auto& part : live_brokers_) part->retire_here(removed);
    removed_.queues.insert(removed_.queues.end(), removed.queues.begin(), removed.queues.end());
    removed_.topics.insert(removed_.topics.end(), removed.topics.begin(), removed.topics.end());
}

void Broker::retire_here(const ItemNames& removed) {
    for (const auto& line : retire(view_, removed, retired_)) SHMQ_LOG(info) << "reload: " << line;
}

// Once for each queue or topic: a client that keeps writing the word must
// not flood the log, and the broker puts it back at every tick anyway.
void Broker::report_retired_scribbles(const std::vector<RetiredScribble>& scribbles) {
    for (const auto& scribble : scribbles) {
        if (!reported_retired_scribbles_.insert(scribble.what).second) continue;
        const auto meaning = [](std::uint32_t word) {
            if (word == 0) return std::string("in service");
            if (layout::successor_generation(word) != 0) {
                return "superseded by live segment " + std::to_string(layout::successor_generation(word));
            }
            return "retired (" + std::to_string(word) + ")";
        };
        SHMQ_LOG(warning) << "segment '" << address_ << "': " << scribble.what
                          << ": another process wrote its retired word (scribble): it read "
                          << meaning(scribble.found) << ", the broker's record is " << meaning(scribble.restored)
                          << "; written back (reported once, put back at every tick)";
    }
}

void Broker::stop_live_segments() {
    for (auto& part : live_brokers_) part->shut_down();
    live_brokers_.clear();
    live_generations_.clear();
}

// What each running segment holds: the main one first, then the live ones.
std::vector<SegmentContents> Broker::held_contents() const {
    std::vector<SegmentContents> held{contents_of(view_)};
    for (const auto& part : live_brokers_) held.push_back(contents_of(part->view_));
    return held;
}

// This segment's part of a reloaded configuration (`part`, cut out of
// `plan.next`: the open part for the main segment, a group's for an access
// group's): the queues and topics that none of its segments holds, and the
// successors of those of its queues and topics replaced, go into a new live
// segment of its own; once it is listed the replaced ones are superseded by
// it (docs/crash-safety.md, "Live settings change"). Should the new segment
// fail, nothing of it was listed and nothing superseded: its queues and
// topics are reported as not added, the replaced ones as not changed
// (`running`: the settings they keep).
void Broker::add_successors(ReloadPlan& plan, const config::BrokerConfig& part, const config::BrokerConfig& running) {
    auto added = not_held(part, held_contents());
    ItemNames replaced;
    // Those of `part`'s items the plan replaces: their names, and their successors' settings.
    const auto successors = [](const auto& items, const std::vector<std::string>& names,
                               std::vector<std::string>& here, auto& settings) {
        for (const auto& item : items) {
            if (std::find(names.begin(), names.end(), item.name) == names.end()) continue;
            here.push_back(item.name);
            settings.push_back(item);
        }
    };
    successors(part.queues, plan.replaced.queues, replaced.queues, added.queues);
    successors(part.topics, plan.replaced.topics, replaced.topics, added.topics);
    if (added.queues.empty() && added.topics.empty()) return;
    try {
        add_live_segment(added);
    } catch (const std::exception& failure) {
        SHMQ_LOG(error) << "reload: " << log_prefix()
                        << "the live segment for the queues and topics added could not be made: " << failure.what();
        withdraw_added(plan, added, running, failure.what());
        return;
    }
    if (replaced.empty()) return;
    hold_successor_topics(replaced.topics);
    supersede_replaced(replaced, live_generations_.back());
    // Superseded, not answered yet: the next broker finds each replaced
    // name in two segments and migrates, a queue's old ring's messages
    // first (a topic carries nothing over a restart).
    crash_point("reload_superseded");
}

// Every segment but the newest (which holds the successors) supersedes the
// queue or topic of each name it still has in service.
void Broker::supersede_replaced(const ItemNames& names, std::uint32_t generation) {
    for (const auto& line : supersede(view_, names, generation, retired_)) SHMQ_LOG(info) << "reload: " << line;
    for (std::size_t index = 0; index + 1 < live_brokers_.size(); ++index) {
        auto& part = *live_brokers_[index];
        for (const auto& line : supersede(part.view_, names, generation, part.retired_)) {
            SHMQ_LOG(info) << "reload: " << line;
        }
    }
}

// A replaced topic's successor, before anyone can publish into it, gets a
// subscription of the broker's own at its first position, which under
// `block` keeps publishers from overwriting it until every subscriber of the
// old topic has moved over (each joins from the first position too,
// client/subscription.cpp) or gone: the broker's tick then ends it
// (release_successor_holds). Under `drop` publishers push it along like any
// subscriber, and it holds nothing up. The broker gives the first position
// up (an abandoned claim, which subscribers skip): a subscriber that joins
// once publishers have filled the ring up to the hold is settled one past
// the oldest position (the join's rule, TopicRing::subscribe), and so passes
// no message.
void Broker::hold_successor_topics(const std::vector<std::string>& names) {
    auto& successor = *live_brokers_.back();
    std::vector<Broker*> older{this};
    for (std::size_t index = 0; index + 1 < live_brokers_.size(); ++index) older.push_back(live_brokers_[index].get());
    for (const auto& name : names) {
        const auto index = successor.view_.find_topic(name);
        if (index == layout::no_queue || !successor.view_.topic_usable(index)) continue;
        SuccessorHold hold;
        hold.successor = &successor;
        hold.topic = index;
        if (successor.view_.topic(index).subscribe_from_start(successor.own_stamp_, hold.handle) != Status::ok) {
            SHMQ_LOG(warning) << "reload: topic '" << name << "': its successor has no free subscriber record to "
                              << "hold its first messages for the old topic's subscribers";
            continue;
        }
        auto& ring = successor.view_.topic(index);
        std::uint64_t first = 0;
        if (ring.claim(successor.own_stamp_, first) == Status::ok) ring.abandon(first, successor.own_stamp_);
        // Every older ring of the name: a subscriber of an older one in a
        // chain goes on through the one in service to this successor.
        for (Broker* part : older) {
            const auto old = part->view_.find_topic(name);
            if (old != layout::no_queue && part->view_.topic_usable(old)) hold.predecessors.push_back({part, old});
        }
        successor_holds_.push_back(hold);
    }
}

// Ends each hold whose old topics have no subscription left: every record
// free (the reaper frees those of dead clients).
void Broker::release_successor_holds() {
    for (auto hold = successor_holds_.begin(); hold != successor_holds_.end();) {
        const bool waiting = std::any_of(hold->predecessors.begin(), hold->predecessors.end(), [](const auto& old) {
            const auto& ring = old.part->view_.topic(old.topic);
            for (std::uint32_t record = 0; record < ring.geometry().max_subscribers; ++record) {
                if (ring.subscriber_owner(record).generation != 0) return true;
            }
            return false;
        });
        if (waiting) {
            ++hold;
            continue;
        }
        hold->successor->view_.topic(hold->topic).unsubscribe(hold->handle);
        SHMQ_LOG(debug) << "topic '" << hold->successor->view_.topic_name(hold->topic)
                        << "': every subscriber of the superseded topic moved to its successor or left";
        hold = successor_holds_.erase(hold);
    }
}

// The live settings of what this segment and its live segments hold, out
// of `part` (theirs in the reloaded configuration). A superseded queue keeps
// the settings its ring was built with: the file's new ones are its
// successor's. Its dead letters, though, go where the file now says the
// name's go (a dead_letter set with the change takes the old ring's too),
// or, the file naming none, where they went. (Only the queues' settings are
// live ones: a topic's are all in its ring's layout.)
void Broker::apply_held_settings(const config::BrokerConfig& part) {
    config::BrokerConfig held;
    std::string missing;
    if (!part_holding(part, contents_of(view_), held, missing)) return;
    for (const auto& queue : retired_.superseded_queues) {
        if (queue.index < held.queues.size() && queue.index < config_.queues.size()) {
            auto kept = config_.queues[queue.index];
            if (!held.queues[queue.index].dead_letter.empty()) kept.dead_letter = held.queues[queue.index].dead_letter;
            held.queues[queue.index] = kept;
        }
    }
    apply_live_settings(held);
    for (auto& live : live_brokers_) live->apply_held_settings(part);
}

// Every segment this broker runs: its own, its live ones, and its access
// groups' (with theirs).
void Broker::collect_views(std::vector<const SegmentView*>& views) const {
    views.push_back(&view_);
    for (const auto& part : live_brokers_) part->collect_views(views);
    for (const auto& part : access_brokers_) part->collect_views(views);
}

// The segments that can list no more live segments (plan_reload's `full`):
// "" for the main one, a group's name for its segment.
std::vector<std::string> Broker::full_segments() const {
    std::vector<std::string> full;
    if (live_generations_.size() >= layout::max_live_segments) full.push_back({});
    for (const auto& part : access_brokers_) {
        if (part->live_generations_.size() >= layout::max_live_segments) full.push_back(part->config_.group);
    }
    return full;
}

// A replaced queue's successor must be able to hold what every segment
// holds of that name, at a restart, which carries them all into one ring:
// else the reload is refused before anything changes. Empty when all fit.
// A replaced topic needs no check: its subscribers read the old ring where
// it is, and a restart carries no topic's messages.
std::string Broker::unfit_replacements(const ReloadPlan& plan, const config::BrokerConfig& reloaded) const {
    std::vector<const SegmentView*> views;
    collect_views(views);
    std::string unfit;
    for (const auto& name : plan.replaced.queues) {
        QueueRing::Held held;
        for (const auto* view : views) {
            const auto index = view->find_queue(name);
            if (index == layout::no_queue || !view->queue_usable(index)) continue;
            const auto here = view->ring(index).held();
            held.messages += here.messages;
            held.longest = std::max(held.longest, here.longest);
        }
        const auto& queue = *config::find_named(plan.next.queues, name);
        const auto line = [&](const std::string& text) { unfit += (unfit.empty() ? "" : "\n") + text; };
        if (held.messages > queue.capacity) {
            line(config::where_queue(reloaded, name, "capacity") + ": " + std::to_string(queue.capacity) +
                 " cannot hold the " + std::to_string(held.messages) +
                 " messages the queue holds now; raise it, or reload once they are consumed");
        }
        if (held.longest > queue.max_message_size) {
            line(config::where_queue(reloaded, name, "max_message_size") + ": " +
                 std::to_string(queue.max_message_size) + " is shorter than a message of " +
                 std::to_string(held.longest) + " bytes the queue holds now; raise it, or reload once it is consumed");
        }
    }
    return unfit;
}

// Builds the segment under a temporary name and only then gives it its real
// one, so that no process ever opens a half-built segment by name (a broker
// killed while building leaves only the temporary file, removed next start).
void Broker::build_fresh() {
    const std::string path = SegmentMapping::file_system_path(address_);
    const std::string building = path + ".building";
    build_under(building);
    if (std::rename(building.c_str(), path.c_str()) != 0) {
        const int code = errno;
        segment_.reset();
        std::remove(building.c_str());
        throw StartError("cannot name the new segment '" + path + "': " + std::strerror(code));
    }
}

// Builds the configured segment at `building` and validates it into view_.
void Broker::build_under(const std::string& building) {
    std::remove(building.c_str());
    try {
        segment_ = build_segment(config_, building, listing_);
    } catch (const SettingError& failure) {
        throw StartError(failure.what(), failure.key());
    } catch (const std::exception& failure) {
        throw StartError(failure.what());
    }
    std::string why;
    if (SegmentView::validate(segment_->base(), segment_->size(), view_, why) != Status::ok) {
        segment_.reset();
        std::remove(building.c_str());
        throw StartError("segment '" + building + "' failed validation right after being built: " + why);
    }
}

// A segment of this name already exists. If its broker lives, refuse. If its
// broker died and the segment is sound and laid out as configured, adopt it
// with every message. Anything else is set aside and a fresh one built.
bool Broker::try_adopt_existing() {
    // A file of another user at the name: in a directory others may write,
    // another local user can squat any name. Root may move it aside; any
    // other broker can only refuse and say so.
    const std::string path = SegmentMapping::file_system_path(address_);
    std::uint32_t owner = 0;
    if (platform::file_owner(path, owner) && owner != platform::effective_user()) {
        const std::string whose = "it belongs to " + platform::describe_user(owner) + ", not to this broker's user " +
                                  platform::describe_user(platform::effective_user());
        if (platform::effective_user() != 0) {
            throw StartError("segment '" + path + "': " + whose +
                             ": another local user may be squatting the name. Remove it as root, or give the "
                             "broker a directory only its user may write (SHMQ_RUNTIME_DIR; the systemd unit "
                             "uses /run/shmq)");
        }
        set_aside_existing(whose);
        return false;
    }
    std::unique_ptr<SegmentMapping> existing;
    std::string why;
    switch (SegmentMapping::open_path(path, SegmentMapping::is_file(address_), existing, why)) {
    case platform::FileError::none: break;
    case platform::FileError::not_found: return false;
    case platform::FileError::permission_denied:
        throw StartError("segment '" + SegmentMapping::file_system_path(address_) +
                         "' exists but this user may not open it: " + why);
    default: set_aside_existing("it is not a usable shmq segment: " + why); return false;
    }
    SHMQ_LOG(debug) << "segment '" << path << "' exists (" << existing->size()
                    << " bytes): checking whether it can be adopted";
    // Validated once, into the view the broker then runs on. Under the lock no
    // other broker is building or running on it: whatever state it is in, a
    // dead broker left it so.
    std::string difference;
    const bool validated = SegmentView::validate(existing->base(), existing->size(), view_, difference) == Status::ok;
    bool usable = validated;
    // The main segment holds the open queues it was built with; those that
    // reloads added are in the live segments it lists, and those that no
    // segment holds get one of their own.
    config::BrokerConfig held = config_;
    std::vector<AdoptedLiveSegment> live;
    config::BrokerConfig extra;
    if (usable && lists_live_segments()) {
        usable = split_adopted(view_, path, SegmentMapping::is_file(address_), config_, held, live, extra, difference);
    }
    // A main segment may list fewer restricted names than the file: a
    // reload died before it appended them, or they were added to the file
    // while the broker was down. Their groups' brokers, started first, hold
    // them in live segments now, so the table is adopted and appended to as
    // a reload would (list_restricted, below).
    AccessListing expected = listing_;
    if (usable && kind_ == Kind::main) {
        AccessListing stored;
        AccessListing grown;
        std::string unread;
        if (read_access_listing(view_.access_table(), stored, unread) && extend_listing(stored, listing_, grown)) {
            expected = std::move(stored);
        }
    }
    usable = usable && segment_matches_config(view_, held, expected, difference);
    if (usable) {
        const auto changes = apply_delivery_settings(view_, held);
        for (const auto& change : changes) SHMQ_LOG(warning) << "adopted segment '" << address_ << "': " << change;
        // The view copied the settings when it was validated: again, to run on the new ones.
        if (!changes.empty()) {
            usable = SegmentView::validate(existing->base(), existing->size(), view_, difference) == Status::ok;
        }
    }
    SHMQ_LOG(debug) << "segment '" << path << "': "
                    << (usable ? "valid and laid out as configured" : "cannot be adopted: " + difference);
    if (!usable && validated) {
        return migrate_existing(std::move(existing), difference);
    }
    if (!usable) {
        view_ = SegmentView{};
        existing.reset();
        set_aside_existing(difference);
        return false;
    }
    config_ = std::move(held);
    auto* root = existing->root();
    char boot_id[sizeof root->boot_id];
    platform::read_boot_id(boot_id);
    const bool same_boot = ensure_previous_broker_gone(*root, boot_id);
    apply_configured_access(*existing);
    const auto previous_pid = root->broker.pid;
    // Only a clean stop writes `stopped`, last; whatever else the state is, its broker died.
    const bool clean_stop = root->state.load(std::memory_order_acquire) ==
                            static_cast<std::uint32_t>(layout::BrokerState::stopped);
    const auto stopped_at = root->clean_stop_unix_ms.load(std::memory_order_relaxed);
    SHMQ_LOG(debug) << "segment '" << address_ << "' is sound and laid out as configured; left by broker pid "
                    << previous_pid << (same_boot ? " in this boot" : " in an earlier boot")
                    << (clean_stop ? ", stopped cleanly" : ", not stopped cleanly");
    root->broker = ProcessIdentity::self();
    segment_ = std::move(existing);
    adopted_ = true;
    if (kind_ == Kind::main) {
        const auto configured = std::move(listing_);
        listing_ = std::move(expected);
        list_restricted(configured);
    }
    reinstate_all(view_);
    if (!same_boot) {
        reset_after_reboot(view_, address_);
        root->pid_namespace = platform::own_pid_namespace();
        // Last: clients are refused until the segment says this boot.
        std::memcpy(root->boot_id, boot_id, sizeof boot_id);
    }
    // Dead clients first: what they held when they died (a view entry ahead
    // of its cursor, a claim half made) is theirs to give back, not corruption.
    const auto reaped = reap_dead_clients(view_);
    verify_queues(view_);
    verify_topics();
    const std::string kept = std::to_string(queued_messages(view_)) + " queued messages kept, " +
                             std::to_string(reaped.reclaimed_clients) + " dead clients reclaimed";
    if (clean_stop) {
        SHMQ_LOG(info) << "resuming the segment '" << address_ << "' left by a clean stop of broker pid "
                       << previous_pid << " at " << utc_time(stopped_at) << ": " << kept;
    } else {
        SHMQ_LOG(warning) << "adopted segment '" << address_ << "' left by broker pid " << previous_pid
                          << ", which died: " << kept;
    }
    start_live_segments(live, extra);
    return true;
}

// Refuses a segment whose broker may still run on it; returns whether the
// segment comes from this boot.
bool Broker::ensure_previous_broker_gone(const layout::SegmentRoot& root, const char (&boot_id)[40]) const {
    const bool same_boot = std::memcmp(boot_id, root.boot_id, sizeof boot_id) == 0;
    if (same_boot && root.pid_namespace != platform::own_pid_namespace()) {
        // Its broker and clients live in a PID namespace whose pids mean
        // nothing here: this broker would reap them all while they run.
        throw StartError("segment '" + SegmentMapping::file_system_path(address_) +
                         "' belongs to a broker in another PID namespace (a container?), whose processes this one "
                         "cannot see; stop that broker, or remove the segment by hand");
    }
    if (same_boot && is_alive(root.broker) && root.broker.pid != ProcessIdentity::self().pid) {
        // A broker that takes no lock (an older shmq) still runs on it.
        throw StartError("a live broker (pid " + std::to_string(root.broker.pid) + ") already owns segment '" +
                         config_.name + "'; stop it first or give this broker another name");
    }
    return same_boot;
}

// An adopted file keeps the permissions it was made with; the configuration
// may have changed them since (another group, readers added or removed), and
// an old permission must not outlive the configuration that granted it.
void Broker::apply_configured_access(const SegmentMapping& segment) const {
    platform::FileAccess access;
    try {
        access = segment_access(config_, segment.path());
    } catch (const SettingError& failure) {
        throw StartError(failure.what(), failure.key());
    }
    std::string why;
    if (!segment.set_access(access, why)) {
        throw StartError("segment '" + segment.path() + "': cannot give it the configured permissions: " + why,
                         "permissions");
    }
}

// A persistent segment from an earlier boot: its wait events' counts are
// stale, and every client record names a process of the old boot, whose pid
// may now belong to another process. So: fresh wait events, every client of
// the old boot reclaimed (which finishes their cut-short steps), and the
// queues rebuilt from their slots.
void Broker::reset_after_reboot(SegmentView& view, const std::string& what) {
    for (std::uint32_t index = 0; index < view.queue_count(); ++index) {
        if (view.queue_usable(index)) view.ring(index).reset_synchronisation();
    }
    for (std::uint32_t index = 0; index < view.topic_count(); ++index) {
        if (view.topic_usable(index)) view.topic(index).reset_synchronisation();
    }
    new (&view.root().broker_event) WaitEvent();
    const auto reclaimed = reap_dead_clients(view, /*everyone_is_dead=*/true);
    SHMQ_LOG(warning) << "segment '" << what << "' comes from an earlier boot: wait events reset, "
                      << reclaimed.reclaimed_clients << " clients of the old boot reclaimed";
    recover_queues_after_power_loss(view);
}

// An earlier boot may have ended in a power loss, which leaves the file's
// pages of different ages (msync is not atomic): each queue is rebuilt from
// its slots rather than quarantined, and what was lost is said.
void Broker::recover_queues_after_power_loss(SegmentView& view) {
    for (std::uint32_t index = 0; index < view.queue_count(); ++index) {
        if (!view.queue_usable(index)) continue;
        const auto found = view.ring(index).recover_after_power_loss();
        const bool lost = found.torn + found.missing > 0;
        const bool moved = found.head != found.head_hint || found.tail != found.tail_hint;
        if (!lost && !moved && found.discarded == 0) continue;
        std::ostringstream text;
        text << "queue '" << view.queue_name(index) << "' recovered from its slots after a reboot: head "
             << found.head_hint << " -> " << found.head << ", tail " << found.tail_hint << " -> " << found.tail
             << (found.hint_used ? "" : " (the control page was inconsistent and ignored)") << "; " << found.kept
             << " messages kept, " << found.redeliverable << " unacknowledged deliveries to redeliver, "
             << found.torn << " torn messages dropped (checksum mismatch), " << found.missing
             << " messages the storage did not keep, " << found.discarded << " stale slots freed";
        if (lost) {
            SHMQ_LOG(error) << text.str();
        } else {
            SHMQ_LOG(warning) << text.str();
        }
    }
}

// A queue whose invariants fail is quarantined; the others carry on. One
// quarantined before (by a client, a tick or an earlier broker) that now
// verifies goes back into service: the flag is a verdict on the structure,
// and this restart is how an operator asks for it again.
void Broker::verify_queues(SegmentView& view) {
    for (std::uint32_t index = 0; index < view.queue_count(); ++index) {
        if (!view.queue_usable(index)) continue;
        std::string problem;
        auto& ring = view.ring(index);
        const bool was_quarantined = ring.control().quarantined.load(std::memory_order_acquire) != 0;
        ring.verify(problem);
        const std::string what = "queue '" + view.queue_name(index) + "'";
        if (!problem.empty()) {
            SHMQ_LOG(error) << what << " failed verification (" << problem << "); quarantined, reason "
                            << quarantine_reason_name(ring.control().quarantined.load(std::memory_order_acquire));
        } else if (was_quarantined) {
            ring.control().quarantined.store(0, std::memory_order_release);
            SHMQ_LOG(warning) << what << " was quarantined and verifies now; back in service";
        }
    }
}

// As verify_queues(), for topics; what the verification repaired is logged.
void Broker::verify_topics() {
    for (std::uint32_t index = 0; index < view_.topic_count(); ++index) {
        if (!view_.topic_usable(index)) continue;
        std::string problem;
        std::string repaired;
        auto& topic = view_.topic(index);
        const bool was_quarantined = topic.quarantined();
        topic.verify(problem, repaired);
        const std::string what = "topic '" + view_.topic_name(index) + "'";
        if (!repaired.empty()) SHMQ_LOG(warning) << what << " repaired: " << repaired;
        if (!problem.empty()) {
            SHMQ_LOG(error) << what << " failed verification (" << problem << "); quarantined, reason "
                            << quarantine_reason_name(topic.control().quarantined.load(std::memory_order_acquire));
        } else if (was_quarantined) {
            topic.control().quarantined.store(0, std::memory_order_release);
            SHMQ_LOG(warning) << what << " was quarantined and verifies now; back in service";
        }
    }
}

// Never reuse, never silently delete: rename the file so an operator can
// inspect it, and say so loudly. It may hold messages: it is made readable by
// the broker's user alone, and only the newest few are kept, for a week at most.
void Broker::set_aside_existing(const std::string& reason) {
    const std::string path = SegmentMapping::file_system_path(address_);
    const auto to = set_aside(path, path, reason);
    SHMQ_LOG(error) << "starting with a fresh segment; once it runs, send the set-aside segment's queued messages "
                       "into it with: shmq replay " << to << " --remove";
}

// Moves `from` (a segment, a live segment, or a migrated one) to
// NAMED_AFTER.stale-TIME and returns that name.
std::string Broker::set_aside(const std::string& from, const std::string& named_after, const std::string& reason) {
    const std::string& segment = named_after;
    // NAME.stale-SECONDS.MICROSECONDS: readable, and ordered by when.
    const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    std::string to;
    std::uint32_t owner = 0;
    for (auto when = now; to.empty() || platform::file_owner(to, owner); ++when) {
        char micros[8];
        std::snprintf(micros, sizeof micros, "%06lld", static_cast<long long>(when % 1'000'000));
        to = segment + ".stale-" + std::to_string(when / 1'000'000) + "." + micros;
    }
    if (std::rename(from.c_str(), to.c_str()) != 0) {
        throw StartError("segment '" + from + "' exists and cannot be reused (" + reason +
                         "), and moving it aside failed: " + std::strerror(errno) + "; remove " + from + " by hand");
    }
    platform::restrict_to_owner(to);
    SHMQ_LOG(error) << "segment '" << from << "' cannot be reused (" << reason << "); moved it to " << to;
    prune_set_aside(segment);
    return to;
}

void Broker::prune_set_aside(const std::string& segment_path) {
    namespace fs = std::filesystem;
    const fs::path segment(segment_path);
    const std::string prefix = segment.filename().string() + ".stale-";
    std::vector<fs::path> files;
    std::error_code ignored;
    for (const auto& entry : fs::directory_iterator(segment.parent_path(), ignored)) {
        if (entry.path().filename().string().rfind(prefix, 0) == 0) files.push_back(entry.path());
    }
    // The names end in SECONDS.MICROSECONDS (or, from older brokers, SECONDS): newest first.
    const auto when = [&](const fs::path& file) {
        const std::string suffix = file.filename().string().substr(prefix.size());
        const auto dot = suffix.find('.');
        const auto number = [](const std::string& digits) {
            return digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 18
                       ? 0ll
                       : std::stoll(digits);
        };
        return std::make_pair(number(suffix.substr(0, dot)),
                              dot == std::string::npos ? 0ll : number(suffix.substr(dot + 1)));
    };
    std::sort(files.begin(), files.end(), [&](const fs::path& a, const fs::path& b) { return when(a) > when(b); });
    // set_aside.keep and set_aside.max_age (docs/configuration.md).
    const long long oldest_kept = static_cast<long long>(std::time(nullptr)) - config_.set_aside_max_age_s;
    for (std::size_t index = 0; index < files.size(); ++index) {
        const bool too_old = when(files[index]).first < oldest_kept;
        if (!too_old && index < config_.set_aside_keep) continue;
        if (fs::remove(files[index], ignored)) {
            SHMQ_LOG(info) << "removed the set-aside segment " << files[index].string() << " ("
                           << (too_old ? "older than set_aside.max_age " + std::to_string(config_.set_aside_max_age_s) +
                                             "s"
                                       : "more than set_aside.keep " + std::to_string(config_.set_aside_keep) +
                                             " newer ones are kept")
                           << ")";
        }
    }
}

void Broker::run() {
    const auto interval = std::chrono::milliseconds(config_.liveness_interval_ms);
    // The ring never moves, and the thread never reads view_, which a reload replaces.
    auto* events = &view_.client_events();
    const auto client_capacity = view_.client_capacity();
    event_logger_ = std::thread([this, events, client_capacity] { log_client_events(events, client_capacity); });
    for (;;) {
        bool reload_signalled = false;
        {
            std::unique_lock<std::mutex> lock(stop_mutex_);
            stop_signal_.wait_for(lock, interval, [this] { return stop_requested_ || reload_requested_; });
            if (stop_requested_) break;
            reload_signalled = std::exchange(reload_requested_, false);
        }
        tick();
        serve_reload_requests(reload_signalled);
    }
    event_logger_stop_.store(true);
    events->appended.notify_all();
    event_logger_.join();
    report_client_events(*events, client_capacity);  // the last ones
    shut_down();
}

void Broker::log_client_events(layout::ClientEventRing* ring, std::uint32_t client_capacity) {
    const auto longest_wait_ns = static_cast<std::uint64_t>(config_.liveness_interval_ms) * 1'000'000;
    auto& appended = ring->appended;
    while (!event_logger_stop_.load()) {
        const auto ticket = appended.prepare_wait();
        if (client_events_.has_news(*ring) || event_logger_stop_.load()) {
            appended.cancel_wait();
        } else {
            static_cast<void>(appended.wait(ticket, longest_wait_ns));  // the broker is its only waiter
        }
        report_client_events(*ring, client_capacity);
    }
}

void Broker::set_configuration_file(std::string path, config::Format format) {
    config_path_ = std::move(path);
    config_format_ = format;
}

void Broker::request_reload() {
    {
        std::lock_guard<std::mutex> lock(stop_mutex_);
        reload_requested_ = true;
    }
    stop_signal_.notify_all();
}

// One reload answers a signal and every request waiting in the segment.
void Broker::serve_reload_requests(bool signalled) {
    auto& exchange = view_.root().reload;
    std::uint32_t request = 0;
    const bool asked = reload_waiting(exchange, reload_answered_, request);
    if (!signalled && !asked) return;
    if (asked) SHMQ_LOG(info) << "reload requested through the segment (shmq reload), reloading the configuration";
    const auto answer = reload();
    if (!asked) return;
    answer_reload(exchange, request, answer.outcome, answer.report);
    reload_answered_ = request;
}

// Re-reads the file; one that does not load changes nothing. Otherwise the
// live changes are made in every segment and the rest reported as needing a
// restart. The service manager sees RELOADING=1 until READY=1 again.
ReloadAnswer Broker::reload() {
    const std::lock_guard<std::mutex> hold(segments_mutex_);
    platform::report_service_reloading();
    ReloadAnswer answer;
    config::BrokerConfig reloaded;
    bool loaded = false;
    if (config_path_.empty()) {
        answer.report = "this broker was started without a configuration file: nothing to reload";
    } else {
        SHMQ_LOG(debug) << "reload: reading " << config_path_;
        try {
            reloaded = config::load_file(config_path_, config_format_);
            loaded = true;
        } catch (const std::exception& failure) {
            answer.report = "the configuration file " + config_path_ + " was not reloaded, nothing changed:\n" +
                            failure.what();
        }
    }
    if (!loaded) {
        answer.outcome = layout::reload_refused;
        log_lines(log::Level::error, answer.report);
        platform::report_service_ready("serving " + std::to_string(config_.queues.size()) +
                                       " queues; the last reload was refused");
        return answer;
    }
    auto plan = plan_reload(whole_config_, reloaded, full_segments(), removed_);
    const auto unfit = unfit_replacements(plan, reloaded);
    if (!unfit.empty()) {
        answer.outcome = layout::reload_refused;
        answer.report = "the configuration file " + config_path_ + " was not reloaded, nothing changed:\n" + unfit;
        log_lines(log::Level::error, answer.report);
        platform::report_service_ready("serving " + std::to_string(config_.queues.size()) +
                                       " queues; the last reload was refused");
        return answer;
    }
    SHMQ_LOG(debug) << "reload: the file loaded and validated; " << plan.applied.size() << " changes to apply live, "
                    << plan.need_restart.size() << " that need a restart";
    if (!plan.applied.empty()) {
        // Each segment adds its successors first, and each new access group
        // gets its segment; then, with those that
        // could not be made taken back out of `plan.next`, the main
        // segment's AccessTable lists the restricted names added (their
        // groups' live segments are listed by now), and every segment takes
        // the live settings of what it holds.
        const auto parts = plan_segments(plan.next);
        add_successors(plan, parts.main, whole_config_);
        for (const auto& part : parts.restricted) {
            if (auto* group = access_broker(part.group)) {
                group->add_successors(plan, part, whole_config_);
            } else {
                add_access_segment(plan, part);
            }
        }
        const auto settled = plan_segments(plan.next);
        list_restricted(settled.listing);
        apply_held_settings(settled.main);
        for (const auto& part : settled.restricted) {
            if (auto* group = access_broker(part.group)) group->apply_held_settings(part);
        }
        if (!plan.removed.empty()) {
            retire_removed(plan.removed);
            // Retired, not answered yet: the next broker adopts on a file
            // that still has the names (and reinstates them) or migrates on
            // one that does not (and sets their messages aside).
            crash_point("reload_retired");
        }
        whole_config_ = std::move(plan.next);
        SHMQ_LOG(debug) << "reload: the live changes are in the segment" << (access_brokers_.empty() ? "" : "s");
        // Applied to the segment, not answered yet: a broker killed here
        // restarts on the file, which is what it had applied.
        crash_point("reload_applied");
    }
    std::ostringstream report;
    report << "reloaded " << config_path_ << ": ";
    if (plan.applied.empty() && plan.need_restart.empty()) report << "no changes";
    if (!plan.applied.empty()) report << changes(plan.applied.size()) << " applied";
    if (!plan.applied.empty() && !plan.need_restart.empty()) report << ", ";
    if (!plan.need_restart.empty()) report << changes(plan.need_restart.size()) << " need a restart";
    for (const auto& change : plan.applied) report << "\napplied: " << change;
    for (const auto& change : plan.need_restart) report << "\nneeds a restart: " << change;
    answer.report = report.str();
    answer.outcome = plan.need_restart.empty() ? layout::reload_applied : layout::reload_needs_restart;
    log_lines(plan.need_restart.empty() ? log::Level::info : log::Level::warning, answer.report);
    platform::report_service_ready("serving " + std::to_string(config_.queues.size()) + " queues");
    return answer;
}

// Delivery limits move no message: one store each (apply_delivery_settings).
// The view and the integrity check copied the old values; both take the new
// ones, so that the next tick neither runs on nor "repairs" back the old.
void Broker::apply_live_settings(const config::BrokerConfig& part) {
    apply_delivery_settings(view_, part);
    config_.queues = part.queues;
    std::string why;
    if (SegmentView::validate(segment_->base(), segment_->size(), view_, why) != Status::ok) {
        SHMQ_LOG(error) << "segment '" << address_ << "' failed validation after a reload: " << why;
        return;
    }
    integrity_ = SegmentIntegrity(view_);
}

// Writes dirty pages of a persistent segment to disk every flush_interval_ms,
// on its own thread so that slow storage never delays the liveness checks.
void Broker::flush_loop() {
    const auto interval = std::chrono::milliseconds(config_.flush_interval_ms);
    for (;;) {
        {
            std::unique_lock<std::mutex> lock(stop_mutex_);
            if (stop_signal_.wait_for(lock, interval, [this] { return stop_requested_; })) return;
        }
        flush_reporting_failure();
    }
}

// A failed msync means the file may not hold what the broker believes it
// does: said every time, since storage that failed once may fail again.
void Broker::flush_reporting_failure() {
    std::string why;
    if (!segment_->flush(/*wait=*/true, why)) {
        SHMQ_LOG(error) << "persistent segment '" << address_ << "': " << why
                        << "; messages since the last good flush may not survive a power loss";
    }
}

void Broker::request_stop() {
    {
        std::lock_guard<std::mutex> lock(stop_mutex_);
        stop_requested_ = true;
    }
    stop_signal_.notify_all();
}

void Broker::tick() {
    check_segment_integrity();
    view_.root().broker_heartbeat_ns.store(monotonic_now_ns(), std::memory_order_relaxed);
    // Before the reaper: a client that announced its detach and died is
    // logged as detached before it is logged as reclaimed. The main
    // broker's thread drains its ring as events come.
    if (!event_logger_.joinable()) report_client_events(view_.client_events(), view_.client_capacity());
    remember_client_table();
    reap_dead_clients(view_, /*everyone_is_dead=*/false, &missing_start_times_);
    release_stale_leases();
    service_deliveries();
    report_retired_scribbles(keep_retired(view_, retired_));
    release_successor_holds();
    report_quarantines();
    report_topic_quarantines();
    for (auto& part : access_brokers_) part->tick();
    for (auto& part : live_brokers_) part->tick();
    // Any process may write the list of live segments: the broker's own copy wins.
    if (lists_live_segments() && read_live_generations(view_.root().live) != live_generations_) {
        write_live_generations(view_.root().live, live_generations_);
    }
    if (kind_ == Kind::main && platform::service_watchdog_interval().count() != 0) platform::report_service_alive();
}

// The truncation guard kept every process alive through a truncated file;
// here the broker puts back what it owns and re-verifies what the lost pages
// held: a queue or topic that no longer verifies is quarantined.
void Broker::check_segment_integrity() {
    const std::string damage = integrity_.check_and_repair(*segment_, view_);
    if (damage.empty()) return;
    SHMQ_LOG(error) << "segment '" << address_ << "' was damaged by another process: " << damage
                    << "; repaired what the broker owns, re-verifying every queue and topic";
    restore_client_table();
    // A client that attached while the metadata was damaged marked queues
    // quarantined; with the metadata back, verification alone decides (and
    // a quarantine newly needed is reported again).
    reported_quarantine_.assign(view_.queue_count(), false);
    reported_topic_quarantine_.assign(view_.topic_count(), false);
    verify_queues(view_);
    verify_topics();
}

// Lost pages may have held the client table: every client the broker saw at
// its last tick gets its record back, so that none of them is taken for
// detached while it runs (and its record handed to another process).
void Broker::restore_client_table() {
    for (std::uint32_t index = 0; index < view_.client_capacity(); ++index) {
        const auto known = known_clients_[index];
        if (layout::ClientWord::state(known) != layout::ClientState::active) continue;
        auto& record = view_.client(index);
        auto word = record.word.load(std::memory_order_acquire);
        if (word == known || layout::ClientWord::state(word) != layout::ClientState::free) continue;
        record.start_time.store(known_start_times_[index], std::memory_order_relaxed);
        record.word.compare_exchange_strong(word, known, std::memory_order_acq_rel);
    }
}

// What the client table held at this tick, for restore_client_table().
void Broker::remember_client_table() {
    for (std::uint32_t index = 0; index < view_.client_capacity(); ++index) {
        const auto& record = view_.client(index);
        const auto word = record.word.load(std::memory_order_acquire);
        const auto before = known_clients_[index];
        // A client writes its start time just after its claim: catch it late.
        if (known_start_times_[index] == 0) known_start_times_[index] = record.start_time.load(std::memory_order_relaxed);
        if (word == before) continue;
        known_clients_[index] = word;
        known_start_times_[index] = record.start_time.load(std::memory_order_relaxed);
    }
}

// Clients attach and detach without talking to the broker; they announce it
// in the segment's event ring (common/client_events.hpp), which this drains.
void Broker::report_client_events(const layout::ClientEventRing& ring, std::uint32_t client_capacity) {
    const auto drained = client_events_.drain(ring, client_capacity);
    const std::string prefix = log_prefix();
    if (drained.counter_reset) {
        SHMQ_LOG(warning) << prefix << "the client event counter went backwards (another process wrote it); "
                          << "reading events from its new value";
    }
    if (drained.missed > 0) {
        SHMQ_LOG(warning) << prefix << drained.missed << " client attach/detach events were not logged: more than "
                          << layout::client_event_capacity << " came between two ticks";
    }
    if (drained.unreadable > 0) {
        SHMQ_LOG(warning) << prefix << drained.unreadable
                          << " client attach/detach events were unreadable (damaged, or their client died writing "
                             "them)";
    }
    for (const auto& event : drained.events) {
        if (event.kind == layout::client_event_attached) {
            SHMQ_LOG(info) << prefix << "client pid " << event.pid << " (" << event.program << ") attached as record "
                           << event.record;
            SHMQ_LOG(debug) << prefix << "record " << event.record << " now has generation " << event.generation;
            continue;
        }
        // Client clocks: believed only when they make sense.
        std::ostringstream attached;
        if (event.at_ns >= event.attached_at_ns && event.attached_at_ns != 0) {
            attached << " after " << std::fixed << std::setprecision(3)
                     << static_cast<double>(event.at_ns - event.attached_at_ns) / 1e9 << " s";
        }
        SHMQ_LOG(info) << prefix << "client pid " << event.pid << " (" << event.program << ") detached from record "
                       << event.record << attached.str();
    }
}

// The main segment's lines name no segment; an access group's do.
std::string Broker::log_prefix() const { return kind_ == Kind::main ? std::string() : "segment '" + address_ + "': "; }

// at_least_once queues: ack clocks start for deliveries copied out since
// the last tick; deliveries whose ack is overdue go back for
// redelivery, and those that failed max_deliveries times move to the
// dead-letter queue.
void Broker::service_deliveries() {
    const auto now = monotonic_now_ns();
    for (std::uint32_t index = 0; index < view_.queue_count(); ++index) {
        if (!view_.queue_usable(index)) continue;
        auto& ring = view_.ring(index);
        if (ring.geometry().delivery != static_cast<std::uint8_t>(config::DeliveryMode::at_least_once)) continue;
        ring.expire_deliveries(now);
        const auto& queue = config_.queues[index];
        auto& lister = lister_ != nullptr ? *lister_ : *this;
        const auto dead_letter =
            queue.dead_letter.empty() ? QueueRing::DeadLetterTarget{} : lister.newest_queue(queue.dead_letter);
        std::uint64_t redeliverable = 0;
        const auto retired = ring.retire_exhausted(dead_letter, own_stamp_, redeliverable);
        if (retired > 0) {
            SHMQ_LOG(warning) << "queue '" << queue.name << "': " << retired << " messages failed "
                              << queue.max_deliveries << " deliveries and "
                              << (dead_letter.ring ? "moved to '" + queue.dead_letter + "'"
                                                   : std::string("were discarded"));
        }
        ring.control().redeliver_pending.store(redeliverable, std::memory_order_relaxed);
        if (redeliverable > 0) ring.control().not_empty.notify_all();
    }
}

// The ring a queue's name stands for now, in this broker's segments and the
// live ones it lists: the newest that holds the name, since a successor is
// always in a later live segment than the ring it supersedes (which refuses
// the move's claim: the message waits). A dead letter may so cross segments:
// a reload that changes a queue's settings, or adds one, puts it in a
// segment of its own.
QueueRing::DeadLetterTarget Broker::newest_queue(const std::string& name) {
    for (auto part = live_brokers_.rbegin(); part != live_brokers_.rend(); ++part) {
        const auto target = (*part)->queue_here(name);
        if (target.ring != nullptr) return target;
    }
    return queue_here(name);
}

// Null when this segment does not hold the name, or its queue failed validation.
QueueRing::DeadLetterTarget Broker::queue_here(const std::string& name) {
    const auto index = view_.find_queue(name);
    if (index == layout::no_queue || !view_.queue_usable(index)) return {};
    return {&view_.ring(index), own_stamp_};
}

// After the reaper: the slots of a dead lease holder are released before its
// side passes to another client.
void Broker::release_stale_leases() {
    for (std::uint32_t index = 0; index < view_.queue_count(); ++index) {
        if (!view_.queue_usable(index)) continue;
        if (const auto released = view_.ring(index).release_stale_leases(); released > 0) {
            SHMQ_LOG(info) << "queue '" << view_.queue_name(index) << "': freed " << released
                           << " single-producer or single-consumer lease(s) of clients that are gone";
        }
    }
}

void Broker::report_quarantines() {
    for (std::uint32_t index = 0; index < view_.queue_count(); ++index) {
        if (view_.queue_usable(index)) view_.ring(index).check_counters();
        // Read once: whoever quarantined it wrote the reason, and may write it again.
        const auto reason = view_.queue_usable(index)
                                ? view_.ring(index).control().quarantined.load(std::memory_order_relaxed)
                                : static_cast<std::uint32_t>(layout::QuarantineReason::damaged_metadata);
        if (reason != 0 && !reported_quarantine_[index]) {
            reported_quarantine_[index] = true;
            SHMQ_LOG(error) << "queue #" << index << " ('" << view_.queue_name(index)
                            << "') failed validation and is quarantined"
                            << (view_.queue_usable(index) ? " (" + view_.ring(index).describe_damage() + ")" : "")
                            << ", reason " << quarantine_reason_name(reason) << "; the other queues carry on";
        }
    }
}

void Broker::report_topic_quarantines() {
    for (std::uint32_t index = 0; index < view_.topic_count(); ++index) {
        if (view_.topic_usable(index)) view_.topic(index).check_counters();
        const auto reason = view_.topic_usable(index)
                                ? view_.topic(index).control().quarantined.load(std::memory_order_relaxed)
                                : static_cast<std::uint32_t>(layout::QuarantineReason::damaged_metadata);
        if (reason != 0 && !reported_topic_quarantine_[index]) {
            reported_topic_quarantine_[index] = true;
            SHMQ_LOG(error) << "topic #" << index << " ('" << view_.topic_name(index)
                            << "') failed validation and is quarantined, reason " << quarantine_reason_name(reason)
                            << "; the other queues and topics carry on";
        }
    }
}

void Broker::shut_down() {
    metrics_.reset();  // it reads the segment
    if (kind_ == Kind::main) platform::report_service_stopping();
    auto& root = view_.root();
    root.state.store(static_cast<std::uint32_t>(layout::BrokerState::stopping), std::memory_order_release);
    for (std::uint32_t index = 0; index < view_.queue_count(); ++index) {
        if (!view_.queue_usable(index)) continue;
        auto& control = view_.ring(index).control();
        control.not_empty.notify_all();
        control.not_full.notify_all();
    }
    for (std::uint32_t index = 0; index < view_.topic_count(); ++index) {
        if (!view_.topic_usable(index)) continue;
        view_.topic(index).control().published.notify_all();
        view_.topic(index).control().room.notify_all();
    }
    root.broker_event.notify_all();
    for (auto& part : access_brokers_) part->shut_down();
    for (auto& part : live_brokers_) part->shut_down();
    // Given back, so that the next broker on a kept segment finds no dead client in it.
    release_client_record(view_, own_stamp_);
    const auto queued = queued_messages(view_);
    if (flusher_.joinable()) {
        // An access group's broker has no loop of its own: nothing else asks its flusher to stop.
        request_stop();
        flusher_.join();
    }
    if (segment_->file_backed()) {
        // Persistent: the file and its messages stay for the next broker.
        flush_reporting_failure();
        mark_clean_stop();
        SHMQ_LOG(info) << "broker '" << config_.name << "' stopped; " << queued << " queued messages kept in "
                       << address_;
        return;
    }
    SegmentMapping::remove(address_);
    SHMQ_LOG(info) << "broker '" << config_.name << "' stopped; segment removed"
                   << (queued > 0 ? ", " + std::to_string(queued) + " queued messages discarded" : "");
}

// The last word of a clean stop, written after the final flush and flushed
// itself: a broker that dies at any point before leaves another state, so the
// next one tells a clean stop from a death.
void Broker::mark_clean_stop() {
    auto& root = view_.root();
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    root.clean_stop_unix_ms.store(now.count(), std::memory_order_relaxed);
    root.state.store(static_cast<std::uint32_t>(layout::BrokerState::stopped), std::memory_order_release);
    flush_reporting_failure();
}

}  // namespace shmq::daemon
