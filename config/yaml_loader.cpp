// YAML front end: a top-level mapping with an optional `broker:` mapping, a
// `queues:` list of mappings and a `topics:` list of mappings. Only the structure is checked here; values
// are handed on as text to build_config(), shared with the INI loader.
#include "config/broker_config.hpp"
#include "config/validate.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <sstream>

namespace shmq::config {

namespace {

using detail::Diagnostics;
using detail::RawConfig;
using detail::RawSection;

// yaml-cpp counts lines from 0; editors and the error format count from 1.
int line_of(const YAML::Node& node) { return node.Mark().line + 1; }

std::string kind_of(const YAML::Node& node) {
    switch (node.Type()) {
    case YAML::NodeType::Map:
        return "a mapping";
    case YAML::NodeType::Sequence:
        return "a list";
    case YAML::NodeType::Null:
        return "nothing";
    default:
        return "a single value";
    }
}

// Keys are compared as text; a list or mapping used as a key is never one we
// know, and has no text to name it by.
std::optional<std::string> key_text(const YAML::Node& key, Diagnostics& diagnostics) {
    if (!key.IsScalar()) {
        diagnostics.error(line_of(key), "", "keys must be plain names, got " + kind_of(key));
        return std::nullopt;
    }
    return key.Scalar();
}

// A queue's or topic's `access: { group: G }`, the broker's `set_aside: {
// keep: N }`: each key becomes `access.KEY` (`set_aside.KEY`),
// the name the INI format gives it, so that both formats meet in one field.
void read_nested(const std::string& outer, const YAML::Node& mapping, RawSection& section,
                 Diagnostics& diagnostics) {
    for (const auto& pair : mapping) {
        const auto key = key_text(pair.first, diagnostics);
        if (!key) {
            continue;
        }
        const YAML::Node& value = pair.second;
        if (value.IsMap() || value.IsSequence()) {
            diagnostics.error(line_of(pair.first), outer + "." + *key,
                              "expected a single value, got " + kind_of(value));
            continue;
        }
        section.entries.push_back({outer + "." + *key, value.IsScalar() ? value.Scalar() : "",
                                   line_of(pair.first)});
    }
}

// The broker mapping, or one queue's or topic's mapping. Every value must be a single
// scalar: `capacity: [1]` is a type error, whatever the list holds. Values
// keep their text exactly as written so that 0660 stays "0660" (octal) rather
// than being read as a YAML integer. An empty value (null) becomes "", which
// build_config() reports.
RawSection read_section(const YAML::Node& mapping, Diagnostics& diagnostics) {
    RawSection section;
    section.line = line_of(mapping);
    for (const auto& pair : mapping) {
        const auto key = key_text(pair.first, diagnostics);
        if (!key) {
            continue;
        }
        const YAML::Node& value = pair.second;
        if ((*key == "access" || *key == "set_aside") && value.IsMap()) {
            read_nested(*key, value, section, diagnostics);
            continue;
        }
        if (value.IsMap() || value.IsSequence()) {
            diagnostics.error(line_of(pair.first), *key,
                              "expected a single value, got " + kind_of(value));
            continue;
        }
        section.entries.push_back({*key, value.IsScalar() ? value.Scalar() : "",
                                   line_of(pair.first)});
    }
    return section;
}

void read_broker(const YAML::Node& key, const YAML::Node& value, RawConfig& raw,
                 Diagnostics& diagnostics) {
    if (value.IsNull()) {
        return;  // `broker:` with nothing under it: all defaults
    }
    if (!value.IsMap()) {
        diagnostics.error(line_of(key), "broker",
                          "expected a mapping of broker settings, got " + kind_of(value));
        return;
    }
    raw.broker = read_section(value, diagnostics);
}

// A `queues:` or `topics:` list of mappings. Returns how many items it
// declares, sound or not, so that the caller can tell "none configured" from
// "configured, but wrongly".
std::size_t read_list(const YAML::Node& key, const YAML::Node& value, const char* name,
                      const char* item_kind, std::vector<RawSection>& sections,
                      Diagnostics& diagnostics) {
    if (value.IsNull()) {
        return 0;
    }
    if (!value.IsSequence()) {
        diagnostics.error(line_of(key), name,
                          std::string("expected a list of ") + name + ", got " + kind_of(value));
        return 1;  // reported; not also "none configured"
    }
    for (const YAML::Node& item : value) {
        if (!item.IsMap()) {
            diagnostics.error(line_of(item), name,
                              std::string("each ") + item_kind +
                                  " must be a mapping of its settings, got " + kind_of(item));
            continue;
        }
        sections.push_back(read_section(item, diagnostics));
    }
    return value.size();
}

RawConfig read_root(const YAML::Node& root, Diagnostics& diagnostics) {
    RawConfig raw;
    if (!root.IsNull() && !root.IsMap()) {
        diagnostics.error(line_of(root), "",
                          "expected a mapping with the keys 'broker', 'queues' and 'topics', got " +
                              kind_of(root));
        return raw;
    }
    std::map<std::string, int> first_line;
    std::size_t declared = 0;  // queues and topics listed, sound or not
    for (const auto& pair : root) {
        const auto key = key_text(pair.first, diagnostics);
        if (!key) {
            continue;
        }
        const int line = line_of(pair.first);
        const auto [previous, inserted] = first_line.emplace(*key, line);
        if (!inserted) {
            diagnostics.error(line, *key,
                              "duplicate key (first set on line " +
                                  std::to_string(previous->second) + ")");
        } else if (*key == "broker") {
            read_broker(pair.first, pair.second, raw, diagnostics);
        } else if (*key == "queues") {
            declared += read_list(pair.first, pair.second, "queues", "queue", raw.queues, diagnostics);
        } else if (*key == "topics") {
            declared += read_list(pair.first, pair.second, "topics", "topic", raw.topics, diagnostics);
        } else {
            diagnostics.error(line, *key, "unknown key; expected broker, queues or topics");
        }
    }
    if (declared == 0) {
        // A broker with nothing to carry is a mistake, not a configuration.
        const auto queues = first_line.find("queues");
        if (queues != first_line.end()) {
            diagnostics.error(queues->second, "queues",
                              "no queues configured; at least one queue or topic is required");
        } else if (first_line.count("topics") != 0) {
            diagnostics.error(first_line["topics"], "topics",
                              "no topics configured; at least one queue or topic is required");
        } else {
            diagnostics.error(std::nullopt, "queues",
                              "missing; at least one queue or topic is required");
        }
    }
    return raw;
}

// Thrown from the event handler to stop reading a file nested deeper than
// limits::max_yaml_depth, at the mark where it got too deep.
struct TooDeep {
    YAML::Mark mark;
};

// Counts documents and notes where the second one's content starts, and
// stops at nesting deeper than a configuration can use: yaml-cpp's own limit
// reports only "bad file" and no line. Ignores everything else.
class DocumentCounter : public YAML::EventHandler {
public:
    int documents = 0;
    std::optional<YAML::Mark> second;

