// shmqd: the shmq broker daemon. Reads a YAML or INI configuration, builds the
// shared-memory segment, and keeps it healthy until SIGTERM, SIGINT or
// SIGQUIT; SIGHUP reloads the configuration, SIGUSR1 reopens the log file. `shmqd --config FILE --reload` asks the
// broker FILE configures to reload (systemd's ExecReload=). On Windows it
// also installs itself as a service and runs under the Service Control
// Manager (platform/service_host.hpp).
#include <boost/program_options.hpp>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <thread>

#include "common/layout.hpp"
#include "common/logging.hpp"
#include "config/broker_config.hpp"
#include "daemon/broker.hpp"
#include "daemon/log_options.hpp"
#include "daemon/metrics_server.hpp"
#include "daemon/reload_request.hpp"
#include "daemon/segment_builder.hpp"
#include "platform/service_host.hpp"
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
                  << config::to_string(queue.delivery) << ", producers " << config::to_string(queue.producers)
                  << ", consumers " << config::to_string(queue.consumers);
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
            switch (request.kind) {
            case platform::OperatorRequest::Kind::reload:
                SHMQ_LOG(info) << "received " << request.signal << ", reloading the configuration";
                broker.request_reload();
                continue;
            case platform::OperatorRequest::Kind::reopen_logs:
                try {
                    log::reopen_file();
                    SHMQ_LOG(info) << "received " << request.signal << ", reopened the log file";
                } catch (const std::exception& failure) {
                    SHMQ_LOG(error) << "received " << request.signal << " but cannot reopen the log file ("
                                    << failure.what() << "); logging on to the one open";
                }
                continue;
            case platform::OperatorRequest::Kind::ignored:
                SHMQ_LOG(debug) << "received " << request.signal << ", ignored";
                continue;
            case platform::OperatorRequest::Kind::stop: break;
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

// The service's name when --service-name is not given.
constexpr const char* default_service_name = "shmqd";
// How long --uninstall-service waits for the running service to stop.
constexpr unsigned uninstall_stop_timeout_ms = 60'000;

void add_service_options(po::options_description& options) {
    options.add_options()
        ("install-service", "register shmqd as a Windows service (started at boot, restarted by the Service Control "
                            "Manager when it fails) serving the broker --config FILE configures (default "
                            "%ProgramData%\\shmq\\shmqd.yaml), logging to --log-file (default "
                            "%ProgramData%\\shmq\\shmqd.log) and to the Event Log (Application log, source "
                            "--service-name) at --log-level; the file must load; needs an administrator, and exits")
        ("uninstall-service", "stop the Windows service --service-name names if it runs, remove it and its Event Log "
                              "source, and exit")
        ("service-name", po::value<std::string>()->default_value(default_service_name)->value_name("NAME"),
         "the Windows service's name, for --install-service, --uninstall-service and --run-service")
        ("run-service", "run as the Windows service --service-name names: what the Service Control Manager starts "
                        "(--install-service registers it), not a command for a console");
}

// What --help says after the options: how the broker is stopped and where
// its segment is differ on Linux and Windows; the rest is common.
const char* const linux_help =
    "\nSignals: SIGTERM, SIGINT or SIGQUIT stop the broker cleanly (SIGQUIT\n"
    "dumps no core): blocked clients wake with broker_stopped and the segment is\n"
    "removed (a persistent broker, one with persist_path, keeps its file and\n"
    "messages for the next start). SIGHUP reloads the configuration file: a file\n"
    "that does not load changes nothing; the delivery limits of at_least_once\n"
    "queues change at once; any other change is logged as needing a restart.\n"
    "SIGUSR1 reopens --log-file (after logrotate renamed it). SIGUSR2 and SIGPIPE\n"
    "are ignored (logged at debug).\n"
    "\nWhere: a broker's segment is the file $SHMQ_RUNTIME_DIR/NAME (the systemd unit\n"
    "sets /run/shmq), else /dev/shm/NAME, or its persist_path; the broker holds\n"
    "NAME.lock beside it while it runs, so a second broker of that name stops.\n";
const char* const windows_help =
    "\nStopping: Ctrl-C, Ctrl-Break or closing the console stop the broker cleanly:\n"
    "blocked clients wake with broker_stopped and the segment is removed (a\n"
    "persistent broker, one with persist_path, keeps its file and messages for the\n"
    "next start). shmq reload reloads the configuration file: a file that does not\n"
    "load changes nothing; the delivery limits of at_least_once queues change at\n"
    "once; any other change is logged as needing a restart.\n"
    "\nService: under the Service Control Manager the service is START_PENDING\n"
    "until the segment is ready, then RUNNING; its stop and shutdown controls stop\n"
    "the broker cleanly, its paramchange control (sc control NAME paramchange)\n"
    "reloads the configuration. --install-service and --uninstall-service exit 0\n"
    "when done, 1 when refused (the message says why).\n"
    "\nWhere: a broker's segment is the file %SHMQ_RUNTIME_DIR%\\NAME, else\n"
    "%ProgramData%\\shmq\\NAME when that folder exists, else NAME in the user's\n"
    "temporary folder, or its persist_path; the broker holds NAME.lock beside it\n"
    "while it runs, so a second broker of that name stops.\n";
const char* const common_help =
    "\nA broker started on the name of a dead broker's segment adopts it with its\n"
    "messages; a segment that cannot be reused is renamed NAME.stale-TIME (only\n"
    "the broker's user may read it; the newest 3 of the last week are kept).\n"
    "Exit status: 0 after a clean stop; 1 for an invalid configuration or a failed\n"
    "start; 2 for a usage error. --reload: 0, 3 or 1, as its line above says.\n";

// --install-service: the service runs this program with the arguments given
// here, every path made absolute (the SCM starts it in the system folder).
int install_service(const po::variables_map& arguments) {
    try {
        const std::string directory = platform::service_directory();
        const std::string configuration = std::filesystem::absolute(
            arguments.count("config") ? arguments["config"].as<std::string>() : directory + "\\shmqd.yaml").string();
        const std::string format = arguments["format"].as<std::string>();
        config::load_file(configuration, parse_format(format));  // refused now rather than at every start
        const std::string log_file = std::filesystem::absolute(
            arguments.count("log-file") ? arguments["log-file"].as<std::string>() : directory + "\\shmqd.log").string();
        const std::string name = arguments["service-name"].as<std::string>();
        std::vector<std::string> service_arguments{"--run-service", "--service-name", name, "--config", configuration,
                                                   "--format", format, "--log-file", log_file, "--log-level",
                                                   arguments["log-level"].as<std::string>()};
        for (const char* option : {"log-rotate-size", "log-rotate-every"}) {
            if (arguments.count(option) && !arguments[option].defaulted()) {
                service_arguments.insert(service_arguments.end(),
                                         {std::string("--") + option, arguments[option].as<std::string>()});
            }
        }
        if (!arguments["log-keep"].defaulted()) {
            service_arguments.insert(service_arguments.end(),
                                     {"--log-keep", std::to_string(arguments["log-keep"].as<unsigned>())});
        }
        const std::string warning =
            platform::install_service(name, "shmq broker (" + name + ")",
                                      "The shmq shared-memory message broker configured by " + configuration,
                                      service_arguments);
        if (!warning.empty()) std::cerr << "shmqd: warning: " << warning << "\n";
        std::cout << "installed service '" << name << "': the broker " << configuration << " configures, logging to "
                  << log_file << " and to the Event Log (source '" << name << "'); start it with: sc start " << name
                  << "\n";
        return 0;
    } catch (const config::ConfigError& failure) {
        std::cerr << "shmqd: not installed, invalid configuration:\n" << failure.what() << "\n";
    } catch (const po::error& failure) {
        std::cerr << "shmqd: " << failure.what() << "\n";
        return 2;
    } catch (const std::exception& failure) {
        std::cerr << "shmqd: " << failure.what() << "\n";
    }
    return 1;
}

int uninstall_service(const po::variables_map& arguments) {
    const std::string name = arguments["service-name"].as<std::string>();
    try {
        platform::uninstall_service(name, uninstall_stop_timeout_ms);
    } catch (const std::exception& failure) {
        std::cerr << "shmqd: " << failure.what() << "\n";
        return 1;
    }
    std::cout << "removed service '" << name << "'\n";
    return 0;
}

// The log file the arguments ask for, opened; "" when done, else why not.
// Exit status 2 for a usage error, 1 for a log that cannot be opened.
int start_logging(const po::variables_map& arguments, log::Level level, std::string& error) {
    log::FileOptions log_file;
    try {
        log_file = daemon::log_file_options(arguments);
    } catch (const po::error& failure) {
        error = failure.what() + std::string("\nTry 'shmqd --help'.");
        return 2;
    }
    for (const char* option : {"log-rotate-size", "log-rotate-every", "log-keep"}) {
        if (log_file.path.empty() && arguments.count(option) && !arguments[option].defaulted()) {
            error = std::string("--") + option + " needs --log-file\nTry 'shmqd --help'.";
            return 2;
        }
    }
    try {
        log::init(level, log_file);
    } catch (const std::exception& failure) {
        error = failure.what();
        return 1;
    }
    return 0;
}

// Runs the broker `config` describes until it is asked to stop; logging has
// started. Returns the exit status.
int serve(const po::variables_map& arguments, config::BrokerConfig config) {
    const std::string world_access = world_access_warning(config);
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
    // Bound before the segment is built: a port in use stops the start with nothing to undo.
    std::unique_ptr<daemon::MetricsServer> metrics;
    try {
        config::ListenAddress address;
        if (!broker.config().metrics_listen.empty()) {
            config::parse_listen_address(broker.config().metrics_listen, address);  // validated with the file
            metrics = std::make_unique<daemon::MetricsServer>(address);
        }
    } catch (const std::exception& failure) {
        return fatal(failure, "metrics_listen");
    }
    try {
        broker.start();
    } catch (const daemon::StartError& failure) {
        return fatal(failure, failure.key());
    } catch (const std::exception& failure) {
        return fatal(failure, "");
    }
    if (metrics) broker.serve_metrics(std::move(metrics));
    broker.run();
    signal_thread.join();
    return 0;
}

platform::EventSeverity event_severity(log::Level level) {
    switch (level) {
    case log::Level::trace:
    case log::Level::debug:
    case log::Level::info: return platform::EventSeverity::information;
    case log::Level::warning: return platform::EventSeverity::warning;
    case log::Level::error:
    case log::Level::fatal: return platform::EventSeverity::error;
    }
    return platform::EventSeverity::information;
}

// The service's logging: the log file and the system's log of services
// (the Event Log), each line an event. Returns 0 when the service can go
// on, else its exit status.
//
// A log file that cannot be opened does not stop the service: the Event Log
// is where a Windows administrator looks first and it gets every line, so
// the broker goes on, saying so in an error event at every start, rather
// than leave its clients without a broker over a copy of its log (and a
// missing folder is not mended by the SCM's restarts). With neither the
// file nor the Event Log there is nowhere to say why: the service stops
// with exit status 1, which the SCM records as its service-specific error.
int start_service_logging(const po::variables_map& arguments, log::Level level) {
    std::string file_problem;
    const int file_status = start_logging(arguments, level, file_problem);
    if (file_status != 0) log::init(level, log::FileOptions{});  // standard error alone, until the Event Log
    const std::string event_log_problem =
        platform::open_service_event_log(arguments["service-name"].as<std::string>());
    if (event_log_problem.empty()) {
        log::add_destination(level, [](log::Level severity, const std::string& message) {
            platform::report_service_event(event_severity(severity), message);
        });
    } else if (file_status == 0) {
        SHMQ_LOG(warning) << event_log_problem << "; logging to the log file alone";
    }
    if (file_status == 0) return 0;
    if (!event_log_problem.empty()) return file_status;
    if (file_status == 2) {
        // The service's own command line is wrong (edited since --install-service wrote it).
        SHMQ_LOG(fatal) << "invalid service command line: " << file_problem;
        return file_status;
    }
    SHMQ_LOG(error) << file_problem << "; logging to the Event Log alone";
    return 0;
}

// --run-service: nobody reads standard error, so everything, a
// configuration that does not load included, goes to the service's logs.
int serve_as_service(const po::variables_map& arguments, log::Level level) {
    if (const int status = start_service_logging(arguments, level); status != 0) return status;
    const std::string file = arguments["config"].as<std::string>();
    try {
        return serve(arguments, config::load_file(file, parse_format(arguments["format"].as<std::string>())));
    } catch (const config::ConfigError& failure) {
        SHMQ_LOG(fatal) << "invalid configuration:\n" << failure.what();
    } catch (const po::error& failure) {
        SHMQ_LOG(fatal) << failure.what();
    }
    return 1;
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
         "least severe messages logged: trace, debug, info, warning, error or fatal");
    daemon::add_log_file_options(options);
    if (platform::service_hosting_supported()) add_service_options(options);
    po::variables_map arguments;
    try {
        po::store(po::parse_command_line(argc, argv, options), arguments);
        po::notify(arguments);
    } catch (const po::error& failure) {
        std::cerr << "shmqd: " << failure.what() << "\nTry 'shmqd --help'.\n";
        return 2;
    }
    if (arguments.count("help")) {
        std::cout << options << (platform::service_hosting_supported() ? windows_help : linux_help) << common_help;
        return 0;
    }
    if (arguments.count("version")) {
        std::cout << version_text << layout::version << "\n";
        return 0;
    }
    log::Level level;
    if (!log::parse_level(arguments["log-level"].as<std::string>(), level)) {
        std::cerr << "shmqd: unknown --log-level '" << arguments["log-level"].as<std::string>() << "'\n";
        return 2;
    }
    if (arguments.count("install-service")) return install_service(arguments);
    if (arguments.count("uninstall-service")) return uninstall_service(arguments);
    if (!arguments.count("config")) {
        std::cerr << "shmqd: --config FILE is required\nTry 'shmqd --help'.\n";
        return 2;
    }
    if (arguments.count("run-service")) {
        try {
            return platform::run_as_service(arguments["service-name"].as<std::string>(),
                                            [&] { return serve_as_service(arguments, level); });
        } catch (const std::exception& failure) {
            std::cerr << "shmqd: " << failure.what() << "\n";
            return 1;
        }
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
    if (arguments.count("check-config")) {
        const std::string world_access = world_access_warning(config);
        if (!world_access.empty()) std::cerr << "shmqd: warning: " << world_access << "\n";
        print_resolved(config);
        return 0;
    }
    if (arguments.count("reload")) return ask_broker_to_reload(config);
    std::string error;
    if (const int status = start_logging(arguments, level, error); status != 0) {
        std::cerr << "shmqd: " << error << "\n";
        return status;
    }
    return serve(arguments, std::move(config));
}
