// Conversion and validation shared by the YAML and INI loaders.
#include "config/validate.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <sstream>
#include <string_view>
#include <utility>

#include "common/access_listing.hpp"
#include "config/listen_address.hpp"
#include "platform/user_identity.hpp"

namespace shmq::config::detail {

namespace {

// What a file that is not a regular one is, for messages.
const char* file_kind(std::filesystem::file_type type) {
    switch (type) {
    case std::filesystem::file_type::directory:
        return "a directory";
    case std::filesystem::file_type::fifo:
        return "a FIFO";
    case std::filesystem::file_type::character:
        return "a character device";
    case std::filesystem::file_type::block:
        return "a block device";
    case std::filesystem::file_type::socket:
        return "a socket";
    default:
        return "not a regular file";
    }
}

}  // namespace

Diagnostics::Diagnostics(std::string source_name) : source_name_(std::move(source_name)) {}

void Diagnostics::error(std::optional<int> line, std::string key, std::string message) {
    errors_.push_back({line, std::move(key), std::move(message)});
}

void Diagnostics::throw_if_any() const {
    if (errors_.empty()) {
        return;
    }
    // Problems are found in several passes (syntax, values, cross-queue
    // checks); ordering by line reads like the file itself.
    std::vector<Entry> sorted = errors_;
    std::stable_sort(sorted.begin(), sorted.end(), [](const Entry& a, const Entry& b) {
        return a.line.value_or(0) < b.line.value_or(0);
    });
    std::ostringstream out;
    for (std::size_t i = 0; i < sorted.size(); ++i) {
        const Entry& e = sorted[i];
        if (i != 0) {
            out << '\n';
        }
        out << source_name_;
        if (e.line) {
            out << ':' << *e.line;
        }
        out << ": ";
        if (!e.key.empty()) {
            out << "key '" << e.key << "': ";
        }
        out << e.message;
    }
    throw ConfigError(out.str());
}

namespace {

// ---------------------------------------------------------------------------
// Scalar conversions. Each returns nothing and reports when the text is bad,
// so that one bad value never hides the others.

// Digits only: a sign, a fraction or an exponent is never a valid count, and
// refusing them here keeps "-1" from wrapping round to a huge unsigned value.
// Saturates instead of overflowing so that the caller reports "out of range".
std::optional<std::uint64_t> parse_digits(std::string_view text, unsigned base) {
    if (text.empty()) {
        return std::nullopt;
    }
    std::uint64_t value = 0;
    for (char c : text) {
        if (c < '0' || c >= static_cast<char>('0' + base)) {
            return std::nullopt;
        }
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / base) {
            return std::numeric_limits<std::uint64_t>::max();
        }
        value = value * base + digit;
    }
    return value;
}

std::optional<std::uint32_t> check_range(const RawEntry& entry, std::uint64_t value,
                                         std::uint64_t low, std::uint64_t high,
                                         Diagnostics& diagnostics) {
    if (value < low || value > high) {
        diagnostics.error(entry.line, entry.key,
                          "must be between " + std::to_string(low) + " and " +
                              std::to_string(high) + ", got " + entry.value);
        return std::nullopt;
    }
    return static_cast<std::uint32_t>(value);
}

std::optional<std::uint32_t> to_integer(const RawEntry& entry, std::uint64_t low,
                                        std::uint64_t high, Diagnostics& diagnostics) {
    const auto value = parse_digits(entry.value, 10);
    if (!value) {
        diagnostics.error(entry.line, entry.key,
                          "expected a non-negative integer, got '" + entry.value + "'");
        return std::nullopt;
    }
    return check_range(entry, *value, low, high, diagnostics);
}

// A byte count, optionally with a binary unit: 4096, 4096B, 4KiB, 1 MiB.
std::optional<std::uint32_t> to_byte_size(const RawEntry& entry, std::uint64_t low,
                                          std::uint64_t high, Diagnostics& diagnostics) {
    static const std::pair<std::string_view, unsigned> units[] = {
        {"", 0}, {"B", 0}, {"KiB", 10}, {"MiB", 20}, {"GiB", 30}};

    const std::string_view text = entry.value;
    const std::size_t digits_end = std::min(text.find_first_not_of("0123456789"), text.size());
    std::string_view unit = text.substr(digits_end);
    unit.remove_prefix(std::min(unit.find_first_not_of(' '), unit.size()));

    const auto number = parse_digits(text.substr(0, digits_end), 10);
    const auto* match = std::find_if(std::begin(units), std::end(units),
                                     [&](const auto& u) { return u.first == unit; });
    if (!number || match == std::end(units)) {
        diagnostics.error(entry.line, entry.key,
                          "expected a byte count such as 4096, 4KiB or 1MiB, got '" +
                              entry.value + "'");
        return std::nullopt;
    }
    const unsigned shift = match->second;
    const std::uint64_t bytes = *number > (std::numeric_limits<std::uint64_t>::max() >> shift)
                                    ? std::numeric_limits<std::uint64_t>::max()
                                    : *number << shift;
    return check_range(entry, bytes, low, high, diagnostics);
}

// A duration with its unit, in seconds: 90s, 30m, 12h, 7d. The unit is
// required: a bare number could mean seconds or days.
std::optional<std::uint32_t> to_duration_seconds(const RawEntry& entry, std::uint64_t low, std::uint64_t high,
                                                 Diagnostics& diagnostics) {
    static const std::pair<std::string_view, std::uint64_t> units[] = {
        {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 24 * 3600}};
    const std::string_view text = entry.value;
    const std::size_t digits_end = std::min(text.find_first_not_of("0123456789"), text.size());
    const auto number = parse_digits(text.substr(0, digits_end), 10);
    const auto* match = std::find_if(std::begin(units), std::end(units),
                                     [&](const auto& u) { return u.first == text.substr(digits_end); });
    if (!number || match == std::end(units)) {
        diagnostics.error(entry.line, entry.key,
                          "expected a duration with its unit such as 90s, 30m, 12h or 7d, got '" + entry.value + "'");
        return std::nullopt;
    }
    const std::uint64_t seconds = *number > high ? high + 1 : *number * match->second;
    if (seconds < low || seconds > high) {
        diagnostics.error(entry.line, entry.key,
                          "must be between " + std::to_string(low / 60) + "m and " + std::to_string(high / 86400) +
                              "d, got " + entry.value);
        return std::nullopt;
    }
    return static_cast<std::uint32_t>(seconds);
}

// The text is read as octal whether or not it has a leading 0, so that YAML's
// unquoted 0660 and INI's 0660 mean the same mode bits.
std::optional<std::uint32_t> to_permissions(const RawEntry& entry, Diagnostics& diagnostics) {
    const auto value = parse_digits(entry.value, 8);
    if (!value) {
        diagnostics.error(entry.line, entry.key,
                          "expected octal mode bits such as 0660, got '" + entry.value + "'");
        return std::nullopt;
    }
    if (*value > 0777) {
        diagnostics.error(entry.line, entry.key,
                          "must be at most 0777 (only permission bits), got " + entry.value);
        return std::nullopt;
    }
    return static_cast<std::uint32_t>(*value);
}

// The rule is shared with the clients, which judge a broker name by it
// (common/names.hpp).
std::optional<std::string> to_name(const RawEntry& entry, Diagnostics& diagnostics) {
    const std::string problem = name_problem(entry.value);
    if (!problem.empty()) {
        diagnostics.error(entry.line, entry.key, "'" + entry.value + "' " + problem);
        return std::nullopt;
    }
    return entry.value;
}

// A group is looked up by name or number at startup; whitespace or control
// characters can never match and usually mean a stray comment or quote.
std::optional<std::string> to_group(const RawEntry& entry, Diagnostics& diagnostics) {
    const auto bad = [](char c) {
        return std::isspace(static_cast<unsigned char>(c)) != 0 ||
               std::iscntrl(static_cast<unsigned char>(c)) != 0;
    };
    if (std::any_of(entry.value.begin(), entry.value.end(), bad)) {
        diagnostics.error(entry.line, entry.key,
                          "'" + entry.value + "' is not a valid group name or id");
        return std::nullopt;
    }
    // A numeric id needs no entry in the group database to own a file.
    std::uint32_t id = 0;
    if (!platform::group_id_of(entry.value, id)) {
        diagnostics.error(entry.line, entry.key,
                          "group '" + entry.value + "' does not exist on this machine");
        return std::nullopt;
    }
    return entry.value;
}

// The file a persistent segment lives in (the rule itself is shared with the
// clients, common/names.hpp). The broker creates the file but not its
// directory, and maps it: so the directory must exist, and the path must not
// already be anything but a regular file.
std::optional<std::string> to_file_path(const RawEntry& entry, Diagnostics& diagnostics) {
    const std::string& path = entry.value;
    const std::string problem = path_problem(path);
    if (!problem.empty()) {
        diagnostics.error(entry.line, entry.key, "'" + path + "' " + problem);
        return std::nullopt;
    }
    const std::string directory = std::filesystem::path(path).parent_path().string();
    std::error_code error;
    const auto directory_type = std::filesystem::status(directory, error).type();
    std::string why;
    if (directory_type == std::filesystem::file_type::not_found) {
        why = "does not exist";
    } else if (error) {
        why = "cannot be examined: " + error.message();
    } else if (directory_type != std::filesystem::file_type::directory) {
        why = "is not a directory";
    }
    if (!why.empty()) {
        diagnostics.error(entry.line, entry.key,
                          "the directory '" + directory + "' of '" + path + "' " + why +
                              "; the broker creates the file, not its directory");
        return std::nullopt;
    }
    const auto type = std::filesystem::status(path, error).type();
    if (!error && type != std::filesystem::file_type::regular) {
        diagnostics.error(entry.line, entry.key,
                          "'" + path + "' is " + file_kind(type) +
                              ", not a regular file the broker can keep its segment in");
        return std::nullopt;
    }
    return path;
}

std::optional<bool> to_bool(const RawEntry& entry, Diagnostics& diagnostics) {
    if (entry.value == "true") return true;
    if (entry.value == "false") return false;
    diagnostics.error(entry.line, entry.key, "expected true or false, got '" + entry.value + "'");
    return std::nullopt;
}

template <typename Enum, std::size_t N>
std::optional<Enum> to_enum(const RawEntry& entry, const Enum (&choices)[N],
                            Diagnostics& diagnostics) {
    for (Enum choice : choices) {
        if (entry.value == to_string(choice)) {
            return choice;
        }
    }
    std::string expected;
    for (std::size_t i = 0; i < N; ++i) {
        expected += (i == 0 ? "" : i + 1 == N ? " or " : ", ");
        expected += to_string(choices[i]);
    }
    diagnostics.error(entry.line, entry.key,
                      "unknown value '" + entry.value + "'; expected " + expected);
    return std::nullopt;
}

constexpr OverflowPolicy overflow_choices[] = {OverflowPolicy::block, OverflowPolicy::reject,
                                               OverflowPolicy::drop_oldest};
constexpr DeliveryMode delivery_choices[] = {DeliveryMode::at_most_once,
                                             DeliveryMode::at_least_once};
constexpr Sharing sharing_choices[] = {Sharing::many, Sharing::single};
constexpr SlowSubscriberPolicy slow_subscriber_choices[] = {SlowSubscriberPolicy::block,
                                                            SlowSubscriberPolicy::drop};

template <typename T>
void assign(T& target, std::optional<T> value) {
    if (value) {
        target = std::move(*value);
    }
}

// ---------------------------------------------------------------------------
// The keys each section accepts, and how each is converted.

// An access group becomes part of a file name (NAME.access-GROUP), so it must
// be a group of this machine and a safe piece of a name.
std::optional<std::string> to_access_group(const RawEntry& entry, Diagnostics& diagnostics) {
    const auto group = to_group(entry, diagnostics);
    if (!group) {
        return std::nullopt;
    }
    const std::string problem = access_group_problem(*group);
    if (!problem.empty()) {
        diagnostics.error(entry.line, entry.key, "group '" + *group + "' " + problem);
        return std::nullopt;
    }
    return group;
}

std::optional<std::string> to_listen_address(const RawEntry& entry, Diagnostics& diagnostics) {
    if (entry.value.empty()) return std::string();  // explicitly off
    ListenAddress address;
    const std::string problem = parse_listen_address(entry.value, address);
    if (!problem.empty()) {
        diagnostics.error(entry.line, entry.key, "'" + entry.value + "' " + problem);
        return std::nullopt;
    }
    return entry.value;
}

template <typename Target>
struct Field {
    std::string_view key;
    void (*apply)(const RawEntry&, Target&, Diagnostics&);
};

const Field<BrokerConfig> broker_fields[] = {
    {"name",
     [](const RawEntry& e, BrokerConfig& b, Diagnostics& d) { assign(b.name, to_name(e, d)); }},
    {"permissions",
     [](const RawEntry& e, BrokerConfig& b, Diagnostics& d) {
         assign(b.permissions, to_permissions(e, d));
     }},
    {"allow_world_access",
     [](const RawEntry& e, BrokerConfig& b, Diagnostics& d) {
         assign(b.allow_world_access, to_bool(e, d));
     }},
    {"group",
     [](const RawEntry& e, BrokerConfig& b, Diagnostics& d) { assign(b.group, to_group(e, d)); }},
    {"max_clients",
     [](const RawEntry& e, BrokerConfig& b, Diagnostics& d) {
         assign(b.max_clients, to_integer(e, 1, limits::max_clients, d));
     }},
    {"liveness_interval_ms",
     [](const RawEntry& e, BrokerConfig& b, Diagnostics& d) {
         assign(b.liveness_interval_ms, to_integer(e, 10, 1000, d));
     }},
    {"persist_path",
     [](const RawEntry& e, BrokerConfig& b, Diagnostics& d) { assign(b.persist_path, to_file_path(e, d)); }},
    {"flush_interval_ms",
     [](const RawEntry& e, BrokerConfig& b, Diagnostics& d) {
         assign(b.flush_interval_ms, to_integer(e, 10, 3'600'000, d));
     }},
    // At least one: the segment just set aside is never removed with it.
    {"set_aside.keep",
     [](const RawEntry& e, BrokerConfig& b, Diagnostics& d) { assign(b.set_aside_keep, to_integer(e, 1, 1000, d)); }},
    {"set_aside.max_age",
     [](const RawEntry& e, BrokerConfig& b, Diagnostics& d) {
         assign(b.set_aside_max_age_s, to_duration_seconds(e, 60, 3650ull * 24 * 3600, d));
     }},
    {"metrics_listen",
     [](const RawEntry& e, BrokerConfig& b, Diagnostics& d) { assign(b.metrics_listen, to_listen_address(e, d)); }},
};

const Field<QueueConfig> queue_fields[] = {
    {"name",
     [](const RawEntry& e, QueueConfig& q, Diagnostics& d) { assign(q.name, to_name(e, d)); }},
    {"capacity",
     [](const RawEntry& e, QueueConfig& q, Diagnostics& d) {
         assign(q.capacity, to_integer(e, 1, limits::max_capacity, d));
     }},
    {"max_message_size",
     [](const RawEntry& e, QueueConfig& q, Diagnostics& d) {
         assign(q.max_message_size, to_byte_size(e, 1, limits::max_message_size, d));
     }},
    {"overflow",
     [](const RawEntry& e, QueueConfig& q, Diagnostics& d) {
         assign(q.overflow, to_enum(e, overflow_choices, d));
     }},
    {"delivery",
     [](const RawEntry& e, QueueConfig& q, Diagnostics& d) {
         assign(q.delivery, to_enum(e, delivery_choices, d));
     }},
    {"producers",
     [](const RawEntry& e, QueueConfig& q, Diagnostics& d) {
         assign(q.producers, to_enum(e, sharing_choices, d));
     }},
    {"consumers",
     [](const RawEntry& e, QueueConfig& q, Diagnostics& d) {
         assign(q.consumers, to_enum(e, sharing_choices, d));
     }},
    {"max_deliveries",
     [](const RawEntry& e, QueueConfig& q, Diagnostics& d) {
         assign(q.max_deliveries, to_integer(e, 1, 1000, d));
     }},
    {"ack_timeout_ms",
     [](const RawEntry& e, QueueConfig& q, Diagnostics& d) {
         assign(q.ack_timeout_ms, to_integer(e, 1, 86'400'000, d));
     }},
    {"dead_letter",
     [](const RawEntry& e, QueueConfig& q, Diagnostics& d) {
         assign(q.dead_letter, to_name(e, d));
     }},
    {"access.group",
     [](const RawEntry& e, QueueConfig& q, Diagnostics& d) {
         assign(q.access_group, to_access_group(e, d));
     }},
    {"access.readers",
     [](const RawEntry& e, QueueConfig& q, Diagnostics& d) {
         assign(q.access_readers, to_access_group(e, d));
     }},
};

// `history` is checked against `capacity` once both are known (build_topic).
const Field<TopicConfig> topic_fields[] = {
    {"name",
     [](const RawEntry& e, TopicConfig& t, Diagnostics& d) { assign(t.name, to_name(e, d)); }},
    {"capacity",
     [](const RawEntry& e, TopicConfig& t, Diagnostics& d) {
         assign(t.capacity, to_integer(e, 1, limits::max_capacity, d));
     }},
    {"max_message_size",
     [](const RawEntry& e, TopicConfig& t, Diagnostics& d) {
         assign(t.max_message_size, to_byte_size(e, 1, limits::max_message_size, d));
     }},
    {"history",
     [](const RawEntry& e, TopicConfig& t, Diagnostics& d) {
         assign(t.history, to_integer(e, 0, limits::max_capacity - 1, d));
     }},
    {"max_subscribers",
     [](const RawEntry& e, TopicConfig& t, Diagnostics& d) {
         assign(t.max_subscribers, to_integer(e, 1, limits::max_subscribers, d));
     }},
    {"slow_subscriber",
     [](const RawEntry& e, TopicConfig& t, Diagnostics& d) {
         assign(t.slow_subscriber, to_enum(e, slow_subscriber_choices, d));
     }},
    {"access.group",
     [](const RawEntry& e, TopicConfig& t, Diagnostics& d) {
         assign(t.access_group, to_access_group(e, d));
     }},
    {"access.readers",
     [](const RawEntry& e, TopicConfig& t, Diagnostics& d) {
         assign(t.access_readers, to_access_group(e, d));
     }},
};

template <typename Target, std::size_t N>
std::string key_list(const Field<Target> (&fields)[N]) {
    std::string list;
    for (const auto& field : fields) {
        list += (list.empty() ? "" : ", ");
        list += field.key;
    }
    return list;
}

template <typename Target, std::size_t N>
void apply_section(const RawSection& section, const Field<Target> (&fields)[N], Target& target,
                   Diagnostics& diagnostics) {
    std::map<std::string, int> first_line;
    for (const RawEntry& entry : section.entries) {
        const auto [previous, inserted] = first_line.emplace(entry.key, entry.line);
        if (!inserted) {
            diagnostics.error(entry.line, entry.key,
                              "duplicate key (first set on line " +
                                  std::to_string(previous->second) + ")");
            continue;
        }
        const auto* field = std::find_if(std::begin(fields), std::end(fields),
                                         [&](const auto& f) { return f.key == entry.key; });
        if (field == std::end(fields)) {
            diagnostics.error(entry.line, entry.key,
                              "unknown key; expected one of: " + key_list(fields));
            continue;
        }
        // An empty value is rejected rather than read as "default": it is
        // more often a half-edited line than an intention.
        if (entry.value.empty()) {
            diagnostics.error(entry.line, entry.key,
                              "has no value; omit the key to use the default");
            continue;
        }
        field->apply(entry, target, diagnostics);
    }
}

// Where to point a message about a key: the key's own line, or the start of
// the section when the key was left out.
int line_of(const RawSection& section, std::string_view key) {
    for (const RawEntry& entry : section.entries) {
        if (entry.key == key) {
            return entry.line;
        }
    }
    return section.line;
}

bool has_key(const RawSection& section, std::string_view key) {
    return std::any_of(section.entries.begin(), section.entries.end(),
                       [&](const RawEntry& e) { return e.key == key; });
}

QueueConfig build_queue(const RawSection& section, Diagnostics& diagnostics) {
    QueueConfig queue;
    apply_section(section, queue_fields, queue, diagnostics);
    if (!has_key(section, "name")) {
        diagnostics.error(section.line, "name", "missing; every queue needs a name");
    }
    if (!queue.dead_letter.empty()) {
        const int line = line_of(section, "dead_letter");
        if (queue.delivery != DeliveryMode::at_least_once) {
            diagnostics.error(line, "dead_letter",
                              "only applies with delivery: at_least_once; this queue is " +
                                  std::string(to_string(queue.delivery)));
        } else if (queue.dead_letter == queue.name) {
            diagnostics.error(line, "dead_letter", "a queue cannot be its own dead-letter queue");
        }
    }
    return queue;
}

// A late subscriber's history is read from the ring, and a subscriber a
// whole ring behind is what blocks (or loses) the next publish: at most
// capacity - 1 messages of history leave the publishers room.
TopicConfig build_topic(const RawSection& section, Diagnostics& diagnostics) {
    TopicConfig topic;
    apply_section(section, topic_fields, topic, diagnostics);
    if (!has_key(section, "name")) {
        diagnostics.error(section.line, "name", "missing; every topic needs a name");
    }
    if (has_key(section, "history") && topic.history >= topic.capacity) {
        diagnostics.error(line_of(section, "history"), "history",
                          "must be less than the topic's capacity (" +
                              std::to_string(topic.capacity) + "), got " +
                              std::to_string(topic.history));
    }
    return topic;
}

// ---------------------------------------------------------------------------
// Checks across queues and topics.

// `kind` is "queue" or "topic": each has a namespace of its own.
template <typename Item>
void check_unique_names(const char* kind, const std::vector<Item>& items,
                        const std::vector<RawSection>& sections, Diagnostics& diagnostics) {
    std::map<std::string, int> first_line;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (items[i].name.empty()) {
            continue;  // already reported as missing or invalid
        }
        const int line = line_of(sections[i], "name");
        const auto [previous, inserted] = first_line.emplace(items[i].name, line);
        if (!inserted) {
            diagnostics.error(line, "name",
                              std::string("duplicate ") + kind + " name '" + items[i].name +
                                  "' (first defined on line " +
                                  std::to_string(previous->second) + ")");
        }
    }
}

