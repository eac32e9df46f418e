// shmq list: the broker's queues and topics and how each is configured.
#include <algorithm>
#include <chrono>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/connection.hpp"
#include "cli/diagnostics.hpp"
#include "cli/stats_json.hpp"
#include "cli/subcommand_parser.hpp"
#include "cli/table.hpp"

namespace shmq::cli {

namespace {

// "all", or the group a queue or topic is restricted to, marked when this
// user may not open it (its other columns are then unknown: "-"), or may
// only read it (one of the group's readers).
template <typename Stats>
std::string access_of(const Stats& stats) {
    if (stats.access_group.empty()) return "all";
    return "group:" + stats.access_group + (!stats.accessible ? "(denied)" : stats.read_only ? "(read-only)" : "");
}

bool any_single(const std::vector<QueueStats>& queues) {
    return std::any_of(queues.begin(), queues.end(), [](const QueueStats& queue) {
        return queue.producers_sharing == "single" || queue.consumers_sharing == "single";
    });
}

// "producer", "consumer" or "producer,consumer": the sides one client at a
// time may use, each with the pid holding it ("producer(pid 42)"); "-" for none.
std::string single_cell(const QueueStats& queue) {
    std::string cell;
    const auto side = [&](const std::string& sharing, const char* name, std::int32_t pid) {
        if (sharing != "single") return;
        if (!cell.empty()) cell += ",";
        cell += name;
        if (pid != 0) cell += "(pid " + std::to_string(pid) + ")";
    };
    side(queue.producers_sharing, "producer", queue.producer_lease_pid);
    side(queue.consumers_sharing, "consumer", queue.consumer_lease_pid);
    return cell.empty() ? "-" : cell;
}

template <typename Stats>
bool any_restricted(const std::vector<Stats>& all) {
    return std::any_of(all.begin(), all.end(), [](const Stats& one) { return !one.access_group.empty(); });
}

// The ACCESS column appears only for a broker with restricted queues or topics.
void print_queues(const std::vector<QueueStats>& queues, bool show_access) {
    using Align = Table::Align;
    std::vector<Table::Column> columns{{"NAME", Align::left},
                                       {"CAPACITY", Align::right},
                                       {"DEPTH", Align::right},
                                       {"MAX_MESSAGE_SIZE", Align::right},
                                       {"OVERFLOW", Align::left},
                                       {"DELIVERY", Align::left},
                                       {"QUARANTINED", Align::left}};
    const bool show_removed = any_removed(queues);
    if (show_removed) columns.push_back({"REMOVED", Align::left});
    const bool show_single = any_single(queues);
    if (show_single) columns.push_back({"SINGLE", Align::left});
    if (show_access) columns.push_back({"ACCESS", Align::left});
    Table table(columns);
    for (const auto& queue : queues) {
        std::vector<std::string> row{queue.name, std::to_string(queue.capacity), std::to_string(queue.depth),
                                     std::to_string(queue.max_message_size), queue.overflow, queue.delivery,
                                     quarantine_cell(queue.quarantined, queue.quarantine_reason)};
        if (!queue.accessible) row = {queue.name, "-", "-", "-", "-", "-", "-"};
        if (show_removed) row.push_back(queue.accessible ? removed_cell(queue.removed) : "-");
        if (show_single) row.push_back(queue.accessible ? single_cell(queue) : "-");
        if (show_access) row.push_back(access_of(queue));
        table.add_row(row);
    }
    table.print(std::cout);
}

void print_topics(const std::vector<TopicStats>& topics, bool show_access) {
    using Align = Table::Align;
    std::vector<Table::Column> columns{{"TOPIC", Align::left},
                                       {"CAPACITY", Align::right},
                                       {"MAX_MESSAGE_SIZE", Align::right},
                                       {"HISTORY", Align::right},
                                       {"SLOW_SUBSCRIBER", Align::left},
                                       {"SUBSCRIBERS", Align::right},
                                       {"MAX_SUBSCRIBERS", Align::right},
                                       {"QUARANTINED", Align::left}};
    const bool show_removed = any_removed(topics);
    if (show_removed) columns.push_back({"REMOVED", Align::left});
    if (show_access) columns.push_back({"ACCESS", Align::left});
    Table table(columns);
    for (const auto& topic : topics) {
        std::vector<std::string> row{topic.name,
                                     std::to_string(topic.capacity),
                                     std::to_string(topic.max_message_size),
                                     std::to_string(topic.history),
                                     topic.slow_subscriber,
                                     std::to_string(topic.subscribers.size()),
                                     std::to_string(topic.max_subscribers),
                                     quarantine_cell(topic.quarantined, topic.quarantine_reason)};
        if (!topic.accessible) row = {topic.name, "-", "-", "-", "-", "-", "-", "-"};
        if (show_removed) row.push_back(topic.accessible ? removed_cell(topic.removed) : "-");
        if (show_access) row.push_back(access_of(topic));
        table.add_row(row);
    }
    table.print(std::cout);
}

}  // namespace

int run_list(const Arguments& arguments, const std::string& broker) {
    SubcommandParser parser("list", "[options]",
                            "Prints a table of the broker's queues: name, capacity, messages waiting (depth),\n"
                            "largest message in bytes, overflow policy, delivery mode and whether it is\n"
                            "quarantined (found damaged, out of service: \"yes (REASON)\"); then, if it has\n"
                            "topics, a table of "
                            "those: name, capacity, largest message, history a late subscriber may ask for,\n"
                            "slow-subscriber policy, subscribers now and at most, quarantined. A broker of\n"
                            "topics only prints just the topic table. When some queues or topics are\n"
                            "restricted to a group, an ACCESS column says which (\"group:G(denied)\" when\n"
                            "you are not in G). Once a reload removed a queue or topic, a REMOVED column says\n"
                            "which (\"yes\": it takes no more messages; what is left is still received).\n"
                            "When a queue admits one producer or one consumer at a time (producers: single,\n"
                            "consumers: single), a SINGLE column says which, and the pid holding each\n"
                            "(\"producer(pid 42),consumer\").",
                            broker);
    parser.add_options()("json", "print one JSON object (with a timestamp; schema in docs/operations.md) instead "
                                 "of tables");
    parser.set_epilog("Exit status: 0 on success; 1 when the broker cannot be reached or its process\n"
                      "is not running; 2 for a usage error.");
    po::variables_map variables;
    if (const auto done = parser.parse(arguments, variables)) return *done;

    const auto client = attach_or_report(variables["broker"].as<std::string>());
    if (!client) return exit_failure;
    const auto stats = client->stats();
    if (!stats.broker_alive) return report_broker_not_running(stats);
    if (variables.count("json")) {
        std::cout << json_text(list_json(stats, std::chrono::system_clock::now()), false) << std::endl;
        return exit_ok;
    }
    const bool show_access = any_restricted(stats.queues) || any_restricted(stats.topics);
    // A broker of topics only shows no empty queue table.
    if (!stats.queues.empty() || stats.topics.empty()) print_queues(stats.queues, show_access);
    if (!stats.topics.empty()) {
        if (!stats.queues.empty()) std::cout << "\n";
        print_topics(stats.topics, show_access);
    }
    return exit_ok;
}

}  // namespace shmq::cli
