#include "bridge/broker_link.hpp"

#include <thread>

#include "bridge/logging.hpp"

namespace shmq::bridge {

Client* BrokerLink::attach(const std::atomic<bool>& stop) {
    if (client_) return client_.get();
    AttachOptions options;
    options.broker = broker_;
    options.broker_owner = broker_owner_;
    options.program = "shmq-bridge";
    bool reported = false;
    while (!stop.load()) {
        std::string error;
        const Status status = Client::attach(options, client_, &error);
        if (status == Status::ok) {
            const auto stats = client_->stats();
            broker_run_ = std::to_string(stats.broker_pid) + "-" + std::to_string(stats.broker_epoch);
            BRIDGE_LOG(info) << "route " << route_ << ": attached to broker " << client_->broker_name() << " (run "
                             << broker_run_ << ")";
            return client_.get();
        }
        client_.reset();
        if (!reported) {
            BRIDGE_LOG(warning) << "route " << route_ << ": cannot attach to the shmq broker: " << to_string(status)
                                << (error.empty() ? "" : ": " + error) << "; retrying";
            reported = true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return nullptr;
}

}  // namespace shmq::bridge
