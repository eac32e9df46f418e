// shmq: the command-line client of the shmq broker. Parses the global
// options up to the subcommand's name, then hands the rest of the line to
// that subcommand (cli/commands.hpp).
#include <boost/program_options.hpp>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/diagnostics.hpp"
#include "cli/subcommand_parser.hpp"
#include "platform/environment.hpp"
#include "platform/standard_output.hpp"
#include "shmq/client.hpp"

namespace po = boost::program_options;
using namespace shmq;
using namespace shmq::cli;

namespace {

struct Subcommand {
    const char* name;
    const char* summary;
    int (*run)(const Arguments& arguments, const std::string& broker);
};

const Subcommand subcommands[] = {
    {"publish", "send messages to a queue or a topic (--topic), from the arguments or one per line from stdin",
     run_publish},
    {"consume", "receive messages from a queue and print them, one per line (or --framing)", run_consume},
    {"subscribe", "subscribe to a topic and print each message published to it, one per line (or --framing)",
     run_subscribe},
    {"list", "list the broker's queues and topics and their configuration (--json)", run_list},
    {"stats", "print queue and topic counters, subscribers, attached clients and broker state (--json, "
              "--prometheus, --watch)", run_stats},
    {"top", "a live view: rates, depths, lag, clients, refreshed in place", run_top},
    {"health", "exit 0 only when the broker runs and its segment is sound", run_health},
    {"peek", "print messages waiting in a queue without taking them (--count, --framing)", run_peek},
    {"purge", "remove every message waiting in a queue", run_purge},
    {"move", "move waiting messages from one queue to another (e.g. replay a dead-letter queue)", run_move},
    {"reload", "make the broker re-read its configuration file and print what changed", run_reload},
    {"replay", "send the messages of a set-aside segment file into the broker's queues", run_replay},
};

const Subcommand* find_subcommand(const std::string& name) {
    for (const auto& subcommand : subcommands) {
        if (name == subcommand.name) return &subcommand;
    }
    return nullptr;
}

// Everything from the first non-option token on belongs to the subcommand:
// this parser, tried before the standard ones, takes it all as positional
// tokens, so that e.g. `shmq publish q --help` reaches publish, not the
// global --help.
std::vector<po::option> rest_to_subcommand(std::vector<std::string>& tokens) {
    std::vector<po::option> taken;
    // An empty token is never the command. Claimed, it made program_options,
    // which asks this parser whether the token after `--broker` is an
    // option, look "" up as an option name, which every option without a
    // short name matches: `--broker ""` failed as an ambiguous option.
    if (tokens.empty() || tokens.front().empty() || (tokens.front().size() > 1 && tokens.front()[0] == '-')) {
        return taken;
    }
    for (auto& token : tokens) {
        po::option positional;
        positional.value.push_back(token);
        positional.original_tokens.push_back(token);
        taken.push_back(std::move(positional));
    }
    tokens.clear();
    return taken;
}

void print_help(const po::options_description& options) {
    std::cout << "shmq: command-line client of the shmq shared-memory message broker\n\n"
                 "Usage: shmq [global options] COMMAND [command options] [arguments]\n\nCommands:\n";
    for (const auto& subcommand : subcommands) {
        std::cout << "  " << subcommand.name << std::string(10 - std::string(subcommand.name).size(), ' ')
                  << subcommand.summary << "\n";
    }
    std::cout << "\n" << options
              << "\nRun 'shmq COMMAND --help' for the options of a command.\n\n"
                 "Exit status: 0 on success; 1 for a runtime failure (broker, queue or topic not\n"
                 "found, a send failed, the broker stopped, ...); 2 for a usage error; 3 when the\n"
                 "--timeout of consume or subscribe passed before a message arrived, or when a\n"
                 "reload left changes that need a restart. Every error is one line on stderr\n"
                 "(but the errors of a refused configuration file, one per line).\n";
}

int usage_error(const std::string& message) {
    return report_error(exit_usage, message + " (try 'shmq --help')");
}

// A failed write to stdout (a full disk, a closed pipe) must not pass for
// success.
int checked_output(int code) {
    std::cout.flush();
    if (!std::cout) return report_error(exit_failure, "cannot write to standard output");
    return code;
}

}  // namespace

int main(int argc, char** argv) {
    platform::use_binary_standard_output();
    po::options_description options("Global options");
    options.add_options()
        ("help,h", "print this help and exit")
        ("version", "print the version and the shared-memory layout version, and exit")
        ("broker", broker_value(default_broker_name()),
         "the broker to use: its segment's name (looked for in $SHMQ_RUNTIME_DIR, else /run/shmq, then /dev/shm), or the absolute path of a persistent broker's file; default "
         "$SHMQ_BROKER, else \"shmq\"; also accepted after the command")
        ("broker-owner", po::value<std::string>()->value_name("USER"),
         "trust only a broker whose segment belongs to USER (a name or uid); default $SHMQ_BROKER_OWNER, else "
         "root, the shmq system user or your own user");
    po::options_description hidden;
    hidden.add_options()
        ("command", po::value<std::string>())
        ("arguments", po::value<Arguments>());
    po::options_description all;
    all.add(options).add(hidden);
    po::positional_options_description positional;
    positional.add("command", 1).add("arguments", -1);

    po::variables_map variables;
    try {
        // No guessing of abbreviated options: with it, the value of --broker
        // is looked up as an option name first, so `--broker ""` or
        // `--broker b` failed as ambiguous or missing.
        po::store(po::command_line_parser(argc, argv)
                      .style(po::command_line_style::default_style & ~po::command_line_style::allow_guessing)
                      .options(all)
                      .positional(positional)
                      .extra_style_parser(rest_to_subcommand)
                      .run(),
                  variables);
        po::notify(variables);
    } catch (const po::error& failure) {
        return usage_error(failure.what());
    }
    if (variables.count("help")) {
        print_help(options);
        return checked_output(exit_ok);
    }
    if (variables.count("version")) {
        std::cout << "shmq " SHMQ_VERSION ", shared-memory layout version " << segment_layout_version() << "\n";
        return checked_output(exit_ok);
    }
    if (!variables.count("command")) return usage_error("missing COMMAND");
    const auto name = variables["command"].as<std::string>();
    const Subcommand* subcommand = find_subcommand(name);
    if (subcommand == nullptr) return usage_error("unknown command '" + name + "'");
    const Arguments arguments = variables.count("arguments") ? variables["arguments"].as<Arguments>() : Arguments{};
    // The library reads the trusted owner from the environment when no
    // AttachOptions names one: one place, for every subcommand.
    if (variables.count("broker-owner")) {
        platform::set_environment("SHMQ_BROKER_OWNER", variables["broker-owner"].as<std::string>());
    }
    return checked_output(subcommand->run(arguments, variables["broker"].as<std::string>()));
}
