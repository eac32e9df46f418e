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
    for (std::size_t group = 0; group < access_brokers_.size() && group < listing_.groups.size(); ++group) {
        add(*access_brokers_[group], listing_.groups[group]);
        for (const auto& live : access_brokers_[group]->live_brokers_) add(*live, listing_.groups[group]);
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