// Queues and topics are opened by different calls, so one name could serve
// both; it is refused anyway, since `shmq publish NAME` and a reader of the
// configuration would have to guess which one is meant.
void check_topic_queue_clashes(const BrokerConfig& config, const RawConfig& raw,
                               Diagnostics& diagnostics) {
    std::map<std::string, int> queue_lines;
    for (std::size_t i = 0; i < config.queues.size(); ++i) {
        queue_lines.emplace(config.queues[i].name, line_of(raw.queues[i], "name"));
    }
    for (std::size_t i = 0; i < config.topics.size(); ++i) {
        const std::string& name = config.topics[i].name;
        const auto queue = queue_lines.find(name);
        if (name.empty() || queue == queue_lines.end()) {
            continue;
        }
        diagnostics.error(line_of(raw.topics[i], "name"), "name",
                          "topic '" + name + "' has the name of a queue (defined on line " +
                              std::to_string(queue->second) +
                              "); give the topic or the queue another name");
    }
}

const QueueConfig* find_queue(const std::vector<QueueConfig>& queues, const std::string& name) {
    const auto it = std::find_if(queues.begin(), queues.end(),
                                 [&](const QueueConfig& q) { return q.name == name; });
    return it == queues.end() ? nullptr : &*it;
}

// The target must exist, and must be able to hold every message the source
// can hold, or dead-lettering would fail exactly when it is needed.
void check_dead_letters(const std::vector<QueueConfig>& queues,
                        const std::vector<RawSection>& sections, Diagnostics& diagnostics) {
    for (std::size_t i = 0; i < queues.size(); ++i) {
        const QueueConfig& queue = queues[i];
        // Those that fail build_queue()'s checks are reported once, there.
        if (queue.dead_letter.empty() || queue.dead_letter == queue.name ||
            queue.delivery != DeliveryMode::at_least_once) {
            continue;
        }
        const int line = line_of(sections[i], "dead_letter");
        const QueueConfig* target = find_queue(queues, queue.dead_letter);
        if (target == nullptr) {
            diagnostics.error(line, "dead_letter",
                              "no queue named '" + queue.dead_letter + "' is configured");
        } else if (target->access_group != queue.access_group) {
            // A message moved to another group's segment would reach readers
            // its producer never let in; and each segment is its own file.
            diagnostics.error(line, "dead_letter",
                              "queue '" + target->name + "' has another access group than this queue ('" +
                                  target->access_group + "' against '" + queue.access_group +
                                  "'); a dead-letter queue must have the same access");
        } else if (target->producers == Sharing::single) {
            // The broker moves exhausted messages in as a producer of its own.
            diagnostics.error(line, "dead_letter",
                              "queue '" + target->name + "' has producers: single, but the broker produces into a "
                              "dead-letter queue beside its clients; give it producers: many");
        } else if (target->max_message_size < queue.max_message_size) {
            diagnostics.error(line, "dead_letter",
                              "queue '" + target->name + "' takes messages of at most " +
                                  std::to_string(target->max_message_size) +
                                  " bytes, smaller than this queue's " +
                                  std::to_string(queue.max_message_size));
        }
    }
}

