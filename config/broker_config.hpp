// The broker's configuration model: what a YAML or INI file describes once it
// has been parsed and validated. Both file formats produce exactly this.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/names.hpp"
#include "common/segment_size.hpp"

namespace shmq::config {

// What a producer meets when a queue is full.
enum class OverflowPolicy : std::uint8_t {
    block,       // wait until a consumer frees a slot (or the send times out)
    reject,      // fail at once with Status::queue_full
    drop_oldest  // discard the oldest unconsumed message to make room
};

// When a message counts as delivered.
enum class DeliveryMode : std::uint8_t {
    at_most_once,  // receive removes the message
    at_least_once  // receive hands out a delivery that must be acknowledged
};

// How many clients may use one side of a queue (its producers, or its
// consumers) at once. `single` lets the thread holding the side's lease
// claim slots without writing them before the publish (take them with a
// plain store instead of a compare-and-swap), for latency
// (docs/crash-safety.md, "Single producer, single consumer"); any other
// thread or client is refused with Status::exclusive_held until it lets go.
enum class Sharing : std::uint8_t {
    many,   // any number of clients at once
    single  // one client at a time, one thread of it at a time
};

// What a topic's publishers meet when the slowest subscriber is a whole ring
// behind.
enum class SlowSubscriberPolicy : std::uint8_t {
    block,  // publishers wait until the slowest subscriber has read the oldest message
    drop    // the lagging subscriber loses its oldest unread message and is told how many it lost
};

const char* to_string(OverflowPolicy policy);
const char* to_string(DeliveryMode mode);
const char* to_string(SlowSubscriberPolicy policy);
const char* to_string(Sharing sharing);

struct QueueConfig {
    std::string name;
    std::uint32_t capacity = 1024;           // messages
    std::uint32_t max_message_size = 4096;   // bytes
    OverflowPolicy overflow = OverflowPolicy::block;
    DeliveryMode delivery = DeliveryMode::at_most_once;
    Sharing producers = Sharing::many;
    Sharing consumers = Sharing::many;
    std::uint32_t max_deliveries = 5;        // at_least_once only
    std::uint32_t ack_timeout_ms = 30000;    // at_least_once only
    std::string dead_letter;                 // queue name; empty: drop after max_deliveries
    // `access: { group: G }`: only members of group G may use the queue
    // (its segment is NAME.access-G, mode 0660, group G); empty: everyone
    // the main segment lets in. docs/security.md says what this covers.
    std::string access_group;
    // `access: { group: G, readers: R }`: members of group R may map G's
    // segment read-only (a POSIX ACL entry R:r--): they see its queues' and
    // topics' figures but may not send or receive. Empty: no readers. One
    // value per access group, since the group's queues share one segment.
    std::string access_readers;
};

// A publish/subscribe topic: every subscriber receives every message
// published after it subscribed. Topic names are a namespace of their own,
// but may not repeat a queue's name.
struct TopicConfig {
    std::string name;
    std::uint32_t capacity = 1024;          // messages the ring keeps
    std::uint32_t max_message_size = 4096;  // bytes
    std::uint32_t history = 0;              // last N messages a late subscriber may ask for; < capacity
    std::uint32_t max_subscribers = 64;     // subscriptions at once
    SlowSubscriberPolicy slow_subscriber = SlowSubscriberPolicy::block;
    std::string access_group;    // as QueueConfig::access_group
    std::string access_readers;  // as QueueConfig::access_readers
};

// Where a loaded configuration came from, so that a problem found after
// loading (at start, say) can still name the file, line and key to change.
struct ConfigOrigin {
    std::string source;                      // the file; empty for a configuration built in code
    std::map<std::string, int> broker_keys;  // each broker key the file set, and its line
    // Each queue's keys the file set, and their lines: queue name -> key -> line.
    std::map<std::string, std::map<std::string, int>> queue_keys;
};

struct BrokerConfig {
    std::string name = "shmq";               // the shared-memory segment's name
    std::uint32_t permissions = 0660;        // mode bits of the segment
    // Any permission bit for "others" is refused unless this is set: a
    // segment anyone can write is one anyone can corrupt or fill.
    bool allow_world_access = false;
    std::string group;                       // empty: the broker's own group
    // Not a configuration key: plan_segments sets it on an access group's
    // segment whose queues have readers (the group given read-only access).
    std::string read_only_group;
    std::uint32_t max_clients = 64;          // attached processes at once
    std::uint32_t liveness_interval_ms = 100;  // how often the broker checks clients
    // Empty: the segment lives in shared memory (/dev/shm) and dies with a
    // reboot. An absolute path: the segment is a memory-mapped file there, so
    // queues survive a reboot; clients attach with that path as broker name.
    std::string persist_path;
    std::uint32_t flush_interval_ms = 1000;  // persist_path only: how often dirty pages are written
    // `set_aside: { keep: N, max_age: D }`: of the segments the broker could
    // not reuse and moved to NAME.stale-TIME, only the newest `keep` younger
    // than `max_age` are kept; the rest are removed at every start and
    // whenever one more is set aside.
    std::uint32_t set_aside_keep = 5;
    std::uint32_t set_aside_max_age_s = 7 * 24 * 3600;
    // Empty: no metrics endpoint (the default). Otherwise where shmqd serves
    // GET /metrics over HTTP: "127.0.0.1:9464" or "[::1]:9464"
    // (config/listen_address.hpp); applied at start only.
    std::string metrics_listen;
    std::vector<QueueConfig> queues;
    std::vector<TopicConfig> topics;
    ConfigOrigin origin;  // not part of the configuration: equality ignores it
};

// Where the broker key `key` is set, for messages: "FILE:LINE: key 'KEY'", or
// "FILE: key 'KEY' (not set, so its default)" when the file leaves it out.
std::string where(const BrokerConfig& config, const std::string& key);
// The same for key `key` of queue `queue`: "FILE:LINE: queue 'QUEUE' key 'KEY'".
std::string where_queue(const BrokerConfig& config, const std::string& queue, const std::string& key);

// The queue or topic named `name` among `items` (a configuration's queues or
// topics, where names are unique); nullptr when none is.
template <typename Item>
const Item* find_named(const std::vector<Item>& items, const std::string& name) {
    for (const auto& item : items) {
        if (item.name == name) return &item;
    }
    return nullptr;
}
template <typename Item>
Item* find_named(std::vector<Item>& items, const std::string& name) {
    return const_cast<Item*>(find_named(static_cast<const std::vector<Item>&>(items), name));
}

// Field-by-field equality: both file formats must yield equal configurations,
// and a reload can tell whether anything changed.
bool operator==(const QueueConfig& a, const QueueConfig& b);
bool operator!=(const QueueConfig& a, const QueueConfig& b);
bool operator==(const TopicConfig& a, const TopicConfig& b);
bool operator!=(const TopicConfig& a, const TopicConfig& b);
bool operator==(const BrokerConfig& a, const BrokerConfig& b);
bool operator!=(const BrokerConfig& a, const BrokerConfig& b);

// Every problem found in a configuration; what() names the file, the line
// where the format gives one, and the key.
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class Format { automatic, yaml, ini };

// Parse and validate. Throw ConfigError listing every problem found.
// Besides the values themselves this checks what the file names on this
// machine (the group exists, persist_path's directory does), so that a
// configuration that loads is one the broker can start with. load_file reads
// only a regular file of at most limits::max_file_bytes.
BrokerConfig load_file(const std::string& path, Format format = Format::automatic);
BrokerConfig parse_yaml(const std::string& text, const std::string& source_name);
BrokerConfig parse_ini(const std::string& text, const std::string& source_name);

// The limits validation enforces, exposed so that tools and tests agree.
namespace limits {
inline constexpr std::size_t max_name_length = shmq::max_name_length;
inline constexpr std::uint32_t max_capacity = 1u << 24;
inline constexpr std::uint32_t max_message_size = 64u << 20;
// The whole segment, slot headers and tables included (common/segment_size.hpp).
inline constexpr std::uint64_t max_segment_bytes = shmq::max_segment_size;
inline constexpr std::size_t max_file_bytes = 16u << 20;
// How deep a YAML file may nest; a configuration needs three levels.
inline constexpr int max_yaml_depth = 32;
inline constexpr std::uint32_t max_queues = 4096;
inline constexpr std::uint32_t max_clients = 4096;
inline constexpr std::uint32_t max_topics = 4096;
inline constexpr std::uint32_t max_subscribers = 1024;
}  // namespace limits

}  // namespace shmq::config
