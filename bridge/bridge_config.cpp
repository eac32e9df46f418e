#include "bridge/bridge_config.hpp"

#include <cctype>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "bridge/ini_config.hpp"
#include "platform/small_file.hpp"

namespace shmq::bridge {
namespace {

constexpr std::size_t max_config_bytes = 1 << 20;

bool is_ini(const std::string& path) {
    const auto dot = path.find_last_of("./");
    if (dot == std::string::npos || path[dot] != '.') return false;
    std::string extension = path.substr(dot + 1);
    for (auto& c : extension) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return extension == "ini";
}

// Collects problems as "file:line: key: what", so that every one of a file's
// mistakes is reported at once rather than one per attempt.
class Problems {
public:
    explicit Problems(std::string file) : file_(std::move(file)) {}
    void add(const YAML::Node& node, const std::string& key, const std::string& what) {
        out_ << file_;
        if (node.IsDefined() && node.Mark().line >= 0) out_ << ':' << node.Mark().line + 1;
        out_ << ": " << key << ": " << what << '\n';
        ++count_;
    }
    bool any() const { return count_ > 0; }
    std::string text() const { return out_.str(); }

private:
    std::string file_;
    std::ostringstream out_;
    int count_ = 0;
};

// Reads `node[key]` into `value` when present; a value of the wrong type is
// a problem, not an exception.
template <typename T>
void read(const YAML::Node& parent, const std::string& prefix, const char* key, T& value, Problems& problems) {
    const auto node = parent[key];
    if (!node) return;
    try {
        value = node.as<T>();
    } catch (const YAML::Exception&) {
        problems.add(node, prefix + key, "not a valid value");
    }
}

void check_keys(const YAML::Node& node, const std::string& prefix, const std::set<std::string>& known,
                Problems& problems) {
    if (!node.IsMap()) {
        problems.add(node, prefix.empty() ? "(top level)" : prefix.substr(0, prefix.size() - 1), "must be a map");
        return;
    }
    for (const auto& entry : node) {
        const auto key = entry.first.as<std::string>();
        if (known.count(key) == 0) problems.add(entry.first, prefix + key, "unknown key");
    }
}

void read_nats(const YAML::Node& node, NatsSettings& nats, Problems& problems) {
    check_keys(node, "nats.",
               {"urls", "name", "credentials", "user", "password", "reconnect_wait_ms", "connect_timeout_ms",
                "request_timeout_ms"},
               problems);
    if (!node.IsMap()) return;
    if (node["urls"] && node["urls"].IsScalar()) {
        nats.urls = {node["urls"].as<std::string>()};
    } else {
        read(node, "nats.", "urls", nats.urls, problems);
    }
    read(node, "nats.", "name", nats.name, problems);
    read(node, "nats.", "credentials", nats.credentials, problems);
    read(node, "nats.", "user", nats.user, problems);
    read(node, "nats.", "password", nats.password, problems);
    read(node, "nats.", "reconnect_wait_ms", nats.reconnect_wait_ms, problems);
    read(node, "nats.", "connect_timeout_ms", nats.connect_timeout_ms, problems);
    read(node, "nats.", "request_timeout_ms", nats.request_timeout_ms, problems);
    if (nats.urls.empty()) problems.add(node, "nats.urls", "at least one NATS server URL is required");
    for (const auto& url : nats.urls) {
        if (url.rfind("nats://", 0) != 0 && url.rfind("tls://", 0) != 0) {
            problems.add(node["urls"], "nats.urls", "'" + url + "' is not a nats:// or tls:// URL");
        }
    }
    if (!nats.user.empty() && !nats.credentials.empty()) {
        problems.add(node, "nats.credentials", "give either credentials or user/password, not both");
    }
}

void read_stream(const YAML::Node& node, const std::string& prefix, StreamSettings& stream, Problems& problems) {
    if (node.IsScalar()) {  // just the name of an existing stream
        stream.name = node.as<std::string>();
        return;
    }
    check_keys(node, prefix,
               {"name", "create", "subjects", "replicas", "retention", "storage", "max_messages", "max_bytes",
                "max_age_s", "duplicate_window_s"},
               problems);
    if (!node.IsMap()) return;
    read(node, prefix, "name", stream.name, problems);
    read(node, prefix, "create", stream.create, problems);
    read(node, prefix, "subjects", stream.subjects, problems);
    read(node, prefix, "replicas", stream.replicas, problems);
    read(node, prefix, "retention", stream.retention, problems);
    read(node, prefix, "storage", stream.storage, problems);
    read(node, prefix, "max_messages", stream.max_messages, problems);
    read(node, prefix, "max_bytes", stream.max_bytes, problems);
    read(node, prefix, "max_age_s", stream.max_age_s, problems);
    read(node, prefix, "duplicate_window_s", stream.duplicate_window_s, problems);
    if (stream.replicas < 1 || stream.replicas > 5) problems.add(node, prefix + "replicas", "must be 1 to 5");
    if (stream.retention != "limits" && stream.retention != "interest" && stream.retention != "workqueue") {
        problems.add(node, prefix + "retention", "must be limits, interest or workqueue");
    }
    if (stream.storage != "file" && stream.storage != "memory") {
        problems.add(node, prefix + "storage", "must be file or memory");
    }
}

// `prefix` names the route in messages: routes[N]. in YAML, route.NAME. (its
// section) in INI.
void read_route(const YAML::Node& node, const std::string& prefix, std::size_t index, RouteSettings& route,
                Problems& problems) {
    check_keys(node, prefix,
               {"name", "direction", "queue", "topic", "subject", "stream", "window", "publish_ack_timeout_ms", "ordered",
                "consumer", "batch", "ack_wait_s"},
               problems);
    if (!node.IsMap()) return;
    std::string direction;
    read(node, prefix, "name", route.name, problems);
    read(node, prefix, "direction", direction, problems);
    read(node, prefix, "queue", route.queue, problems);
    read(node, prefix, "topic", route.topic, problems);
    read(node, prefix, "subject", route.subject, problems);
    read(node, prefix, "window", route.window, problems);
    read(node, prefix, "publish_ack_timeout_ms", route.publish_ack_timeout_ms, problems);
    read(node, prefix, "ordered", route.ordered, problems);
    read(node, prefix, "consumer", route.consumer, problems);
    read(node, prefix, "batch", route.batch, problems);
    read(node, prefix, "ack_wait_s", route.ack_wait_s, problems);
    if (node["stream"]) read_stream(node["stream"], prefix + "stream.", route.stream, problems);

    if (route.name.empty()) route.name = "route" + std::to_string(index);
    if (route.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
        std::string::npos) {
        problems.add(node, prefix + "name", "only letters, digits, '_', '.' and '-' (it labels the statistics)");
    }
    if (direction == "out") {
        route.direction = RouteSettings::Direction::out;
    } else if (direction == "in") {
        route.direction = RouteSettings::Direction::in;
    } else {
        problems.add(node, prefix + "direction", "must be out (shmq to NATS) or in (NATS to shmq)");
    }
    if (route.queue.empty() == route.topic.empty()) {
        problems.add(node, prefix + "queue", "give exactly one of queue and topic");
    }
    if (route.stream.name.empty()) problems.add(node, prefix + "stream", "the JetStream stream's name is required");
    if (route.direction == RouteSettings::Direction::out && route.subject.empty()) {
        problems.add(node, prefix + "subject", "an out route needs the subject it publishes to");
    }
    if (route.direction == RouteSettings::Direction::in && route.consumer.empty()) {
        problems.add(node, prefix + "consumer", "an in route needs its durable consumer's name");
    }
    if (route.direction == RouteSettings::Direction::in && route.stream.create) {
        problems.add(node, prefix + "stream.create", "only an out route creates its stream");
    }
    if (route.window < 1 || route.window > 65536) problems.add(node, prefix + "window", "must be 1 to 65536");
    if (route.batch < 1 || route.batch > 10000) problems.add(node, prefix + "batch", "must be 1 to 10000");
    if (route.ack_wait_s < 1) problems.add(node, prefix + "ack_wait_s", "must be at least 1");
    if (route.publish_ack_timeout_ms < 100) {
        problems.add(node, prefix + "publish_ack_timeout_ms", "must be at least 100");
    }
}

}  // namespace

bool load_bridge_config(const std::string& path, BridgeConfig& config, std::string& errors) {
    std::string content, detail;
    switch (platform::read_small_file(path, max_config_bytes, content, detail)) {
    case platform::SmallFileError::none: break;
    case platform::SmallFileError::cannot_read: errors = path + ": cannot read: " + detail + "\n"; return false;
    case platform::SmallFileError::not_regular: errors = path + ": not a regular file but " + detail + "\n"; return false;
    case platform::SmallFileError::too_large: errors = path + ": larger than 1 MiB\n"; return false;
    }
    YAML::Node root;
    const bool ini = is_ini(path);
    if (ini) {
        if (!ini_to_tree(content, path, root, errors)) return false;
    } else {
        try {
            root = YAML::Load(content);
        } catch (const YAML::ParserException& error) {
            errors = path + ":" + std::to_string(error.mark.line + 1) + ": not valid YAML: " + error.msg + "\n";
            return false;
        }
    }
    config = BridgeConfig{};
    config.file = path;
    Problems problems(path);
    check_keys(root, "", {"broker", "broker_owner", "origin", "nats", "routes", "stats_file", "stats_interval_ms"}, problems);
    if (root.IsMap()) {
        read(root, "", "broker", config.broker, problems);
        read(root, "", "broker_owner", config.broker_owner, problems);
        read(root, "", "origin", config.origin, problems);
        read(root, "", "stats_file", config.stats_file, problems);
        read(root, "", "stats_interval_ms", config.stats_interval_ms, problems);
        if (root["nats"]) {
            read_nats(root["nats"], config.nats, problems);
        } else {
            problems.add(root, "nats", "the NATS servers (nats.urls) are required");
        }
        const auto routes = root["routes"];
        if (!routes || !routes.IsSequence() || routes.size() == 0) {
            problems.add(routes, "routes",
                         ini ? "at least one [route.NAME] section is required" : "a list of at least one route is required");
        } else {
            std::set<std::string> names;
            for (std::size_t i = 0; i < routes.size(); ++i) {
                RouteSettings route;
                const auto prefix = ini ? "route." + routes[i]["name"].as<std::string>() + "."
                                        : "routes[" + std::to_string(i) + "].";
                read_route(routes[i], prefix, i, route, problems);
                if (!names.insert(route.name).second) {
                    problems.add(routes[i], prefix + "name", "'" + route.name + "' names two routes");
                }
                config.routes.push_back(std::move(route));
            }
        }
        if (config.stats_interval_ms < 100) problems.add(root["stats_interval_ms"], "stats_interval_ms", "must be at least 100");
    }
    errors = problems.text();
    return !problems.any();
}

}  // namespace shmq::bridge
