// Attaching to the broker and opening a queue or a topic, with the error line
// a user sees when any of it fails.
#pragma once

#include <memory>
#include <string>

#include "shmq/client.hpp"

namespace shmq::cli {

// Attaches to `broker`. On failure reports the library's own explanation
// (which names the broker) and returns null.
std::unique_ptr<Client> attach_or_report(const std::string& broker);

// Opens queue `name`. On failure reports it, naming the queue and the broker,
// and returns false.
bool open_queue_or_report(Client& client, const std::string& name, Queue& queue);

// Opens topic `name` for publishing, or subscribes to it. On failure reports
// it, naming the topic and the broker, and returns false.
bool open_topic_or_report(Client& client, const std::string& name, Topic& topic);
bool subscribe_or_report(Client& client, const std::string& name, const SubscribeOptions& options,
                         Subscription& subscription);

// Reports that the broker's process is not running (its segment outlived it)
// and returns exit_failure.
int report_broker_not_running(const BrokerStats& stats);

// Whether queue `name` hands out deliveries that must be acknowledged.
bool is_at_least_once(const Client& client, const std::string& name);

}  // namespace shmq::cli
