// shmq publish QUEUE [MESSAGE...]: send the arguments, or stdin's lines.
#include <algorithm>
#include <cstdint>
#include <string_view>
#include <system_error>
#include <unistd.h>

#include "cli/commands.hpp"
#include "cli/connection.hpp"
#include "cli/diagnostics.hpp"
#include "cli/line_reader.hpp"
#include "cli/subcommand_parser.hpp"

namespace shmq::cli {

namespace {

// Sends messages in order, batch by batch, counting what went out.
class Publisher {
public:
    Publisher(Queue& queue, Timeout timeout) : queue_(queue), timeout_(timeout) {}

    // Sends every message before the first one too large for the queue, then
    // reports that one. (send_batch would refuse the whole batch, so what
    // went out would depend on where the input happened to be cut.)
    Status send(const std::vector<OutgoingMessage>& messages) {
        const auto too_large = std::find_if(messages.begin(), messages.end(), [&](const OutgoingMessage& message) {
            return message.size > queue_.max_message_size();
        });
        const Status status = send_all(messages.data(), static_cast<std::size_t>(too_large - messages.begin()));
        if (status != Status::ok) return status;
        return too_large == messages.end() ? Status::ok : Status::message_too_large;
    }

    std::uint64_t sent() const { return sent_; }

private:
    // The timeout is per message, but send_batch's covers the whole call: a
    // call that timed out after sending some is therefore retried, so that
    // only a message that itself waited the full timeout fails.
    Status send_all(const OutgoingMessage* messages, std::size_t count) {
        std::size_t done = 0;
        while (done < count) {
            std::size_t moved = 0;
            const Status status = queue_.send_batch(messages + done, count - done, moved, timeout_);
            done += moved;
            sent_ += moved;
            if (status != Status::ok && !(status == Status::timeout && moved > 0)) return status;
        }
        return Status::ok;
    }

    Queue& queue_;
    Timeout timeout_;
    std::uint64_t sent_ = 0;
};

template <typename Texts>
std::vector<OutgoingMessage> outgoing(const Texts& texts) {
    std::vector<OutgoingMessage> messages;
    messages.reserve(texts.size());
    for (const auto& text : texts) messages.push_back({text.data(), text.size()});
    return messages;
}

// Every line that has arrived goes out as one batch.
Status publish_stdin(Publisher& publisher, std::uint32_t max_message_size) {
    LineReader reader(STDIN_FILENO);
    std::vector<std::string_view> lines;
    while (reader.next_lines(lines)) {
        const Status status = publisher.send(outgoing(lines));
        if (status != Status::ok) return status;
        // Refuse an oversized line as soon as it is known to be one, rather
        // than buffering it whole (think of `shmq publish q < /dev/zero`).
        if (reader.partial_line_size() > max_message_size) return Status::message_too_large;
    }
    return Status::ok;
}

}  // namespace

int run_publish(const Arguments& arguments, const std::string& broker) {
    SubcommandParser parser("publish", "QUEUE [MESSAGE...] [options]",
                            "Sends each MESSAGE to QUEUE, in order. Without any MESSAGE, sends each line of\n"
                            "standard input as one message (without its newline; an empty line is an empty\n"
                            "message). Put -- before messages that begin with '-'.",
                            broker);
    parser.add_options()
        ("timeout", integer_at_least("timeout", 0)->value_name("MS"),
         "give up when a message finds no room for MS milliseconds (0: do not wait); default: wait as long as "
         "it takes");
    parser.add_positional("queue", po::value<std::string>(), 1, true);
    parser.add_positional("message", po::value<std::vector<std::string>>(), -1, false);
    parser.set_epilog("Exit status: 0 when every message was sent; 1 otherwise, with the reason and\n"
                      "how many messages were sent before it; 2 for a usage error.");
    po::variables_map variables;
    if (const auto done = parser.parse(arguments, variables)) return *done;

    const auto queue_name = variables["queue"].as<std::string>();
    const auto client = attach_or_report(variables["broker"].as<std::string>());
    if (!client) return exit_failure;
    Queue queue;
    if (!open_queue_or_report(*client, queue_name, queue)) return exit_failure;

    Publisher publisher(queue, timeout_option(variables, "timeout"));
    Status status;
    try {
        status = variables.count("message")
                     ? publisher.send(outgoing(variables["message"].as<std::vector<std::string>>()))
                     : publish_stdin(publisher, queue.max_message_size());
    } catch (const std::system_error& failure) {
        return report_error(exit_failure, std::string(failure.what()) + " after " +
                                              std::to_string(publisher.sent()) + " messages were sent");
    }
    if (status == Status::ok) return exit_ok;
    return report_error(exit_failure, "publish to queue '" + queue_name + "' on broker '" + client->broker_name() +
                                          "' failed after " + std::to_string(publisher.sent()) +
                                          " messages were sent: " + status_text(status));
}

}  // namespace shmq::cli
