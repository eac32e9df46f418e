#include "cli/stats_json.hpp"

#include <ctime>

namespace shmq::cli {

namespace {

using json = nlohmann::ordered_json;

// RFC 3339 in UTC with milliseconds, e.g. "2026-11-29T14:05:09.123Z".
std::string rfc3339(std::chrono::system_clock::time_point when) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
    const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    char text[40];
    // std::gmtime's static result is fine in this single-threaded tool.
    const auto length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", std::gmtime(&seconds));
    return std::string(text, length) + "." + std::to_string(1000 + ms % 1000).substr(1) + "Z";
}

json header(const BrokerStats& stats, std::chrono::system_clock::time_point taken) {
    return json{{"schema", stats_schema_version},
                {"timestamp", rfc3339(taken)},
                {"timestamp_ms", std::chrono::duration_cast<std::chrono::milliseconds>(taken.time_since_epoch()).count()},
                {"broker", stats.broker},
                {"broker_pid", stats.broker_pid},
                {"broker_alive", stats.broker_alive}};
}

json queue_configuration(const QueueStats& queue) {
    return json{{"name", queue.name},
                {"capacity", queue.capacity},
                {"max_message_size", queue.max_message_size},
                {"overflow", queue.overflow},
                {"delivery", queue.delivery},
                {"producers_sharing", queue.producers_sharing},
                {"consumers_sharing", queue.consumers_sharing},
                {"producer_lease_pid", queue.producer_lease_pid},
                {"consumer_lease_pid", queue.consumer_lease_pid},
                {"quarantined", queue.quarantined},
                {"quarantine_reason", queue.quarantine_reason},
                {"removed", queue.removed},
                {"depth", queue.depth},
                {"access_group", queue.access_group},
                {"accessible", queue.accessible},
                {"read_only", queue.read_only}};
}

json topic_configuration(const TopicStats& topic) {
    return json{{"name", topic.name},
                {"capacity", topic.capacity},
                {"max_message_size", topic.max_message_size},
                {"history", topic.history},
                {"max_subscribers", topic.max_subscribers},
                {"slow_subscriber", topic.slow_subscriber},
                {"quarantined", topic.quarantined},
                {"quarantine_reason", topic.quarantine_reason},
                {"removed", topic.removed},
                {"subscribers", topic.subscribers.size()},
                {"access_group", topic.access_group},
                {"accessible", topic.accessible},
                {"read_only", topic.read_only}};
}

json queue_counters(const QueueStats& queue) {
    auto object = queue_configuration(queue);
    object.update(json{{"enqueued", queue.enqueued},
                       {"dequeued", queue.dequeued},
                       {"rejected", queue.rejected},
                       {"dropped", queue.dropped},
                       {"abandoned", queue.abandoned},
                       {"lost_in_read", queue.lost_in_read},
                       {"redelivered", queue.redelivered},
                       {"dead_lettered", queue.dead_lettered},
                       {"producers", queue.producers},
                       {"consumers", queue.consumers}});
    return object;
}

json topic_counters(const TopicStats& topic) {
    auto object = topic_configuration(topic);
    json subscribers = json::array();
    for (const auto& subscriber : topic.subscribers) {
        subscribers.push_back(json{{"record", subscriber.record},
                                   {"client_record", subscriber.client_record},
                                   {"pid", subscriber.pid},
                                   {"program", subscriber.program},
                                   {"lag", subscriber.lag},
                                   {"received", subscriber.received},
                                   {"lost", subscriber.lost},
                                   {"views", subscriber.views}});
    }
    object.update(json{{"published", topic.published},
                       {"abandoned", topic.abandoned},
                       {"dropped", topic.dropped},
                       {"subscriptions", topic.subscriptions},
                       {"publishers", topic.publishers},
                       {"subscribers", std::move(subscribers)}});
    return object;
}

}  // namespace

json stats_json(const BrokerStats& stats, std::chrono::system_clock::time_point taken) {
    auto object = header(stats, taken);
    object["epoch"] = stats.broker_epoch;
    object["segment_size"] = stats.segment_size;
    object["queues"] = json::array();
    for (const auto& queue : stats.queues) object["queues"].push_back(queue_counters(queue));
    object["topics"] = json::array();
    for (const auto& topic : stats.topics) object["topics"].push_back(topic_counters(topic));
    object["clients"] = json::array();
    for (const auto& client : stats.clients) {
        object["clients"].push_back(json{{"record", client.record},
                                         {"pid", client.pid},
                                         {"program", client.program},
                                         {"attached_ms", client.attached_ms}});
    }
    return object;
}

std::string json_text(const json& object, bool one_line) {
    return object.dump(one_line ? -1 : 2, ' ', false, json::error_handler_t::replace);
}

json list_json(const BrokerStats& stats, std::chrono::system_clock::time_point taken) {
    auto object = header(stats, taken);
    object["queues"] = json::array();
    for (const auto& queue : stats.queues) object["queues"].push_back(queue_configuration(queue));
    object["topics"] = json::array();
    for (const auto& topic : stats.topics) object["topics"].push_back(topic_configuration(topic));
    return object;
}

}  // namespace shmq::cli
