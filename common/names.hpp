// The rule for the names a broker, a queue or a topic may have, kept in one
// place so that the daemon's configuration and every client judge a broker
// name alike. Names become shared-memory object names (/dev/shm/NAME), hence
// the conservative character set.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace shmq {

inline constexpr std::size_t max_name_length = 64;
inline constexpr std::size_t max_path_length = 1024;

// Empty when `name` is a valid broker, queue or topic name; otherwise what is
// wrong with it, worded to follow the quoted name ("is longer than 64 ...").
std::string name_problem(std::string_view name);

// Empty when `path` can name a persistent broker's file (absolute, not a
// directory, not too long); otherwise what is wrong with it.
std::string path_problem(std::string_view path);

// Whether `broker` is meant as a file's path rather than a name: it holds a
// directory separator of the platform, which no name may hold.
bool names_a_file(std::string_view broker);

// What a client may be given as a broker: a name, or the absolute path of a
// persistent broker's file. Empty when valid; otherwise a whole sentence
// naming the broker, e.g. "the broker name is empty".
std::string broker_problem(std::string_view broker);

}  // namespace shmq
