// Builds a broker's segment from its configuration: sizes it, creates it with
// the configured permissions, reserves its memory, and lays out every
// structure of common/layout.hpp before any client may attach.
#pragma once

#include <boost/interprocess/managed_shared_memory.hpp>
#include <cstdint>
#include <memory>

#include "config/broker_config.hpp"

namespace shmq::daemon {

// The bytes the segment needs for `config`, heap bookkeeping included.
std::uint64_t required_segment_size(const config::BrokerConfig& config);

// Creates the segment (it must not exist) and builds the layout in it. The
// root is left in state `initializing`; the broker marks it ready.
// Throws std::runtime_error naming the segment on any failure.
std::unique_ptr<boost::interprocess::managed_shared_memory> build_segment(const config::BrokerConfig& config);

// True when the queues laid out in an existing segment are exactly those the
// configuration asks for, so its messages can be kept. Otherwise `difference`
// says what changed.
bool segment_matches_config(const boost::interprocess::managed_shared_memory& segment,
                            const config::BrokerConfig& config, std::string& difference);

}  // namespace shmq::daemon
