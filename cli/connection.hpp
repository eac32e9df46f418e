// Attaching to the broker and opening a queue, with the error line a user
// sees when either fails.
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

// Whether queue `name` hands out deliveries that must be acknowledged.
bool is_at_least_once(const Client& client, const std::string& name);

}  // namespace shmq::cli
