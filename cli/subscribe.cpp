// shmq subscribe TOPIC: print every message published to a topic from now
// on, as they arrive.
#include <cstdint>
#include <system_error>

#include "cli/commands.hpp"
#include "cli/connection.hpp"
#include "cli/diagnostics.hpp"
#include "cli/message_output.hpp"
#include "cli/receive_limits.hpp"

namespace shmq::cli {

namespace {

// Prints messages until `limits.count` were printed (ok) or a read fails
// (that status); `printed` counts them. Each is written straight from the
// segment (a View). Standard output is flushed whenever no message is
// waiting, so that a quiet topic's messages show at once and a busy one's go
// out in blocks.
Status print_messages(Subscription& subscription, const ReceiveLimits& limits, Framing framing,
                      std::uint64_t& printed) {
    View view;
    while (!limits.count || printed < *limits.count) {
        Status status = subscription.read(view, no_wait);
        if (status == Status::empty) {
            flush_output();
            status = subscription.read(view, limits.timeout);
        }
        if (status != Status::ok) return status;
        write_message(static_cast<const char*>(view.data()), view.size(), framing, false);
        ++printed;
    }
    return Status::ok;
}

}  // namespace

int run_subscribe(const Arguments& arguments, const std::string& broker) {
    SubcommandParser parser("subscribe", "TOPIC [options]",
                            "Subscribes to TOPIC and prints each message published to it from then on on\n"
                            "standard output, one per line or as --framing says. Other subscribers receive the same messages.\n"
                            "On a topic whose slow_subscriber is drop, messages this command cannot keep up\n"
                            "with are lost; it says how many on standard error when it ends.",
                            broker);
    add_receive_options(parser);
    parser.add_options()
        ("from-history", integer_at_least("from-history", 0)->value_name("N"),
         "first print up to N of the latest messages published before subscribing (at most the topic's "
         "configured history); default: 0");
    parser.add_positional("topic", po::value<std::string>(), 1, true);
    po::variables_map variables;
    if (const auto done = parser.parse(arguments, variables)) return *done;

    const auto topic_name = variables["topic"].as<std::string>();
    const auto client = attach_or_report(variables["broker"].as<std::string>());
    if (!client) return exit_failure;
    SubscribeOptions options;
    if (variables.count("from-history")) {
        const auto history = variables["from-history"].as<std::int64_t>();
        options.from_history = history > UINT32_MAX ? UINT32_MAX : static_cast<std::uint32_t>(history);
    }
    Subscription subscription;
    if (!subscribe_or_report(*client, topic_name, options, subscription)) return exit_failure;

    const ReceiveLimits limits = receive_limits(variables);
    std::uint64_t printed = 0;
    Status status;
    try {
        status = print_messages(subscription, limits, framing_of(variables), printed);
        // Whatever happened, what was received must reach stdout before exiting.
        flush_output();
    } catch (const std::system_error& failure) {
        return report_error(exit_failure, failure.what());
    }
    const auto lost = subscription.lost();
    const std::string losses = lost == 0 ? "" : ", " + std::to_string(lost) + " lost (it could not keep up)";
    const std::string where = "topic '" + topic_name + "' on broker '" + client->broker_name() + "'";
    if (status == Status::ok || drained(limits, status, printed)) {
        return lost == 0 ? exit_ok : report_error(exit_ok, "subscription to " + where + ": " + std::to_string(printed) +
                                                               " messages received" + losses);
    }
    return report_error(no_message_in_time(status) ? exit_timeout : exit_failure,
                        "subscription to " + where + " stopped after " + std::to_string(printed) +
                            (limits.count ? " of " + std::to_string(*limits.count) : std::string()) + " messages" +
                            losses + ": " + status_text(status));
}

}  // namespace shmq::cli
