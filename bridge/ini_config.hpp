// The INI form of shmq-bridge's configuration, read into the same tree as
// the YAML form so that one set of checks serves both:
//
//   [bridge]           broker, broker_owner, origin, stats_file, stats_interval_ms
//   [nats]             urls (comma-separated), name, credentials, user, ...
//   [route.NAME]       one section per route, in file order; its stream is
//                      `stream = NAME` alone, or `stream.name`, `stream.create`,
//                      `stream.subjects` (comma-separated), `stream.replicas`...
#pragma once

#include <string>

#include <yaml-cpp/yaml.h>

namespace shmq::bridge {

// Turns INI `content` (read from `path`) into the tree a YAML file would give.
// Returns false with "path:line: what" in `errors` when it is not valid INI
// or has a section of no known kind.
bool ini_to_tree(const std::string& content, const std::string& path, YAML::Node& root, std::string& errors);

}  // namespace shmq::bridge
