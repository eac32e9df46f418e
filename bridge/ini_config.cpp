#include "bridge/ini_config.hpp"

#include <sstream>

#include <boost/property_tree/ini_parser.hpp>
#include <boost/property_tree/ptree.hpp>

namespace shmq::bridge {
namespace {

using boost::property_tree::ptree;

constexpr const char* route_prefix = "route.";
constexpr const char* stream_prefix = "stream.";

std::string trimmed(const std::string& text) {
    const auto begin = text.find_first_not_of(" \t");
    if (begin == std::string::npos) return {};
    return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

// "a, b ,c" as the list YAML's [a, b, c] would be.
YAML::Node list_of(const std::string& text) {
    YAML::Node list(YAML::NodeType::Sequence);
    std::istringstream items(text);
    for (std::string item; std::getline(items, item, ',');) {
        if (!trimmed(item).empty()) list.push_back(trimmed(item));
    }
    return list;
}

// The keys of a section as a map; `lists` are the keys whose values are
// comma-separated lists.
YAML::Node map_of(const ptree& section, std::initializer_list<const char*> lists) {
    YAML::Node map(YAML::NodeType::Map);
    for (const auto& [key, value] : section) {
        const auto text = value.get_value<std::string>();
        bool is_list = false;
        for (const char* list : lists) is_list = is_list || key == list;
        map[key] = is_list ? list_of(text) : YAML::Node(text);
    }
    return map;
}

// A [route.NAME] section: its `stream.*` keys become the route's stream map
// (with `stream = NAME` as its name when both are given).
YAML::Node route_of(const std::string& name, const ptree& section) {
    YAML::Node route(YAML::NodeType::Map);
    route["name"] = name;
    YAML::Node stream(YAML::NodeType::Map);
    std::string stream_name;
    for (const auto& [key, value] : section) {
        const auto text = value.get_value<std::string>();
        if (key == "stream") {
            stream_name = text;
        } else if (key.rfind(stream_prefix, 0) == 0) {
            const auto field = key.substr(std::string(stream_prefix).size());
            stream[field] = field == "subjects" ? list_of(text) : YAML::Node(text);
        } else {
            route[key] = text;
        }
    }
    if (stream.size() == 0) {
        if (!stream_name.empty()) route["stream"] = stream_name;
    } else {
        if (!stream_name.empty()) stream["name"] = stream_name;
        route["stream"] = stream;
    }
    return route;
}

}  // namespace

bool ini_to_tree(const std::string& content, const std::string& path, YAML::Node& root, std::string& errors) {
    ptree tree;
    try {
        std::istringstream input(content);
        boost::property_tree::ini_parser::read_ini(input, tree);
    } catch (const boost::property_tree::ini_parser_error& error) {
        errors = path + ":" + std::to_string(error.line()) + ": not valid INI: " + error.message() + "\n";
        return false;
    }
    root = YAML::Node(YAML::NodeType::Map);
    YAML::Node routes(YAML::NodeType::Sequence);
    for (const auto& [name, section] : tree) {
        if (section.empty() && !section.data().empty()) {
            errors += path + ": " + name + ": a key outside any section (put it under [bridge])\n";
        } else if (name == "bridge") {
            for (const auto& entry : map_of(section, {})) root[entry.first] = entry.second;
        } else if (name == "nats") {
            root["nats"] = map_of(section, {"urls"});
        } else if (name.rfind(route_prefix, 0) == 0 && name.size() > std::string(route_prefix).size()) {
            routes.push_back(route_of(name.substr(std::string(route_prefix).size()), section));
        } else {
            errors += path + ": [" + name + "]: unknown section (expected [bridge], [nats] or [route.NAME])\n";
        }
    }
    if (routes.size() > 0) root["routes"] = routes;
    return errors.empty();
}

}  // namespace shmq::bridge
