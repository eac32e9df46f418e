// `shmqd --config FILE --reload` (systemd's ExecReload=): asks the broker
// that FILE configures, running as this same user, to reload its
// configuration, through its segment's ReloadExchange, and waits for the
// answer.
#pragma once

#include <string>

#include "common/reload_exchange.hpp"
#include "config/broker_config.hpp"

namespace shmq::daemon {

// ok with the broker's `answer`; otherwise `error` says why it could not be
// asked (no segment, one of another user, no answer in time, ...).
Status ask_running_broker_to_reload(const config::BrokerConfig& config, ReloadAnswer& answer, std::string& error);

}  // namespace shmq::daemon
