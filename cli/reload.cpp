// shmq reload: asks the running broker to re-read its configuration file
// (what SIGHUP does), waits for its answer and prints it.
#include <iostream>

#include "cli/commands.hpp"
#include "cli/connection.hpp"
#include "cli/diagnostics.hpp"
#include "cli/subcommand_parser.hpp"

namespace shmq::cli {

namespace {
// A broker answers within a tick of its own; a large file takes longer to
// load, but not this long.
constexpr std::int64_t default_timeout_ms = 30'000;
}  // namespace

int run_reload(const Arguments& arguments, const std::string& broker) {
    SubcommandParser parser("reload", "[options]",
                            "Asks the broker to re-read its configuration file, as SIGHUP does, waits for\n"
                            "its answer and prints it: what changed, what needs a restart, or every error of\n"
                            "a file that does not load or validate (which changes nothing). The delivery\n"
                            "limits of at_least_once queues (max_deliveries, ack_timeout_ms, dead_letter)\n"
                            "change at once; open queues and topics added become usable at once, and those\n"
                            "removed take no more messages (queue_removed) and are drained by their\n"
                            "consumers; any other change needs a restart.",
                            broker);
    parser.add_options()
        ("timeout", integer_at_least("timeout", 1)->default_value(default_timeout_ms)->value_name("MS"),
         "give up when the broker has not answered within MS milliseconds");
    parser.set_epilog("Exit status: 0 when every change took effect (or there was none); 3 when the\n"
                      "file loaded but some changes need a restart; 1 when the file was refused\n"
                      "(nothing changed) or the broker did not answer; 2 for a usage error.");
    po::variables_map variables;
    if (const auto done = parser.parse(arguments, variables)) return *done;

    const auto client = attach_or_report(variables["broker"].as<std::string>());
    if (!client) return exit_failure;
    ReloadOutcome outcome;
    const auto status = client->reload_configuration(outcome, timeout_option(variables, "timeout"));
    if (status != Status::ok) {
        return report_error(exit_failure,
                            "broker '" + client->broker_name() + "' did not answer the reload: " + status_text(status));
    }
    switch (outcome.result) {
    case ReloadOutcome::Result::applied: std::cout << outcome.report << "\n"; return exit_ok;
    case ReloadOutcome::Result::needs_restart: std::cout << outcome.report << "\n"; return exit_needs_restart;
    case ReloadOutcome::Result::refused: break;
    }
    std::cerr << "shmq: broker '" << client->broker_name() << "' refused the reload: " << outcome.report << "\n";
    return exit_failure;
}

}  // namespace shmq::cli
