// What a reloaded configuration file changes in the running broker, sorted
// into what the broker applies at once and what needs a restart. Today only
// the delivery limits of an at_least_once queue (max_deliveries,
// ack_timeout_ms, dead_letter) change live: they move no message. Every other
// difference (a broker setting, a queue or topic added, removed or resized)
// is reported as needing a restart, never silently ignored.
#pragma once

#include <string>
#include <vector>

#include "config/broker_config.hpp"

namespace shmq::daemon {

struct ReloadPlan {
    // The running configuration with every live change made: what the broker
    // runs on once the plan is applied, and what the next reload compares with.
    config::BrokerConfig next;
    std::vector<std::string> applied;       // e.g. "queue 'jobs': max_deliveries 5 -> 3"
    std::vector<std::string> need_restart;  // e.g. "FILE: queue 'audit' added"
};

ReloadPlan plan_reload(const config::BrokerConfig& running, const config::BrokerConfig& reloaded);

}  // namespace shmq::daemon
