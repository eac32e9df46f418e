#include "daemon/log_options.hpp"

#include <cctype>
#include <limits>
#include <string>

namespace po = boost::program_options;

namespace shmq::daemon {

namespace {

// "the argument ('10X') for option '--log-rotate-size' is invalid"
po::invalid_option_value invalid(const char* option, const std::string& value) {
    po::invalid_option_value error(value);
    error.set_option_name(option);
    return error;
}

// "1048576", "512K", "10M", "1G" (powers of 1024).
std::uint64_t parse_size(const std::string& text) {
    std::size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
    if (digits == 0 || digits > 15 || text.size() > digits + 1) throw invalid("log-rotate-size", text);
    std::uint64_t size = std::stoull(text.substr(0, digits));
    if (digits < text.size()) {
        switch (std::toupper(static_cast<unsigned char>(text[digits]))) {
        case 'K': size <<= 10; break;
        case 'M': size <<= 20; break;
        case 'G': size <<= 30; break;
        default: throw invalid("log-rotate-size", text);
        }
    }
    if (size == 0) throw invalid("log-rotate-size", text);
    return size;
}

log::Rotation parse_rotation(const std::string& text) {
    if (text == "never") return log::Rotation::never;
    if (text == "hour") return log::Rotation::hourly;
    if (text == "day") return log::Rotation::daily;
    throw invalid("log-rotate-every", text);
}

}  // namespace

void add_log_file_options(po::options_description& options) {
    options.add_options()
        ("log-file", po::value<std::string>()->value_name("FILE"),
         "also append the log to FILE (the log always goes to stderr); SIGUSR1 reopens it")
        ("log-rotate-size", po::value<std::string>()->value_name("SIZE"),
         "rotate FILE once it reaches SIZE bytes (suffix K, M or G for KiB, MiB, GiB): it is renamed "
         "FILE.YYYYmmdd-HHMMSS.N and a new FILE started")
        ("log-rotate-every", po::value<std::string>()->default_value("never")->value_name("never|hour|day"),
         "also rotate FILE every hour, or every day at midnight (local time)")
        ("log-keep", po::value<unsigned>()->default_value(7)->value_name("N"),
         "rotated files kept beside FILE; the oldest beyond N are deleted");
}

log::FileOptions log_file_options(const po::variables_map& arguments) {
    log::FileOptions options;
    if (arguments.count("log-file")) options.path = arguments["log-file"].as<std::string>();
    if (arguments.count("log-rotate-size")) options.rotate_size = parse_size(arguments["log-rotate-size"].as<std::string>());
    options.rotate_every = parse_rotation(arguments["log-rotate-every"].as<std::string>());
    const unsigned keep = arguments["log-keep"].as<unsigned>();
    if (keep == 0) throw invalid("log-keep", "0");
    options.keep = keep;
    return options;
}

}  // namespace shmq::daemon
