#include "bridge/route_counters.hpp"

#include <sstream>

namespace shmq::bridge {
namespace {

struct Metric {
    const char* name;
    const char* type;
    const char* help;
    const std::atomic<std::uint64_t> RouteCounters::*field;
};

const Metric metrics[] = {
    {"shmq_bridge_received_total", "counter", "Messages taken from the route's source.", &RouteCounters::received},
    {"shmq_bridge_delivered_total", "counter", "Messages the route's destination confirmed.",
     &RouteCounters::delivered},
    {"shmq_bridge_duplicates_total", "counter",
     "out: publishes JetStream recognised as duplicates; in: redeliveries skipped.", &RouteCounters::duplicates},
    {"shmq_bridge_retries_total", "counter", "Publishes or sends tried again.", &RouteCounters::retries},
    {"shmq_bridge_errors_total", "counter", "Failures seen (each retried or reported).", &RouteCounters::errors},
    {"shmq_bridge_paused_milliseconds_total", "counter", "in: time fetching waited for room in shmq.",
     &RouteCounters::paused_ms},
    {"shmq_bridge_rejected_total", "counter", "in: messages shmq can never take, terminated in JetStream.",
     &RouteCounters::rejected},
    {"shmq_bridge_lost_total", "counter",
     "out, topic: messages published beyond the topic's history while no bridge read it, or overwritten under drop.",
     &RouteCounters::lost},
    {"shmq_bridge_reattaches_total", "counter", "Reattachments to shmqd.", &RouteCounters::reconnects},
    {"shmq_bridge_in_flight", "gauge", "out: publishes awaiting JetStream's ack.", &RouteCounters::in_flight},
    {"shmq_bridge_lag", "gauge", "Messages waiting at the source: the shmq queue's depth, or the consumer's pending.",
     &RouteCounters::lag},
};

}  // namespace

std::string prometheus_text(const std::vector<const RouteCounters*>& routes) {
    std::ostringstream out;
    for (const auto& metric : metrics) {
        out << "# HELP " << metric.name << ' ' << metric.help << "\n# TYPE " << metric.name << ' ' << metric.type
            << '\n';
        for (const auto* route : routes) {
            out << metric.name << "{route=\"" << route->route << "\",direction=\"" << route->direction << "\"} "
                << (route->*metric.field).load(std::memory_order_relaxed) << '\n';
        }
    }
    return out.str();
}

}  // namespace shmq::bridge