// Every queue's and topic's slots are allocated up front in one segment,
// sized exactly as the broker's segment builder sizes it.
void check_segment_size(const BrokerConfig& config, const RawConfig& raw,
                        Diagnostics& diagnostics) {
    SegmentSize size(config.max_clients, config.queues.size(), config.topics.size());
    const auto over = [&](const char* kind, const std::string& name, const RawSection& section) {
        if (size.bytes() <= limits::max_segment_bytes) {
            return false;
        }
        diagnostics.error(line_of(section, "capacity"), "capacity",
                          std::string(kind) + " '" + name +
                              "' brings the broker's segment (every queue's and topic's slots, "
                              "their headers included, and the tables) to " +
                              std::to_string(size.bytes()) + " bytes, over the limit of " +
                              std::to_string(limits::max_segment_bytes));
        return true;
    };
    for (std::size_t i = 0; i < config.queues.size(); ++i) {
        const QueueConfig& queue = config.queues[i];
        size.add_queue(queue.capacity, queue.max_message_size);
        if (over("queue", queue.name, raw.queues[i])) {
            return;
        }
    }
    for (std::size_t i = 0; i < config.topics.size(); ++i) {
        const TopicConfig& topic = config.topics[i];
        size.add_topic(topic.capacity, topic.max_message_size, topic.max_subscribers);
        if (over("topic", topic.name, raw.topics[i])) {
            return;
        }
    }
}

