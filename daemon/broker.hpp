// The broker's life: take ownership of the segment (create it, or adopt the
// one a crashed broker left), keep it healthy while running (heartbeat, dead
// clients reclaimed, expired deliveries redelivered, corruption of queues and
// topics reported), and on stop wake every blocked client and remove the
// segment.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/access_listing.hpp"
#include "common/client_events.hpp"
#include "common/broker_stats.hpp"
#include "common/reload_exchange.hpp"
#include "common/segment_mapping.hpp"
#include "common/segment_view.hpp"
#include "config/broker_config.hpp"
#include "daemon/companion_segments.hpp"
#include "daemon/live_segments.hpp"
#include "daemon/reload_plan.hpp"
#include "daemon/retirement.hpp"
#include "daemon/metrics_server.hpp"
#include "daemon/segment_integrity.hpp"
#include "platform/exclusive_lock.hpp"
#include "daemon/client_reaper.hpp"

namespace shmq::daemon {

// Why the broker could not start; what() is meant for the operator. key()
// names the configuration key that decides the failure, when one does.
class StartError : public std::runtime_error {
public:
    explicit StartError(const std::string& what, std::string key = {})
        : std::runtime_error(what), key_(std::move(key)) {}
    const std::string& key() const { return key_; }

private:
    std::string key_;
};

class Broker {
public:
    // The open queues and topics go in the main segment; those restricted to
    // an access group in that group's segment (daemon/segment_plan.hpp), each
    // run by a Broker of its own that this one starts, ticks and stops.
    explicit Broker(config::BrokerConfig config);
    ~Broker();
    Broker(const Broker&) = delete;
    Broker& operator=(const Broker&) = delete;

    // Creates or adopts the segment and marks it ready. Throws StartError.
    void start();
    // Runs the liveness loop until request_stop(); then shuts down.
    void run();
    // Safe from any thread.
    void request_stop();
    // The file a reload re-reads (SIGHUP, `shmq reload`); without one, a
    // reload is refused. Call before run().
    void set_configuration_file(std::string path, config::Format format);
    // Safe from any thread: the broker re-reads its configuration file at
    // once, applies what can change live and reports the rest.
    void request_reload();

    // The statistics of every segment of the broker, read as `shmq stats`
    // reads them (no lock on the data path). Safe from any thread between
    // start() and the end of run() (daemon/broker_metrics.cpp).
    BrokerStats stats() const;
    // Serves the metrics endpoint from now until the broker shuts down,
    // which stops it before the segment goes. Call after start().
    void serve_metrics(std::unique_ptr<MetricsServer> server);

    // The main segment's part of the configuration (its origin is the file's).
    const config::BrokerConfig& config() const { return config_; }
    std::uint64_t segment_size() const;
    bool adopted() const { return adopted_; }
    // Whether start() carried the messages of a segment laid out for another
    // configuration into a new one.
    bool migrated() const { return migrated_; }

private:
    // Which segment a broker runs. The main segment's and each access
    // group's list live segments of their own (daemon/live_segments.hpp);
    // a live segment lists none.
    enum class Kind { main, access_group, live };
    // The broker of one access group's segment or of a live segment:
    // `listing` empty, no word to systemd.
    Broker(config::BrokerConfig part, AccessListing listing, Kind kind);
    bool lists_live_segments() const { return kind_ != Kind::live; }
    void start_access_segments();
    void add_access_segment(ReloadPlan& plan, const config::BrokerConfig& part);
    void stop_access_segments();
    // Live segments (daemon/live_segments.hpp): those of the segment this
    // broker owns, main or access group.
    void start_live_segments(const std::vector<AdoptedLiveSegment>& adopted, const config::BrokerConfig& extra);
    void add_live_segment(const config::BrokerConfig& added);
    void stop_live_segments();
    std::vector<SegmentContents> held_contents() const;
    void add_successors(ReloadPlan& plan, const config::BrokerConfig& part, const config::BrokerConfig& running);
    Broker* access_broker(const std::string& group) const;
    void list_restricted(const AccessListing& configured);
    void supersede_replaced(const ItemNames& names, std::uint32_t generation);
    void hold_successor_topics(const std::vector<std::string>& names);
    void release_successor_holds();
    void apply_held_settings(const config::BrokerConfig& part);
    void collect_views(std::vector<const SegmentView*>& views) const;
    std::vector<std::string> full_segments() const;
    std::string unfit_replacements(const ReloadPlan& plan, const config::BrokerConfig& reloaded) const;
    void retire_removed(const ItemNames& removed);
    void retire_here(const ItemNames& removed);
    void report_retired_scribbles(const std::vector<RetiredScribble>& scribbles);
    bool try_adopt_existing();
    void apply_configured_access(const SegmentMapping& segment) const;
    void build_fresh();
    void build_under(const std::string& building);
    bool ensure_previous_broker_gone(const layout::SegmentRoot& root, const char (&boot_id)[40]) const;
    // Migration at start-up (daemon/broker_migration.cpp).
    struct OpenCompanion {
        CompanionSegment segment;
        std::unique_ptr<SegmentMapping> mapping;
        SegmentView view;
    };
    bool migrate_existing(std::unique_ptr<SegmentMapping> existing, const std::string& difference);
    std::vector<CompanionSegment> companions(const SegmentView& old, const std::string& path) const;
    std::vector<OpenCompanion> open_companions(const std::vector<CompanionSegment>& companions);
    void prepare_to_carry(SegmentView& view, const std::string& what, bool same_boot);
    void set_aside_companions(const std::vector<CompanionSegment>& companions);
    static void let_writers_finish(SegmentView& view, const std::string& what);
    // Marks the records of `writers` (the owners of claims still written
    // after the grace) reclaiming, then waits for every CPU's stores.
    static void withdraw_writers(SegmentView& view, const std::vector<OwnerStamp>& writers);
    static constexpr std::chrono::seconds writer_grace{2};
    void finish_interrupted_migration();
    void dispose_of_migrated(const std::string& old);
    bool dispose_of_carried(const std::string& file, const std::string& named_after);
    void set_aside_existing(const std::string& reason);
    std::string set_aside(const std::string& from, const std::string& named_after, const std::string& reason);
    void prune_set_aside(const std::string& segment_path);
    static void verify_queues(SegmentView& view);
    void verify_topics();
    static void reset_after_reboot(SegmentView& view, const std::string& what);
    static void recover_queues_after_power_loss(SegmentView& view);
    void flush_loop();
    void flush_reporting_failure();
    void tick();
    void check_segment_integrity();
    void restore_client_table();
    // Frees the single-producer and single-consumer leases of clients that
    // are gone (QueueRing::release_stale_leases).
    void release_stale_leases();
    void report_quarantines();
    void report_topic_quarantines();
    void service_deliveries();
    QueueRing::DeadLetterTarget newest_queue(const std::string& name);
    QueueRing::DeadLetterTarget queue_here(const std::string& name);
    void remember_client_table();
    void report_client_events(const layout::ClientEventRing& ring, std::uint32_t client_capacity);
    void log_client_events(layout::ClientEventRing* ring, std::uint32_t client_capacity);
    void mark_clean_stop();
    std::string log_prefix() const;
    void shut_down();
    void serve_reload_requests(bool signalled);
    ReloadAnswer reload();
    void apply_live_settings(const config::BrokerConfig& part);

