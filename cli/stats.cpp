// shmq stats: every queue's and topic's counters, each topic's subscribers,
// the attached clients, and the broker's own state, as tables or as one JSON
// object.
#include <algorithm>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/connection.hpp"
#include "cli/diagnostics.hpp"
#include "cli/json_writer.hpp"
#include "cli/subcommand_parser.hpp"
#include "cli/table.hpp"

namespace shmq::cli {

namespace {

void print_queue_table(const std::vector<QueueStats>& queues) {
    using Align = Table::Align;
    Table table({{"QUEUE", Align::left},
                 {"DEPTH", Align::right},
                 {"ENQUEUED", Align::right},
                 {"DEQUEUED", Align::right},
                 {"REJECTED", Align::right},
                 {"DROPPED", Align::right},
                 {"ABANDONED", Align::right},
                 {"LOST_IN_READ", Align::right},
                 {"REDELIVERED", Align::right},
                 {"DEAD_LETTERED", Align::right},
                 {"PRODUCERS", Align::right},
                 {"CONSUMERS", Align::right},
                 {"QUARANTINED", Align::left}});
    for (const auto& queue : queues) {
        if (!queue.accessible) {
            table.add_row({queue.name, "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"});
            continue;
        }
        table.add_row({queue.name, std::to_string(queue.depth), std::to_string(queue.enqueued),
                       std::to_string(queue.dequeued), std::to_string(queue.rejected), std::to_string(queue.dropped),
                       std::to_string(queue.abandoned), std::to_string(queue.lost_in_read),
                       std::to_string(queue.redelivered), std::to_string(queue.dead_lettered),
                       std::to_string(queue.producers), std::to_string(queue.consumers),
                       queue.quarantined ? "yes" : "no"});
    }
    table.print(std::cout);
}

void print_topic_table(const std::vector<TopicStats>& topics) {
    using Align = Table::Align;
    Table table({{"TOPIC", Align::left},
                 {"PUBLISHED", Align::right},
                 {"ABANDONED", Align::right},
                 {"DROPPED", Align::right},
                 {"PUBLISHERS", Align::right},
                 {"SUBSCRIBERS", Align::right},
                 {"SUBSCRIPTIONS", Align::right},
                 {"QUARANTINED", Align::left}});
    for (const auto& topic : topics) {
        if (!topic.accessible) {
            table.add_row({topic.name, "-", "-", "-", "-", "-", "-", "-"});
            continue;
        }
        table.add_row({topic.name, std::to_string(topic.published), std::to_string(topic.abandoned),
                       std::to_string(topic.dropped), std::to_string(topic.publishers),
                       std::to_string(topic.subscribers.size()), std::to_string(topic.subscriptions),
                       topic.quarantined ? "yes" : "no"});
    }
    table.print(std::cout);
}

// One row per subscription, so that a lagging or losing subscriber (and its
// process) stands out.
void print_subscriber_table(const std::vector<TopicStats>& topics) {
    using Align = Table::Align;
    Table table({{"TOPIC", Align::left},
                 {"SUBSCRIBER", Align::right},
                 {"PID", Align::right},
                 {"PROGRAM", Align::left},
                 {"LAG", Align::right},
                 {"RECEIVED", Align::right},
                 {"LOST", Align::right},
                 {"VIEWS", Align::right}});
    for (const auto& topic : topics) {
        for (const auto& subscriber : topic.subscribers) {
            table.add_row({topic.name, std::to_string(subscriber.record), std::to_string(subscriber.pid),
                           subscriber.program, std::to_string(subscriber.lag), std::to_string(subscriber.received),
                           std::to_string(subscriber.lost), std::to_string(subscriber.views)});
        }
    }
    table.print(std::cout);
}

void print_client_table(const std::vector<ClientInfo>& clients) {
    using Align = Table::Align;
    Table table({{"RECORD", Align::right}, {"PID", Align::right}, {"PROGRAM", Align::left},
                 {"ATTACHED_MS", Align::right}});
    for (const auto& client : clients) {
        table.add_row({std::to_string(client.record), std::to_string(client.pid), client.program,
                       std::to_string(client.attached_ms)});
    }
    table.print(std::cout);
}

// A restricted queue or topic this user may not open is shown, not hidden:
// its row has no counters, and this says why.
void print_denied(const BrokerStats& stats) {
    for (const auto& queue : stats.queues) {
        if (!queue.accessible) {
            std::cout << "queue '" << queue.name << "' is restricted to group '" << queue.access_group
                      << "'; this user may not open it\n";
        }
    }
    for (const auto& topic : stats.topics) {
        if (!topic.accessible) {
            std::cout << "topic '" << topic.name << "' is restricted to group '" << topic.access_group
                      << "'; this user may not open it\n";
        }
    }
}

void print_text(const BrokerStats& stats) {
    std::cout << "broker '" << stats.broker << "': pid " << stats.broker_pid << " ("
              << (stats.broker_alive ? "alive" : "not running") << "), epoch " << stats.broker_epoch << ", segment "
              << stats.segment_size << " bytes\n\n";
    print_queue_table(stats.queues);
    std::cout << "\n";
    print_denied(stats);
    if (!stats.topics.empty()) {
        print_topic_table(stats.topics);
        std::cout << "\n";
    }
    const bool subscribed = std::any_of(stats.topics.begin(), stats.topics.end(),
                                        [](const TopicStats& topic) { return !topic.subscribers.empty(); });
    if (subscribed) {
        print_subscriber_table(stats.topics);
        std::cout << "\n";
    }
    print_client_table(stats.clients);
}

void write_queue_json(JsonWriter& json, const QueueStats& queue) {
    json.begin_object()
        .key("name").string(queue.name)
        .key("capacity").number(queue.capacity)
        .key("max_message_size").number(queue.max_message_size)
        .key("overflow").string(queue.overflow)
        .key("delivery").string(queue.delivery)
        .key("quarantined").boolean(queue.quarantined)
        .key("depth").number(queue.depth)
        .key("enqueued").number(queue.enqueued)
        .key("dequeued").number(queue.dequeued)
        .key("rejected").number(queue.rejected)
        .key("dropped").number(queue.dropped)
        .key("abandoned").number(queue.abandoned)
        .key("lost_in_read").number(queue.lost_in_read)
        .key("redelivered").number(queue.redelivered)
        .key("dead_lettered").number(queue.dead_lettered)
        .key("producers").number(queue.producers)
        .key("consumers").number(queue.consumers)
        .key("access_group").string(queue.access_group)
        .key("accessible").boolean(queue.accessible)
        .end_object();
}

void write_topic_json(JsonWriter& json, const TopicStats& topic) {
    json.begin_object()
        .key("name").string(topic.name)
        .key("capacity").number(topic.capacity)
        .key("max_message_size").number(topic.max_message_size)
        .key("history").number(topic.history)
        .key("max_subscribers").number(topic.max_subscribers)
        .key("slow_subscriber").string(topic.slow_subscriber)
        .key("quarantined").boolean(topic.quarantined)
        .key("published").number(topic.published)
        .key("abandoned").number(topic.abandoned)
        .key("dropped").number(topic.dropped)
        .key("subscriptions").number(topic.subscriptions)
        .key("publishers").number(topic.publishers)
        .key("access_group").string(topic.access_group)
        .key("accessible").boolean(topic.accessible);
    json.key("subscribers").begin_array();
    for (const auto& subscriber : topic.subscribers) {
        json.begin_object()
            .key("record").number(subscriber.record)
            .key("client_record").number(subscriber.client_record)
            .key("pid").number(subscriber.pid)
            .key("program").string(subscriber.program)
            .key("lag").number(subscriber.lag)
            .key("received").number(subscriber.received)
            .key("lost").number(subscriber.lost)
            .key("views").number(subscriber.views)
            .end_object();
    }
    json.end_array();
    json.end_object();
}

void write_client_json(JsonWriter& json, const ClientInfo& client) {
    json.begin_object()
        .key("record").number(client.record)
        .key("pid").number(client.pid)
        .key("program").string(client.program)
        .key("attached_ms").number(client.attached_ms)
        .end_object();
}

void print_json(const BrokerStats& stats) {
    JsonWriter json(std::cout);
    json.begin_object()
        .key("broker").string(stats.broker)
        .key("broker_pid").number(stats.broker_pid)
        .key("broker_alive").boolean(stats.broker_alive)
        .key("epoch").number(stats.broker_epoch)
        .key("segment_size").number(stats.segment_size);
    json.key("queues").begin_array();
    for (const auto& queue : stats.queues) write_queue_json(json, queue);
    json.end_array();
    json.key("topics").begin_array();
    for (const auto& topic : stats.topics) write_topic_json(json, topic);
    json.end_array();
    json.key("clients").begin_array();
    for (const auto& client : stats.clients) write_client_json(json, client);
    json.end_array();
    json.end_object();
    std::cout << "\n";
}

}  // namespace

int run_stats(const Arguments& arguments, const std::string& broker) {
    SubcommandParser parser("stats", "[options]",
                            "Prints each queue's counters (depth, enqueued, dequeued, rejected, dropped,\n"
                            "abandoned, lost_in_read, redelivered, dead_lettered, producers, consumers,\n"
                            "quarantined); each topic's counters (published, abandoned, dropped, publishers,\n"
                            "subscribers, subscriptions ever, quarantined) and each of its subscribers (its\n"
                            "process, lag: messages published it has not read yet, received, lost under\n"
                            "slow_subscriber drop, views held); the attached clients (this command is one of\n"
                            "them while it runs); and the broker's pid, liveness, epoch and segment size.",
                            broker);
    parser.add_options()("json", "print one JSON object instead of tables");
    parser.set_epilog("Exit status: 0 on success; 1 when the broker cannot be reached; 2 for a\n"
                      "usage error.");
    po::variables_map variables;
    if (const auto done = parser.parse(arguments, variables)) return *done;

    const auto client = attach_or_report(variables["broker"].as<std::string>());
    if (!client) return exit_failure;
    const auto stats = client->stats();
    if (variables.count("json")) {
        print_json(stats);
    } else {
        print_text(stats);
    }
    return exit_ok;
}

}  // namespace shmq::cli
