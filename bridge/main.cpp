// shmq-bridge: moves messages between a shmq broker and a NATS JetStream
// cluster, along the routes of its configuration (docs/bridge.md).
#include <atomic>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include <boost/program_options.hpp>

#include "bridge/bridge_config.hpp"
#include "bridge/in_route.hpp"
#include "bridge/logging.hpp"
#include "bridge/nats_link.hpp"
#include "bridge/out_route.hpp"
#include "bridge/route_counters.hpp"
#include "bridge/stats_file.hpp"
#include "platform/service_manager.hpp"
#include "platform/stop_requests.hpp"

namespace po = boost::program_options;
using namespace shmq::bridge;

namespace {

std::atomic<bool> stop_requested{false};

// One route of either direction, with its thread.
struct Route {
    RouteCounters counters;
    std::unique_ptr<OutRoute> out;
    std::unique_ptr<InRoute> in;
    std::thread thread;
};

void print_routes(const BridgeConfig& config) {
    std::cout << config.file << ": valid\n";
    for (const auto& route : config.routes) {
        const auto shmq_side = route.queue.empty() ? "topic " + route.topic : "queue " + route.queue;
        if (route.direction == RouteSettings::Direction::out) {
            std::cout << "route " << route.name << ": out: " << shmq_side << " -> subject " << route.subject
                      << " (stream " << route.stream.name << (route.stream.create ? ", created if missing" : "")
                      << "), window " << route.window << "\n";
        } else {
            std::cout << "route " << route.name << ": in: stream " << route.stream.name << " consumer "
                      << route.consumer << (route.subject.empty() ? "" : " (" + route.subject + ")") << " -> "
                      << shmq_side << ", batch " << route.batch << "\n";
        }
    }
}

// Until the route is ready (its stream and consumer), then moving messages
// until the bridge stops.
void run_route(Route& route) {
    std::string last_error;
    while (!stop_requested.load()) {
        std::string error;
        const bool ready = route.out ? route.out->prepare(error) : route.in->prepare(error);
        if (ready) break;
        if (error != last_error) BRIDGE_LOG(error) << error << "; retrying";
        last_error = error;
        std::this_thread::sleep_for(std::chrono::seconds(2));
    }
    if (route.out) route.out->run(stop_requested);
    if (route.in) route.in->run(stop_requested);
}

void write_stats(const BridgeConfig& config, const std::vector<std::unique_ptr<Route>>& routes) {
    if (config.stats_file.empty()) return;
    std::vector<const RouteCounters*> counters;
    for (const auto& route : routes) counters.push_back(&route->counters);
    std::string error;
    static std::string reported;
    if (!write_stats_file(config.stats_file, counters, error) && error != reported) BRIDGE_LOG(error) << error;
    reported = error;
}

int run(const BridgeConfig& config) {
    shmq::platform::capture_stop_requests();
    std::thread([] {
        for (;;) {
            const auto request = shmq::platform::wait_for_operator_request();
            if (request.kind == shmq::platform::OperatorRequest::Kind::stop) {
                BRIDGE_LOG(info) << request.signal << ": stopping";
                stop_requested.store(true);
                return;
            }
            BRIDGE_LOG(warning) << request.signal << ": the bridge does not reload its configuration; restart it";
        }
    }).detach();

    NatsLink nats(config.nats);
    std::string last_error;
    for (;;) {
        if (stop_requested.load()) return 0;
        std::string error;
        if (nats.connect(error)) break;
        if (error != last_error) BRIDGE_LOG(error) << error << "; retrying";
        last_error = error;
        std::this_thread::sleep_for(std::chrono::milliseconds(config.nats.reconnect_wait_ms));
    }
    char url[256] = {};
    natsConnection_GetConnectedUrl(nats.connection(), url, sizeof url);
    BRIDGE_LOG(info) << "connected to NATS at " << url;

    std::vector<std::unique_ptr<Route>> routes;
    for (const auto& settings : config.routes) {
        auto route = std::make_unique<Route>();
        route->counters.route = settings.name;
        if (settings.direction == RouteSettings::Direction::out) {
            route->counters.direction = "out";
            route->out = std::make_unique<OutRoute>(settings, config, nats, route->counters);
        } else {
            route->counters.direction = "in";
            route->in = std::make_unique<InRoute>(settings, config, nats, route->counters);
        }
        routes.push_back(std::move(route));
    }
    for (auto& route : routes) route->thread = std::thread(run_route, std::ref(*route));
    shmq::platform::report_service_ready("moving messages on " + std::to_string(routes.size()) + " route(s)");
    BRIDGE_LOG(info) << "running " << routes.size() << " route(s)";

    const auto watchdog = shmq::platform::service_watchdog_interval();
    const auto tick = std::chrono::milliseconds(config.stats_interval_ms);
    auto next_stats = std::chrono::steady_clock::now();
    while (!stop_requested.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (watchdog.count() > 0) shmq::platform::report_service_alive();
        if (std::chrono::steady_clock::now() >= next_stats) {
            write_stats(config, routes);
            next_stats += tick;
        }
    }
    shmq::platform::report_service_stopping();
    for (auto& route : routes) route->thread.join();
    write_stats(config, routes);
    routes.clear();  // their JetStream contexts go before the connection
    BRIDGE_LOG(info) << "stopped";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    po::options_description options("shmq-bridge: moves messages between a shmq broker and a NATS JetStream cluster\n\n"
                                    "Usage: shmq-bridge --config FILE [options]\n\nOptions");
    options.add_options()
        ("help,h", "print this help and exit")
        ("version", "print the version and exit")
        ("config,c", po::value<std::string>()->value_name("FILE"), "the bridge's configuration (INI when FILE ends in .ini, else YAML)")
        ("check-config", "validate the configuration, print its routes, and exit (0 when valid, 1 with the errors "
                         "otherwise)")
        ("stats", "print the statistics the running bridge of this configuration last wrote to its stats_file "
                  "(Prometheus text format), and exit")
        ("log-level", po::value<std::string>()->default_value("info")->value_name("LEVEL"),
         "least severe messages logged: debug, info, warning or error");
    po::variables_map arguments;
    try {
        po::store(po::parse_command_line(argc, argv, options), arguments);
        po::notify(arguments);
    } catch (const po::error& failure) {
        std::cerr << "shmq-bridge: " << failure.what() << "\nTry 'shmq-bridge --help'.\n";
        return 2;
    }
    if (arguments.count("help")) {
        std::cout << options << "\nSignals: SIGTERM or SIGINT stop the bridge: publishes in flight are given\n"
                     "their acks' time, then unacknowledged shmq deliveries are left for shmq to\n"
                     "redeliver. Every failure of NATS or of the broker is waited out and retried.\n"
                     "Exit status: 0 after a clean stop; 1 for an invalid configuration or no\n"
                     "statistics to print; 2 for a usage error.\n";
        return 0;
    }
    if (arguments.count("version")) {
        std::cout << "shmq-bridge " << SHMQ_VERSION << "\n";
        return 0;
    }
    if (!arguments.count("config")) {
        std::cerr << "shmq-bridge: --config FILE is required\nTry 'shmq-bridge --help'.\n";
        return 2;
    }
    log::Level level;
    if (!log::parse_level(arguments["log-level"].as<std::string>(), level)) {
        std::cerr << "shmq-bridge: unknown --log-level '" << arguments["log-level"].as<std::string>() << "'\n";
        return 2;
    }
    BridgeConfig config;
    std::string errors;
    if (!load_bridge_config(arguments["config"].as<std::string>(), config, errors)) {
        std::cerr << errors;
        return 1;
    }
    if (arguments.count("check-config")) {
        print_routes(config);
        return 0;
    }
    if (arguments.count("stats")) {
        if (config.stats_file.empty()) {
            std::cerr << "shmq-bridge: " << config.file << " sets no stats_file: the bridge writes no statistics\n";
            return 1;
        }
        std::ifstream in(config.stats_file);
        if (!in) {
            std::cerr << "shmq-bridge: cannot read " << config.stats_file << " (is the bridge running?)\n";
            return 1;
        }
        std::cout << in.rdbuf();
        return 0;
    }
    log::init(level);
    const int status = run(config);
    nats_Close();
    return status;
}
