// Internal to shmq_config: the format-neutral middle of the loaders.
//
// Each loader (YAML, INI) only deals with its own syntax: it turns the file
// into RawConfig, the keys and value texts as written plus the line of each.
// build_config() then converts and checks those values once, for both
// formats, so the two cannot drift apart in what they accept.
#pragma once

#include "config/broker_config.hpp"

#include <optional>
#include <string>
#include <vector>

namespace shmq::config::detail {

// One "key = value" as the file spelled it, before any conversion.
struct RawEntry {
    std::string key;
    std::string value;
    int line = 0;  // 1-based
};

// The keys of the broker section, of one queue or of one topic.
struct RawSection {
    int line = 0;  // 1-based; where the section or list item starts
    std::vector<RawEntry> entries;
};

struct RawConfig {
    RawSection broker;
    std::vector<RawSection> queues;
    std::vector<RawSection> topics;
};

// Collects every problem found in one source so that the user sees all of
// them at once instead of fixing one per run.
class Diagnostics {
public:
    explicit Diagnostics(std::string source_name);

    // An empty key leaves the "key '...'" part out of the message.
    void error(std::optional<int> line, std::string key, std::string message);

    // Throws one ConfigError listing every problem, one per line, ordered by
    // line (problems without a line first). Does nothing when there are none.
    void throw_if_any() const;

    const std::string& source_name() const { return source_name_; }

private:
    struct Entry {
        std::optional<int> line;
        std::string key;
        std::string message;
    };

    std::string source_name_;
    std::vector<Entry> errors_;
};

// Converts and validates every value, then checks the queues and topics
// against each other. Reports into diagnostics; the result is only meaningful when
// diagnostics stay empty.
BrokerConfig build_config(const RawConfig& raw, Diagnostics& diagnostics);

}  // namespace shmq::config::detail
