// shmqd: the shmq broker daemon. Reads a YAML or INI configuration, builds the
// shared-memory segment, and keeps it healthy until SIGTERM or SIGINT;
// SIGHUP reloads the configuration. `shmqd --config FILE --reload` asks the
// broker FILE configures to reload (systemd's ExecReload=).
#include <boost/program_options.hpp>
#include <iostream>
#include <sstream>
#include <thread>

#include "common/layout.hpp"
#include "common/logging.hpp"
#include "config/broker_config.hpp"
#include "daemon/broker.hpp"
#include "daemon/reload_request.hpp"
#include "daemon/segment_builder.hpp"
#include "platform/stop_requests.hpp"

namespace po = boost::program_options;
using namespace shmq;

namespace {

constexpr const char* version_text = "shmqd (shmq) " SHMQ_VERSION ", shared-memory layout version ";

config::Format parse_format(const std::string& text) {
    if (text == "auto") return config::Format::automatic;
    if (text == "yaml") return config::Format::yaml;
    if (text == "ini") return config::Format::ini;
    throw po::validation_error(po::validation_error::invalid_option_value, "format", text);
}

void print_resolved(const config::BrokerConfig& config) {
    std::cout << "broker " << config.name << ": permissions 0" << std::oct << config.permissions << std::dec
              << (config.group.empty() ? "" : ", group " + config.group) << ", max_clients " << config.max_clients
              << ", liveness_interval_ms " << config.liveness_interval_ms;
    if (!config.persist_path.empty()) {
        std::cout << ", persisted in " << config.persist_path << " (flushed every " << config.flush_interval_ms << " ms)";
    }
    std::cout << "\n";
    for (const auto& queue : config.queues) {
        std::cout << "queue " << queue.name << ": capacity " << queue.capacity << ", max_message_size "
                  << queue.max_message_size << ", overflow " << config::to_string(queue.overflow) << ", delivery "
                  << config::to_string(queue.delivery);
        if (queue.delivery == config::DeliveryMode::at_least_once) {
            std::cout << ", max_deliveries " << queue.max_deliveries << ", ack_timeout_ms " << queue.ack_timeout_ms
                      << (queue.dead_letter.empty() ? "" : ", dead_letter " + queue.dead_letter);
        }
        if (!queue.access_group.empty()) std::cout << ", access group " << queue.access_group;
        if (!queue.access_readers.empty()) std::cout << ", readers " << queue.access_readers;
        std::cout << "\n";
    }
    for (const auto& topic : config.topics) {
        std::cout << "topic " << topic.name << ": capacity " << topic.capacity << ", max_message_size "
                  << topic.max_message_size << ", history " << topic.history << ", max_subscribers "
                  << topic.max_subscribers << ", slow_subscriber " << config::to_string(topic.slow_subscriber)
                  << (topic.access_group.empty() ? "" : ", access group " + topic.access_group)
                  << (topic.access_readers.empty() ? "" : ", readers " + topic.access_readers) << "\n";
    }
    std::cout << "segment size: " << daemon::required_segment_size(config) << " bytes\n";
}

// Empty unless the segment is open to every account, which the
// configuration must ask for explicitly (allow_world_access): then a warning
// naming where, given by --check-config and at every start.
std::string world_access_warning(const config::BrokerConfig& config) {
    if ((config.permissions & 07) == 0) return {};
    std::ostringstream mode;
    mode << "0" << std::oct << config.permissions;
    return config::where(config, "permissions") + ": " + mode.str() +
           " lets every account on this machine read and write the segment (allow_world_access is set)";
}

std::thread start_signal_thread(daemon::Broker& broker) {
    return std::thread([&broker] {
        for (;;) {
            const auto request = platform::wait_for_operator_request();
            if (request.kind == platform::OperatorRequest::Kind::reload) {
                SHMQ_LOG(info) << "received " << request.signal << ", reloading the configuration";
                broker.request_reload();
                continue;
            }
            SHMQ_LOG(info) << "received " << request.signal << ", stopping";
            broker.request_stop();
            return;
        }
    });
}

// --reload: prints the broker's answer. Exit 0 when every change took
// effect, 3 when some need a restart, 1 when the file was refused or the
// broker could not be asked.
int ask_broker_to_reload(const config::BrokerConfig& config) {
    ReloadAnswer answer;
    std::string error;
    if (daemon::ask_running_broker_to_reload(config, answer, error) != Status::ok) {
        std::cerr << "shmqd: cannot reload broker '" << config.name << "': " << error << "\n";
        return 1;
    }
    (answer.outcome == layout::reload_refused ? std::cerr : std::cout) << answer.report << "\n";
    switch (answer.outcome) {
    case layout::reload_applied: return 0;
    case layout::reload_needs_restart: return 3;
    default: return 1;
    }
}

}  // namespace

