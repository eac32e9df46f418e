// What a reloaded configuration file changes in the running broker, sorted
// into what the broker applies at once and what needs a restart. Live: the
// delivery limits of an at_least_once queue (max_deliveries, ack_timeout_ms,
// dead_letter), which move no message, queues and topics added, open or
// restricted to an access group (the broker builds a live segment for them
// beside the segment of their kind, daemon/live_segments.hpp, or the segment
// of a new access group, and lists a restricted one in the main segment's
// AccessTable), the
// ring settings of a queue (capacity, max_message_size, overflow,
// delivery) or topic (every key but its access), open or restricted: the
// broker builds a successor of the same name in a live segment of the
// segment that holds it (the main one, or its access group's) and
// supersedes the old one, docs/crash-safety.md "Live settings change"), and
// queues and topics removed, open or restricted (the broker retires them in
// their segment: they take no more messages and are drained,
// docs/operations.md). Every other difference (a broker setting, a change
// of access, a removed name added back) is reported as needing a restart,
// never silently ignored.
#pragma once

#include <string>
#include <vector>

#include "config/broker_config.hpp"

namespace shmq::daemon {

// Queues and topics by name: those a reload removes (or removed already), or
// those it replaces.
struct ItemNames {
    std::vector<std::string> queues;
    std::vector<std::string> topics;
    bool empty() const { return queues.empty() && topics.empty(); }
};

struct ReloadPlan {
    // The running configuration with every live change made: what the broker
    // runs on once the plan is applied, and what the next reload compares
    // with. Queues and topics removed stay in it: their segments still hold
    // them, retired, until a restart.
    config::BrokerConfig next;
    ItemNames removed;                   // to retire now
    // Queues and topics whose ring settings change: each gets a successor
    // with `next`'s settings in the reload's live segment of the segment
    // holding it (the main one or its access group's), and the old one is
    // superseded. The broker first checks that each replaced
    // queue can hold what is queued (a topic carries nothing over).
    ItemNames replaced;
    std::vector<std::string> applied;       // e.g. "queue 'jobs': max_deliveries 5 -> 3"
    std::vector<std::string> need_restart;  // e.g. "FILE: queue 'audit' added"
};

// `full`: the segments that can list no more live segments
// (layout::max_live_segments), "" for the main one and a group's name for
// its segment; their queues and topics added or changed then need a restart.
// `retired`: what earlier reloads removed (still in `running`): neither
// removed again nor compared, and needing a restart to be added back.
ReloadPlan plan_reload(const config::BrokerConfig& running, const config::BrokerConfig& reloaded,
                       const std::vector<std::string>& full = {}, const ItemNames& retired = {});

// The broker could not add `added`'s queues and topics after all (their live
// segment could not be built, `why`): they leave `plan.next`, and are
// reported as needing a restart instead of as applied.
// The replaced queues and topics among them go back to their `running`
// settings in `plan.next` and leave `plan.replaced`.
// `segment` names the segment that failed, for the report ("its live
// segment", "the segment of its access group").
void withdraw_added(ReloadPlan& plan, const config::BrokerConfig& added, const config::BrokerConfig& running,
                    const std::string& why, const std::string& segment = "its live segment");

}  // namespace shmq::daemon