// A bit for "others" lets every account on the machine write the segment,
// and so corrupt or fill it: only on explicit request.
void check_world_access(const BrokerConfig& config, const RawSection& broker,
                        Diagnostics& diagnostics) {
    if ((config.permissions & 07) == 0 || config.allow_world_access) {
        return;
    }
    char mode[16];
    std::snprintf(mode, sizeof mode, "0%o", config.permissions);
    diagnostics.error(line_of(broker, "permissions"), "permissions",
                      std::string(mode) +
                          " gives every account on the machine access to the segment; use a "
                          "group instead, or set allow_world_access: true to allow it");
}

// Each access group is a segment of its own, listed in the main segment's
// bounded table (layout::AccessTable); a persistent broker keeps it in a
// file beside its own (PERSIST_PATH.access-GROUP). Readers are a
// permission of the group's segment, so every queue and topic of the group
// must name the same ones.
void check_access(const BrokerConfig& config, const RawConfig& raw, Diagnostics& diagnostics) {
    std::vector<std::pair<std::string, std::string>> groups;  // each group and its readers
    std::size_t restricted = 0;
    const auto note = [&](const char* kind, const std::string& name, const std::string& group,
                          const std::string& readers, const RawSection& section) {
        if (group.empty()) {
            if (!readers.empty()) {
                diagnostics.error(line_of(section, "access.readers"), "access.readers",
                                  "readers need access.group: only a restricted " + std::string(kind) +
                                      " has a segment of its own to give read-only access to");
            }
            return;
        }
        const int line = line_of(section, "access.group");
        if (readers == group) {
            diagnostics.error(line_of(section, "access.readers"), "access.readers",
                              "group '" + group + "' is the access group itself, whose members may already "
                                                  "read and write; name another group, or remove readers");
        }
        const auto known = std::find_if(groups.begin(), groups.end(),
                                        [&](const auto& seen) { return seen.first == group; });
        if (known == groups.end()) {
            groups.emplace_back(group, readers);
            if (groups.size() > layout::max_access_segments) {
                diagnostics.error(line, "access.group",
                                  "more than " + std::to_string(layout::max_access_segments) +
                                      " different access groups");
            }
        } else if (known->second != readers) {
            diagnostics.error(line_of(section, readers.empty() ? "access.group" : "access.readers"),
                              "access.readers",
                              std::string(kind) + " '" + name + "' has readers '" + readers + "', but another " +
                                  "queue or topic of access group '" + group + "' has '" + known->second +
                                  "'; the group's queues and topics share one segment, so they must name the "
                                  "same readers");
        }
        if (++restricted > layout::max_restricted) {
            diagnostics.error(line, "access.group",
                              "more than " + std::to_string(layout::max_restricted) +
                                  " restricted queues and topics");
        }
    };
    for (std::size_t i = 0; i < config.queues.size(); ++i) {
        const auto& queue = config.queues[i];
        note("queue", queue.name, queue.access_group, queue.access_readers, raw.queues[i]);
    }
    for (std::size_t i = 0; i < config.topics.size(); ++i) {
        const auto& topic = config.topics[i];
        note("topic", topic.name, topic.access_group, topic.access_readers, raw.topics[i]);
    }
}

