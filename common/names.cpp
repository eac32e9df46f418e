#include "common/names.hpp"

#include <algorithm>
#include <filesystem>

namespace shmq {

namespace {

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
}

// A long name is cut in messages: a user who passed 300 characters by
// mistake needs to recognise it, not to read it back whole.
std::string shown(std::string_view text) {
    constexpr std::size_t shown_length = 40;
    return text.size() <= shown_length ? std::string(text) : std::string(text.substr(0, shown_length)) + "...";
}

}  // namespace

std::string name_problem(std::string_view name) {
    if (name.empty()) return "is empty";
    if (name.size() > max_name_length) {
        return "is longer than " + std::to_string(max_name_length) + " characters";
    }
    if (!std::all_of(name.begin(), name.end(), is_name_char)) {
        return "may only contain letters, digits, '.', '_' and '-'";
    }
    // "." and ".." would name directories under /dev/shm.
    if (name == "." || name == "..") return "is reserved";
    return {};
}

bool names_a_file(std::string_view broker) {
    // std::filesystem knows the platform's separators: '/' alone on POSIX,
    // '\\' and '/' on Windows.
    const char* separators = std::filesystem::path::preferred_separator == '\\' ? "/\\" : "/";
    return broker.find_first_of(separators) != std::string_view::npos;
}

// Absolute, so that the broker's and the clients' working directories cannot
// disagree about which file it is: the platform's notion of it (/var/lib/...
// on Linux, C:\ProgramData\... on Windows, where a path without a drive is
// relative to the current drive).
std::string path_problem(std::string_view path) {
    const std::filesystem::path file(path);
    if (path.empty() || !file.is_absolute()) return "is not an absolute path";
    if (!file.has_filename()) return "does not name a file";
    if (path.size() > max_path_length) {
        return "is longer than " + std::to_string(max_path_length) + " characters";
    }
    return {};
}

std::string broker_problem(std::string_view broker) {
    if (broker.empty()) return "the broker name is empty";
    // A path is meant when it is rooted (or has a drive: C:\...); a relative
    // one is taken for a name, and told what a name may hold.
    const std::filesystem::path meant(broker);
    if (meant.has_root_directory() || meant.has_root_name()) {
        const std::string problem = path_problem(broker);
        return problem.empty() ? problem : "broker file '" + shown(broker) + "' " + problem;
    }
    const std::string problem = name_problem(broker);
    if (problem.empty()) return problem;
    const std::string length =
        broker.size() > max_name_length ? " (" + std::to_string(broker.size()) + " characters)" : "";
    return "broker name '" + shown(broker) + "'" + length + " " + problem +
           "; a broker is a name of at most " + std::to_string(max_name_length) +
           " letters, digits, '.', '_' and '-', or the absolute path of a persistent broker's file";
}

}  // namespace shmq
