#include "daemon/broker.hpp"

#include <cerrno>
#include <chrono>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <future>
#include <cstring>
#include <ctime>
#include <new>
#include <sstream>
#include <thread>
#include <utility>

#include "common/client_registry.hpp"
#include "common/quarantine_reason.hpp"
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

Broker::Broker(config::BrokerConfig part, AccessListing listing, bool main)
    : config_(std::move(part)), listing_(std::move(listing)), main_(main), address_(segment_address(config_)) {}

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
    // Set-aside segments older than a week go at every start, not only when
    // another is set aside.
    prune_set_aside(SegmentMapping::file_system_path(address_));
    // Before the main segment is ready: a client that attaches finds every
    // segment it lists.
    start_access_segments();
    try {
        if (!try_adopt_existing()) build_fresh();
    } catch (...) {
        stop_access_segments();
        throw;
    }
    const Status claimed = claim_client_record(view_, "shmqd", own_stamp_);
    if (claimed != Status::ok) {
        stop_access_segments();
        throw StartError("segment '" + config_.name + "': the broker cannot take a client record for itself: " +
                         describe(claimed));
    }
    auto& root = view_.root();
    root.broker_record.store(own_stamp_.client_index, std::memory_order_relaxed);
    root.broker_epoch.fetch_add(1, std::memory_order_relaxed);
    root.broker_heartbeat_ns.store(monotonic_now_ns(), std::memory_order_relaxed);
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
                       << config::to_string(queue.delivery);
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
    if (!main_) return;
    platform::report_service_ready("serving " + std::to_string(config_.queues.size()) + " queues");
}

// Each access group's segment is created, adopted or set aside exactly as
// the main one is, under a lock of its own.
void Broker::start_access_segments() {
    for (auto& part : access_configs_) {
        std::unique_ptr<Broker> broker(new Broker(part, AccessListing{}, /*main=*/false));
        try {
            broker->start();
        } catch (...) {
            stop_access_segments();
            throw;
        }
        access_brokers_.push_back(std::move(broker));
    }
}

// A start that failed after some access segments were made removes them again.
void Broker::stop_access_segments() {
    for (auto& part : access_brokers_) part->shut_down();
    access_brokers_.clear();
}