    void OnDocumentStart(const YAML::Mark&) override { ++documents; }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { note(mark); }
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { note(mark); }
    void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t, const std::string&) override {
        note(mark);
    }
    void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {
        note(mark);
        enter(mark);
    }
    void OnSequenceEnd() override { --depth_; }
    void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
        note(mark);
        enter(mark);
    }
    void OnMapEnd() override { --depth_; }

private:
    void note(const YAML::Mark& mark) {
        if (documents == 2 && !second) second = mark;
    }
    void enter(const YAML::Mark& mark) {
        if (++depth_ > limits::max_yaml_depth) throw TooDeep{mark};
    }

    int depth_ = 0;
};

// Nothing when the text is not YAML at all: a syntax error leaves nothing
// trustworthy to check further, so it is reported alone. Only one document
// is read, and a second one is refused rather than silently ignored.
//
// Documents are counted up to two rather than read with YAML::LoadAll: on a
// stream that starts with a stray ',' yaml-cpp 0.7's parser reports empty
// documents forever without consuming it, and LoadAll collects them until
// memory runs out (jbeder/yaml-cpp#1040, fixed after 0.8.0 by #1319).
std::optional<YAML::Node> load_document(const std::string& text, Diagnostics& diagnostics) {
    DocumentCounter counter;
    YAML::Node first;
    try {
        std::istringstream stream(text);
        YAML::Parser parser(stream);
        while (counter.documents < 2 && parser.HandleNextDocument(counter)) {
        }
        first = YAML::Load(text);
    } catch (const TooDeep& deep) {
        diagnostics.error(deep.mark.line + 1, "",
                          "lists and mappings nested more than " +
                              std::to_string(limits::max_yaml_depth) +
                              " levels deep; a configuration needs three (broker or queues, "
                              "a queue, its keys)");
        return std::nullopt;
    } catch (const YAML::Exception& e) {
        const std::optional<int> line =
            e.mark.is_null() ? std::nullopt : std::optional<int>(e.mark.line + 1);
        diagnostics.error(line, "", "YAML syntax error: " + e.msg);
        return std::nullopt;
    }
    if (counter.documents > 1) {
        diagnostics.error(counter.second ? std::optional<int>(counter.second->line + 1) : std::nullopt, "",
                          "a second YAML document ('---'); put the whole configuration in one");
    }
    // An empty file has no document at all; it reads as an empty mapping,
    // which then lacks its queues.
    return first;
}

}  // namespace

BrokerConfig parse_yaml(const std::string& text, const std::string& source_name) {
    Diagnostics diagnostics(source_name);
    BrokerConfig config;
    if (const auto document = load_document(text, diagnostics)) {
        config = detail::build_config(read_root(*document, diagnostics), diagnostics);
    }
    diagnostics.throw_if_any();
    return config;
}

}  // namespace shmq::config