void check_count(const char* kind, const std::vector<RawSection>& sections, std::uint32_t limit,
                 Diagnostics& diagnostics) {
    if (sections.size() > limit) {
        diagnostics.error(sections[limit].line, "",
                          std::to_string(sections.size()) + " " + kind + " configured, at most " +
                              std::to_string(limit) + " are allowed");
    }
}

}  // namespace

BrokerConfig build_config(const RawConfig& raw, Diagnostics& diagnostics) {
    BrokerConfig config;
    apply_section(raw.broker, broker_fields, config, diagnostics);
    for (const RawSection& section : raw.queues) {
        config.queues.push_back(build_queue(section, diagnostics));
    }
    for (const RawSection& section : raw.topics) {
        config.topics.push_back(build_topic(section, diagnostics));
    }
    check_count("queues", raw.queues, limits::max_queues, diagnostics);
    check_count("topics", raw.topics, limits::max_topics, diagnostics);
    check_unique_names("queue", config.queues, raw.queues, diagnostics);
    check_unique_names("topic", config.topics, raw.topics, diagnostics);
    check_topic_queue_clashes(config, raw, diagnostics);
    check_dead_letters(config.queues, raw.queues, diagnostics);
    check_segment_size(config, raw, diagnostics);
    check_world_access(config, raw.broker, diagnostics);
    check_access(config, raw, diagnostics);
    config.origin.source = diagnostics.source_name();
    for (const RawEntry& entry : raw.broker.entries) {
        config.origin.broker_keys.emplace(entry.key, entry.line);
    }
    for (std::size_t index = 0; index < raw.queues.size() && index < config.queues.size(); ++index) {
        auto& keys = config.origin.queue_keys[config.queues[index].name];
        for (const RawEntry& entry : raw.queues[index].entries) keys.emplace(entry.key, entry.line);
    }
    return config;
}

}  // namespace shmq::config::detail
