#include "cli/subcommand_parser.hpp"

#include <algorithm>
#include <cctype>
#include <iostream>

#include "cli/diagnostics.hpp"
#include "shmq/client.hpp"

namespace shmq::cli {

SubcommandParser::SubcommandParser(std::string name, std::string synopsis, std::string summary,
                                   const std::string& default_broker)
    : name_(std::move(name)), synopsis_(std::move(synopsis)), summary_(std::move(summary)), options_("Options"),
      common_("Common options") {
    common_.add_options()
        ("broker", broker_value(default_broker),
         "the broker to use: its segment's name (looked for in $SHMQ_RUNTIME_DIR, else /run/shmq, then /dev/shm), or the absolute path of a persistent broker's file; also "
         "accepted before the command")
        ("help,h", "print this help and exit");
}

void SubcommandParser::add_positional(const char* name, const po::value_semantic* semantic, int max_count,
                                      bool required) {
    positional_options_.add_options()(name, semantic);
    positional_.add(name, max_count);
    if (required) required_positionals_.emplace_back(name);
}

std::optional<int> SubcommandParser::parse(const std::vector<std::string>& arguments,
                                           po::variables_map& variables) const {
    po::options_description all;
    all.add(options_).add(common_).add(positional_options_);
    try {
        po::store(po::command_line_parser(arguments).options(all).positional(positional_).run(), variables);
        // --help wins over every other problem on the line, as users expect.
        if (variables.count("help")) {
            print_help();
            return exit_ok;
        }
        po::notify(variables);
    } catch (const po::error& failure) {
        return usage_error(failure.what());
    }
    for (const auto& name : required_positionals_) {
        if (!variables.count(name)) {
            std::string upper = name;
            std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
            return usage_error("missing " + upper + " argument");
        }
    }
    return std::nullopt;
}

int SubcommandParser::usage_error(const std::string& message) const {
    return report_error(exit_usage, name_ + ": " + message + " (try 'shmq " + name_ + " --help')");
}

void SubcommandParser::print_help() const {
    std::cout << "Usage: shmq " << name_ << " " << synopsis_ << "\n\n" << summary_ << "\n\n";
    if (!options_.options().empty()) std::cout << options_ << "\n";
    std::cout << common_;
    if (!epilog_.empty()) std::cout << "\n" << epilog_ << "\n";
}

po::typed_value<std::string>* broker_value(const std::string& default_broker) {
    return po::value<std::string>()->default_value(default_broker)->value_name("NAME")->notifier(
        [](const std::string& broker) {
            const std::string problem = broker_name_problem(broker);
            if (!problem.empty()) throw po::error("--broker: " + problem);
        });
}

po::typed_value<std::int64_t>* integer_at_least(const char* option, std::int64_t minimum) {
    return po::value<std::int64_t>()->notifier([option, minimum](std::int64_t value) {
        if (value < minimum) {
            throw po::error("the argument ('" + std::to_string(value) + "') for option '--" + option +
                            "' must be at least " + std::to_string(minimum));
        }
    });
}

std::chrono::nanoseconds timeout_option(const po::variables_map& variables, const char* name) {
    if (!variables.count(name)) return wait_forever;
    const auto milliseconds = variables[name].as<std::int64_t>();
    // Beyond what nanoseconds can count (about 292 years) is forever anyway.
    constexpr std::int64_t longest = wait_forever.count() / 1'000'000;
    if (milliseconds >= longest) return wait_forever;
    return std::chrono::milliseconds(milliseconds);
}

}  // namespace shmq::cli
