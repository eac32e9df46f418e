// shmq_bridge_bench: shmq-bridge's out route against publishing to JetStream
// directly with the NATS C client, in one run on one single-node JetStream
// server on loopback (an R1 file stream): throughput and the latency the
// bridge adds, at 64 B and 4 KiB, with the targets and their
// verdicts. It writes bridge.json (records, targets and a results.md
// section) for bench/bridge/merge.py to merge into the benchmark's results.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <boost/program_options.hpp>

#include "bench/bridge/jetstream_client.hpp"
#include "bench/bridge/measurements.hpp"
#include "bench/bridge/nats_server.hpp"
#include "bench/broker_process.hpp"
#include "bench/daemon_process.hpp"
#include "bench/statistics.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using namespace shmq;
using namespace shmq::bench;

namespace {

// The bridge's default window: both paths keep as many publishes in flight.
constexpr int window = 256;
constexpr double throughput_target = 0.8;
constexpr double latency_target = 2.0;  // added p50 over one publish-ack round trip
const std::vector<std::size_t> sizes = {64, 4096};

struct Plan {
    bool quick;
    std::size_t repeats;
    std::size_t samples;  // latency samples per repeat
    std::size_t messages(std::size_t size) const { return size <= 64 ? small_count : large_count; }
    std::size_t small_count;
    std::size_t large_count;
};

// One repeat's figures at one size.
struct Repeat {
    double direct_rate = 0;
    double direct_id_rate = 0;  // with a Nats-Msg-Id each, as the bridge publishes
    double bridged_rate = 0;
    double bridge_cpu_us = 0;   // shmq-bridge's CPU time per message
    double round_trip_p50 = 0;
    double direct_p50 = 0;
    double bridged_p50 = 0;
    double added() const { return bridged_p50 - direct_p50; }
};

double p50(const std::vector<double>& samples) { return summarize(samples).median; }

std::string number(double value) {
    char text[32];
    if (value >= 1e6) std::snprintf(text, sizeof text, "%.3g M", value / 1e6);
    else if (value >= 1e3) std::snprintf(text, sizeof text, "%.3g k", value / 1e3);
    else std::snprintf(text, sizeof text, "%.3g", value);
    return text;
}

std::string ratio(double value) {
    char text[32];
    std::snprintf(text, sizeof text, value < 0.995 ? "%.2gx" : "%.1fx", value);
    return text;
}

std::string size_name(std::size_t size) { return size >= 1024 ? std::to_string(size / 1024) + " KiB" : std::to_string(size) + " B"; }

std::string json_string(const std::string& text) {
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string json_number(double value) {
    std::ostringstream text;
    text.precision(6);
    text << value;
    return text.str();
}

std::string figure_json(const std::vector<double>& values) {
    const auto summary = summarize(values);
    std::string repeats;
    for (const double value : values) repeats += (repeats.empty() ? "" : ", ") + json_number(value);
    return "\"median\": " + json_number(summary.median) + ", \"min\": " + json_number(summary.min) +
           ", \"max\": " + json_number(summary.max) + ", \"spread\": " + json_number(summary.spread) +
           ", \"noisy\": " + (summary.noisy ? "true" : "false") + ", \"repeats\": [" + repeats + "]";
}

std::string record_json(const std::string& scenario, const std::string& transport, const std::string& mode,
                        std::size_t size, const std::string& metric, const std::string& unit,
                        const std::vector<double>& values) {
    return "{\"scenario\": " + json_string(scenario) + ", \"transport\": " + json_string(transport) +
           ", \"mode\": " + json_string(mode) + ", \"topology\": \"1x1\", \"payload_bytes\": " + std::to_string(size) +
           ", \"metric\": " + json_string(metric) + ", \"unit\": " + json_string(unit) +
           ", \"depth\": 0, \"verified\": true, " + figure_json(values) + "}";
}

std::string figure_text(const std::vector<double>& values) {
    const auto summary = summarize(values);
    return number(summary.median) + " (" + number(summary.min) + "–" + number(summary.max) + ")" +
           (summary.noisy ? " **noisy**" : "");
}

template <typename Field>
std::vector<double> column(const std::vector<Repeat>& repeats, Field field) {
    std::vector<double> values;
    for (const auto& repeat : repeats) values.push_back(field(repeat));
    return values;
}

struct Target {
    std::string name;
    std::string measured;
    bool met;
};

std::vector<Target> targets_for(std::size_t size, const std::vector<Repeat>& repeats) {
    // Ratios within each repeat (the same load on both), then their median.
    // The verdict compares like with like: the bridge sends a Nats-Msg-Id
    // with every message (JetStream's deduplication of its retries), and a
    // direct publisher wanting the same guarantee pays for the same header.
    // The ratio to direct publishes without it is reported alongside.
    auto median_of = [&](auto field) { return summarize(column(repeats, field)).median; };
    const double throughput_ratio = median_of([](const Repeat& r) { return r.bridged_rate / r.direct_id_rate; });
    const double bare_ratio = median_of([](const Repeat& r) { return r.bridged_rate / r.direct_rate; });
    const double latency_ratio = median_of([](const Repeat& r) { return r.added() / r.round_trip_p50; });
    const double bridged = median_of([](const Repeat& r) { return r.bridged_rate; });
    const double direct_ids = median_of([](const Repeat& r) { return r.direct_id_rate; });
    const double direct = median_of([](const Repeat& r) { return r.direct_rate; });
    const double added = median_of([](const Repeat& r) { return r.added(); });
    const double round_trip = median_of([](const Repeat& r) { return r.round_trip_p50; });
    const auto label = size_name(size);
    return {
        {"Bridge " + label + " throughput >= " + ratio(throughput_target) +
             " direct JetStream async publish with a Nats-Msg-Id each (window " + std::to_string(window) + ")",
         ratio(throughput_ratio) + " (shmq -> shmq-bridge " + number(bridged) + " msg/s vs nats.c with Msg-Id " +
             number(direct_ids) + "); for information, " + ratio(bare_ratio) + " of nats.c without Msg-Id (" +
             number(direct) + ")",
         throughput_ratio >= throughput_target},
        {"Bridge " + label + " added p50 latency <= " + ratio(latency_target) + " one publish-ack round trip",
         number(added) + " µs / " + number(round_trip) + " µs = " + ratio(latency_ratio), latency_ratio <= latency_target},
    };
}

std::string bridge_config(const std::string& broker, const std::string& url, const std::string& stream,
                          const std::string& subject) {
    return "broker: " + broker + "\nnats:\n  urls: [\"" + url + "\"]\nroutes:\n  - name: bench\n    direction: out\n" +
           "    queue: bridged\n    subject: " + subject + "\n    stream: " + stream + "\n    window: " +
           std::to_string(window) + "\n";
}

int run(const Plan& plan, const std::string& output_dir, const std::string& nats_server) {
    const auto scratch = fs::temp_directory_path() / ("shmq-bridge-bench-" + std::to_string(::getpid()));
    fs::create_directories(scratch);
    struct Cleanup {
        fs::path path;
        ~Cleanup() {
            std::error_code ignored;
            fs::remove_all(path, ignored);
        }
    } cleanup{scratch};

    NatsServer server(nats_server, scratch.string());
    JetStreamClient nats(server.url(), window);
    BridgeRoute route{"BENCH", "bench.direct", "bench.bridged", nullptr};
    nats.create_stream(route.stream, "bench.>");
    BrokerProcess broker(SHMQ_SHMQD_PATH, {{"bridged", 4096, 4096, true}});
    AttachOptions options;
    options.broker = broker.name();
    options.program = "shmq_bridge_bench";
    std::unique_ptr<Client> client;
    std::string error;
    if (Client::attach(options, client, &error) != Status::ok) throw std::runtime_error("shmq: attach: " + error);
    Queue queue;
    if (const Status status = client->open_queue("bridged", queue); status != Status::ok) {
        throw std::runtime_error("shmq: open_queue bridged: " + std::string(to_string(status)));
    }
    route.queue = &queue;
    const auto config = (scratch / "bridge.yaml").string();
    std::ofstream(config) << bridge_config(broker.name(), server.url(), route.stream, route.bridged_subject);
    const pid_t bridge = start_daemon({SHMQ_BRIDGE_PATH, "--config", config}, {}, (scratch / "bridge.log").string());
    struct Stop {
        pid_t pid;
        ~Stop() { terminate_and_reap(pid, std::chrono::seconds(10)); }
    } stop_bridge{bridge};
    route.bridge = bridge;
    // The route is ready once a message went through.
    bridged_one_way(nats, route, 64, 1);

    std::vector<std::string> records;
    std::vector<Target> targets;
    std::vector<std::string> rows;
    for (const std::size_t size : sizes) {
        std::vector<Repeat> repeats(plan.repeats);
        for (auto& repeat : repeats) {
            repeat.direct_rate = direct_throughput(nats, route, size, plan.messages(size));
            repeat.direct_id_rate = direct_throughput(nats, route, size, plan.messages(size), true);
            repeat.bridged_rate = bridged_throughput(nats, route, size, plan.messages(size), repeat.bridge_cpu_us);
            repeat.round_trip_p50 = p50(publish_ack_round_trips(nats, route, size, plan.samples));
            repeat.direct_p50 = p50(direct_one_way(nats, route, size, plan.samples));
            repeat.bridged_p50 = p50(bridged_one_way(nats, route, size, plan.samples));
        }
        const auto direct = column(repeats, [](const Repeat& r) { return r.direct_rate; });
        const auto direct_ids = column(repeats, [](const Repeat& r) { return r.direct_id_rate; });
        const auto bridged = column(repeats, [](const Repeat& r) { return r.bridged_rate; });
        const auto bridge_cpu = column(repeats, [](const Repeat& r) { return r.bridge_cpu_us; });
        const auto round_trip = column(repeats, [](const Repeat& r) { return r.round_trip_p50; });
        const auto direct_p50 = column(repeats, [](const Repeat& r) { return r.direct_p50; });
        const auto bridged_p50 = column(repeats, [](const Repeat& r) { return r.bridged_p50; });
        const auto added = column(repeats, [](const Repeat& r) { return r.added(); });
        const std::string direct_mode = "js_PublishAsync, window " + std::to_string(window);
        const std::string bridged_mode = "queue at_least_once -> out route, window " + std::to_string(window);
        records.push_back(record_json("bridge_throughput", "nats.c", direct_mode, size, "msg_per_s", "msg/s", direct));
        records.push_back(record_json("bridge_throughput", "nats.c", direct_mode + ", Nats-Msg-Id", size, "msg_per_s",
                                      "msg/s", direct_ids));
        records.push_back(record_json("bridge_throughput", "shmq-bridge", bridged_mode, size, "msg_per_s", "msg/s", bridged));
        records.push_back(record_json("bridge_throughput", "shmq-bridge", bridged_mode, size, "cpu_us_per_msg", "us",
                                      bridge_cpu));
        records.push_back(record_json("bridge_latency", "nats.c", "js_Publish (waits for the ack)", size,
                                      "publish_ack_p50_us", "us", round_trip));
        records.push_back(record_json("bridge_latency", "nats.c", direct_mode, size, "one_way_p50_us", "us", direct_p50));
        records.push_back(record_json("bridge_latency", "shmq-bridge", bridged_mode, size, "one_way_p50_us", "us", bridged_p50));
        rows.push_back("| " + size_name(size) + " | " + figure_text(direct) + " | " + figure_text(direct_ids) + " | " +
                       figure_text(bridged) + " | " + figure_text(bridge_cpu) + " | " +
                       figure_text(round_trip) + " | " + figure_text(direct_p50) + " | " + figure_text(bridged_p50) +
                       " | " + figure_text(added) + " |");
        for (auto& target : targets_for(size, repeats)) targets.push_back(std::move(target));
    }

    std::vector<std::string> section = {
        "## Bridge: shmq-bridge against direct JetStream publishes",
        "",
        "`bench/bridge` (shmq_bridge_bench): one nats-server " "with JetStream on loopback, an R1 file stream; " +
            std::to_string(plan.repeats) + " repeat(s). Throughput: " + std::to_string(plan.messages(64)) +
            " messages of 64 B, " + std::to_string(plan.messages(4096)) +
            " of 4 KiB, published by nats.c (`js_PublishAsync`, " + std::to_string(window) +
            " awaiting their acks, timed to the last ack; again with a Nats-Msg-Id header each, as the bridge "
            "sends them, which JetStream checks and records for deduplication) or sent to an at_least_once shmq queue that shmq-bridge's "
            "out route (window " + std::to_string(window) +
            ") publishes, timed from the first send until the stream holds them all; every run checks that the "
            "stream holds exactly the messages sent; bridge CPU is shmq-bridge's user and system time per message "
            "during its runs. Latency: " + std::to_string(plan.samples) +
            " messages one at a time per repeat, p50 of: a `js_Publish` waiting for its ack (round trip); from an "
            "asynchronous publish, or from the shmq send, until a core NATS subscriber on the subject has the "
            "message (one way, checked unaltered). Added = bridged one way - direct one way. The throughput "
            "targets compare like with like: the bridge against direct publishes carrying the same Nats-Msg-Id "
            "(what a direct publisher pays for the same deduplication); the ratio to direct publishes without it "
            "is given for information. The benchmark, "
            "nats-server, shmqd and the bridge share the machine's CPUs. Medians (min–max) over the repeats.",
        "",
        "| payload | direct msg/s | direct with Msg-Id msg/s | bridged msg/s | bridge CPU µs/msg | publish-ack round trip µs | "
        "direct one way µs | bridged one way µs | added µs |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    };
    section.insert(section.end(), rows.begin(), rows.end());

    fs::create_directories(output_dir);
    std::ofstream json(fs::path(output_dir) / "bridge.json");
    json << "{\n  \"records\": [\n";
    for (std::size_t i = 0; i < records.size(); ++i) json << "    " << records[i] << (i + 1 < records.size() ? ",\n" : "\n");
    json << "  ],\n  \"targets\": [\n";
    for (std::size_t i = 0; i < targets.size(); ++i) {
        json << "    {\"target\": " << json_string(targets[i].name) << ", \"measured\": " << json_string(targets[i].measured)
             << ", \"available\": true, \"met\": " << (targets[i].met ? "true" : "false") << "}"
             << (i + 1 < targets.size() ? ",\n" : "\n");
    }
    json << "  ],\n  \"settings\": {\"quick\": " << (plan.quick ? "true" : "false")
         << ", \"repeats\": " << plan.repeats << ", \"messages_64\": " << plan.messages(64)
         << ", \"messages_4096\": " << plan.messages(4096) << ", \"latency_samples\": " << plan.samples
         << ", \"window\": " << window << ", \"stream\": \"R1 file, single node\"},\n  \"section\": [\n";
    for (std::size_t i = 0; i < section.size(); ++i) json << "    " << json_string(section[i]) << (i + 1 < section.size() ? ",\n" : "\n");
    json << "  ]\n}\n";

    for (const auto& line : section) std::cout << line << "\n";
    std::cout << "\n";
    for (const auto& target : targets) {
        std::cout << target.name << ": " << target.measured << ": " << (target.met ? "met" : "missed") << "\n";
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    po::options_description description(
        "Usage: shmq_bridge_bench [options]\n\n"
        "shmq-bridge's out route against publishing to JetStream directly with the NATS C client, on one\n"
        "single-node JetStream server started on loopback. Writes OUTPUT_DIR/bridge.json and prints the\n"
        "figures and the targets' verdicts (docs/benchmarks.md).\n\nOptions");
    std::string output_dir = "bench/results";
    std::string nats_server = SHMQ_NATS_SERVER;
    description.add_options()
        ("help,h", "this help")
        ("quick", "a few messages, one repeat: checks that everything works, its figures mean nothing")
        ("output-dir", po::value(&output_dir)->default_value(output_dir), "where bridge.json goes")
        ("nats-server", po::value(&nats_server)->default_value(nats_server), "the nats-server program");
    po::variables_map options;
    try {
        po::store(po::parse_command_line(argc, argv, description), options);
        po::notify(options);
    } catch (const po::error& error) {
        std::cerr << "shmq_bridge_bench: " << error.what() << "\n" << description << "\n";
        return 2;
    }
    if (options.count("help") != 0) {
        std::cout << description << "\n";
        return 0;
    }
    const Plan plan = options.count("quick") != 0 ? Plan{true, 1, 20, 2000, 500} : Plan{false, 3, 1000, 200000, 50000};
    try {
        return run(plan, output_dir, nats_server);
    } catch (const std::exception& error) {
        std::cerr << "shmq_bridge_bench: " << error.what() << "\n";
        return 1;
    }
}
