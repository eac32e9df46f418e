// Tests for the configuration library: real files written to a temporary
// directory and read back through load_file, in both formats.
#define BOOST_TEST_MODULE config_tests
#define BOOST_TEST_DYN_LINK
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "common/segment_size.hpp"
#include "config/broker_config.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;
namespace data = boost::unit_test::data;
using namespace shmq::config;

// Printers, so that a failed comparison shows the values themselves.
namespace shmq::config {

std::ostream& operator<<(std::ostream& out, OverflowPolicy policy) {
    return out << to_string(policy);
}
std::ostream& operator<<(std::ostream& out, DeliveryMode mode) { return out << to_string(mode); }
std::ostream& operator<<(std::ostream& out, SlowSubscriberPolicy policy) {
    return out << to_string(policy);
}

std::ostream& operator<<(std::ostream& out, const TopicConfig& t) {
    return out << "{name=" << t.name << " capacity=" << t.capacity
               << " max_message_size=" << t.max_message_size << " history=" << t.history
               << " max_subscribers=" << t.max_subscribers
               << " slow_subscriber=" << t.slow_subscriber << "}";
}

std::ostream& operator<<(std::ostream& out, const QueueConfig& q) {
    return out << "{name=" << q.name << " capacity=" << q.capacity
               << " max_message_size=" << q.max_message_size << " overflow=" << q.overflow
               << " delivery=" << q.delivery << " producers=" << to_string(q.producers)
               << " consumers=" << to_string(q.consumers) << " max_deliveries=" << q.max_deliveries
               << " ack_timeout_ms=" << q.ack_timeout_ms << " dead_letter=" << q.dead_letter
               << "}";
}

std::ostream& operator<<(std::ostream& out, const BrokerConfig& c) {
    out << "{name=" << c.name << " permissions=0" << std::oct << c.permissions << std::dec
        << " group=" << c.group << " max_clients=" << c.max_clients
        << " liveness_interval_ms=" << c.liveness_interval_ms << " queues=[";
    for (const QueueConfig& q : c.queues) {
        out << "\n  " << q;
    }
    out << "] topics=[";
    for (const TopicConfig& t : c.topics) {
        out << "\n  " << t;
    }
    return out << "]}";
}

}  // namespace shmq::config

namespace {

// A fresh directory per test, removed afterwards.
class TempDir {
public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "shmq-config-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed for " + pattern);
        }
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    std::string write(const std::string& name, const std::string& text) const {
        const fs::path file = path_ / name;
        std::ofstream(file, std::ios::binary) << text;
        return file.string();
    }

    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

std::string example(const char* name) {
    return (fs::path(SHMQ_SOURCE_DIR) / "examples" / name).string();
}

