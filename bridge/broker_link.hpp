// A route's attachment to shmqd: attaches, and after broker_stopped (or
// client_reclaimed) attaches again, waiting as long as no broker runs.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "shmq/client.hpp"

namespace shmq::bridge {

class BrokerLink {
public:
    BrokerLink(std::string broker, std::string broker_owner, std::string route)
        : broker_(std::move(broker)), broker_owner_(std::move(broker_owner)), route_(std::move(route)) {}

    // Attached, or nullptr once `stop` is set. Logs the first failure of a
    // run of them and the recovery, not every retry.
    Client* attach(const std::atomic<bool>& stop);
    Client* client() const { return client_.get(); }
    // Drops the attachment (the broker stopped or reclaimed us).
    void detach() { client_.reset(); }
    // Broker pid and epoch: which broker run handed out a delivery.
    const std::string& broker_run() const { return broker_run_; }

private:
    std::string broker_, broker_owner_, route_;
    std::unique_ptr<Client> client_;
    std::string broker_run_;
};

// True for the statuses after which only a new attachment helps.
inline bool needs_reattach(Status status) {
    return status == Status::broker_stopped || status == Status::client_reclaimed;
}

}  // namespace shmq::bridge
