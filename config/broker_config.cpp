// The public entry points that do not belong to one format: enum spellings,
// and reading a file and choosing its loader.
#include "config/broker_config.hpp"
#include "config/validate.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <tuple>

#include "platform/small_file.hpp"

namespace shmq::config {

const char* to_string(OverflowPolicy policy) {
    switch (policy) {
    case OverflowPolicy::block:
        return "block";
    case OverflowPolicy::reject:
        return "reject";
    case OverflowPolicy::drop_oldest:
        return "drop_oldest";
    }
    return "unknown";
}

const char* to_string(DeliveryMode mode) {
    switch (mode) {
    case DeliveryMode::at_most_once:
        return "at_most_once";
    case DeliveryMode::at_least_once:
        return "at_least_once";
    }
    return "unknown";
}

const char* to_string(Sharing sharing) {
    switch (sharing) {
    case Sharing::many:
        return "many";
    case Sharing::single:
        return "single";
    }
    return "unknown";
}

const char* to_string(SlowSubscriberPolicy policy) {
    switch (policy) {
    case SlowSubscriberPolicy::block:
        return "block";
    case SlowSubscriberPolicy::drop:
        return "drop";
    }
    return "unknown";
}

bool operator==(const QueueConfig& a, const QueueConfig& b) {
    const auto fields = [](const QueueConfig& q) {
        return std::tie(q.name, q.capacity, q.max_message_size, q.overflow, q.delivery, q.producers, q.consumers,
                        q.max_deliveries, q.ack_timeout_ms, q.dead_letter, q.access_group, q.access_readers);
    };
    return fields(a) == fields(b);
}

bool operator!=(const QueueConfig& a, const QueueConfig& b) { return !(a == b); }

bool operator==(const TopicConfig& a, const TopicConfig& b) {
    const auto fields = [](const TopicConfig& t) {
        return std::tie(t.name, t.capacity, t.max_message_size, t.history, t.max_subscribers,
                        t.slow_subscriber, t.access_group, t.access_readers);
    };
    return fields(a) == fields(b);
}

bool operator!=(const TopicConfig& a, const TopicConfig& b) { return !(a == b); }

bool operator==(const BrokerConfig& a, const BrokerConfig& b) {
    const auto fields = [](const BrokerConfig& c) {
        return std::tie(c.name, c.permissions, c.allow_world_access, c.group, c.read_only_group, c.max_clients, c.liveness_interval_ms, c.persist_path, c.flush_interval_ms,
                        c.set_aside_keep, c.set_aside_max_age_s,
                        c.metrics_listen,
                        c.queues, c.topics);
    };
    return fields(a) == fields(b);
}

bool operator!=(const BrokerConfig& a, const BrokerConfig& b) { return !(a == b); }

std::string where(const BrokerConfig& config, const std::string& key) {
    const auto set = config.origin.broker_keys.find(key);
    const std::string& file = config.origin.source;
    const std::string prefix = file.empty() ? "" : file + ": ";
    if (set != config.origin.broker_keys.end()) {
        return (file.empty() ? "line " : file + ":") + std::to_string(set->second) + ": key '" + key + "'";
    }
    return prefix + "key '" + key + "' (not set, so its default)";
}

std::string where_queue(const BrokerConfig& config, const std::string& queue, const std::string& key) {
    const std::string& file = config.origin.source;
    const std::string what = "queue '" + queue + "' key '" + key + "'";
    const auto keys = config.origin.queue_keys.find(queue);
    if (keys != config.origin.queue_keys.end()) {
        const auto set = keys->second.find(key);
        if (set != keys->second.end()) {
            return (file.empty() ? "line " : file + ":") + std::to_string(set->second) + ": " + what;
        }
    }
    return (file.empty() ? "" : file + ": ") + what + " (not set, so its default)";
}

namespace {

// Only a regular file of bounded size is read (platform/small_file.hpp says why).
std::string read_file(const std::string& path) {
    std::string text;
    std::string detail;
    switch (platform::read_small_file(path, limits::max_file_bytes, text, detail)) {
    case platform::SmallFileError::none:
        return text;
    case platform::SmallFileError::cannot_read:
        throw ConfigError(path + ": cannot read: " + detail);
    case platform::SmallFileError::not_regular:
        throw ConfigError(path + ": is " + detail + ", not a regular file; give the path of a configuration file");
    case platform::SmallFileError::too_large:
        break;
    }
    throw ConfigError(path + ": larger than " + std::to_string(limits::max_file_bytes >> 20) +
                      " MiB, the most a configuration file may hold");
}

std::string lowercase_extension(const std::string& path) {
    const auto slash = path.find_last_of('/');
    const auto dot = path.find_last_of('.');
    if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) {
        return {};
    }
    std::string extension = path.substr(dot + 1);
    std::transform(extension.begin(), extension.end(), extension.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return extension;
}

Format format_from_extension(const std::string& path) {
    const std::string extension = lowercase_extension(path);
    if (extension == "yaml" || extension == "yml") {
        return Format::yaml;
    }
    if (extension == "ini") {
        return Format::ini;
    }
    throw ConfigError(path +
                      ": cannot tell the format from the file name (expected .yaml, .yml or "
                      ".ini); pass --format yaml or --format ini");
}

}  // namespace

BrokerConfig load_file(const std::string& path, Format format) {
    // The format comes from the name alone, so it is settled before any I/O.
    const Format chosen = format == Format::automatic ? format_from_extension(path) : format;
    const std::string text = read_file(path);
    return chosen == Format::yaml ? parse_yaml(text, path) : parse_ini(text, path);
}

}  // namespace shmq::config