    config::BrokerConfig config_;
    AccessListing listing_;  // the restricted queues and topics the main segment lists
    Kind kind_ = Kind::main;  // the main segment's broker alone speaks to systemd
    std::vector<config::BrokerConfig> access_configs_;
    // One per access group: started with this one, or by the reload that
    // added the group's first queues or topics.
    std::vector<std::unique_ptr<Broker>> access_brokers_;
    // The live segments this broker's segment lists, in order, and their brokers.
    std::vector<std::uint32_t> live_generations_;
    std::vector<std::unique_ptr<Broker>> live_brokers_;
    // A live segment's broker: the broker that lists it, in whose segments
    // its queues' dead letters are looked for. Null: this one lists them.
    Broker* lister_ = nullptr;
    // The broker's own subscription at the first message of a replaced
    // topic's successor, kept while the superseded topic (in this or an
    // earlier live segment) has subscriptions (hold_successor_topics).
    struct SuccessorHold {
        struct Predecessor {
            Broker* part;
            std::uint32_t topic;
        };
        std::vector<Predecessor> predecessors;
        Broker* successor = nullptr;
        std::uint32_t topic = 0;
        SubscriberHandle handle;
    };
    std::vector<SuccessorHold> successor_holds_;
    // What reloads removed: by name (main broker: every segment's), and by
    // index in this segment, whose retired words the broker keeps written.
    ItemNames removed_;
    RetiredIndexes retired_;
    std::set<std::string> reported_retired_scribbles_;  // "queue 'NAME'": logged once each
    std::string address_;  // the segment's name, or its file for a persistent broker
    std::unique_ptr<platform::ExclusiveLock> lock_;  // on SEGMENT.lock, for the broker's whole life
    std::unique_ptr<SegmentMapping> segment_;
    SegmentIntegrity integrity_;  // the root as the broker made it ready
    SegmentView view_;
    bool adopted_ = false;
    bool migrated_ = false;
    OwnerStamp own_stamp_;  // the broker's own client record: it writes dead letters
    std::vector<bool> reported_quarantine_;
    std::vector<bool> reported_topic_quarantine_;
    std::vector<std::uint64_t> known_clients_;  // client words seen at the last tick
    std::vector<std::uint64_t> known_start_times_;  // and the start times of their processes
    MissingStartTimes missing_start_times_;     // records claimed without a start time, across ticks
    ClientEventReader client_events_;           // how far the attach and detach events were logged
    // Main broker: drains the event ring as soon as clients announce events,
    // so that a burst larger than the ring between two ticks is read in time.
    std::thread event_logger_;
    std::atomic<bool> event_logger_stop_{false};

    config::BrokerConfig whole_config_;  // main broker: the running configuration, every segment's part
    std::string config_path_;           // what a reload re-reads; empty: reloads are refused
    config::Format config_format_ = config::Format::automatic;
    std::uint32_t reload_answered_ = 0;  // the last request of the segment's ReloadExchange answered

    std::unique_ptr<MetricsServer> metrics_;  // main broker with metrics_listen only
    // Held by a reload, which re-validates the views and adds live segments,
    // and by stats(), which the metrics thread calls: it reads them.
    mutable std::mutex segments_mutex_;
    std::thread flusher_;  // persistent segments: writes dirty pages every flush_interval_ms
    std::mutex stop_mutex_;
    std::condition_variable stop_signal_;
    bool stop_requested_ = false;
    bool reload_requested_ = false;
};

}  // namespace shmq::daemon