int main(int argc, char** argv) {
    po::options_description options("shmqd: the shmq shared-memory message broker\n\n"
                                    "Usage: shmqd --config FILE [options]\n\nOptions");
    options.add_options()
        ("help,h", "print this help and exit")
        ("version", "print the version and the shared-memory layout version, and exit")
        ("config,c", po::value<std::string>()->value_name("FILE"),
         "the broker's configuration: YAML (.yaml, .yml) or INI (.ini)")
        ("format", po::value<std::string>()->default_value("auto")->value_name("auto|yaml|ini"),
         "the configuration's format; auto picks it from the file's extension")
        ("check-config", "validate the configuration, print the resolved broker, queues, topics and segment size, and exit "
                         "(0 when valid, 1 with the errors otherwise)")
        ("reload", "ask the running broker this configuration names to reload it (what SIGHUP does), wait for its "
                   "answer and print it; exit 0 when every change took effect, 3 when some need a restart, 1 when "
                   "the file was refused (nothing changed) or the broker could not be asked")
        ("log-level", po::value<std::string>()->default_value("info")->value_name("LEVEL"),
         "least severe messages logged: trace, debug, info, warning, error or fatal")
        ("log-file", po::value<std::string>()->value_name("FILE"),
         "also append the log to FILE (the log always goes to stderr)");
    po::variables_map arguments;
    try {
        po::store(po::parse_command_line(argc, argv, options), arguments);
        po::notify(arguments);
    } catch (const po::error& failure) {
        std::cerr << "shmqd: " << failure.what() << "\nTry 'shmqd --help'.\n";
        return 2;
    }
    if (arguments.count("help")) {
        std::cout << options << "\nSignals: SIGTERM or SIGINT stop the broker: blocked clients wake with\n"
                     "broker_stopped and the segment is removed (a persistent broker, one with\n"
                     "persist_path, keeps its file and messages for the next start). SIGHUP reloads\n"
                     "the configuration file: a file that does not load changes nothing; the delivery\n"
                     "limits of at_least_once queues change at once; any other change is logged as\n"
                     "needing a restart.\n"
                     "\nWhere: a broker's segment is the file $SHMQ_RUNTIME_DIR/NAME (the systemd unit\n"
                     "sets /run/shmq), else /dev/shm/NAME, or its persist_path; the broker holds\n"
                     "NAME.lock beside it while it runs, so a second broker of that name stops.\n"
                     "\nA broker started on the name of a dead broker's segment adopts it with its\n"
                     "messages; a segment that cannot be reused is renamed NAME.stale-TIME (only\n"
                     "the broker's user may read it; the newest 3 of the last week are kept).\n"
                     "Exit status: 0 after a clean stop; 1 for an invalid configuration or a failed\n"
                     "start; 2 for a usage error. --reload: 0, 3 or 1, as its line above says.\n";
        return 0;
    }
    if (arguments.count("version")) {
        std::cout << version_text << layout::version << "\n";
        return 0;
    }
    if (!arguments.count("config")) {
        std::cerr << "shmqd: --config FILE is required\nTry 'shmqd --help'.\n";
        return 2;
    }
    log::Level level;
    if (!log::parse_level(arguments["log-level"].as<std::string>(), level)) {
        std::cerr << "shmqd: unknown --log-level '" << arguments["log-level"].as<std::string>() << "'\n";
        return 2;
    }
    config::BrokerConfig config;
    try {
        config = config::load_file(arguments["config"].as<std::string>(),
                                   parse_format(arguments["format"].as<std::string>()));
    } catch (const config::ConfigError& failure) {
        std::cerr << "shmqd: invalid configuration:\n" << failure.what() << "\n";
        return 1;
    } catch (const po::error& failure) {
        std::cerr << "shmqd: " << failure.what() << "\n";
        return 2;
    }
    const std::string world_access = world_access_warning(config);
    if (arguments.count("check-config")) {
        if (!world_access.empty()) std::cerr << "shmqd: warning: " << world_access << "\n";
        print_resolved(config);
        return 0;
    }
    if (arguments.count("reload")) return ask_broker_to_reload(config);
    try {
        log::init(level, arguments.count("log-file") ? arguments["log-file"].as<std::string>() : "");
    } catch (const std::exception& failure) {
        std::cerr << "shmqd: " << failure.what() << "\n";
        return 1;
    }

    // Capture the stop requests before any thread starts, so that only the
    // signal thread receives them; it runs from before the start, so that a
    // stop during a long start (reserving a large segment, adopting one) is
    // honoured as soon as the start is over.
    platform::capture_stop_requests();

    if (!world_access.empty()) SHMQ_LOG(warning) << world_access;
    daemon::Broker broker(std::move(config));
    broker.set_configuration_file(arguments["config"].as<std::string>(),
                                  parse_format(arguments["format"].as<std::string>()));
    auto signal_thread = start_signal_thread(broker);
    // The operator is told which key of which file to change: the one the
    // failure names, else the one that places the segment.
    const auto fatal = [&broker, &signal_thread](const std::exception& failure, const std::string& key) {
        const auto& started = broker.config();
        SHMQ_LOG(fatal) << config::where(started, key.empty() ? daemon::segment_address_key(started) : key) << ": "
                        << failure.what();
        signal_thread.detach();  // still waiting for a signal that will not come
        return 1;
    };
    try {
        broker.start();
    } catch (const daemon::StartError& failure) {
        return fatal(failure, failure.key());
    } catch (const std::exception& failure) {
        return fatal(failure, "");
    }
    broker.run();
    signal_thread.join();
    return 0;
}
