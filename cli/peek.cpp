// shmq peek QUEUE: print waiting messages without taking them.
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include "cli/commands.hpp"
#include "cli/connection.hpp"
#include "cli/diagnostics.hpp"
#include "cli/message_output.hpp"
#include "cli/subcommand_parser.hpp"

namespace shmq::cli {

int run_peek(const Arguments& arguments, const std::string& broker) {
    SubcommandParser parser("peek", "QUEUE [options]",
                            "Prints up to --count messages waiting in QUEUE, oldest first, without taking\n"
                            "them: the queue is left as it was, and consumers may take messages meanwhile\n"
                            "(one taken while it was read is left out). Works on a dead-letter queue.\n"
                            "Deliveries awaiting redelivery are not shown.",
                            broker);
    parser.add_options()("count", integer_at_least("count", 1)->default_value(10)->value_name("N"),
                         "print at most N messages");
    add_framing_option(parser, /*reading=*/false);
    parser.add_positional("queue", po::value<std::string>(), 1, true);
    parser.set_epilog("Exit status: 0 when it could look (an empty queue prints nothing); 1 otherwise;\n"
                      "2 for a usage error.");
    po::variables_map variables;
    if (const auto done = parser.parse(arguments, variables)) return *done;

    const auto queue_name = variables["queue"].as<std::string>();
    const auto client = attach_or_report(variables["broker"].as<std::string>());
    if (!client) return exit_failure;
    Queue queue;
    if (!open_queue_or_report(*client, queue_name, queue)) return exit_failure;

    std::vector<std::string> messages;
    const Status status = queue.peek(static_cast<std::size_t>(variables["count"].as<std::int64_t>()), messages);
    if (status != Status::ok) {
        return report_error(exit_failure, "peek at queue '" + queue_name + "' on broker '" + client->broker_name() +
                                              "' failed: " + status_text(status));
    }
    const auto framing = framing_of(variables);
    try {
        for (const auto& message : messages) write_message(message.data(), message.size(), framing, false);
        flush_output();
    } catch (const std::system_error& failure) {
        return report_error(exit_failure, failure.what());
    }
    return exit_ok;
}

}  // namespace shmq::cli
