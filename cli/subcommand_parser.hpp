// The command line of one subcommand (`shmq publish ...`): its options, its
// positional arguments, its --help text, and the options every subcommand
// shares (--help, --broker).
#pragma once

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace shmq::cli {

namespace po = boost::program_options;

class SubcommandParser {
public:
    // `synopsis` follows "Usage: shmq NAME", e.g. "QUEUE [MESSAGE...] [options]";
    // `summary` is the paragraph under it in --help. `default_broker` is what
    // --broker means when this subcommand's line does not give it: the global
    // --broker, else $SHMQ_BROKER, else "shmq".
    SubcommandParser(std::string name, std::string synopsis, std::string summary, const std::string& default_broker);

    // Declares the subcommand's own options, shown in its --help.
    po::options_description_easy_init add_options() { return options_.add_options(); }
    // Declares the next positional argument; the synopsis names it, --help
    // does not list it. `max_count` -1 takes all that remain.
    void add_positional(const char* name, const po::value_semantic* semantic, int max_count, bool required);
    // Text printed after the options in --help (e.g. exit statuses).
    void set_epilog(std::string epilog) { epilog_ = std::move(epilog); }

    // Parses `arguments` (what followed the subcommand's name). Returns
    // nothing when the subcommand should run with `variables`; otherwise the
    // exit code to end with, --help having been printed or a usage error
    // reported.
    std::optional<int> parse(const std::vector<std::string>& arguments, po::variables_map& variables) const;

    // Reports a usage error of this subcommand, for checks parse() cannot
    // make (arguments that depend on each other), and returns its exit code.
    int usage_error(const std::string& message) const;

private:
    void print_help() const;

    std::string name_;
    std::string synopsis_;
    std::string summary_;
    std::string epilog_;
    po::options_description options_;
    po::options_description common_;
    po::options_description positional_options_;
    po::positional_options_description positional_;
    std::vector<std::string> required_positionals_;
};

// The --broker option's value, defaulting to `default_broker`: a broker name
// or a persistent broker's absolute path, checked by the rule the daemon's
// configuration uses, so that a bad one is a usage error that says what is
// wrong rather than a failed attach.
po::typed_value<std::string>* broker_value(const std::string& default_broker);

// An integer option's value that must be at least `minimum`. Checked while
// parsing, so a bad value is a usage error like any other; `option` names it
// in that error.
po::typed_value<std::int64_t>* integer_at_least(const char* option, std::int64_t minimum);

// The wait a --timeout MS option asks for: wait_forever when not given.
std::chrono::nanoseconds timeout_option(const po::variables_map& variables, const char* name);

}  // namespace shmq::cli
