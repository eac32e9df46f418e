// shmq stats: every queue's and topic's counters, each topic's subscribers,
// the attached clients, and the broker's own state, as tables or as one JSON
// object.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <thread>

#include "cli/commands.hpp"
#include "cli/connection.hpp"
#include "cli/diagnostics.hpp"
#include "metrics/prometheus_text.hpp"
#include "cli/stats_json.hpp"
#include "cli/subcommand_parser.hpp"
#include "cli/table.hpp"

namespace shmq::cli {

namespace {

void print_queue_table(const std::vector<QueueStats>& queues) {
    using Align = Table::Align;
    std::vector<Table::Column> columns{{"QUEUE", Align::left},
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
                 {"QUARANTINED", Align::left}};
    const bool show_removed = any_removed(queues);
    if (show_removed) columns.push_back({"REMOVED", Align::left});
    Table table(columns);
    for (const auto& queue : queues) {
        std::vector<std::string> row{queue.name, "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"};
        if (queue.accessible) {
            row = {queue.name, std::to_string(queue.depth), std::to_string(queue.enqueued),
                   std::to_string(queue.dequeued), std::to_string(queue.rejected), std::to_string(queue.dropped),
                   std::to_string(queue.abandoned), std::to_string(queue.lost_in_read),
                   std::to_string(queue.redelivered), std::to_string(queue.dead_lettered),
                   std::to_string(queue.producers), std::to_string(queue.consumers),
                   quarantine_cell(queue.quarantined, queue.quarantine_reason)};
        }
        if (show_removed) row.push_back(queue.accessible ? removed_cell(queue.removed) : "-");
        table.add_row(row);
    }
    table.print(std::cout);
}

void print_topic_table(const std::vector<TopicStats>& topics) {
    using Align = Table::Align;
    std::vector<Table::Column> columns{{"TOPIC", Align::left},
                 {"PUBLISHED", Align::right},
                 {"ABANDONED", Align::right},
                 {"DROPPED", Align::right},
                 {"PUBLISHERS", Align::right},
                 {"SUBSCRIBERS", Align::right},
                 {"SUBSCRIPTIONS", Align::right},
                 {"QUARANTINED", Align::left}};
    const bool show_removed = any_removed(topics);
    if (show_removed) columns.push_back({"REMOVED", Align::left});
    Table table(columns);
    for (const auto& topic : topics) {
        std::vector<std::string> row{topic.name, "-", "-", "-", "-", "-", "-", "-"};
        if (topic.accessible) {
            row = {topic.name, std::to_string(topic.published), std::to_string(topic.abandoned),
                   std::to_string(topic.dropped), std::to_string(topic.publishers),
                   std::to_string(topic.subscribers.size()), std::to_string(topic.subscriptions),
                   quarantine_cell(topic.quarantined, topic.quarantine_reason)};
        }
        if (show_removed) row.push_back(topic.accessible ? removed_cell(topic.removed) : "-");
        table.add_row(row);
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

}  // namespace

int run_stats(const Arguments& arguments, const std::string& broker) {
    SubcommandParser parser("stats", "[options]",
                            "Prints each queue's counters (depth, enqueued, dequeued, rejected, dropped,\n"
                            "abandoned, lost_in_read, redelivered, dead_lettered, producers, consumers,\n"
                            "quarantined); each topic's counters (published, abandoned, dropped, publishers,\n"
                            "subscribers, subscriptions ever, quarantined) and each of its subscribers (its\n"
                            "process, lag: messages published it has not read yet, received, lost under\n"
                            "slow_subscriber drop, views held); the attached clients (this command is one of\n"
                            "them while it runs); and the broker's pid, liveness, epoch and segment size.\n"
                            "Once a reload removed a queue or topic, a REMOVED column says which.",
                            broker);
    parser.add_options()
        ("json", "print one JSON object (with a timestamp; schema in docs/operations.md) instead of tables; "
                 "with --watch, one object per line")
        ("prometheus", "print the Prometheus text exposition format instead of tables (for node exporter's "
                       "textfile collector)")
        ("watch", po::value<double>()->value_name("SECONDS"),
         "print again every SECONDS seconds until interrupted");
    parser.set_epilog("Exit status: 0 on success; 1 when the broker cannot be reached or its process\n"
                      "is not running; 2 for a usage error.");
    po::variables_map variables;
    if (const auto done = parser.parse(arguments, variables)) return *done;
    if (variables.count("json") && variables.count("prometheus")) {
        return parser.usage_error("--json and --prometheus exclude each other");
    }
    const auto every = variables.count("watch") ? variables["watch"].as<double>() : 0.0;
    if (variables.count("watch") && !(every > 0 && every <= 86400)) {
        return parser.usage_error("--watch takes a number of seconds above 0 and at most 86400");
    }

    const auto client = attach_or_report(variables["broker"].as<std::string>());
    if (!client) return exit_failure;
    for (;;) {
        const auto taken = std::chrono::system_clock::now();
        const auto stats = client->stats();
        if (!stats.broker_alive) return report_broker_not_running(stats);
        if (variables.count("json")) {
            std::cout << json_text(stats_json(stats, taken), variables.count("watch") != 0) << std::endl;
        } else if (variables.count("prometheus")) {
            std::cout << metrics::prometheus_text(stats) << std::flush;
        } else {
            print_text(stats);
            std::cout << std::flush;
        }
        if (!variables.count("watch")) return exit_ok;
        std::this_thread::sleep_for(std::chrono::duration<double>(every));
        if (!variables.count("json")) std::cout << "\n";
    }
}

}  // namespace shmq::cli
