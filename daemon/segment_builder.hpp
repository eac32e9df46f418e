// Builds a broker's segment from its configuration: sizes it, creates it with
// the configured permissions, reserves its memory, and lays out every
// structure of common/layout.hpp before any client may attach.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/access_listing.hpp"
#include "common/segment_mapping.hpp"
#include "common/segment_view.hpp"
#include "config/broker_config.hpp"
#include "platform/file_access.hpp"

namespace shmq::daemon {

// A failure that one configuration key decides (the group does not exist,
// the permissions cannot be set), so that the operator is told which key to
// change.
class SettingError : public std::runtime_error {
public:
    SettingError(const std::string& what, std::string key) : std::runtime_error(what), key_(std::move(key)) {}
    const std::string& key() const { return key_; }

private:
    std::string key_;
};

// Where the configured broker's segment lives: its persist_path, else its name.
std::string segment_address(const config::BrokerConfig& config);

// The bytes the segment needs for `config`: exactly what build_segment lays out.
std::uint64_t required_segment_size(const config::BrokerConfig& config);

// The configuration key that decides where the segment lives: "persist_path"
// or "name".
const char* segment_address_key(const config::BrokerConfig& config);

// Who may open the segment of `config` at `path`: its permissions, its group,
// and the group that may only read it. Throws SettingError for a group that
// does not exist.
platform::FileAccess segment_access(const config::BrokerConfig& config, const std::string& path);

// Creates the segment file at the file-system `path` (it must not exist) and
// builds the layout in it. The root is left in state `initializing`; the
// broker gives the file its real name and marks it ready. Throws
// std::runtime_error naming the segment on any failure.
// `access` is what the root lists of the restricted queues and topics kept
// in other segments (the main segment's; empty for those).
std::unique_ptr<SegmentMapping> build_segment(const config::BrokerConfig& config, const std::string& path,
                                              const AccessListing& access);

// True when the queues and topics laid out in an existing, validated segment
// are exactly those the configuration asks for, so its messages can be kept.
// Otherwise `difference` says what changed.
bool segment_matches_config(const SegmentView& view, const config::BrokerConfig& config, const AccessListing& access,
                            std::string& difference);

// Writes the configured max_deliveries and ack_timeout_ms into an adopted
// segment whose queues match the configuration: they move no
// message, so a restart may change them. Clients copy them when they attach:
// the view must be validated again to see them, and clients attached before
// the restart keep the old ones until they attach again. Returns what
// changed, one line per setting ("queue 'jobs': max_deliveries 5 -> 3").
std::vector<std::string> apply_delivery_settings(SegmentView& view, const config::BrokerConfig& config);

}  // namespace shmq::daemon
