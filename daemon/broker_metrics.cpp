// What the metrics endpoint serves: the broker's statistics, gathered by the
// same code as the client library's (common/broker_stats.hpp), straight from
// the segments this broker maps.
#include "common/broker_stats.hpp"
#include "common/logging.hpp"
#include "daemon/broker.hpp"
#include "metrics/prometheus_text.hpp"

namespace shmq::daemon {

// The queues and topics of an access group come from that group's segment
// and its live segments, as a client in every group would see them, those
// a reload added or changed from the live segments; the clients from the
// main segment's table, where every client attaches.
BrokerStats Broker::stats() const {
    const std::lock_guard<std::mutex> hold(segments_mutex_);
    auto stats = gather_stats(view_, config_.name);
    const auto add = [&](const Broker& part, const std::string& group) {
        auto more = gather_stats(part.view_, config_.name);
        for (auto& queue : more.queues) {
            queue.access_group = group;
            stats.queues.push_back(std::move(queue));
        }
        for (auto& topic : more.topics) {
            topic.access_group = group;
            stats.topics.push_back(std::move(topic));
        }
    };
    for (const auto& part : access_brokers_) {
        add(*part, part->config_.group);
        for (const auto& live : part->live_brokers_) add(*live, part->config_.group);
    }
    for (const auto& part : live_brokers_) add(*part, {});
    return stats;
}

void Broker::serve_metrics(std::unique_ptr<MetricsServer> server) {
    metrics_ = std::move(server);
    metrics_->start([this] { return metrics::prometheus_text(stats()); });
    SHMQ_LOG(info) << "serving metrics on " << metrics_->url();
}

}  // namespace shmq::daemon
