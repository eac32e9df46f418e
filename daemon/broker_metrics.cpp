// What the metrics endpoint serves: the broker's statistics, gathered by the
// same code as the client library's (common/broker_stats.hpp), straight from
// the segments this broker maps.
#include "common/broker_stats.hpp"
#include "common/logging.hpp"
#include "daemon/broker.hpp"
#include "metrics/prometheus_text.hpp"

namespace shmq::daemon {

// The queues and topics of an access group come from that group's segment,
// as a client in every group would see them, those a reload added from the
// live segments; the clients from the main segment's table, where every
// client attaches.
BrokerStats Broker::stats() const {
    const std::lock_guard<std::mutex> hold(segments_mutex_);
    auto stats = gather_stats(view_, config_.name);
    for (std::size_t group = 0; group < access_brokers_.size() && group < listing_.groups.size(); ++group) {
        auto part = gather_stats(access_brokers_[group]->view_, config_.name);
        for (auto& queue : part.queues) {
            queue.access_group = listing_.groups[group];
            stats.queues.push_back(std::move(queue));
        }
        for (auto& topic : part.topics) {
            topic.access_group = listing_.groups[group];
            stats.topics.push_back(std::move(topic));
        }
    }
    for (const auto& part : live_brokers_) {
        auto live = gather_stats(part->view_, config_.name);
        for (auto& queue : live.queues) stats.queues.push_back(std::move(queue));
        for (auto& topic : live.topics) stats.topics.push_back(std::move(topic));
    }
    return stats;
}

void Broker::serve_metrics(std::unique_ptr<MetricsServer> server) {
    metrics_ = std::move(server);
    metrics_->start([this] { return metrics::prometheus_text(stats()); });
    SHMQ_LOG(info) << "serving metrics on " << metrics_->url();
}

}  // namespace shmq::daemon
