// The JSON `shmq stats --json` and `shmq list --json` print: one object per
// snapshot, its schema documented in docs/operations.md and versioned by
// "schema" (raised only when a member changes meaning or goes away; new
// members may appear at any time).
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>

#include "shmq/client.hpp"

namespace shmq::cli {

inline constexpr int stats_schema_version = 1;

// Everything: counters, subscribers, clients, the broker.
nlohmann::ordered_json stats_json(const BrokerStats& stats, std::chrono::system_clock::time_point taken);
// What `list` shows: each queue's and topic's configuration and depth.
nlohmann::ordered_json list_json(const BrokerStats& stats, std::chrono::system_clock::time_point taken);

// The object as text: indented for people, or on one line (--watch prints
// one object per line). Bytes that are not UTF-8 (a client's program name is
// whatever it says) become U+FFFD rather than invalid JSON.
std::string json_text(const nlohmann::ordered_json& object, bool one_line);

}  // namespace shmq::cli
