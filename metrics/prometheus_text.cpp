#include "metrics/prometheus_text.hpp"

#include <algorithm>
#include <cstdint>
#include <sstream>
#include <utility>
#include <vector>

namespace shmq::metrics {

namespace {

// A label value with backslash, double quote and newline escaped, as the
// format requires.
std::string escaped(const std::string& value) {
    std::string text;
    for (const char c : value) {
        if (c == '\\' || c == '"') {
            text += '\\';
            text += c;
        } else if (c == '\n') {
            text += "\\n";
        } else {
            text += c;
        }
    }
    return text;
}

using Labels = std::vector<std::pair<std::string, std::string>>;

// Every value shmq exposes is a whole number: written as one, never rounded
// through a double.
// Writes one metric family: HELP and TYPE once, then one sample per item.
class Exposition {
public:
    explicit Exposition(std::string broker) : broker_(std::move(broker)) {}

    template <typename Items, typename Sample>
    void family(const char* name, const char* type, const char* help, const Items& items, Sample sample) {
        if (items.empty()) return;
        out_ << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
        for (const auto& item : items) {
            Labels labels;
            const std::uint64_t value = sample(item, labels);
            write_sample(name, labels, value);
        }
    }

    void single(const char* name, const char* type, const char* help, std::uint64_t value) {
        out_ << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
        write_sample(name, {}, value);
    }

    std::string text() const { return out_.str(); }

private:
    void write_sample(const char* name, const Labels& labels, std::uint64_t value) {
        out_ << name << "{broker=\"" << escaped(broker_) << "\"";
        for (const auto& [key, label_value] : labels) out_ << "," << key << "=\"" << escaped(label_value) << "\"";
        out_ << "} " << value << "\n";
    }

