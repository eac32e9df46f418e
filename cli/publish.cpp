// shmq publish QUEUE [MESSAGE...] or shmq publish --topic TOPIC [MESSAGE...]:
// send the arguments, or stdin's lines.
#include <algorithm>
#include <cstdint>
#include <string_view>
#include <system_error>

#include "cli/commands.hpp"
#include "cli/connection.hpp"
#include "cli/diagnostics.hpp"
#include "cli/message_reader.hpp"
#include "cli/subcommand_parser.hpp"

namespace shmq::cli {

namespace {

// Sends messages in order, to a queue batch by batch or to a topic one by
// one, counting what went out.
class Publisher {
public:
    Publisher(Queue& queue, Timeout timeout)
        : queue_(&queue), max_message_size_(queue.max_message_size()), timeout_(timeout) {}
    Publisher(Topic& topic, Timeout timeout)
        : topic_(&topic), max_message_size_(topic.max_message_size()), timeout_(timeout) {}

    // Sends every message before the first one too large, then reports that
    // one. (send_batch would refuse the whole batch, so what went out would
    // depend on where the input happened to be cut.)
    Status send(const std::vector<OutgoingMessage>& messages) {
        const auto too_large = std::find_if(messages.begin(), messages.end(), [&](const OutgoingMessage& message) {
            return message.size > max_message_size_;
        });
        const auto count = static_cast<std::size_t>(too_large - messages.begin());
        const Status status = topic_ != nullptr ? publish_all(messages.data(), count) : send_all(messages.data(), count);
        if (status != Status::ok) return status;
        return too_large == messages.end() ? Status::ok : Status::message_too_large;
    }

    std::uint64_t sent() const { return sent_; }
    std::uint32_t max_message_size() const { return max_message_size_; }

private:
    // The timeout is per message, but send_batch's covers the whole call: a
    // call that timed out after sending some is therefore retried, so that
    // only a message that itself waited the full timeout fails.
    Status send_all(const OutgoingMessage* messages, std::size_t count) {
        std::size_t done = 0;
        while (done < count) {
            std::size_t moved = 0;
            const Status status = queue_->send_batch(messages + done, count - done, moved, timeout_);
            done += moved;
            sent_ += moved;
            if (status != Status::ok && !(status == Status::timeout && moved > 0)) return status;
        }
        return Status::ok;
    }

    Status publish_all(const OutgoingMessage* messages, std::size_t count) {
        for (std::size_t i = 0; i < count; ++i) {
            const Status status = topic_->publish(messages[i].data, messages[i].size, timeout_);
            if (status != Status::ok) return status;
            ++sent_;
        }
        return Status::ok;
    }

    Queue* queue_ = nullptr;
    Topic* topic_ = nullptr;
    std::uint32_t max_message_size_;
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

// Every message that has arrived goes out as one batch.
Status publish_stdin(Publisher& publisher, Framing framing) {
    MessageReader reader(framing);
    std::vector<std::string_view> messages;
    while (reader.next_messages(messages)) {
        const Status status = publisher.send(outgoing(messages));
        if (status != Status::ok) return status;
        // Refuse an oversized message as soon as it is known to be one, rather
        // than buffering it whole (think of `shmq publish q < /dev/zero`).
        if (reader.partial_message_size() > publisher.max_message_size()) return Status::message_too_large;
    }
    return Status::ok;
}

}  // namespace

int run_publish(const Arguments& arguments, const std::string& broker) {
    SubcommandParser parser("publish", "QUEUE [MESSAGE...] [options]\n   or: shmq publish --topic TOPIC [MESSAGE...] [options]",
                            "Sends each MESSAGE to QUEUE, or with --topic to every subscriber of TOPIC, in\n"
                            "order. Without any MESSAGE, sends each line of standard input as one message\n"
                            "(without its newline; an empty line is an empty message), or each message\n"
                            "--framing finds there. Put -- before messages that begin with '-'.",
                            broker);
    parser.add_options()
        ("topic", po::value<std::string>()->value_name("TOPIC"),
         "publish to topic TOPIC instead of a queue; every argument is then a message")
        ("timeout", integer_at_least("timeout", 0)->value_name("MS"),
         "give up when a message finds no room for MS milliseconds (0: do not wait); default: wait as long as "
         "it takes. A topic whose slow_subscriber is block has room once its slowest subscriber has read the "
         "oldest message");
    add_framing_option(parser, /*reading=*/true);
    // With --topic there is no QUEUE: the first argument is a message.
    parser.add_positional("queue", po::value<std::string>(), 1, false);
    parser.add_positional("message", po::value<std::vector<std::string>>(), -1, false);
    parser.set_epilog("Exit status: 0 when every message was sent; 1 otherwise, with the reason and\n"
                      "how many messages were sent before it; 2 for a usage error.");
    po::variables_map variables;
    if (const auto done = parser.parse(arguments, variables)) return *done;

    const bool to_topic = variables.count("topic") != 0;
    if (!to_topic && !variables.count("queue")) return parser.usage_error("missing QUEUE argument (or --topic TOPIC)");
    std::vector<std::string> messages;
    if (to_topic && variables.count("queue")) messages.push_back(variables["queue"].as<std::string>());
    if (variables.count("message")) {
        const auto& rest = variables["message"].as<std::vector<std::string>>();
        messages.insert(messages.end(), rest.begin(), rest.end());
    }
    const auto target = variables[to_topic ? "topic" : "queue"].as<std::string>();
    const auto client = attach_or_report(variables["broker"].as<std::string>());
    if (!client) return exit_failure;
    Queue queue;
    Topic topic;
    if (to_topic ? !open_topic_or_report(*client, target, topic) : !open_queue_or_report(*client, target, queue)) {
        return exit_failure;
    }

    const auto timeout = timeout_option(variables, "timeout");
    Publisher publisher = to_topic ? Publisher(topic, timeout) : Publisher(queue, timeout);
    Status status;
    try {
        status = messages.empty() ? publish_stdin(publisher, framing_of(variables)) : publisher.send(outgoing(messages));
    } catch (const std::exception& failure) {  // reading failed, or input not in the framing
        return report_error(exit_failure, std::string(failure.what()) + " after " +
                                              std::to_string(publisher.sent()) + " messages were sent");
    }
    if (status == Status::ok) return exit_ok;
    return report_error(exit_failure, std::string("publish to ") + (to_topic ? "topic '" : "queue '") + target +
                                          "' on broker '" + client->broker_name() + "' failed after " +
                                          std::to_string(publisher.sent()) + " messages were sent: " +
                                          status_text(status));
}

}  // namespace shmq::cli