// Builds the segment under a temporary name and only then gives it its real
// one, so that no process ever opens a half-built segment by name (a broker
// killed while building leaves only the temporary file, removed next start).
void Broker::build_fresh() {
    const std::string path = SegmentMapping::file_system_path(address_);
    const std::string building = path + ".building";
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
        throw StartError("segment '" + path + "' failed validation right after being built: " + why);
    }
    if (std::rename(building.c_str(), path.c_str()) != 0) {
        const int code = errno;
        segment_.reset();
        std::remove(building.c_str());
        throw StartError("cannot name the new segment '" + path + "': " + std::strerror(code));
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
    // Validated once, into the view the broker then runs on. Under the lock no
    // other broker is building or running on it: whatever state it is in, a
    // dead broker left it so.
    std::string difference;
    bool usable = SegmentView::validate(existing->base(), existing->size(), view_, difference) == Status::ok &&
                  segment_matches_config(view_, config_, listing_, difference);
    if (usable) {
        const auto changes = apply_delivery_settings(view_, config_);
        for (const auto& change : changes) SHMQ_LOG(warning) << "adopted segment '" << address_ << "': " << change;
        // The view copied the settings when it was validated: again, to run on the new ones.
        if (!changes.empty()) {
            usable = SegmentView::validate(existing->base(), existing->size(), view_, difference) == Status::ok;
        }
    }
    if (!usable) {
        view_ = SegmentView{};
        existing.reset();
        set_aside_existing(difference);
        return false;
    }
    auto* root = existing->root();
    char boot_id[sizeof root->boot_id];
    platform::read_boot_id(boot_id);
    const bool same_boot = std::memcmp(boot_id, root->boot_id, sizeof boot_id) == 0;
    if (same_boot && root->pid_namespace != platform::own_pid_namespace()) {
        // Its broker and clients live in a PID namespace whose pids mean
        // nothing here: this broker would reap them all while they run.
        throw StartError("segment '" + SegmentMapping::file_system_path(address_) +
                         "' belongs to a broker in another PID namespace (a container?), whose processes this one "
                         "cannot see; stop that broker, or remove the segment by hand");
    }
    if (same_boot && is_alive(root->broker) && root->broker.pid != ProcessIdentity::self().pid) {
        // A broker that takes no lock (an older shmq) still runs on it.
        throw StartError("a live broker (pid " + std::to_string(root->broker.pid) + ") already owns segment '" +
                         config_.name + "'; stop it first or give this broker another name");
    }
    apply_configured_access(*existing);
    const auto previous_pid = root->broker.pid;
    root->broker = ProcessIdentity::self();
    segment_ = std::move(existing);
    adopted_ = true;
    if (!same_boot) {
        reset_after_reboot();
        root->pid_namespace = platform::own_pid_namespace();
        // Last: clients are refused until the segment says this boot.
        std::memcpy(root->boot_id, boot_id, sizeof boot_id);
    }
    // Dead clients first: what they held when they died (a view entry ahead
    // of its cursor, a claim half made) is theirs to give back, not corruption.
    const auto reaped = reap_dead_clients(view_);
    verify_queues();
    verify_topics();
    SHMQ_LOG(warning) << "adopted segment '" << address_ << "' left by dead broker pid " << previous_pid << ": "
                      << queued_messages(view_) << " queued messages kept, " << reaped.reclaimed_clients
                      << " dead clients reclaimed";
    return true;
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
void Broker::reset_after_reboot() {
    for (std::uint32_t index = 0; index < view_.queue_count(); ++index) {
        if (view_.queue_usable(index)) view_.ring(index).reset_synchronisation();
    }
    for (std::uint32_t index = 0; index < view_.topic_count(); ++index) {
        if (view_.topic_usable(index)) view_.topic(index).reset_synchronisation();
    }
    new (&view_.root().broker_event) WaitEvent();
    const auto reclaimed = reap_dead_clients(view_, /*everyone_is_dead=*/true);
    SHMQ_LOG(warning) << "segment '" << address_ << "' comes from an earlier boot: wait events reset, "
                      << reclaimed.reclaimed_clients << " clients of the old boot reclaimed";
    recover_queues_after_power_loss();
}

// An earlier boot may have ended in a power loss, which leaves the file's
// pages of different ages (msync is not atomic): each queue is rebuilt from
// its slots rather than quarantined, and what was lost is said.
void Broker::recover_queues_after_power_loss() {
    for (std::uint32_t index = 0; index < view_.queue_count(); ++index) {
        if (!view_.queue_usable(index)) continue;
        const auto found = view_.ring(index).recover_after_power_loss();
        const bool lost = found.torn + found.missing > 0;
        const bool moved = found.head != found.head_hint || found.tail != found.tail_hint;
        if (!lost && !moved && found.discarded == 0) continue;
        std::ostringstream text;
        text << "queue '" << view_.queue_name(index) << "' recovered from its slots after a reboot: head "
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
void Broker::verify_queues() {
    for (std::uint32_t index = 0; index < view_.queue_count(); ++index) {
        if (!view_.queue_usable(index)) continue;
        std::string problem;
        auto& ring = view_.ring(index);
        const bool was_quarantined = ring.control().quarantined.load(std::memory_order_acquire) != 0;
        ring.verify(problem);
        const std::string what = "queue '" + view_.queue_name(index) + "'";
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
    const std::string from = SegmentMapping::file_system_path(address_);
    // NAME.stale-SECONDS.MICROSECONDS: readable, and ordered by when.
    const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    std::string to;
    std::uint32_t owner = 0;
    for (auto when = now; to.empty() || platform::file_owner(to, owner); ++when) {
        char micros[8];
        std::snprintf(micros, sizeof micros, "%06lld", static_cast<long long>(when % 1'000'000));
        to = from + ".stale-" + std::to_string(when / 1'000'000) + "." + micros;
    }
    if (std::rename(from.c_str(), to.c_str()) != 0) {
        throw StartError("segment '" + from + "' exists and cannot be reused (" + reason +
                         "), and moving it aside failed: " + std::strerror(errno) + "; remove " + from + " by hand");
    }
    platform::restrict_to_owner(to);
    SHMQ_LOG(error) << "segment '" << from << "' exists but cannot be reused (" << reason << "); moved it to "
                    << to << " and starting with a fresh segment";
    prune_set_aside(from);
}

void Broker::prune_set_aside(const std::string& segment_path) {
    namespace fs = std::filesystem;
    const fs::path segment(segment_path);
    const std::string prefix = segment.filename().string() + ".stale-";
    std::vector<fs::path> set_aside;
    std::error_code ignored;
    for (const auto& entry : fs::directory_iterator(segment.parent_path(), ignored)) {
        if (entry.path().filename().string().rfind(prefix, 0) == 0) set_aside.push_back(entry.path());
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
    std::sort(set_aside.begin(), set_aside.end(), [&](const fs::path& a, const fs::path& b) { return when(a) > when(b); });
    const long long week_ago = static_cast<long long>(std::time(nullptr)) - 7 * 24 * 3600;
    for (std::size_t index = 0; index < set_aside.size(); ++index) {
        if (index < kept_set_aside && when(set_aside[index]).first >= week_ago) continue;
        if (fs::remove(set_aside[index], ignored)) {
            SHMQ_LOG(info) << "removed the set-aside segment " << set_aside[index].string()
                           << " (only the newest " << kept_set_aside << " of the last week are kept)";
        }
    }
}

void Broker::run() {
    const auto interval = std::chrono::milliseconds(config_.liveness_interval_ms);
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
    shut_down();
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
    platform::report_service_reloading();
    ReloadAnswer answer;
    config::BrokerConfig reloaded;
    bool loaded = false;
    if (config_path_.empty()) {
        answer.report = "this broker was started without a configuration file: nothing to reload";
    } else {
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
    auto plan = plan_reload(whole_config_, reloaded);
    if (!plan.applied.empty()) {
        const auto parts = plan_segments(plan.next);
        apply_live_settings(parts.main);
        for (std::size_t index = 0; index < access_brokers_.size() && index < parts.restricted.size(); ++index) {
            access_brokers_[index]->apply_live_settings(parts.restricted[index]);
        }
        whole_config_ = std::move(plan.next);
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
    report_attach_detach();
    reap_dead_clients(view_, /*everyone_is_dead=*/false, &missing_start_times_);
    service_deliveries();
    report_quarantines();
    report_topic_quarantines();
    for (auto& part : access_brokers_) part->tick();
    if (main_ && platform::service_watchdog_interval().count() != 0) platform::report_service_alive();
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
    verify_queues();
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

// Clients attach and detach without talking to the broker; it learns of them
// by comparing the client table with what it saw one tick earlier.
void Broker::report_attach_detach() {
    for (std::uint32_t index = 0; index < view_.client_capacity(); ++index) {
        const auto& record = view_.client(index);
        const auto word = record.word.load(std::memory_order_acquire);
        const auto before = known_clients_[index];
        // A client writes its start time just after its claim: catch it late.
        if (known_start_times_[index] == 0) known_start_times_[index] = record.start_time.load(std::memory_order_relaxed);
        if (word == before) continue;
        known_clients_[index] = word;
        known_start_times_[index] = record.start_time.load(std::memory_order_relaxed);
        const bool was_active = layout::ClientWord::state(before) == layout::ClientState::active;
        const bool is_active = layout::ClientWord::state(word) == layout::ClientState::active;
        if (was_active && layout::ClientWord::state(word) == layout::ClientState::free) {
            SHMQ_LOG(info) << "client pid " << layout::ClientWord::pid(before) << " detached";
        }
        if (is_active) {
            SHMQ_LOG(info) << "client pid " << layout::ClientWord::pid(word) << " ("
                           << std::string(record.program, strnlen(record.program, sizeof record.program))
                           << ") attached as record " << index;
        }
    }
}

// at_least_once queues: deliveries whose ack is overdue go back for
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
        QueueRing* dead_letter = nullptr;
        if (!queue.dead_letter.empty()) {
            const auto target = view_.find_queue(queue.dead_letter);
            if (target != layout::no_queue && view_.queue_usable(target)) dead_letter = &view_.ring(target);
        }
        std::uint64_t redeliverable = 0;
        const auto retired = ring.retire_exhausted(dead_letter, own_stamp_, redeliverable);
        if (retired > 0) {
            SHMQ_LOG(warning) << "queue '" << queue.name << "': " << retired << " messages failed "
                              << queue.max_deliveries << " deliveries and "
                              << (dead_letter ? "moved to '" + queue.dead_letter + "'" : std::string("were discarded"));
        }
        ring.control().redeliver_pending.store(redeliverable, std::memory_order_relaxed);
        if (redeliverable > 0) ring.control().not_empty.notify_all();
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
    if (main_) platform::report_service_stopping();
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
    const auto queued = queued_messages(view_);
    if (flusher_.joinable()) {
        // An access group's broker has no loop of its own: nothing else asks its flusher to stop.
        request_stop();
        flusher_.join();
    }
    if (segment_->file_backed()) {
        // Persistent: the file and its messages stay for the next broker.
        flush_reporting_failure();
        SHMQ_LOG(info) << "broker '" << config_.name << "' stopped; " << queued << " queued messages kept in "
                       << address_;
        return;
    }
    SegmentMapping::remove(address_);
    SHMQ_LOG(info) << "broker '" << config_.name << "' stopped; segment removed"
                   << (queued > 0 ? ", " + std::to_string(queued) + " queued messages discarded" : "");
}

}  // namespace shmq::daemon
