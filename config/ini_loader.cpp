// INI front end: a [broker] section, one [queue.NAME] section per queue and
// one [topic.NAME] section per topic.
//
// The dialect, kept small on purpose:
//   - one item per line: a [section] header, `key = value`, a comment
//     (first non-blank character '#' or ';') or a blank line;
//   - comments take a whole line, so '#' and ';' inside a value are part of
//     it (and then fail validation rather than silently truncating it);
//   - keys and values are trimmed; a value may be wrapped in "..." or '...';
//   - the queue or topic name is everything after the first "queue." or
//     "topic.", dots included.
// Only the structure is checked here; values go on as text to
// build_config(), shared with the YAML loader.
#include "config/broker_config.hpp"
#include "config/validate.hpp"

#include <optional>
#include <string_view>

namespace shmq::config {

namespace {

using detail::Diagnostics;
using detail::RawConfig;
using detail::RawSection;

constexpr std::string_view whitespace = " \t\r\n\f\v";
constexpr std::string_view queue_prefix = "queue.";
constexpr std::string_view topic_prefix = "topic.";

std::string_view trim(std::string_view text) {
    const auto begin = text.find_first_not_of(whitespace);
    if (begin == std::string_view::npos) {
        return {};
    }
    const auto end = text.find_last_not_of(whitespace);
    return text.substr(begin, end - begin + 1);
}

std::string unquote(std::string_view value) {
    const bool quoted = value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
                        value.back() == value.front();
    return std::string(quoted ? value.substr(1, value.size() - 2) : value);
}

// Reads the file line by line into RawConfig. A bad line is reported and
// skipped; the lines after it are still checked.
class IniReader {
public:
    explicit IniReader(Diagnostics& diagnostics) : diagnostics_(diagnostics) {}

    void read_line(std::string_view text, int line) {
        text = trim(text);
        if (text.empty() || text.front() == '#' || text.front() == ';') {
            return;
        }
        if (text.front() == '[') {
            start_section(text, line);
        } else {
            add_entry(text, line);
        }
    }

    RawConfig finish() {
        if (raw_.queues.empty() && raw_.topics.empty()) {
            diagnostics_.error(std::nullopt, "",
                               "no queues configured; add at least one [queue.NAME] or "
                               "[topic.NAME] section");
        }
        return std::move(raw_);
    }

private:
    // Where the keys that follow go. `skipped` is a section already reported
    // as bad: its keys are ignored instead of each being reported again.
    enum class Target { none, broker, queue, topic, skipped };

    void start_section(std::string_view text, int line) {
        if (text.back() != ']') {
            diagnostics_.error(line, "",
                               "malformed section header; expected [broker], [queue.NAME] or "
                               "[topic.NAME]");
            target_ = Target::skipped;
            return;
        }
        const std::string_view name = trim(text.substr(1, text.size() - 2));
        if (name == "broker") {
            start_broker(line);
        } else if (name.substr(0, queue_prefix.size()) == queue_prefix) {
            start_named(raw_.queues, Target::queue, name.substr(queue_prefix.size()), line);
        } else if (name.substr(0, topic_prefix.size()) == topic_prefix) {
            start_named(raw_.topics, Target::topic, name.substr(topic_prefix.size()), line);
        } else {
            diagnostics_.error(line, "",
                               "unknown section [" + std::string(name) +
                                   "]; expected [broker], [queue.NAME] or [topic.NAME]");
            target_ = Target::skipped;
        }
    }

    void start_broker(int line) {
        if (broker_line_) {
            diagnostics_.error(line, "",
                               "duplicate section [broker] (first on line " +
                                   std::to_string(*broker_line_) + ")");
            target_ = Target::skipped;
            return;
        }
        broker_line_ = line;
        raw_.broker.line = line;
        target_ = Target::broker;
    }

    // A queue or a topic. The name becomes an ordinary `name` entry on the
    // header's line, so the shared validation checks it exactly as it checks
    // a YAML `name:`. An empty name adds no entry and is then reported as
    // missing.
    void start_named(std::vector<RawSection>& sections, Target target, std::string_view name,
                     int line) {
        RawSection section;
        section.line = line;
        if (!name.empty()) {
            section.entries.push_back({"name", std::string(name), line});
        }
        sections.push_back(std::move(section));
        target_ = target;
    }

    void add_entry(std::string_view text, int line) {
        const auto equals = text.find('=');
        const std::string key(trim(text.substr(0, equals)));
        if (equals == std::string_view::npos || key.empty()) {
            diagnostics_.error(line, "",
                               "expected 'key = value', a [section] header or a comment");
            return;
        }
        switch (target_) {
        case Target::none:
            diagnostics_.error(line, key,
                               "outside any section; put it under [broker], [queue.NAME] or "
                               "[topic.NAME]");
            return;
        case Target::skipped:
            return;
        case Target::queue:
        case Target::topic:
            if (key == "name") {
                const char* kind = target_ == Target::queue ? "queue" : "topic";
                diagnostics_.error(line, key,
                                   std::string("not allowed in a ") + kind +
                                       " section; the name comes from the header [" + kind +
                                       ".NAME]");
                return;
            }
            break;
        case Target::broker:
            break;
        }
        RawSection& section = target_ == Target::broker ? raw_.broker
                              : target_ == Target::queue ? raw_.queues.back()
                                                         : raw_.topics.back();
        section.entries.push_back({key, unquote(trim(text.substr(equals + 1))), line});
    }

    Diagnostics& diagnostics_;
    RawConfig raw_;
    Target target_ = Target::none;
    std::optional<int> broker_line_;
};

}  // namespace

BrokerConfig parse_ini(const std::string& text, const std::string& source_name) {
    Diagnostics diagnostics(source_name);
    IniReader reader(diagnostics);
    std::string_view rest = text;
    // A UTF-8 byte order mark, as some Windows editors write, is not content.
    constexpr std::string_view bom = "\xEF\xBB\xBF";
    if (rest.substr(0, bom.size()) == bom) {
        rest.remove_prefix(bom.size());
    }
    for (int line = 1; !rest.empty(); ++line) {
        const auto end = rest.find('\n');
        reader.read_line(rest.substr(0, end), line);
        rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
    }
    BrokerConfig config = detail::build_config(reader.finish(), diagnostics);
    diagnostics.throw_if_any();
    return config;
}

}  // namespace shmq::config
