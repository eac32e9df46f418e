// shmq move SOURCE DESTINATION: move waiting messages from one queue to
// another, e.g. to replay a dead-letter queue into the queue it serves.
#include <iostream>
#include <string>

#include "cli/commands.hpp"
#include "cli/connection.hpp"
#include "cli/diagnostics.hpp"
#include "cli/subcommand_parser.hpp"

namespace shmq::cli {

namespace {

struct Outcome {
    std::uint64_t moved = 0;
    Status status = Status::ok;
    std::string detail;  // what became of the message in hand when it failed
};

// Moves until SOURCE is empty or `limit` messages moved. A message leaves
// SOURCE for good only once DESTINATION took it: an at_least_once delivery
// is acknowledged after the send; an at_most_once message that DESTINATION
// refuses is sent back to SOURCE (at its end), so it is never lost.
Outcome move_messages(Queue& source, bool acknowledge, Queue& destination, std::uint64_t limit, Timeout timeout) {
    Outcome outcome;
    std::string message;
    while (outcome.moved < limit) {
        std::uint64_t delivery = 0;
        const Status received = source.receive(message, no_wait, &delivery);
        if (received == Status::empty) return outcome;
        if (received != Status::ok) {
            outcome.status = received;
            return outcome;
        }
        const Status sent = destination.send(message, timeout);
        if (sent != Status::ok) {
            outcome.status = sent;
            if (acknowledge) {
                outcome.detail = "the message in hand stays in the source, redelivered after its ack timeout";
            } else {
                const Status back = source.send(message, timeout);
                outcome.detail = back == Status::ok ? "the message in hand went back to the end of the source"
                                                    : std::string("the message in hand could not go back to the source (") +
                                                          status_text(back) + ") and is lost";
            }
            return outcome;
        }
        if (acknowledge) {
            const Status acknowledged = source.acknowledge(delivery);
            if (acknowledged != Status::ok) {
                outcome.status = acknowledged;
                outcome.detail = "the message in hand was sent and may be delivered again from the source";
                return outcome;
            }
        }
        ++outcome.moved;
    }
    return outcome;
}

}  // namespace

int run_move(const Arguments& arguments, const std::string& broker) {
    SubcommandParser parser("move", "SOURCE DESTINATION [options]",
                            "Moves the messages waiting in queue SOURCE to queue DESTINATION, in order, and\n"
                            "prints how many it moved: for example to replay a dead-letter queue into the\n"
                            "queue it serves. A message leaves SOURCE only once DESTINATION has it.",
                            broker);
    parser.add_options()
        ("count", integer_at_least("count", 1)->value_name("N"), "move at most N messages; default: all waiting")
        ("timeout", integer_at_least("timeout", 0)->value_name("MS"),
         "give up when DESTINATION has no room for MS milliseconds (0: do not wait); default: wait as long as "
         "it takes");
    parser.add_positional("source", po::value<std::string>(), 1, true);
    parser.add_positional("destination", po::value<std::string>(), 1, true);
    parser.set_epilog("Exit status: 0 when every waiting message (or N) moved; 1 otherwise, saying how\n"
                      "many moved and where the message in hand is; 2 for a usage error.");
    po::variables_map variables;
    if (const auto done = parser.parse(arguments, variables)) return *done;

    const auto source_name = variables["source"].as<std::string>();
    const auto destination_name = variables["destination"].as<std::string>();
    if (source_name == destination_name) return parser.usage_error("SOURCE and DESTINATION are the same queue");
    const auto client = attach_or_report(variables["broker"].as<std::string>());
    if (!client) return exit_failure;
    Queue source;
    Queue destination;
    if (!open_queue_or_report(*client, source_name, source) ||
        !open_queue_or_report(*client, destination_name, destination)) {
        return exit_failure;
    }
    const auto limit = variables.count("count") ? static_cast<std::uint64_t>(variables["count"].as<std::int64_t>())
                                                : UINT64_MAX;
    const auto outcome = move_messages(source, is_at_least_once(*client, source_name), destination, limit,
                                       timeout_option(variables, "timeout"));
    if (outcome.status != Status::ok) {
        return report_error(exit_failure, "move from queue '" + source_name + "' to queue '" + destination_name +
                                              "' on broker '" + client->broker_name() + "' stopped after " +
                                              std::to_string(outcome.moved) + " messages: " +
                                              status_text(outcome.status) +
                                              (outcome.detail.empty() ? "" : "; " + outcome.detail));
    }
    std::cout << "moved " << outcome.moved << " messages from queue '" << source_name << "' to queue '"
              << destination_name << "'\n";
    return exit_ok;
}

}  // namespace shmq::cli