// What load_file throws for path; fails the test if the file is accepted.
std::string load_error(const std::string& path, Format format = Format::automatic) {
    try {
        load_file(path, format);
    } catch (const ConfigError& e) {
        return e.what();
    }
    BOOST_ERROR(path << " was accepted");
    return {};
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

// The start of a report: "FILE:LINE: key 'KEY': ", without the parts that
// are absent (line 0: no line; empty key: no key).
std::string report_prefix(const std::string& file, int line, const std::string& key) {
    std::string prefix = file;
    if (line != 0) {
        prefix += ":" + std::to_string(line);
    }
    prefix += ": ";
    if (!key.empty()) {
        prefix += "key '" + key + "': ";
    }
    return prefix;
}

// Whether one line of message is exactly such a report and mentions fragment.
bool reports(const std::string& message, const std::string& file, int line,
             const std::string& key, const std::string& fragment) {
    const std::string prefix = report_prefix(file, line, key);
    for (const std::string& report : lines_of(message)) {
        if (report.compare(0, prefix.size(), prefix) != 0) {
            continue;
        }
        // A report expected without a key must not carry one after all.
        if (key.empty() && report.compare(prefix.size(), 5, "key '") == 0) {
            continue;
        }
        if (report.find(fragment, prefix.size()) != std::string::npos) {
            return true;
        }
    }
    return false;
}

void check_reports(const std::string& message, const std::string& file, int line,
                   const std::string& key, const std::string& fragment) {
    BOOST_TEST(reports(message, file, line, key, fragment),
               "expected a line starting with \"" << report_prefix(file, line, key)
                                                  << "\" mentioning \"" << fragment
                                                  << "\", got:\n"
                                                  << message);
}

// ---------------------------------------------------------------------------
// Invalid input, each kind written in both formats where both can express it.

struct Variant {
    const char* text;  // nullptr: this format cannot express the problem
    int line;          // 0: the report has no line
    const char* key;   // "": the report names no key
    const char* fragment;
};

struct InvalidCase {
    const char* name;
    Variant yaml;
    Variant ini;
};

#define NAME_65 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklm"
static_assert(sizeof(NAME_65) - 1 == 65);

const InvalidCase invalid_cases[] = {
    // Unknown keys.
    {"unknown broker key",
     {"broker:\n"
      "  name: x\n"
      "  colour: blue\n"
      "queues:\n"
      "  - name: q\n",
      3, "colour", "unknown key"},
     {"[broker]\n"
      "name = x\n"
      "colour = blue\n"
      "[queue.q]\n",
      3, "colour", "unknown key"}},
    {"unknown queue key",
     {"queues:\n"
      "  - name: q\n"
      "    colour: blue\n",
      3, "colour", "unknown key"},
     {"[queue.q]\n"
      "colour = blue\n",
      2, "colour", "unknown key"}},
    {"key outside broker and queues",
     {"capacity: 5\n"
      "queues:\n"
      "  - name: q\n",
      1, "capacity", "unknown key; expected broker, queues or topics"},
     {"capacity = 5\n"
      "[queue.q]\n",
      1, "capacity", "outside any section"}},
    {"unknown section",
     {"brokers:\n"
      "  name: x\n"
      "queues:\n"
      "  - name: q\n",
      1, "brokers", "unknown key"},
     {"[brokers]\n"
      "name = x\n"
      "[queue.q]\n",
      1, "", "unknown section [brokers]"}},

    // Wrong types.
    {"capacity not a number",
     {"queues:\n"
      "  - name: q\n"
      "    capacity: \"abc\"\n",
      3, "capacity", "expected a non-negative integer, got 'abc'"},
     {"[queue.q]\n"
      "capacity = abc\n",
      2, "capacity", "expected a non-negative integer, got 'abc'"}},
    {"capacity is a list",
     {"queues:\n"
      "  - name: q\n"
      "    capacity: [1]\n",
      3, "capacity", "expected a single value, got a list"},
     {"[queue.q]\n"
      "capacity = [1]\n",
      2, "capacity", "expected a non-negative integer"}},
    {"capacity is a mapping",
     {"queues:\n"
      "  - name: q\n"
      "    capacity:\n"
      "      value: 1\n",
      3, "capacity", "expected a single value, got a mapping"},
     {"[queue.q]\n"
      "capacity = {value: 1}\n",
      2, "capacity", "expected a non-negative integer"}},
    {"negative capacity",
     {"queues:\n"
      "  - name: q\n"
      "    capacity: -5\n",
      3, "capacity", "got '-5'"},
     {"[queue.q]\n"
      "capacity = -5\n",
      2, "capacity", "got '-5'"}},
    {"fractional capacity",
     {"queues:\n"
      "  - name: q\n"
      "    capacity: 1.5\n",
      3, "capacity", "expected a non-negative integer"},
     {"[queue.q]\n"
      "capacity = 1.5\n",
      2, "capacity", "expected a non-negative integer"}},
    {"capacity in exponent notation",
     {"queues:\n"
      "  - name: q\n"
      "    capacity: 1e3\n",
      3, "capacity", "expected a non-negative integer"},
     {"[queue.q]\n"
      "capacity = 1e3\n",
      2, "capacity", "expected a non-negative integer"}},
    {"max_clients in hexadecimal",
     {"broker:\n"
      "  max_clients: 0x10\n"
      "queues:\n"
      "  - name: q\n",
      2, "max_clients", "expected a non-negative integer"},
     {"[broker]\n"
      "max_clients = 0x10\n"
      "[queue.q]\n",
      2, "max_clients", "expected a non-negative integer"}},
    {"inline comment is not stripped from an INI value",
     {nullptr, 0, "", ""},
     {"[queue.q]\n"
      "capacity = 5 ; five\n",
      2, "capacity", "got '5 ; five'"}},
    {"unknown overflow policy",
     {"queues:\n"
      "  - name: q\n"
      "    overflow: fifo\n",
      3, "overflow", "unknown value 'fifo'; expected block, reject or drop_oldest"},
     {"[queue.q]\n"
      "overflow = fifo\n",
      2, "overflow", "unknown value 'fifo'; expected block, reject or drop_oldest"}},
    {"overflow policy is case-sensitive",
     {"queues:\n"
      "  - name: q\n"
      "    overflow: Block\n",
      3, "overflow", "unknown value 'Block'"},
     {"[queue.q]\n"
      "overflow = Block\n",
      2, "overflow", "unknown value 'Block'"}},
    {"unknown delivery mode",
     {"queues:\n"
      "  - name: q\n"
      "    delivery: exactly_once\n",
      3, "delivery", "expected at_most_once or at_least_once"},
     {"[queue.q]\n"
      "delivery = exactly_once\n",
      2, "delivery", "expected at_most_once or at_least_once"}},
    {"empty value",
     {"queues:\n"
      "  - name: q\n"
      "    capacity:\n",
      3, "capacity", "has no value"},
     {"[queue.q]\n"
      "capacity =\n",
      2, "capacity", "has no value"}},
    {"empty quoted value",
     {"broker:\n"
      "  group: \"\"\n"
      "queues:\n"
      "  - name: q\n",
      2, "group", "has no value"},
     {"[broker]\n"
      "group = \"\"\n"
      "[queue.q]\n",
      2, "group", "has no value"}},

    // Out-of-range values.
    {"zero capacity",
     {"queues:\n"
      "  - name: q\n"
      "    capacity: 0\n",
      3, "capacity", "must be between 1 and 16777216, got 0"},
     {"[queue.q]\n"
      "capacity = 0\n",
      2, "capacity", "must be between 1 and 16777216, got 0"}},
    {"capacity above limit",
     {"queues:\n"
      "  - name: q\n"
      "    capacity: 16777217\n",
      3, "capacity", "must be between 1 and 16777216"},
     {"[queue.q]\n"
      "capacity = 16777217\n",
      2, "capacity", "must be between 1 and 16777216"}},
    {"capacity beyond 64 bits",
     {"queues:\n"
      "  - name: q\n"
      "    capacity: 99999999999999999999999\n",
      3, "capacity", "got 99999999999999999999999"},
     {"[queue.q]\n"
      "capacity = 99999999999999999999999\n",
      2, "capacity", "got 99999999999999999999999"}},
    {"zero max_message_size",
     {"queues:\n"
      "  - name: q\n"
      "    max_message_size: 0\n",
      3, "max_message_size", "must be between 1 and 67108864"},
     {"[queue.q]\n"
      "max_message_size = 0\n",
      2, "max_message_size", "must be between 1 and 67108864"}},
    {"max_message_size above limit",
     {"queues:\n"
      "  - name: q\n"
      "    max_message_size: 65MiB\n",
      3, "max_message_size", "must be between 1 and 67108864, got 65MiB"},
     {"[queue.q]\n"
      "max_message_size = 65MiB\n",
      2, "max_message_size", "must be between 1 and 67108864, got 65MiB"}},
    {"max_message_size with unknown unit",
     {"queues:\n"
      "  - name: q\n"
      "    max_message_size: 4KB\n",
      3, "max_message_size", "expected a byte count such as 4096, 4KiB or 1MiB, got '4KB'"},
     {"[queue.q]\n"
      "max_message_size = 4KB\n",
      2, "max_message_size", "expected a byte count such as 4096, 4KiB or 1MiB, got '4KB'"}},
    {"negative max_message_size",
     {"queues:\n"
      "  - name: q\n"
      "    max_message_size: -4096\n",
      3, "max_message_size", "expected a byte count"},
     {"[queue.q]\n"
      "max_message_size = -4096\n",
      2, "max_message_size", "expected a byte count"}},
    {"zero max_deliveries",
     {"queues:\n"
      "  - name: q\n"
      "    max_deliveries: 0\n",
      3, "max_deliveries", "must be between 1 and 1000"},
     {"[queue.q]\n"
      "max_deliveries = 0\n",
      2, "max_deliveries", "must be between 1 and 1000"}},
    {"max_deliveries above limit",
     {"queues:\n"
      "  - name: q\n"
      "    max_deliveries: 1001\n",
      3, "max_deliveries", "must be between 1 and 1000"},
     {"[queue.q]\n"
      "max_deliveries = 1001\n",
      2, "max_deliveries", "must be between 1 and 1000"}},
    {"zero ack_timeout_ms",
     {"queues:\n"
      "  - name: q\n"
      "    ack_timeout_ms: 0\n",
      3, "ack_timeout_ms", "must be between 1 and 86400000"},
     {"[queue.q]\n"
      "ack_timeout_ms = 0\n",
      2, "ack_timeout_ms", "must be between 1 and 86400000"}},
    {"ack_timeout_ms above a day",
     {"queues:\n"
      "  - name: q\n"
      "    ack_timeout_ms: 86400001\n",
      3, "ack_timeout_ms", "must be between 1 and 86400000"},
     {"[queue.q]\n"
      "ack_timeout_ms = 86400001\n",
      2, "ack_timeout_ms", "must be between 1 and 86400000"}},
    {"permissions with digit 8",
     {"broker:\n"
      "  permissions: 0680\n"
      "queues:\n"
      "  - name: q\n",
      2, "permissions", "expected octal mode bits such as 0660, got '0680'"},
     {"[broker]\n"
      "permissions = 0680\n"
      "[queue.q]\n",
      2, "permissions", "expected octal mode bits such as 0660, got '0680'"}},
    {"permissions with digit 9",
     {"broker:\n"
      "  permissions: \"0669\"\n"
      "queues:\n"
      "  - name: q\n",
      2, "permissions", "expected octal mode bits"},
     {"[broker]\n"
      "permissions = \"0669\"\n"
      "[queue.q]\n",
      2, "permissions", "expected octal mode bits"}},
    {"permissions above 0777",
     {"broker:\n"
      "  permissions: 01000\n"
      "queues:\n"
      "  - name: q\n",
      2, "permissions", "must be at most 0777"},
     {"[broker]\n"
      "permissions = 01000\n"
      "[queue.q]\n",
      2, "permissions", "must be at most 0777"}},
    {"permissions in symbolic form",
     {"broker:\n"
      "  permissions: rw-rw----\n"
      "queues:\n"
      "  - name: q\n",
      2, "permissions", "expected octal mode bits"},
     {"[broker]\n"
      "permissions = rw-rw----\n"
      "[queue.q]\n",
      2, "permissions", "expected octal mode bits"}},
    {"zero max_clients",
     {"broker:\n"
      "  max_clients: 0\n"
      "queues:\n"
      "  - name: q\n",
      2, "max_clients", "must be between 1 and 4096"},
     {"[broker]\n"
      "max_clients = 0\n"
      "[queue.q]\n",
      2, "max_clients", "must be between 1 and 4096"}},
    {"max_clients above limit",
     {"broker:\n"
      "  max_clients: 4097\n"
      "queues:\n"
      "  - name: q\n",
      2, "max_clients", "must be between 1 and 4096"},
     {"[broker]\n"
      "max_clients = 4097\n"
      "[queue.q]\n",
      2, "max_clients", "must be between 1 and 4096"}},
    {"liveness interval too short",
     {"broker:\n"
      "  liveness_interval_ms: 9\n"
      "queues:\n"
      "  - name: q\n",
      2, "liveness_interval_ms", "must be between 10 and 1000"},
     {"[broker]\n"
      "liveness_interval_ms = 9\n"
      "[queue.q]\n",
      2, "liveness_interval_ms", "must be between 10 and 1000"}},
    {"liveness interval too long",
     {"broker:\n"
      "  liveness_interval_ms: 1001\n"
      "queues:\n"
      "  - name: q\n",
      2, "liveness_interval_ms", "must be between 10 and 1000"},
     {"[broker]\n"
      "liveness_interval_ms = 1001\n"
      "[queue.q]\n",
      2, "liveness_interval_ms", "must be between 10 and 1000"}},

    // Names.
    {"broker name too long",
     {"broker:\n"
      "  name: " NAME_65 "\n"
      "queues:\n"
      "  - name: q\n",
      2, "name", "longer than 64 characters"},
     {"[broker]\n"
      "name = " NAME_65 "\n"
      "[queue.q]\n",
      2, "name", "longer than 64 characters"}},
    {"broker name with a slash",
     {"broker:\n"
      "  name: my/broker\n"
      "queues:\n"
      "  - name: q\n",
      2, "name", "may only contain letters, digits"},
     {"[broker]\n"
      "name = my/broker\n"
      "[queue.q]\n",
      2, "name", "may only contain letters, digits"}},
    {"broker name is a directory",
     {"broker:\n"
      "  name: ..\n"
      "queues:\n"
      "  - name: q\n",
      2, "name", "'..' is reserved"},
     {"[broker]\n"
      "name = ..\n"
      "[queue.q]\n",
      2, "name", "'..' is reserved"}},
    {"group with a space",
     {"broker:\n"
      "  group: \"my group\"\n"
      "queues:\n"
      "  - name: q\n",
      2, "group", "not a valid group name"},
     {"[broker]\n"
      "group = my group\n"
      "[queue.q]\n",
      2, "group", "not a valid group name"}},
    {"queue name with a bad character",
     {"queues:\n"
      "  - name: orders$\n",
      2, "name", "'orders$' may only contain"},
     {"[queue.orders$]\n",
      1, "name", "'orders$' may only contain"}},
    {"queue name too long",
     {"queues:\n"
      "  - name: ok\n"
      "  - name: " NAME_65 "\n",
      3, "name", "longer than 64 characters"},
     {"[queue.ok]\n"
      "[queue." NAME_65 "]\n",
      2, "name", "longer than 64 characters"}},
    {"missing queue name",
     {"queues:\n"
      "  - name: ok\n"
      "  - capacity: 5\n",
      3, "name", "missing"},
     {"[queue.ok]\n"
      "[queue.]\n"
      "capacity = 5\n",
      2, "name", "missing"}},
    {"name key inside an INI queue section",
     {nullptr, 0, "", ""},
     {"[queue.q]\n"
      "name = other\n",
      2, "name", "not allowed in a queue section"}},

    // Duplicates.
    {"duplicate queue name",
     {"queues:\n"
      "  - name: a\n"
      "  - name: b\n"
      "  - name: a\n",
      4, "name", "duplicate queue name 'a' (first defined on line 2)"},
     {"[queue.a]\n"
      "[queue.b]\n"
      "[queue.a]\n",
      3, "name", "duplicate queue name 'a' (first defined on line 1)"}},
    {"duplicate key in a queue",
     {"queues:\n"
      "  - name: q\n"
      "    capacity: 1\n"
      "    capacity: 2\n",
      4, "capacity", "duplicate key (first set on line 3)"},
     {"[queue.q]\n"
      "capacity = 1\n"
      "capacity = 2\n",
      3, "capacity", "duplicate key (first set on line 2)"}},
    {"duplicate key in the broker",
     {"broker:\n"
      "  max_clients: 1\n"
      "  max_clients: 2\n"
      "queues:\n"
      "  - name: q\n",
      3, "max_clients", "duplicate key (first set on line 2)"},
     {"[broker]\n"
      "max_clients = 1\n"
      "max_clients = 2\n"
      "[queue.q]\n",
      3, "max_clients", "duplicate key (first set on line 2)"}},
    {"broker given twice",
     {"broker:\n"
      "  name: a\n"
      "broker:\n"
      "  name: b\n"
      "queues:\n"
      "  - name: q\n",
      3, "broker", "duplicate key (first set on line 1)"},
     {"[broker]\n"
      "name = a\n"
      "[broker]\n"
      "name = b\n"
      "[queue.q]\n",
      3, "", "duplicate section [broker] (first on line 1)"}},

    // Dead-letter queues.
    {"dead_letter to an unknown queue",
     {"queues:\n"
      "  - name: jobs\n"
      "    delivery: at_least_once\n"
      "    dead_letter: nowhere\n",
      4, "dead_letter", "no queue named 'nowhere' is configured"},
     {"[queue.jobs]\n"
      "delivery = at_least_once\n"
      "dead_letter = nowhere\n",
      3, "dead_letter", "no queue named 'nowhere' is configured"}},
    {"dead_letter to itself",
     {"queues:\n"
      "  - name: jobs\n"
      "    delivery: at_least_once\n"
      "    dead_letter: jobs\n",
      4, "dead_letter", "cannot be its own dead-letter queue"},
     {"[queue.jobs]\n"
      "delivery = at_least_once\n"
      "dead_letter = jobs\n",
      3, "dead_letter", "cannot be its own dead-letter queue"}},
    {"dead_letter on an at_most_once queue",
     {"queues:\n"
      "  - name: jobs\n"
      "    dead_letter: dlq\n"
      "  - name: dlq\n",
      3, "dead_letter", "only applies with delivery: at_least_once"},
     {"[queue.jobs]\n"
      "dead_letter = dlq\n"
      "[queue.dlq]\n",
      2, "dead_letter", "only applies with delivery: at_least_once"}},
    {"dead_letter queue too small for the messages",
     {"queues:\n"
      "  - name: jobs\n"
      "    delivery: at_least_once\n"
      "    max_message_size: 8KiB\n"
      "    dead_letter: dlq\n"
      "  - name: dlq\n",
      5, "dead_letter", "takes messages of at most 4096 bytes"},
     {"[queue.jobs]\n"
      "delivery = at_least_once\n"
      "max_message_size = 8KiB\n"
      "dead_letter = dlq\n"
      "[queue.dlq]\n",
      4, "dead_letter", "takes messages of at most 4096 bytes"}},

    // Persistence.
    {"relative persist_path",
     {"broker:\n"
      "  persist_path: var/lib/shmq/x.segment\n"
      "queues:\n"
      "  - name: q\n",
      2, "persist_path", "is not an absolute path"},
     {"[broker]\n"
      "persist_path = var/lib/shmq/x.segment\n"
      "[queue.q]\n",
      2, "persist_path", "is not an absolute path"}},
    {"persist_path naming a directory",
     {"broker:\n"
      "  persist_path: /var/lib/shmq/\n"
      "queues:\n"
      "  - name: q\n",
      2, "persist_path", "does not name a file"},
     {"[broker]\n"
      "persist_path = /var/lib/shmq/\n"
      "[queue.q]\n",
      2, "persist_path", "does not name a file"}},
    {"flush interval out of range",
     {"broker:\n"
      "  flush_interval_ms: 5\n"
      "queues:\n"
      "  - name: q\n",
      2, "flush_interval_ms", ""},
     {"[broker]\n"
      "flush_interval_ms = 5\n"
      "[queue.q]\n",
      2, "flush_interval_ms", ""}},
    {"metrics_listen without a port",
     {"broker:\n"
      "  metrics_listen: 127.0.0.1\n"
      "queues:\n"
      "  - name: q\n",
      2, "metrics_listen", "'127.0.0.1' has no port; expected ADDRESS:PORT"},
     {"[broker]\n"
      "metrics_listen = 127.0.0.1\n"
      "[queue.q]\n",
      2, "metrics_listen", "'127.0.0.1' has no port; expected ADDRESS:PORT"}},
    {"metrics_listen with a host name",
     {"broker:\n"
      "  metrics_listen: localhost:9464\n"
      "queues:\n"
      "  - name: q\n",
      2, "metrics_listen", "has 'localhost', which is not an IPv4 or IPv6 address"},
     {"[broker]\n"
      "metrics_listen = localhost:9464\n"
      "[queue.q]\n",
      2, "metrics_listen", "has 'localhost', which is not an IPv4 or IPv6 address"}},
    {"metrics_listen with an IPv6 address without brackets",
     {"broker:\n"
      "  metrics_listen: \"::1:9464\"\n"
      "queues:\n"
      "  - name: q\n",
      2, "metrics_listen", "is an IPv6 address without brackets"},
     {"[broker]\n"
      "metrics_listen = \"::1:9464\"\n"
      "[queue.q]\n",
      2, "metrics_listen", "is an IPv6 address without brackets"}},
    {"metrics_listen with a port out of range",
     {"broker:\n"
      "  metrics_listen: \"[::1]:65536\"\n"
      "queues:\n"
      "  - name: q\n",
      2, "metrics_listen", "has the port '65536'; expected a number from 1 to 65535"},
     {"[broker]\n"
      "metrics_listen = \"[::1]:65536\"\n"
      "[queue.q]\n",
      2, "metrics_listen", "has the port '65536'; expected a number from 1 to 65535"}},

    // Set-aside bounds.
    {"set_aside.keep of zero",
     {"broker:\n"
      "  set_aside: { keep: 0 }\n"
      "queues:\n"
      "  - name: q\n",
      2, "set_aside.keep", "must be between 1 and 1000"},
     {"[broker]\n"
      "set_aside.keep = 0\n"
      "[queue.q]\n",
      2, "set_aside.keep", "must be between 1 and 1000"}},
    {"set_aside.max_age without a unit",
     {"broker:\n"
      "  set_aside:\n"
      "    max_age: 7\n"
      "queues:\n"
      "  - name: q\n",
      3, "set_aside.max_age", "expected a duration with its unit"},
     {"[broker]\n"
      "set_aside.max_age = 7\n"
      "[queue.q]\n",
      2, "set_aside.max_age", "expected a duration with its unit"}},
    {"set_aside.max_age under a minute",
     {"broker:\n"
      "  set_aside: { max_age: 30s }\n"
      "queues:\n"
      "  - name: q\n",
      2, "set_aside.max_age", "must be between 1m and 3650d"},
     {"[broker]\n"
      "set_aside.max_age = 30s\n"
      "[queue.q]\n",
      2, "set_aside.max_age", "must be between 1m and 3650d"}},

    // Whole-configuration limits.
    {"total payload over the limit",
     {"queues:\n"
      "  - name: a\n"
      "    capacity: 16777216\n"
      "    max_message_size: 512\n"
      "  - name: b\n"
      "    capacity: 16777216\n"
      "    max_message_size: 1MiB\n",
      6, "capacity", "brings the broker's segment"},
     {"[queue.a]\n"
      "capacity = 16777216\n"
      "max_message_size = 512\n"
      "[queue.b]\n"
      "capacity = 16777216\n"
      "max_message_size = 1MiB\n",
      5, "capacity", "brings the broker's segment"}},
    {"empty queue list",
     {"broker:\n"
      "  name: x\n"
      "queues: []\n",
      3, "queues", "no queues configured"},
     {"[broker]\n"
      "name = x\n",
      0, "", "no queues configured"}},
    {"empty file",
     {"", 0, "queues", "missing; at least one queue or topic is required"},
     {"", 0, "", "no queues configured"}},
    {"queues key with nothing under it",
     {"queues:\n", 1, "queues", "no queues configured"},
     {nullptr, 0, "", ""}},

    // Topics.
    {"unknown topic key",
     {"topics:\n"
      "  - name: t\n"
      "    overflow: block\n",
      3, "overflow", "unknown key; expected one of: name, capacity, max_message_size, history"},
     {"[topic.t]\n"
      "overflow = block\n",
      2, "overflow", "unknown key; expected one of: name, capacity, max_message_size, history"}},
    {"zero topic capacity",
     {"topics:\n"
      "  - name: t\n"
      "    capacity: 0\n",
      3, "capacity", "must be between 1 and 16777216, got 0"},
     {"[topic.t]\n"
      "capacity = 0\n",
      2, "capacity", "must be between 1 and 16777216, got 0"}},
    {"topic max_message_size above limit",
     {"topics:\n"
      "  - name: t\n"
      "    max_message_size: 65MiB\n",
      3, "max_message_size", "must be between 1 and 67108864, got 65MiB"},
     {"[topic.t]\n"
      "max_message_size = 65MiB\n",
      2, "max_message_size", "must be between 1 and 67108864, got 65MiB"}},
    {"history as large as the capacity",
     {"topics:\n"
      "  - name: t\n"
      "    capacity: 8\n"
      "    history: 8\n",
      4, "history", "must be less than the topic's capacity (8), got 8"},
     {"[topic.t]\n"
      "capacity = 8\n"
      "history = 8\n",
      3, "history", "must be less than the topic's capacity (8), got 8"}},
    {"history against the default capacity",
     {"topics:\n"
      "  - name: t\n"
      "    history: 5000\n",
      3, "history", "must be less than the topic's capacity (1024), got 5000"},
     {"[topic.t]\n"
      "history = 5000\n",
      2, "history", "must be less than the topic's capacity (1024), got 5000"}},
    {"negative history",
     {"topics:\n"
      "  - name: t\n"
      "    history: -1\n",
      3, "history", "expected a non-negative integer, got '-1'"},
     {"[topic.t]\n"
      "history = -1\n",
      2, "history", "expected a non-negative integer, got '-1'"}},
    {"zero max_subscribers",
     {"topics:\n"
      "  - name: t\n"
      "    max_subscribers: 0\n",
      3, "max_subscribers", "must be between 1 and 1024, got 0"},
     {"[topic.t]\n"
      "max_subscribers = 0\n",
      2, "max_subscribers", "must be between 1 and 1024, got 0"}},
    {"max_subscribers above limit",
     {"topics:\n"
      "  - name: t\n"
      "    max_subscribers: 1025\n",
      3, "max_subscribers", "must be between 1 and 1024, got 1025"},
     {"[topic.t]\n"
      "max_subscribers = 1025\n",
      2, "max_subscribers", "must be between 1 and 1024, got 1025"}},
    {"unknown slow_subscriber policy",
     {"topics:\n"
      "  - name: t\n"
      "    slow_subscriber: drop_oldest\n",
      3, "slow_subscriber", "unknown value 'drop_oldest'; expected block or drop"},
     {"[topic.t]\n"
      "slow_subscriber = drop_oldest\n",
      2, "slow_subscriber", "unknown value 'drop_oldest'; expected block or drop"}},
    {"missing topic name",
     {"topics:\n"
      "  - name: ok\n"
      "  - capacity: 5\n",
      3, "name", "missing; every topic needs a name"},
     {"[topic.ok]\n"
      "[topic.]\n"
      "capacity = 5\n",
      2, "name", "missing; every topic needs a name"}},
    {"topic name with a bad character",
     {"topics:\n"
      "  - name: prices/eu\n",
      2, "name", "'prices/eu' may only contain"},
     {"[topic.prices/eu]\n",
      1, "name", "'prices/eu' may only contain"}},
    {"name key inside an INI topic section",
     {nullptr, 0, "", ""},
     {"[topic.t]\n"
      "name = other\n",
      2, "name", "not allowed in a topic section; the name comes from the header [topic.NAME]"}},
    {"duplicate topic name",
     {"topics:\n"
      "  - name: a\n"
      "  - name: b\n"
      "  - name: a\n",
      4, "name", "duplicate topic name 'a' (first defined on line 2)"},
     {"[topic.a]\n"
      "[topic.b]\n"
      "[topic.a]\n",
      3, "name", "duplicate topic name 'a' (first defined on line 1)"}},
    {"topic with the name of a queue",
     {"queues:\n"
      "  - name: prices\n"
      "topics:\n"
      "  - name: prices\n",
      4, "name", "topic 'prices' has the name of a queue (defined on line 2)"},
     {"[queue.prices]\n"
      "[topic.prices]\n",
      2, "name", "topic 'prices' has the name of a queue (defined on line 1)"}},
    {"total payload over the limit with a topic",
     {"queues:\n"
      "  - name: a\n"
      "    capacity: 16777216\n"
      "    max_message_size: 512\n"
      "topics:\n"
      "  - name: b\n"
      "    capacity: 16777216\n"
      "    max_message_size: 1MiB\n",
      7, "capacity", "topic 'b' brings the broker's segment"},
     {"[queue.a]\n"
      "capacity = 16777216\n"
      "max_message_size = 512\n"
      "[topic.b]\n"
      "capacity = 16777216\n"
      "max_message_size = 1MiB\n",
      5, "capacity", "topic 'b' brings the broker's segment"}},
    {"topics is not a list",
     {"topics:\n"
      "  name: t\n",
      1, "topics", "expected a list of topics, got a mapping"},
     {nullptr, 0, "", ""}},
    {"topic entry is not a mapping",
     {"topics:\n"
      "  - t\n",
      2, "topics", "each topic must be a mapping"},
     {nullptr, 0, "", ""}},
    {"empty queue and topic lists",
     {"queues: []\n"
      "topics: []\n",
      1, "queues", "no queues configured; at least one queue or topic is required"},
     {nullptr, 0, "", ""}},
    {"empty topic list alone",
     {"topics: []\n",
      1, "topics", "no topics configured; at least one queue or topic is required"},
     {nullptr, 0, "", ""}},

    // Structure and syntax.
    {"malformed line",
     {"broker:\n"
      "  name: x\n"
      "\tmax_clients: 3\n"
      "queues:\n"
      "  - name: q\n",
      3, "", "YAML syntax error"},
     {"[broker]\n"
      "name = x\n"
      "max_clients 3\n"
      "[queue.q]\n",
      3, "", "expected 'key = value'"}},
    {"malformed nesting",
     {"queues:\n"
      "  - name: q\n"
      "    capacity: 1\n"
      "   bad: 2\n",
      4, "", "YAML syntax error: end of sequence not found"},
     {"[queue.q\n"
      "capacity = 1\n",
      1, "", "malformed section header"}},
    {"broker is not a mapping",
     {"broker: shmq\n"
      "queues:\n"
      "  - name: q\n",
      1, "broker", "expected a mapping of broker settings"},
     {nullptr, 0, "", ""}},
    {"queues is not a list",
     {"queues:\n"
      "  name: q\n",
      1, "queues", "expected a list of queues, got a mapping"},
     {nullptr, 0, "", ""}},
    {"queue entry is not a mapping",
     {"queues:\n"
      "  - q\n",
      2, "queues", "each queue must be a mapping"},
     {nullptr, 0, "", ""}},
    {"top level is not a mapping",
     {"- name: q\n", 1, "", "expected a mapping with the keys 'broker', 'queues' and 'topics'"},
     {nullptr, 0, "", ""}},
    {"second YAML document",
     {"queues:\n"
      "  - name: q\n"
      "---\n"
      "queues:\n"
      "  - name: r\n",
      4, "", "a second YAML document"},
     {nullptr, 0, "", ""}},
};

// One file to write and the report it must produce.
struct Sample {
    std::string case_name;
    std::string file_name;
    Variant expected;
};

std::ostream& operator<<(std::ostream& out, const Sample& sample) {
    return out << sample.file_name << " (" << sample.case_name << ")";
}

std::vector<Sample> samples(const std::string& extension) {
    std::vector<Sample> result;
    for (const InvalidCase& c : invalid_cases) {
        const Variant& variant = extension == ".yaml" ? c.yaml : c.ini;
        if (variant.text != nullptr) {
            result.push_back({c.name, "case" + std::to_string(result.size()) + extension, variant});
        }
    }
    return result;
}

void check_rejected(const Sample& sample) {
    const TempDir dir;
    const std::string path = dir.write(sample.file_name, sample.expected.text);
    check_reports(load_error(path), path, sample.expected.line, sample.expected.key,
                  sample.expected.fragment);
}

// A configuration with every key set to a value other than its default.
const char* const all_keys_yaml =
    "broker:\n"
    "  name: all.keys_set-1\n"
    "  permissions: \"0640\"\n"
    "  group: root\n"
    "  max_clients: 7\n"
    "  liveness_interval_ms: 250\n"
    "queues:\n"
    "  - name: work\n"
    "    capacity: 10\n"
    "    max_message_size: 2KiB\n"
    "    overflow: reject\n"
    "    delivery: at_least_once\n"
    "    max_deliveries: 3\n"
    "    ack_timeout_ms: 1500\n"
    "    dead_letter: work.failed\n"
    "  - name: work.failed\n"
    "    capacity: 20\n"
    "    max_message_size: 1 MiB\n"
    "    overflow: drop_oldest\n";

const char* const all_keys_ini =
    "[broker]\n"
    "name = all.keys_set-1\n"
    "permissions = 0640\n"
    "group = \"root\"\n"
    "max_clients = 7\n"
    "liveness_interval_ms = 250\n"
    "[queue.work]\n"
    "capacity = 10\n"
    "max_message_size = 2KiB\n"
    "overflow = reject\n"
    "delivery = at_least_once\n"
    "max_deliveries = 3\n"
    "ack_timeout_ms = 1500\n"
    "dead_letter = work.failed\n"
    "[queue.work.failed]\n"
    "capacity = 20\n"
    "max_message_size = 1 MiB\n"
    "overflow = drop_oldest\n";

std::string many_queues_yaml(std::uint32_t count) {
    std::string text = "queues:\n";
    for (std::uint32_t i = 0; i < count; ++i) {
        text += "  - {name: q" + std::to_string(i) + ", capacity: 1}\n";
    }
    return text;
}

std::string many_queues_ini(std::uint32_t count) {
    std::string text;
    for (std::uint32_t i = 0; i < count; ++i) {
        text += "[queue.q" + std::to_string(i) + "]\ncapacity = 1\n";
    }
    return text;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(examples)

BOOST_AUTO_TEST_CASE(both_example_files_load_to_the_same_configuration) {
    const BrokerConfig yaml = load_file(example("shmqd.yaml"));
    const BrokerConfig ini = load_file(example("shmqd.ini"));
    BOOST_TEST(yaml == ini);
}

BOOST_AUTO_TEST_CASE(example_describes_the_documented_broker) {
    const BrokerConfig config = load_file(example("shmqd.yaml"));
    BOOST_TEST(config.name == "shmq-example");
    BOOST_TEST(config.permissions == 0660u);
    BOOST_TEST(config.group.empty());
    BOOST_REQUIRE_EQUAL(config.queues.size(), 5u);

    const QueueConfig& orders = config.queues[0];
    BOOST_TEST(orders.name == "orders");
    BOOST_TEST(orders.capacity == 1024u);
    BOOST_TEST(orders.max_message_size == 4096u);
    BOOST_TEST(orders.overflow == OverflowPolicy::block);

    const QueueConfig& audit = config.queues[1];
    BOOST_TEST(audit.name == "events.audit");
    BOOST_TEST(audit.capacity == 4096u);
    BOOST_TEST(audit.max_message_size == 512u);
    BOOST_TEST(audit.overflow == OverflowPolicy::drop_oldest);

    const QueueConfig& jobs = config.queues[2];
    BOOST_TEST(jobs.name == "jobs");
    BOOST_TEST(jobs.delivery == DeliveryMode::at_least_once);
    BOOST_TEST(jobs.max_deliveries == 5u);
    BOOST_TEST(jobs.ack_timeout_ms == 30000u);
    BOOST_TEST(jobs.dead_letter == "jobs.dead");
    BOOST_TEST(jobs.max_message_size == 16384u);

    BOOST_TEST(config.queues[3].name == "jobs.dead");
    BOOST_TEST(config.queues[4].name == "telemetry");
    BOOST_TEST(config.queues[4].overflow == OverflowPolicy::reject);

    BOOST_REQUIRE_EQUAL(config.topics.size(), 2u);
    const TopicConfig& prices = config.topics[0];
    BOOST_TEST(prices.name == "prices");
    BOOST_TEST(prices.capacity == 4096u);
    BOOST_TEST(prices.max_message_size == 256u);
    BOOST_TEST(prices.history == 100u);
    BOOST_TEST(prices.max_subscribers == 64u);
    BOOST_TEST(prices.slow_subscriber == SlowSubscriberPolicy::drop);

    const TopicConfig& changes = config.topics[1];
    BOOST_TEST(changes.name == "config.changes");
    BOOST_TEST(changes.capacity == 64u);
    BOOST_TEST(changes.max_message_size == 16384u);
    BOOST_TEST(changes.history == 1u);
    BOOST_TEST(changes.slow_subscriber == SlowSubscriberPolicy::block);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(valid_input)

BOOST_AUTO_TEST_CASE(persistence_settings_load_from_both_formats) {
    const TempDir dir;
    // The directory must exist: the broker creates the file, not its directory.
    const std::string segment = (dir.path() / "p.segment").string();
    const auto yaml = load_file(dir.write("p.yaml", "broker:\n  persist_path: " + segment + "\n"
                                                    "  flush_interval_ms: 250\nqueues:\n  - name: q\n"));
    const auto ini = load_file(dir.write("p.ini", "[broker]\npersist_path = " + segment + "\n"
                                                  "flush_interval_ms = 250\n[queue.q]\n"));
    BOOST_TEST(yaml.persist_path == segment);
    BOOST_TEST(yaml.flush_interval_ms == 250u);
    BOOST_TEST(yaml == ini);
    BOOST_TEST(load_file(dir.write("d.yaml", "queues:\n  - name: q\n")).persist_path.empty());
}

BOOST_AUTO_TEST_CASE(set_aside_bounds_load_from_both_formats_with_documented_defaults) {
    const TempDir dir;
    const auto yaml = load_file(dir.write("s.yaml", "broker:\n  set_aside: { keep: 2, max_age: 12h }\n"
                                                    "queues:\n  - name: q\n"));
    const auto ini = load_file(dir.write("s.ini", "[broker]\nset_aside.keep = 2\nset_aside.max_age = 12h\n[queue.q]\n"));
    BOOST_TEST(yaml.set_aside_keep == 2u);
    BOOST_TEST(yaml.set_aside_max_age_s == 12u * 3600);
    BOOST_TEST(yaml == ini);
    const auto defaults = load_file(dir.write("d.yaml", "queues:\n  - name: q\n"));
    BOOST_TEST(defaults.set_aside_keep == 5u);
    BOOST_TEST(defaults.set_aside_max_age_s == 7u * 24 * 3600);
    BOOST_TEST(load_file(dir.write("m.yaml", "broker:\n  set_aside: { max_age: 30m }\nqueues:\n  - name: q\n"))
                   .set_aside_max_age_s == 1800u);
}

BOOST_AUTO_TEST_CASE(metrics_listen_loads_from_both_formats_and_is_off_by_default) {
    const TempDir dir;
    for (const std::string address : {"127.0.0.1:9464", "[::1]:9464", "0.0.0.0:1"}) {
        const auto yaml = load_file(dir.write("m.yaml", "broker:\n  metrics_listen: \"" + address +
                                                            "\"\nqueues:\n  - name: q\n"));
        const auto ini = load_file(dir.write("m.ini", "[broker]\nmetrics_listen = " + address + "\n[queue.q]\n"));
        BOOST_TEST(yaml.metrics_listen == address);
        BOOST_TEST(yaml == ini);
    }
    BOOST_TEST(load_file(dir.write("d.yaml", "queues:\n  - name: q\n")).metrics_listen.empty());
}

BOOST_AUTO_TEST_CASE(same_content_in_both_formats_is_equal) {
    const TempDir dir;
    const BrokerConfig yaml = load_file(dir.write("all.yaml", all_keys_yaml));
    const BrokerConfig ini = load_file(dir.write("all.ini", all_keys_ini));
    BOOST_TEST(yaml == ini);

    BrokerConfig expected;
    expected.name = "all.keys_set-1";
    expected.permissions = 0640;
    expected.group = "root";
    expected.max_clients = 7;
    expected.liveness_interval_ms = 250;
    QueueConfig work;
    work.name = "work";
    work.capacity = 10;
    work.max_message_size = 2048;
    work.overflow = OverflowPolicy::reject;
    work.delivery = DeliveryMode::at_least_once;
    work.max_deliveries = 3;
    work.ack_timeout_ms = 1500;
    work.dead_letter = "work.failed";
    QueueConfig failed;
    failed.name = "work.failed";
    failed.capacity = 20;
    failed.max_message_size = 1u << 20;
    failed.overflow = OverflowPolicy::drop_oldest;
    expected.queues = {work, failed};
    BOOST_TEST(yaml == expected);
}

BOOST_AUTO_TEST_CASE(omitted_keys_take_the_documented_defaults) {
    const TempDir dir;
    const BrokerConfig yaml = load_file(dir.write("min.yaml", "queues:\n  - name: q\n"));
    const BrokerConfig ini = load_file(dir.write("min.ini", "[queue.q]\n"));
    BrokerConfig expected;
    QueueConfig q;
    q.name = "q";
    expected.queues = {q};
    BOOST_TEST(yaml == expected);
    BOOST_TEST(ini == expected);
    BOOST_TEST(expected.name == "shmq");
    BOOST_TEST(q.overflow == OverflowPolicy::block);
    BOOST_TEST(q.delivery == DeliveryMode::at_most_once);
}

BOOST_AUTO_TEST_CASE(topics_load_the_same_from_both_formats) {
    const TempDir dir;
    const BrokerConfig yaml = load_file(dir.write("t.yaml",
                                                  "queues:\n"
                                                  "  - name: q\n"
                                                  "topics:\n"
                                                  "  - name: ticks.eu\n"
                                                  "    capacity: 16\n"
                                                  "    max_message_size: 1KiB\n"
                                                  "    history: 15\n"
                                                  "    max_subscribers: 1024\n"
                                                  "    slow_subscriber: drop\n"
                                                  "  - name: q.events\n"));
    const BrokerConfig ini = load_file(dir.write("t.ini",
                                                 "[queue.q]\n"
                                                 "[topic.ticks.eu]\n"
                                                 "capacity = 16\n"
                                                 "max_message_size = 1KiB\n"
                                                 "history = 15\n"
                                                 "max_subscribers = 1024\n"
                                                 "slow_subscriber = drop\n"
                                                 "[topic.q.events]\n"));
    BOOST_TEST(yaml == ini);

    TopicConfig ticks;
    ticks.name = "ticks.eu";
    ticks.capacity = 16;
    ticks.max_message_size = 1024;
    ticks.history = 15;
    ticks.max_subscribers = limits::max_subscribers;
    ticks.slow_subscriber = SlowSubscriberPolicy::drop;
    TopicConfig events;  // every key left out
    events.name = "q.events";
    BOOST_REQUIRE_EQUAL(yaml.topics.size(), 2u);
    BOOST_TEST(yaml.topics[0] == ticks);
    BOOST_TEST(yaml.topics[1] == events);
    BOOST_TEST(events.capacity == 1024u);
    BOOST_TEST(events.max_message_size == 4096u);
    BOOST_TEST(events.history == 0u);
    BOOST_TEST(events.max_subscribers == 64u);
    BOOST_TEST(events.slow_subscriber == SlowSubscriberPolicy::block);
}

BOOST_AUTO_TEST_CASE(a_broker_may_carry_only_topics) {
    const TempDir dir;
    const BrokerConfig yaml = load_file(dir.write("only.yaml", "topics:\n  - name: t\n"));
    const BrokerConfig with_empty_queues =
        load_file(dir.write("empty.yaml", "queues: []\ntopics:\n  - name: t\n"));
    const BrokerConfig ini = load_file(dir.write("only.ini", "[topic.t]\n"));
    BOOST_TEST(yaml.queues.empty());
    BOOST_REQUIRE_EQUAL(yaml.topics.size(), 1u);
    BOOST_TEST(yaml == ini);
    BOOST_TEST(yaml == with_empty_queues);
}

BOOST_AUTO_TEST_CASE(permissions_are_octal_however_written) {
    const TempDir dir;
    for (const char* spelling : {"0660", "\"0660\"", "'0660'", "660"}) {
        const std::string yaml = std::string("broker:\n  permissions: ") + spelling +
                                 "\nqueues:\n  - name: q\n";
        const std::string ini =
            std::string("[broker]\npermissions = ") + spelling + "\n[queue.q]\n";
        BOOST_TEST_CONTEXT("permissions written as " << spelling) {
            BOOST_TEST(load_file(dir.write("p.yaml", yaml)).permissions == 0660u);
            BOOST_TEST(load_file(dir.write("p.ini", ini)).permissions == 0660u);
        }
    }
    const std::string widest =
        "broker:\n  permissions: 0777\n  allow_world_access: true\nqueues:\n  - name: q\n";
    BOOST_TEST(load_file(dir.write("w.yaml", widest)).permissions == 0777u);
}

BOOST_AUTO_TEST_CASE(message_sizes_accept_binary_units) {
    const TempDir dir;
    const std::pair<const char*, std::uint32_t> sizes[] = {
        {"512", 512}, {"512B", 512}, {"4KiB", 4096}, {"4 KiB", 4096}, {"1MiB", 1u << 20},
        {"64MiB", 64u << 20}};
    for (const auto& [text, bytes] : sizes) {
        BOOST_TEST_CONTEXT("max_message_size " << text) {
            const std::string yaml =
                std::string("queues:\n  - name: q\n    capacity: 1\n    max_message_size: ") +
                text + "\n";
            const std::string ini =
                std::string("[queue.q]\ncapacity = 1\nmax_message_size = ") + text + "\n";
            BOOST_TEST(load_file(dir.write("s.yaml", yaml)).queues.at(0).max_message_size ==
                       bytes);
            BOOST_TEST(load_file(dir.write("s.ini", ini)).queues.at(0).max_message_size == bytes);
        }
    }
}

BOOST_AUTO_TEST_CASE(limits_themselves_are_accepted) {
    const TempDir dir;
    const std::string name_64(64, 'n');
    const std::string yaml = "broker:\n"
                             "  name: " + name_64 + "\n"
                             "  permissions: 0\n"
                             "  max_clients: 4096\n"
                             "  liveness_interval_ms: 10\n"
                             "queues:\n"
                             "  - name: " + name_64 + "\n"
                             "    capacity: 16777216\n"
                             "    max_message_size: 512\n"
                             "    delivery: at_least_once\n"
                             "    max_deliveries: 1000\n"
                             "    ack_timeout_ms: 86400000\n"
                             "  - name: x\n"
                             "    capacity: 1\n"
                             "    max_message_size: 1\n"
                             "    max_deliveries: 1\n"
                             "    ack_timeout_ms: 1\n";
    const BrokerConfig config = load_file(dir.write("limits.yaml", yaml));
    BOOST_TEST(config.name == name_64);
    BOOST_TEST(config.max_clients == limits::max_clients);
    BOOST_TEST(config.queues.at(0).capacity == limits::max_capacity);
    BOOST_TEST(config.queues.at(0).max_deliveries == 1000u);
    BOOST_TEST(config.queues.at(0).ack_timeout_ms == 86400000u);
    BOOST_TEST(config.queues.at(1).max_message_size == 1u);

    const std::string ini = "[broker]\nliveness_interval_ms = 1000\n[queue.q]\n";
    BOOST_TEST(load_file(dir.write("limits.ini", ini)).liveness_interval_ms == 1000u);
}

// The limit is on the segment the broker builds, computed by the very
// function the builder sizes it with: a capacity that fits is accepted, one
// slot more is refused.
BOOST_AUTO_TEST_CASE(a_segment_exactly_within_the_limit_is_accepted) {
    const TempDir dir;
    const auto size_with = [](std::uint32_t capacity) {
        shmq::SegmentSize size(64, 1, 0);
        size.add_queue(capacity, 1024);
        return size.bytes();
    };
    std::uint32_t low = 1;
    std::uint32_t high = limits::max_capacity;
    BOOST_REQUIRE(size_with(high) > limits::max_segment_bytes);
    while (high - low > 1) {
        const std::uint32_t middle = low + (high - low) / 2;
        (size_with(middle) <= limits::max_segment_bytes ? low : high) = middle;
    }
    const auto ini = [](std::uint32_t capacity) {
        return "[queue.big]\ncapacity = " + std::to_string(capacity) + "\nmax_message_size = 1KiB\n";
    };
    BOOST_TEST(load_file(dir.write("fits.ini", ini(low))).queues.at(0).capacity == low);
    check_reports(load_error(dir.write("over.ini", ini(high))), (dir.path() / "over.ini").string(), 2, "capacity",
                  "brings the broker's segment");
}

BOOST_AUTO_TEST_CASE(ini_dialect_details) {
    const TempDir dir;
    // CRLF line ends, a byte order mark, indented comments of both kinds,
    // padding inside the header and around '=', and a dotted queue name.
    const std::string ini = "\xEF\xBB\xBF[broker]\r\n"
                            "   # a comment\r\n"
                            "\t; another\r\n"
                            "\r\n"
                            "  name   =   padded  \r\n"
                            "[ queue.a.b.c ]\r\n"
                            "capacity=5\r\n";
    const BrokerConfig config = load_file(dir.write("dialect.ini", ini));
    BOOST_TEST(config.name == "padded");
    BOOST_REQUIRE_EQUAL(config.queues.size(), 1u);
    BOOST_TEST(config.queues[0].name == "a.b.c");
    BOOST_TEST(config.queues[0].capacity == 5u);
}

BOOST_AUTO_TEST_CASE(yaml_flow_style_is_the_same_model) {
    const TempDir dir;
    const BrokerConfig flow = load_file(dir.write(
        "flow.yml", "{broker: {name: b}, queues: [{name: q, capacity: 3, overflow: reject}]}\n"));
    const BrokerConfig ini = load_file(
        dir.write("flow.ini", "[broker]\nname = b\n[queue.q]\ncapacity = 3\noverflow = reject\n"));
    BOOST_TEST(flow == ini);
}

BOOST_AUTO_TEST_CASE(max_queues_is_accepted) {
    const TempDir dir;
    BOOST_TEST(load_file(dir.write("n.yaml", many_queues_yaml(limits::max_queues))).queues.size() ==
               limits::max_queues);
    BOOST_TEST(load_file(dir.write("n.ini", many_queues_ini(limits::max_queues))).queues.size() ==
               limits::max_queues);
}

BOOST_AUTO_TEST_CASE(enum_spellings_match_the_configuration_files) {
    BOOST_TEST(to_string(OverflowPolicy::block) == std::string("block"));
    BOOST_TEST(to_string(OverflowPolicy::reject) == std::string("reject"));
    BOOST_TEST(to_string(OverflowPolicy::drop_oldest) == std::string("drop_oldest"));
    BOOST_TEST(to_string(DeliveryMode::at_most_once) == std::string("at_most_once"));
    BOOST_TEST(to_string(DeliveryMode::at_least_once) == std::string("at_least_once"));
    BOOST_TEST(to_string(SlowSubscriberPolicy::block) == std::string("block"));
    BOOST_TEST(to_string(SlowSubscriberPolicy::drop) == std::string("drop"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(invalid_input)

BOOST_DATA_TEST_CASE(yaml_is_rejected_with_file_line_and_key, data::make(samples(".yaml")),
                     sample) {
    check_rejected(sample);
}

BOOST_DATA_TEST_CASE(ini_is_rejected_with_file_line_and_key, data::make(samples(".ini")), sample) {
    check_rejected(sample);
}

// Issue 16, item 13: the check used to add up payloads only, so 1024 queues
// of 2^24 one-byte messages (16 GiB of payload) passed while their slot
// headers made the segment 1 TiB.
BOOST_AUTO_TEST_CASE(slot_headers_count_towards_the_segment_limit) {
    const TempDir dir;
    std::string yaml = "queues:\n";
    for (int i = 0; i < 1024; ++i) {
        yaml += "  - {name: q" + std::to_string(i) + ", capacity: 16777216, max_message_size: 1}\n";
    }
    const std::string path = dir.write("headers.yaml", yaml);
    // Each queue's slots take 1 GiB, its claim words and its take words
    // 128 MiB each: the 13th with the tables is over 16 GiB.
    check_reports(load_error(path), path, 14, "capacity", "queue 'q12' brings the broker's segment");
}

// Issue 16, item 12: yaml-cpp's own limit said only "bad file".
BOOST_AUTO_TEST_CASE(deep_nesting_names_the_limit_and_the_line) {
    const TempDir dir;
    std::string block = "queues:\n";
    for (int level = 0; level < 500; ++level) {
        block += std::string(2 * static_cast<std::size_t>(level) + 2, ' ') + "- k:\n";
    }
    const std::string path = dir.write("deep.yaml", block);
    // The 33rd level: the root mapping, then a list and a mapping per line.
    check_reports(load_error(path), path, 17, "", "nested more than 32 levels deep");
    const std::string flow = dir.write("flow.yaml", "queues: " + std::string(500, '[') + std::string(500, ']') + "\n");
    check_reports(load_error(flow), flow, 1, "", "nested more than 32 levels deep");
}

// Issue 16, item 13: a bit for others used to pass without a word.
BOOST_AUTO_TEST_CASE(world_permissions_need_allow_world_access) {
    const TempDir dir;
    for (const char* mode : {"0777", "0666", "0604", "0001"}) {
        BOOST_TEST_CONTEXT("permissions " << mode) {
            const std::string yaml =
                dir.write("w.yaml", std::string("broker:\n  permissions: ") + mode + "\nqueues:\n  - name: q\n");
            check_reports(load_error(yaml), yaml, 2, "permissions", "allow_world_access: true");
            const std::string ini = dir.write("w.ini", std::string("[broker]\npermissions = ") + mode + "\n[queue.q]\n");
            check_reports(load_error(ini), ini, 2, "permissions", "allow_world_access: true");
        }
    }
    const BrokerConfig yaml = load_file(dir.write(
        "a.yaml", "broker:\n  permissions: 0666\n  allow_world_access: true\nqueues:\n  - name: q\n"));
    const BrokerConfig ini =
        load_file(dir.write("a.ini", "[broker]\npermissions = 0666\nallow_world_access = true\n[queue.q]\n"));
    BOOST_TEST(yaml.allow_world_access);
    BOOST_TEST(yaml.permissions == 0666u);
    BOOST_TEST(yaml == ini);
    const std::string not_boolean =
        dir.write("b.yaml", "broker:\n  allow_world_access: yes\nqueues:\n  - name: q\n");
    check_reports(load_error(not_boolean), not_boolean, 2, "allow_world_access", "expected true or false");
}

// Issue 17, item 4: `access: { group: G }` in YAML is `access.group = G` in
// INI; the group must exist, share a dead-letter queue's access, and not come
// with persist_path.
BOOST_AUTO_TEST_CASE(access_groups_load_from_both_formats_and_are_checked) {
    const TempDir dir;
    const BrokerConfig yaml = load_file(dir.write(
        "g.yaml", "queues:\n  - name: open\n  - name: pay\n    access: { group: root }\n"
                  "topics:\n  - name: prices\n    access:\n      group: root\n"));
    const BrokerConfig ini = load_file(dir.write(
        "g.ini", "[queue.open]\n[queue.pay]\naccess.group = root\n[topic.prices]\naccess.group = root\n"));
    BOOST_TEST(yaml.queues[0].access_group.empty());
    BOOST_TEST(yaml.queues[1].access_group == "root");
    BOOST_TEST(yaml.topics[0].access_group == "root");
    BOOST_TEST(yaml == ini);

    const std::string missing =
        dir.write("m.yaml", "queues:\n  - name: pay\n    access: { group: shmq-no-such-group }\n");
    check_reports(load_error(missing), missing, 3, "access.group", "does not exist");
    const std::string unknown = dir.write("u.yaml", "queues:\n  - name: pay\n    access: { role: reader }\n");
    check_reports(load_error(unknown), unknown, 3, "access.role", "unknown key");
    const std::string across = dir.write(
        "d.ini", "[queue.jobs]\ndelivery = at_least_once\ndead_letter = dead\naccess.group = root\n[queue.dead]\n");
    check_reports(load_error(across), across, 3, "dead_letter", "same access");
    // A persistent broker keeps each group's segment in a file beside its own.
    const BrokerConfig persistent = load_file(dir.write(
        "p.ini", "[broker]\npersist_path = " + (dir.path() / "p.segment").string() +
                     "\n[queue.pay]\naccess.group = root\n"));
    BOOST_TEST(persistent.queues[0].access_group == "root");
}

// access.readers: a second group with read-only access to the access group's
// segment, one value per group since the group's queues share one segment.
BOOST_AUTO_TEST_CASE(access_readers_load_from_both_formats_and_are_checked) {
    const TempDir dir;
    const BrokerConfig yaml = load_file(dir.write(
        "r.yaml", "queues:\n  - name: pay\n    access: { group: root, readers: daemon }\n"
                  "topics:\n  - name: prices\n    access:\n      group: root\n      readers: daemon\n"));
    const BrokerConfig ini = load_file(dir.write(
        "r.ini", "[queue.pay]\naccess.group = root\naccess.readers = daemon\n"
                 "[topic.prices]\naccess.group = root\naccess.readers = daemon\n"));
    BOOST_TEST(yaml.queues[0].access_readers == "daemon");
    BOOST_TEST(yaml.topics[0].access_readers == "daemon");
    BOOST_TEST(yaml == ini);

    const std::string alone = dir.write("a.yaml", "queues:\n  - name: pay\n    access: { readers: daemon }\n");
    check_reports(load_error(alone), alone, 3, "access.readers", "need access.group");
    const std::string missing =
        dir.write("m.ini", "[queue.pay]\naccess.group = root\naccess.readers = shmq-no-such-group\n");
    check_reports(load_error(missing), missing, 3, "access.readers", "does not exist");
    const std::string itself = dir.write("i.ini", "[queue.pay]\naccess.group = root\naccess.readers = root\n");
    check_reports(load_error(itself), itself, 3, "access.readers", "the access group itself");
    const std::string differ = dir.write(
        "d.ini", "[queue.pay]\naccess.group = root\naccess.readers = daemon\n[queue.fee]\naccess.group = root\n");
    check_reports(load_error(differ), differ, 5, "access.readers", "must name the same readers");
}

// Where a loaded configuration set each broker key, for messages after loading.
BOOST_AUTO_TEST_CASE(the_origin_names_file_line_and_key) {
    const TempDir dir;
    const std::string path = dir.write("o.yaml", "broker:\n  name: o\n  max_clients: 3\nqueues:\n  - name: q\n");
    const BrokerConfig config = load_file(path);
    BOOST_TEST(where(config, "max_clients") == path + ":3: key 'max_clients'");
    BOOST_TEST(where(config, "group") == path + ": key 'group' (not set, so its default)");
}

BOOST_AUTO_TEST_CASE(too_many_queues) {
    const TempDir dir;
    const std::uint32_t count = limits::max_queues + 1;
    const std::string yaml = dir.write("many.yaml", many_queues_yaml(count));
    // Line 1 is "queues:", so queue number N (from 1) is on line N + 1.
    check_reports(load_error(yaml), yaml, static_cast<int>(count) + 1, "",
                  "4097 queues configured, at most 4096");
    const std::string ini = dir.write("many.ini", many_queues_ini(count));
    check_reports(load_error(ini), ini, static_cast<int>(2 * count - 1), "",
                  "4097 queues configured, at most 4096");
}

BOOST_AUTO_TEST_CASE(every_problem_is_reported_at_once_in_line_order) {
    const TempDir dir;
    const std::string path = dir.write("errors.ini",
                                       "[queue.b]\n"
                                       "dead_letter = nowhere\n"
                                       "capacity = 0\n"
                                       "[queue.a]\n"
                                       "overflow = sometimes\n");
    const std::string expected =
        path + ":2: key 'dead_letter': only applies with delivery: at_least_once; "
               "this queue is at_most_once\n" +
        path + ":3: key 'capacity': must be between 1 and 16777216, got 0\n" +
        path + ":5: key 'overflow': unknown value 'sometimes'; "
               "expected block, reject or drop_oldest";
    BOOST_TEST(load_error(path) == expected);
}

BOOST_AUTO_TEST_CASE(one_file_yields_one_report_per_problem) {
    const TempDir dir;
    const std::string path = dir.write("several.yaml",
                                       "broker:\n"
                                       "  max_clients: many\n"
                                       "  colour: red\n"
                                       "queues:\n"
                                       "  - name: q\n"
                                       "    capacity: -1\n"
                                       "  - name: q\n");
    const std::string message = load_error(path);
    BOOST_TEST(lines_of(message).size() == 4u, message);
    check_reports(message, path, 2, "max_clients", "got 'many'");
    check_reports(message, path, 3, "colour", "unknown key");
    check_reports(message, path, 6, "capacity", "got '-1'");
    check_reports(message, path, 7, "name", "duplicate queue name 'q'");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(files)

BOOST_AUTO_TEST_CASE(missing_file_names_the_file_and_the_reason) {
    const TempDir dir;
    const std::string path = (dir.path() / "absent.yaml").string();
    BOOST_TEST(load_error(path) == path + ": cannot read: No such file or directory");
}

// Only a regular file is read: a directory, a FIFO or a device is refused
// for what it is, before any read could block or never end.
BOOST_AUTO_TEST_CASE(anything_but_a_regular_file_is_refused_for_what_it_is) {
    const TempDir dir;
    const std::string directory = (dir.path() / "directory.ini").string();
    fs::create_directory(directory);
    BOOST_TEST(load_error(directory) ==
               directory + ": is a directory, not a regular file; give the path of a configuration file");
    const std::string fifo = (dir.path() / "fifo.yaml").string();
    BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    BOOST_TEST(load_error(fifo) == fifo + ": is a FIFO, not a regular file; give the path of a configuration file");
    BOOST_TEST(load_error("/dev/zero", Format::yaml) ==
               "/dev/zero: is a character device, not a regular file; give the path of a configuration file");
}

BOOST_AUTO_TEST_CASE(a_file_larger_than_the_limit_is_refused) {
    const TempDir dir;
    std::string text = "queues:\n  - name: q\n#";
    text.resize(limits::max_file_bytes + 1, 'x');
    const std::string path = dir.write("big.yaml", text);
    BOOST_TEST(load_error(path) == path + ": larger than 16 MiB, the most a configuration file may hold");
}

BOOST_AUTO_TEST_CASE(unreadable_file_names_the_file_and_the_reason) {
    const TempDir dir;
    const std::string path = dir.write("secret.yaml", "queues:\n  - name: q\n");
    fs::permissions(path, fs::perms::none);
    // root reads it anyway; the point is the message when the open fails.
    if (::access(path.c_str(), R_OK) == 0) {
        return;
    }
    BOOST_TEST(load_error(path) == path + ": cannot read: Permission denied");
}

BOOST_AUTO_TEST_CASE(unknown_extension_asks_for_a_format) {
    const TempDir dir;
    const std::string path = dir.write("shmqd.conf", "[queue.q]\n");
    const std::string message = load_error(path);
    BOOST_TEST(message.rfind(path + ": ", 0) == 0u, message);
    BOOST_TEST(message.find("--format") != std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(extension_picks_the_format) {
    const TempDir dir;
    BOOST_TEST(load_file(dir.write("a.yml", "queues:\n  - name: q\n")).queues.size() == 1u);
    BOOST_TEST(load_file(dir.write("b.YAML", "queues:\n  - name: q\n")).queues.size() == 1u);
    BOOST_TEST(load_file(dir.write("c.INI", "[queue.q]\n")).queues.size() == 1u);
    // The extension, not the content, decides: INI text in a .yaml file is
    // read as YAML and rejected.
    const std::string mislabelled = dir.write("d.yaml", "[queue.q]\n");
    BOOST_TEST(!load_error(mislabelled).empty());
}

BOOST_AUTO_TEST_CASE(explicit_format_overrides_the_extension) {
    const TempDir dir;
    const std::string conf = dir.write("shmqd.conf", "[queue.q]\ncapacity = 2\n");
    BOOST_TEST(load_file(conf, Format::ini).queues.at(0).capacity == 2u);
    const std::string yaml_in_ini = dir.write("really-yaml.ini", "queues:\n  - name: q\n");
    BOOST_TEST(load_file(yaml_in_ini, Format::yaml).queues.at(0).name == "q");
}

BOOST_AUTO_TEST_CASE(parse_functions_use_the_given_source_name) {
    try {
        parse_ini("[queue.q]\ncapacity = x\n", "<stdin>");
        BOOST_ERROR("accepted");
    } catch (const ConfigError& e) {
        BOOST_TEST(std::string(e.what()).rfind("<stdin>:2: key 'capacity': ", 0) == 0u, e.what());
    }
    BOOST_TEST(parse_yaml("queues: [{name: q}]", "inline").queues.at(0).name == "q");
}

BOOST_AUTO_TEST_SUITE_END()

// producers / consumers: many (the default) or single, in both formats. A
// dead-letter queue cannot have a single producer: the broker produces
// into it beside the clients.
BOOST_AUTO_TEST_CASE(producers_and_consumers_load_from_both_formats_and_are_checked) {
    const TempDir dir;
    const BrokerConfig yaml = load_file(dir.write(
        "s.yaml", "queues:\n  - name: ticks\n    producers: single\n    consumers: single\n  - name: jobs\n"));
    const BrokerConfig ini = load_file(
        dir.write("s.ini", "[queue.ticks]\nproducers = single\nconsumers = single\n[queue.jobs]\n"));
    BOOST_TEST((yaml.queues[0].producers == Sharing::single && yaml.queues[0].consumers == Sharing::single));
    BOOST_TEST((yaml.queues[1].producers == Sharing::many && yaml.queues[1].consumers == Sharing::many));
    BOOST_TEST(yaml == ini);
    BOOST_TEST(std::string(to_string(Sharing::single)) == "single");

    const std::string wrong = dir.write("w.yaml", "queues:\n  - name: ticks\n    producers: one\n");
    check_reports(load_error(wrong), wrong, 3, "producers", "unknown value 'one'; expected many or single");
    const std::string dead = dir.write(
        "d.ini", "[queue.jobs]\ndelivery = at_least_once\ndead_letter = dead\n[queue.dead]\nproducers = single\n");
    check_reports(load_error(dead), dead, 3, "dead_letter", "producers: single");
}
