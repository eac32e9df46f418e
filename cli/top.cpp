// shmq top: a live view of the broker, refreshed in place like top(1): per
// queue the rates in and out, depth and fill, consumers and redeliveries; per
// topic the publish rate and the slowest subscriber's lag; attached clients.
// Rates are differences between two snapshots of the counters divided by the
// time between them, so the first screen shows totals only.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "cli/commands.hpp"
#include "cli/connection.hpp"
#include "cli/diagnostics.hpp"
#include "cli/subcommand_parser.hpp"
#include "cli/table.hpp"

namespace shmq::cli {

namespace {

using Clock = std::chrono::steady_clock;

// The counters a rate is computed from, by queue or topic name.
struct Previous {
    Clock::time_point taken;
    std::map<std::string, QueueStats> queues;
    std::map<std::string, TopicStats> topics;
};

std::string rate(std::uint64_t now, std::uint64_t before, double seconds) {
    if (seconds <= 0 || now < before) return "-";
    std::ostringstream text;
    text.setf(std::ios::fixed);
    text.precision(0);
    text << static_cast<double>(now - before) / seconds;
    return text.str();
}

std::string percent(std::uint64_t part, std::uint64_t whole) {
    if (whole == 0) return "-";
    return std::to_string(part * 100 / whole) + "%";
}

void print_screen(const BrokerStats& stats, const Previous* previous, Clock::time_point taken, double interval) {
    const double seconds = previous ? std::chrono::duration<double>(taken - previous->taken).count() : 0;
    // Home the cursor and clear the screen, as top(1) does between frames.
    std::cout << "\x1b[H\x1b[2J";
    std::cout << "shmq top - broker '" << stats.broker << "' pid " << stats.broker_pid << " ("
              << (stats.broker_alive ? "running" : "NOT RUNNING") << "), " << stats.clients.size()
              << " clients attached, refresh every " << interval << " s; Ctrl-C quits\n\n";
    using Align = Table::Align;
    Table queues({{"QUEUE", Align::left},
                  {"IN/S", Align::right},
                  {"OUT/S", Align::right},
                  {"DEPTH", Align::right},
                  {"FILL", Align::right},
                  {"CONSUMERS", Align::right},
                  {"REDELIVER/S", Align::right},
                  {"STATE", Align::left}});
    for (const auto& queue : stats.queues) {
        const QueueStats* before = nullptr;
        if (previous) {
            const auto found = previous->queues.find(queue.name);
            if (found != previous->queues.end()) before = &found->second;
        }
        queues.add_row({queue.name, before ? rate(queue.enqueued, before->enqueued, seconds) : "-",
                        before ? rate(queue.dequeued, before->dequeued, seconds) : "-", std::to_string(queue.depth),
                        percent(queue.depth, queue.capacity), std::to_string(queue.consumers),
                        before ? rate(queue.redelivered, before->redelivered, seconds) : "-",
                        queue.quarantined ? "QUARANTINED (" + queue.quarantine_reason + ")" : "ok"});
    }
    queues.print(std::cout);
    if (!stats.topics.empty()) {
        std::cout << "\n";
        Table topics({{"TOPIC", Align::left},
                      {"PUBLISH/S", Align::right},
                      {"SUBSCRIBERS", Align::right},
                      {"SLOWEST_LAG", Align::right},
                      {"LOST", Align::right},
                      {"STATE", Align::left}});
        for (const auto& topic : stats.topics) {
            const TopicStats* before = nullptr;
            if (previous) {
                const auto found = previous->topics.find(topic.name);
                if (found != previous->topics.end()) before = &found->second;
            }
            std::uint64_t slowest = 0;
            std::uint64_t lost = 0;
            for (const auto& subscriber : topic.subscribers) {
                slowest = std::max(slowest, subscriber.lag);
                lost += subscriber.lost;
            }
            topics.add_row({topic.name, before ? rate(topic.published, before->published, seconds) : "-",
                            std::to_string(topic.subscribers.size()),
                            topic.subscribers.empty() ? "-" : std::to_string(slowest), std::to_string(lost),
                            topic.quarantined ? "QUARANTINED (" + topic.quarantine_reason + ")" : "ok"});
        }
        topics.print(std::cout);
    }
    std::cout << std::flush;
}

}  // namespace

int run_top(const Arguments& arguments, const std::string& broker) {
    SubcommandParser parser("top", "[options]",
                            "Shows the broker live, refreshed in place: per queue the messages sent and\n"
                            "taken per second, depth and how full it is, consumers, redeliveries per second\n"
                            "and whether it is quarantined; per topic the messages published per second,\n"
                            "subscribers, the slowest subscriber's lag and messages lost; the attached\n"
                            "clients. Rates need two snapshots: the first screen shows '-'.",
                            broker);
    parser.add_options()
        ("interval", po::value<double>()->default_value(1.0)->value_name("SECONDS"), "refresh every SECONDS seconds")
        ("iterations", integer_at_least("iterations", 1)->value_name("N"), "stop after N screens; default: until Ctrl-C");
    parser.set_epilog("Exit status: 0 after N screens, or when interrupted; 1 when the broker cannot be\n"
                      "reached or its process stops running; 2 for a usage error.");
    po::variables_map variables;
    if (const auto done = parser.parse(arguments, variables)) return *done;
    const auto interval = variables["interval"].as<double>();
    if (!(interval >= 0.05 && interval <= 3600)) return parser.usage_error("--interval takes 0.05 to 3600 seconds");
    const auto iterations = variables.count("iterations") ? variables["iterations"].as<std::int64_t>() : -1;

    const auto client = attach_or_report(variables["broker"].as<std::string>());
    if (!client) return exit_failure;
    Previous previous;
    for (std::int64_t screen = 0; iterations < 0 || screen < iterations; ++screen) {
        if (screen > 0) std::this_thread::sleep_for(std::chrono::duration<double>(interval));
        const auto taken = Clock::now();
        const auto stats = client->stats();
        if (!stats.broker_alive) return report_broker_not_running(stats);
        print_screen(stats, screen > 0 ? &previous : nullptr, taken, interval);
        previous.taken = taken;
        previous.queues.clear();
        previous.topics.clear();
        for (const auto& queue : stats.queues) previous.queues[queue.name] = queue;
        for (const auto& topic : stats.topics) previous.topics[topic.name] = topic;
    }
    return exit_ok;
}

}  // namespace shmq::cli
