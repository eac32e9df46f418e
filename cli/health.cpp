// shmq health: one answer for a monitor or a readiness probe — is the broker
// running and is its segment sound?
#include <iostream>

#include "cli/commands.hpp"
#include "cli/connection.hpp"
#include "cli/diagnostics.hpp"
#include "cli/subcommand_parser.hpp"

namespace shmq::cli {

namespace {

// The first thing wrong with a running broker's segment, or "".
std::string first_problem(const BrokerStats& stats) {
    for (const auto& queue : stats.queues) {
        if (queue.quarantined) return "queue '" + queue.name + "' is quarantined (" + queue.quarantine_reason + "; see the broker's log)";
    }
    for (const auto& topic : stats.topics) {
        if (topic.quarantined) return "topic '" + topic.name + "' is quarantined (" + topic.quarantine_reason + "; see the broker's log)";
    }
    return "";
}

}  // namespace

int run_health(const Arguments& arguments, const std::string& broker) {
    SubcommandParser parser("health", "[options]",
                            "Checks that the broker is healthy: its segment can be attached to (it exists,\n"
                            "belongs to a trusted owner, and is laid out as this version of shmq expects),\n"
                            "its process is running, and none of its queues and topics is quarantined. Prints\n"
                            "one line saying so, or the first problem found on standard error.",
                            broker);
    parser.set_epilog("Exit status: 0 when healthy; 1 otherwise (the broker cannot be reached, its\n"
                      "process is not running, or a queue or topic is quarantined); 2 for a usage error.");
    po::variables_map variables;
    if (const auto done = parser.parse(arguments, variables)) return *done;

    const auto client = attach_or_report(variables["broker"].as<std::string>());
    if (!client) return exit_failure;
    const auto stats = client->stats();
    if (!stats.broker_alive) return report_broker_not_running(stats);
    const auto problem = first_problem(stats);
    if (!problem.empty()) return report_error(exit_failure, "broker '" + stats.broker + "' is unhealthy: " + problem);
    std::cout << "broker '" << stats.broker << "' is healthy: pid " << stats.broker_pid << ", " << stats.queues.size()
              << " queues, " << stats.topics.size() << " topics, " << stats.clients.size()
              << " attached clients (this command included)\n";
    return exit_ok;
}

}  // namespace shmq::cli