    std::string broker_;
    std::ostringstream out_;
};

// The reason label of a quarantine gauge: "none" while in service, so that
// every queue's series has the same labels.
std::string reason_label(bool quarantined, const std::string& reason) { return quarantined ? reason : "none"; }

struct Subscriber {
    const TopicStats* topic;
    const SubscriberStats* subscriber;
};

}  // namespace

std::string prometheus_text(const BrokerStats& stats) {
    Exposition metrics(stats.broker);
    metrics.single("shmq_broker_up", "gauge", "Whether the broker's process is running (1) or not (0).",
                   stats.broker_alive ? 1 : 0);
    metrics.single("shmq_segment_bytes", "gauge", "Size of the broker's shared-memory segment.",
                   static_cast<std::uint64_t>(stats.segment_size));
    metrics.single("shmq_broker_uptime_seconds", "gauge",
                   "Seconds the running broker has served its segment (0 when it is not running).",
                   stats.uptime_ms / 1000);
    metrics.single("shmq_clients_attached", "gauge", "Clients attached to the broker.",
                   static_cast<std::uint64_t>(stats.clients.size()));
    metrics.single("shmq_clients_reclaimed_total", "counter",
                   "Clients that died attached and whose records the broker reclaimed, since the segment was built.",
                   stats.reclaimed_clients);
    const auto quarantined = [](const auto& items) {
        return static_cast<std::uint64_t>(
            std::count_if(items.begin(), items.end(), [](const auto& item) { return item.quarantined; }));
    };
    metrics.single("shmq_queues_quarantined", "gauge", "Queues found damaged and taken out of service.",
                   quarantined(stats.queues));
    metrics.single("shmq_topics_quarantined", "gauge", "Topics found damaged and taken out of service.",
                   quarantined(stats.topics));

    // A queue or topic of a group this user is not in has no counters to show.
    std::vector<QueueStats> queues;
    for (const auto& queue : stats.queues) {
        if (queue.accessible) queues.push_back(queue);
    }
    using Q = QueueStats;
    const auto queue_metric = [&](const char* name, const char* type, const char* help, auto field) {
        metrics.family(name, type, help, queues, [field](const Q& queue, Labels& labels) {
            labels.emplace_back("queue", queue.name);
            return static_cast<std::uint64_t>(field(queue));
        });
    };
    queue_metric("shmq_queue_depth", "gauge", "Messages waiting in the queue.", [](const Q& q) { return q.depth; });
    queue_metric("shmq_queue_capacity", "gauge", "Messages the queue holds at most.", [](const Q& q) { return q.capacity; });
    queue_metric("shmq_queue_max_message_bytes", "gauge", "Largest message the queue takes.",
                 [](const Q& q) { return q.max_message_size; });
    metrics.family("shmq_queue_quarantined", "gauge",
                   "Whether the queue was found damaged and taken out of service, and why (reason).", queues,
                   [](const Q& queue, Labels& labels) {
                       labels.emplace_back("queue", queue.name);
                       labels.emplace_back("reason", reason_label(queue.quarantined, queue.quarantine_reason));
                       return queue.quarantined ? 1 : 0;
                   });
    queue_metric("shmq_queue_removed", "gauge",
                 "Whether a reload removed the queue: it takes no more messages and is being drained.",
                 [](const Q& q) { return q.removed ? 1 : 0; });
    queue_metric("shmq_queue_enqueued_total", "counter", "Messages sent to the queue.", [](const Q& q) { return q.enqueued; });
    queue_metric("shmq_queue_dequeued_total", "counter", "Messages taken from the queue.", [](const Q& q) { return q.dequeued; });
    queue_metric("shmq_queue_rejected_total", "counter", "Sends refused because the queue was full (overflow reject).",
                 [](const Q& q) { return q.rejected; });
    queue_metric("shmq_queue_dropped_total", "counter", "Messages discarded to make room (overflow drop_oldest).",
                 [](const Q& q) { return q.dropped; });
    queue_metric("shmq_queue_abandoned_total", "counter", "Messages whose producer died while writing them.",
                 [](const Q& q) { return q.abandoned; });
    queue_metric("shmq_queue_lost_total", "counter", "at_most_once messages whose consumer died while reading them.",
                 [](const Q& q) { return q.lost_in_read; });
    queue_metric("shmq_queue_redelivered_total", "counter", "at_least_once deliveries handed out again.",
                 [](const Q& q) { return q.redelivered; });
    queue_metric("shmq_queue_dead_lettered_total", "counter", "Messages moved to the dead-letter queue.",
                 [](const Q& q) { return q.dead_lettered; });
    queue_metric("shmq_queue_producers", "gauge", "Attached clients that sent to the queue.",
                 [](const Q& q) { return q.producers; });
    queue_metric("shmq_queue_consumers", "gauge", "Attached clients that received from the queue.",
                 [](const Q& q) { return q.consumers; });
    // A side declared single is leased to one thread of one client: 0 says
    // nobody sends (receives) there now, what an alert on a dead worker needs.
    struct SingleSide {
        const Q* queue;
        const char* side;
        bool held;
    };
    std::vector<SingleSide> single_sides;
    for (const auto& queue : queues) {
        if (queue.producers_sharing == "single") single_sides.push_back({&queue, "producer", queue.producer_lease_pid != 0});
        if (queue.consumers_sharing == "single") single_sides.push_back({&queue, "consumer", queue.consumer_lease_pid != 0});
    }
    metrics.family("shmq_queue_single_side_held", "gauge",
                   "Of a queue side declared single (producers: single, consumers: single): whether a client holds it.",
                   single_sides, [](const SingleSide& single, Labels& labels) {
                       labels.emplace_back("queue", single.queue->name);
                       labels.emplace_back("side", single.side);
                       return single.held ? 1 : 0;
                   });

    std::vector<TopicStats> topics;
    for (const auto& topic : stats.topics) {
        if (topic.accessible) topics.push_back(topic);
    }
    using T = TopicStats;
    const auto topic_metric = [&](const char* name, const char* type, const char* help, auto field) {
        metrics.family(name, type, help, topics, [field](const T& topic, Labels& labels) {
            labels.emplace_back("topic", topic.name);
            return static_cast<std::uint64_t>(field(topic));
        });
    };
    topic_metric("shmq_topic_published_total", "counter", "Messages published to the topic.",
                 [](const T& t) { return t.published; });
    topic_metric("shmq_topic_abandoned_total", "counter", "Publications never completed (publisher died, loan cancelled).",
                 [](const T& t) { return t.abandoned; });
    topic_metric("shmq_topic_dropped_total", "counter", "Messages subscribers lost under slow_subscriber drop.",
                 [](const T& t) { return t.dropped; });
    topic_metric("shmq_topic_subscriptions_total", "counter", "Subscriptions made to the topic.",
                 [](const T& t) { return t.subscriptions; });
    topic_metric("shmq_topic_publishers", "gauge", "Attached clients that published to the topic.",
                 [](const T& t) { return t.publishers; });
    topic_metric("shmq_topic_removed", "gauge", "Whether a reload removed the topic: it takes no more messages.",
                 [](const T& t) { return t.removed ? 1 : 0; });
    topic_metric("shmq_topic_subscribers", "gauge", "Active subscriptions to the topic.",
                 [](const T& t) { return t.subscribers.size(); });
    metrics.family("shmq_topic_quarantined", "gauge",
                   "Whether the topic was found damaged and taken out of service, and why (reason).", topics,
                   [](const T& topic, Labels& labels) {
                       labels.emplace_back("topic", topic.name);
                       labels.emplace_back("reason", reason_label(topic.quarantined, topic.quarantine_reason));
                       return topic.quarantined ? 1 : 0;
                   });

    std::vector<Subscriber> subscribers;
    for (const auto& topic : topics) {
        for (const auto& subscriber : topic.subscribers) subscribers.push_back({&topic, &subscriber});
    }
    using S = Subscriber;
    const auto subscriber_metric = [&](const char* name, const char* type, const char* help, auto field) {
        metrics.family(name, type, help, subscribers, [field](const S& s, Labels& labels) {
            labels.emplace_back("topic", s.topic->name);
            labels.emplace_back("subscriber", std::to_string(s.subscriber->record));
            labels.emplace_back("pid", std::to_string(s.subscriber->pid));
            labels.emplace_back("program", s.subscriber->program);
            return static_cast<std::uint64_t>(field(*s.subscriber));
        });
    };
    subscriber_metric("shmq_subscriber_lag", "gauge", "Messages published that the subscriber has not read yet.",
                      [](const SubscriberStats& s) { return s.lag; });
    subscriber_metric("shmq_subscriber_received_total", "counter", "Messages delivered to the subscriber.",
                      [](const SubscriberStats& s) { return s.received; });
    subscriber_metric("shmq_subscriber_lost_total", "counter", "Messages the subscriber lost under slow_subscriber drop.",
                      [](const SubscriberStats& s) { return s.lost; });
    return metrics.text();
}

}  // namespace shmq::metrics
