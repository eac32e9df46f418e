#include "cli/connection.hpp"

#include "cli/diagnostics.hpp"

namespace shmq::cli {

std::unique_ptr<Client> attach_or_report(const std::string& broker) {
    AttachOptions options;
    options.broker = broker;
    std::unique_ptr<Client> client;
    std::string error;
    const Status status = Client::attach(options, client, &error);
    if (status != Status::ok) {
        report_error(exit_failure, error.empty() ? "broker '" + broker + "': " + status_text(status) : error);
        return nullptr;
    }
    return client;
}

bool open_queue_or_report(Client& client, const std::string& name, Queue& queue) {
    const Status status = client.open_queue(name, queue);
    if (status == Status::ok) return true;
    const std::string restricted = client.access_error(name);
    report_error(exit_failure, "queue '" + name + "' on broker '" + client.broker_name() + "': " + status_text(status) +
                                   (restricted.empty() ? "" : " (" + restricted + ")"));
    return false;
}

namespace {
bool topic_failure(const Client& client, const std::string& name, Status status) {
    const std::string restricted = client.access_error(name);
    report_error(exit_failure, "topic '" + name + "' on broker '" + client.broker_name() + "': " + status_text(status) +
                                   (restricted.empty() ? "" : " (" + restricted + ")"));
    return false;
}
}  // namespace

bool open_topic_or_report(Client& client, const std::string& name, Topic& topic) {
    const Status status = client.open_topic(name, topic);
    return status == Status::ok || topic_failure(client, name, status);
}

bool subscribe_or_report(Client& client, const std::string& name, const SubscribeOptions& options,
                         Subscription& subscription) {
    const Status status = client.subscribe(name, subscription, options);
    return status == Status::ok || topic_failure(client, name, status);
}

int report_broker_not_running(const BrokerStats& stats) {
    return report_error(exit_failure, "broker '" + stats.broker + "' is not running: its process (pid " +
                                          std::to_string(stats.broker_pid) +
                                          ") has exited; its segment waits for the next shmqd, which adopts it");
}

// The queue handle does not expose its delivery mode; the statistics do.
bool is_at_least_once(const Client& client, const std::string& name) {
    for (const auto& stats : client.stats().queues) {
        if (stats.name == name) return stats.delivery == "at_least_once";
    }
    return false;
}

}  // namespace shmq::cli
