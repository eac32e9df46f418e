// shmq purge QUEUE: remove every message waiting in a queue, and say how many.
#include <iostream>
#include <string>

#include "cli/commands.hpp"
#include "cli/connection.hpp"
#include "cli/diagnostics.hpp"
#include "cli/subcommand_parser.hpp"

namespace shmq::cli {

int run_purge(const Arguments& arguments, const std::string& broker) {
    SubcommandParser parser("purge", "QUEUE [options]",
                            "Removes every message waiting in QUEUE (acknowledging each on an\n"
                            "at_least_once queue) and prints how many it removed. Deliveries other\n"
                            "consumers hold unacknowledged stay theirs; messages sent meanwhile may be\n"
                            "removed too.",
                            broker);
    parser.add_positional("queue", po::value<std::string>(), 1, true);
    parser.set_epilog("Exit status: 0 when the queue was emptied; 1 otherwise (with how many were\n"
                      "removed before the failure); 2 for a usage error.");
    po::variables_map variables;
    if (const auto done = parser.parse(arguments, variables)) return *done;

    const auto queue_name = variables["queue"].as<std::string>();
    const auto client = attach_or_report(variables["broker"].as<std::string>());
    if (!client) return exit_failure;
    Queue queue;
    if (!open_queue_or_report(*client, queue_name, queue)) return exit_failure;
    const bool acknowledge = is_at_least_once(*client, queue_name);

    std::string message;
    std::uint64_t removed = 0;
    for (;;) {
        std::uint64_t delivery = 0;
        Status status = queue.receive(message, no_wait, &delivery);
        if (status == Status::ok && acknowledge) status = queue.acknowledge(delivery);
        if (status == Status::empty) break;
        if (status != Status::ok) {
            return report_error(exit_failure, "purge of queue '" + queue_name + "' on broker '" +
                                                  client->broker_name() + "' stopped after " + std::to_string(removed) +
                                                  " messages: " + status_text(status));
        }
        ++removed;
    }
    std::cout << "removed " << removed << " messages from queue '" << queue_name << "'\n";
    return exit_ok;
}

}  // namespace shmq::cli
