// shmq consume QUEUE: print messages as they arrive.
#include <cstdint>
#include <system_error>
#include <vector>

#include "cli/commands.hpp"
#include "cli/connection.hpp"
#include "cli/diagnostics.hpp"
#include "cli/message_output.hpp"
#include "cli/receive_limits.hpp"

namespace shmq::cli {

namespace {

// Receives and prints messages until `limits.count` were printed (ok) or a
// receive or acknowledge fails (that status). `printed` counts them.
Status print_messages(Queue& queue, bool acknowledge, const ReceiveLimits& limits, Framing framing,
                      std::uint64_t& printed) {
    std::vector<char> buffer(queue.max_message_size());
    while (!limits.count || printed < *limits.count) {
        std::size_t size = 0;
        std::uint64_t delivery = 0;
        const Status received = queue.receive(buffer.data(), buffer.size(), size, limits.timeout, &delivery);
        if (received != Status::ok) return received;
        // Flushed before it is acknowledged, so that it is really written.
        write_message(buffer.data(), size, framing, acknowledge);
        ++printed;
        if (acknowledge) {
            const Status acknowledged = queue.acknowledge(delivery);
            if (acknowledged != Status::ok) return acknowledged;
        }
    }
    return Status::ok;
}

}  // namespace

int run_consume(const Arguments& arguments, const std::string& broker) {
    SubcommandParser parser("consume", "QUEUE [options]",
                            "Receives messages from QUEUE and prints each on standard output, one per line\n"
                            "or as --framing says. On an at_least_once queue each message is acknowledged\n"
                            "only once it is written.",
                            broker);
    add_receive_options(parser);
    parser.add_positional("queue", po::value<std::string>(), 1, true);
    po::variables_map variables;
    if (const auto done = parser.parse(arguments, variables)) return *done;

    const auto queue_name = variables["queue"].as<std::string>();
    const auto client = attach_or_report(variables["broker"].as<std::string>());
    if (!client) return exit_failure;
    Queue queue;
    if (!open_queue_or_report(*client, queue_name, queue)) return exit_failure;

    const bool acknowledge = is_at_least_once(*client, queue_name);
    const ReceiveLimits limits = receive_limits(variables);
    std::uint64_t printed = 0;
    Status status;
    try {
        status = print_messages(queue, acknowledge, limits, framing_of(variables), printed);
        // Whatever happened, what was received must reach stdout before exiting.
        flush_output();
    } catch (const std::system_error& failure) {
        return report_error(exit_failure, failure.what());
    }
    if (status == Status::ok || drained(limits, status, printed)) return exit_ok;
    return report_error(no_message_in_time(status) ? exit_timeout : exit_failure,
                        "consume from queue '" + queue_name + "' on broker '" + client->broker_name() +
                            "' stopped after " + std::to_string(printed) +
                            (limits.count ? " of " + std::to_string(*limits.count) : std::string()) +
                            " messages: " + status_text(status));
}

}  // namespace shmq::cli
