#include "bench/report.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "bench/format.hpp"
#include "bench/interference.hpp"
#include "bench/plan.hpp"
#include "bench/targets.hpp"

namespace shmq::bench {

namespace {

// The fan-out and zero-copy tables compare with iceoryx, the closest peer.
constexpr const char* iceoryx_fan_out_mode = "waitset";
constexpr const char* iceoryx_round_trip_mode = "busy_poll+zero_copy";

std::string json_string(const std::string& text) {
    std::ostringstream out;
    out << '"';
    for (const char c : text) {
        switch (c) {
        case '"': out << "\\\""; break;
        case '\\': out << "\\\\"; break;
        case '\n': out << "\\n"; break;
        case '\t': out << "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                out << "\\u" << std::hex << std::setw(4) << std::setfill('0') << static_cast<int>(c) << std::dec;
            } else {
                out << c;
            }
        }
    }
    out << '"';
    return out.str();
}

std::string json_number(double value) {
    if (!std::isfinite(value)) return "0";
    std::ostringstream out;
    out << std::setprecision(6) << value;
    return out.str();
}

// The figure against the same figure of the limit ring (the one measured
// beside it, when there is one: Results::reference) or of Boost's
// message_queue, repeat by repeat (paired_ratio).
std::optional<double> ratio_to(const Results& results, const Figure& figure, const char* transport, const char* mode) {
    FigureKey reference = figure.key;
    reference.transport = transport;
    reference.mode = mode;
    const Figure* other = results.reference(figure.key, reference);
    if (other == nullptr || figure.repeats.empty()) return std::nullopt;
    if (other->summary().median == 0) return std::nullopt;
    return paired_ratio(figure, *other);
}

std::optional<double> ratio_to_limit(const Results& results, const Figure& figure) {
    return ratio_to(results, figure, limit_transport, limit_mode);
}
std::optional<double> ratio_to_boost(const Results& results, const Figure& figure) {
    return ratio_to(results, figure, boost_transport, boost_mode);
}

// The single-message targets hold shmq's queues, which any number of
// producers and consumers share, to a ring that one producer and one
// consumer use. What sharing alone costs differs from machine to machine,
// so the report says what the textbook shared ring made of it in this run.
void write_mpmc_scale(std::ostream& out, const Results& results) {
    const std::size_t payload = throughput_payloads[0];  // the single-message targets' size
    const Figure* rate = results.find({"throughput", mpmc_transport, mpmc_mode, "1x1", payload, "msg_per_s"});
    if (rate == nullptr) return;
    const auto against_limit = ratio_to_limit(results, *rate);
    if (!against_limit) return;
    out << "\nFor scale: the textbook lock-free MPMC ring (" << mpmc_transport
        << "), which keeps none of shmq's promises, made " << format_ratio(*against_limit) << " the limit ring at "
        << format_payload(payload)
        << " in this run; that is what sharing a queue costs this machine before any crash safety.\n";
}

void write_json(const Results& results, const std::string& path) {
    std::ofstream out(path);
    const auto& machine = results.machine;
    const auto& settings = results.settings;
    out << "{\n  \"machine\": {\"cpu_model\": " << json_string(machine.cpu_model) << ", \"cpus\": " << machine.cpus
        << ", \"kernel\": " << json_string(machine.kernel) << ", \"compiler\": " << json_string(machine.compiler)
        << ", \"boost\": " << json_string(machine.boost) << ", \"libzmq\": " << json_string(machine.zmq)
        << ", \"clocksource\": " << json_string(machine.clocksource) << ", \"date\": " << json_string(machine.date)
        << ", \"load_average\": " << json_number(machine.load_average) << "},\n";
    out << "  \"settings\": {\"quick\": " << (settings.quick ? "true" : "false")
        << ", \"repeats\": " << settings.repeats << ", \"messages_cap\": " << settings.messages
        << ", \"seconds_per_run\": " << json_number(settings.seconds)
        << ", \"idle_seconds\": " << json_number(settings.idle_seconds) << ", \"patience_seconds\": "
        << json_number(settings.patience) << ", \"noisy_spread\": "
        << json_number(noisy_spread) << ", \"disturbed_share\": " << json_number(disturbed_share) << "},\n";
    out << "  \"records\": [";
    bool first = true;
    for (const auto& figure : results.figures) {
        if (figure.repeats.empty()) continue;
        const auto& key = figure.key;
        const Summary summary = figure.summary();
        out << (first ? "\n" : ",\n") << "    {\"scenario\": " << json_string(key.scenario)
            << ", \"transport\": " << json_string(key.transport) << ", \"mode\": " << json_string(key.mode)
            << ", \"topology\": " << json_string(key.topology) << ", \"payload_bytes\": " << key.payload
            << ", \"metric\": " << json_string(key.metric) << ", \"unit\": " << json_string(figure.unit)
            << ", \"depth\": " << figure.depth << ", \"verified\": " << (figure.verified ? "true" : "false")
            << ", \"median\": " << json_number(summary.median) << ", \"min\": " << json_number(summary.min)
            << ", \"max\": " << json_number(summary.max) << ", \"spread\": " << json_number(summary.spread)
            << ", \"noisy\": " << (summary.noisy ? "true" : "false") << ", \"repeats\": [";
        for (std::size_t i = 0; i < figure.repeats.size(); ++i) {
            out << (i ? ", " : "") << json_number(figure.repeats[i]);
        }
        out << "], \"others_cpu_share\": [";
        for (std::size_t i = 0; i < figure.others_share.size(); ++i) {
            out << (i ? ", " : "") << json_number(figure.others_share[i]);
        }
        out << "], \"disturbed_repeats\": " << figure.disturbed << ", \"unsteady_repeats\": "
            << std::count(figure.unsteady.begin(), figure.unsteady.end(), true)
            << ", \"summarized_repeats\": " << figure.summarized();
        if (const auto ratio = ratio_to_limit(results, figure)) out << ", \"ratio_to_limit\": " << json_number(*ratio);
        if (const auto ratio = ratio_to_boost(results, figure)) out << ", \"ratio_to_boost\": " << json_number(*ratio);
        out << "}";
        first = false;
    }
    out << "\n  ],\n  \"targets\": [";
    first = true;
    for (const auto& check : check_targets(results)) {
        out << (first ? "\n" : ",\n") << "    {\"target\": " << json_string(check.target)
            << ", \"measured\": " << json_string(check.measured) << ", \"available\": "
            << (check.available ? "true" : "false") << ", \"met\": " << (check.met ? "true" : "false") << "}";
        first = false;
    }
    for (const auto* list : {&results.skipped, &results.failed}) {
        out << "\n  ],\n  \"" << (list == &results.skipped ? "skipped" : "failed") << "\": [";
        first = true;
        for (const auto& problem : *list) {
            out << (first ? "\n" : ",\n") << "    {\"scenario\": " << json_string(problem.scenario)
                << ", \"transport\": " << json_string(problem.transport) << ", \"mode\": " << json_string(problem.mode)
                << ", \"topology\": " << json_string(problem.topology) << ", \"payload_bytes\": " << problem.payload
                << ", \"reason\": " << json_string(problem.reason) << "}";
            first = false;
        }
    }
    out << "\n  ]\n}\n";
    if (!out) throw std::runtime_error("cannot write " + path);
}

// "21.6 M (21.1 M–22.0 M)", flagged when noisy; "[2 of 3]" when disturbed
// repeats were set aside, **disturbed** when every repeat was.
std::string cell(const Figure* figure) {
    if (figure == nullptr || figure->repeats.empty()) return "—";
    const Summary summary = figure->summary();
    const std::size_t used = figure->summarized();
    std::string text = format_number(summary.median);
    if (used > 1 || (used == 0 && figure->repeats.size() > 1)) {
        text += " (" + format_number(summary.min) + "–" + format_number(summary.max) + ")";
    }
    if (summary.noisy) text += " **noisy**";
    if (used == 0) {
        text += " **disturbed**";
    } else if (used < figure->repeats.size()) {
        text += " [" + std::to_string(used) + " of " + std::to_string(figure->repeats.size()) + "]";
    }
    return text;
}

std::string ratio_cell(const std::optional<double>& ratio) { return ratio ? format_ratio(*ratio) : "—"; }

// The (transport, mode) pairs that have figures of `scenario`, in run order.
std::vector<std::pair<std::string, std::string>> series_of(const Results& results, const std::string& scenario) {
    std::vector<std::pair<std::string, std::string>> series;
    for (const auto& figure : results.figures) {
        if (figure.key.scenario != scenario) continue;
        const auto entry = std::make_pair(figure.key.transport, figure.key.mode);
        if (std::find(series.begin(), series.end(), entry) == series.end()) series.push_back(entry);
    }
    return series;
}

std::string depth_cell(const Figure* figure) {
    if (figure == nullptr) return "—";
    return figure->depth == 0 ? "stream" : std::to_string(figure->depth);
}

void write_markdown(const Results& results, const std::string& path) {
    std::ofstream out(path);
    const auto& machine = results.machine;
    const auto& settings = results.settings;
    out << "# shmq benchmark results\n\n"
        << "Run " << machine.date << " on " << machine.cpu_model << ", " << machine.cpus << " CPUs, " << machine.kernel
        << ", " << machine.compiler << ", Boost " << machine.boost << ", libzmq " << machine.zmq << ", clocksource "
        << machine.clocksource << ", 1-minute load average " << machine.load_average << " at the start.\n\n";
    // What others did to the runs is measured run by run (interference.hpp);
    // the load average at the start only hints at it.
    const bool any_disturbed = std::any_of(results.figures.begin(), results.figures.end(),
                                           [](const Figure& figure) { return figure.disturbed > 0; });
    out << (any_disturbed ? "**Other processes disturbed some repeats (more than 5% of the CPUs); they are marked "
                            "below and set aside where undisturbed repeats exist.**\n\n"
                          : "No repeat was disturbed: other processes took under 5% of the CPUs during every run.\n\n");
    out << settings.repeats << " repeat(s) of every configuration; each run lasts at most " << settings.seconds
        << " s and " << settings.messages << " messages"
        << (settings.quick ? " (--quick: a smoke test, not a measurement)" : "") << ". Producers and consumers are "
        << "separate processes pinned to different CPUs. Figures are medians over the repeats with the spread "
           "(min–max); **noisy** marks a spread above "
        << static_cast<int>(noisy_spread * 100) << "% of the median. A repeat during which other processes used more "
        << "than " << static_cast<int>(disturbed_share * 100) << "% of the CPUs is set aside when undisturbed ones "
        << "exist (\"[2 of 3]\": the figure stands on 2 repeats), and a figure all of whose repeats were disturbed "
        << "is marked **disturbed**; every repeat is in results.json with the share others took (the "
        << "benchmark may spend " << settings.patience << " s in all waiting for quiet CPUs before runs and trying "
        << "disturbed runs up to twice more). Every figure comes from runs whose receivers "
        << "checked every sequence number: nothing lost, duplicated or reordered. Ratios are medians of the ratios "
        << "within each repeat (undisturbed repeats when there are any), as the machine's state drifts over minutes: "
        << "\"x limit\" to the lock-free SPSC ring with busy polling (" << limit_transport << "), \"x Boost\" to "
        << "boost::interprocess::message_queue (" << boost_transport << "). Every run of a shmq queue comes with a "
        << "run of the ring right before it and another right after, and its \"x limit\" and targets use their "
        << "mean: the machine's speed can change several times over between two configurations of one repeat. "
        << "When the two disagree by more than " << format_ratio(unsteady_ratio) << " the machine changed speed "
        << "during the run: it is **unsteady**, run again while patience lasts, else set aside like a disturbed "
        << "one.\n\n";

    out << "## Targets\n\n| target | this run | verdict |\n|---|---|---|\n";
    for (const auto& check : check_targets(results)) {
        out << "| " << check.target << " | " << check.measured << " | "
            << (!check.available ? "not measured" : check.met ? "met" : "**missed**") << " |\n";
    }
    write_mpmc_scale(out, results);

    out << "\n## The machine's noise floor\n\nOne process per CPU spins reading the clock; a gap over 1 µs between two "
           "reads is an interruption (interrupts, the hypervisor, kernel threads). No transport's tail latency can be "
           "better than this.\n\n| interruptions per second per CPU | median interruption (µs) | time lost (%) |\n"
           "|---:|---:|---:|\n| "
        << cell(results.find({"noise_floor", "machine", "probe", "", 0, "interruptions_per_s"})) << " | "
        << cell(results.find({"noise_floor", "machine", "probe", "", 0, "median_interruption_us"})) << " | "
        << cell(results.find({"noise_floor", "machine", "probe", "", 0, "lost_percent"})) << " |\n";

    out << "\n## One-way throughput\n\nOne producer, one consumer, one queue.\n";
    for (const std::size_t payload : throughput_payloads) {
        out << "\n### " << format_payload(payload) << "\n\n"
            << "| transport | mode | depth | msg/s | MB/s | x limit | x Boost |\n|---|---|---:|---:|---:|---:|---:|\n";
        for (const auto& [transport, mode] : series_of(results, "throughput")) {
            const Figure* rate = results.find({"throughput", transport, mode, "1x1", payload, "msg_per_s"});
            const Figure* bytes = results.find({"throughput", transport, mode, "1x1", payload, "mb_per_s"});
            if (rate == nullptr) continue;
            out << "| " << transport << " | " << mode << " | " << depth_cell(rate) << " | " << cell(rate) << " | "
                << cell(bytes) << " | " << ratio_cell(ratio_to_limit(results, *rate)) << " | "
                << ratio_cell(ratio_to_boost(results, *rate)) << " |\n";
        }
    }

    out << "\n## Round trip (ping-pong)\n\nA client sends, a server echoes on a second queue; latencies in µs. "
           "Ratios compare p50.\n";
    for (const std::size_t payload : round_trip_payloads) {
        out << "\n### " << format_payload(payload) << "\n\n"
            << "| transport | mode | p50 | p99 | p99.9 | max | p99.9 / p50 | p50 x limit | p50 x Boost |\n"
            << "|---|---|---:|---:|---:|---:|---:|---:|---:|\n";
        for (const auto& [transport, mode] : series_of(results, "round_trip")) {
            const Figure* p50 = results.find({"round_trip", transport, mode, "1x1", payload, "p50_us"});
            if (p50 == nullptr) continue;
            const Figure* p999 = results.find({"round_trip", transport, mode, "1x1", payload, "p99_9_us"});
            out << "| " << transport << " | " << mode << " | " << cell(p50) << " | "
                << cell(results.find({"round_trip", transport, mode, "1x1", payload, "p99_us"})) << " | " << cell(p999)
                << " | " << cell(results.find({"round_trip", transport, mode, "1x1", payload, "max_us"})) << " | "
                << (p999 != nullptr ? format_ratio(paired_ratio(*p999, *p50)) : "—") << " | "
                << ratio_cell(ratio_to_limit(results, *p50)) << " | " << ratio_cell(ratio_to_boost(results, *p50))
                << " |\n";
        }
    }

    out << "\n## Producers x consumers on one queue\n\nmsg/s delivered, 64 B messages; producers pinned to one CPU, "
           "consumers to the other. The limit ring is single-producer single-consumer, so it is not here: Boost "
           "is the peer, and the textbook MPMC ring (mpmc_ring) the scale.\n\n| transport | mode |";
    for (const std::size_t size : many_to_many_sizes) {
        const std::string topology = topology_name(size, size);
        out << " " << topology << " | " << topology << " x Boost |";
    }
    out << "\n|---|---|";
    for (std::size_t i = 0; i < std::size(many_to_many_sizes); ++i) out << "---:|---:|";
    out << "\n";
    for (const auto& [transport, mode] : series_of(results, "many_to_many")) {
        out << "| " << transport << " | " << mode << " |";
        for (const std::size_t size : many_to_many_sizes) {
            const Figure* rate =
                results.find({"many_to_many", transport, mode, topology_name(size, size), many_to_many_payload,
                              "msg_per_s"});
            out << " " << cell(rate) << " | "
                << (rate != nullptr ? ratio_cell(ratio_to_boost(results, *rate)) : std::string("—")) << " |";
        }
        out << "\n";
    }

    out << "\n## Topic fan-out\n\nOne publisher, 1, 4 or 8 subscribers on one topic, 64 B messages; the publisher "
           "pinned to one CPU, every subscriber to the other. Every subscriber receives every message and checks "
           "its sequence; publishers wait for the slowest (shmq slow_subscriber: block, ZeroMQ XPUB_NODROP, iceoryx "
           "WAIT_FOR_CONSUMER). msg/s is the rate at which every subscriber received (the slowest one's); "
           "deliveries/s is that times the subscribers. \"x iceoryx\" compares msg/s with iceoryx "
           << iceoryx_fan_out_mode << ".\n\n| transport | mode |";
    for (const std::size_t subscribers : fan_out_subscribers) {
        const std::string topology = topology_name(1, subscribers);
        out << " " << topology << " msg/s | x iceoryx |";
    }
    out << " 1x" << fan_out_subscribers[std::size(fan_out_subscribers) - 1] << " deliveries/s |\n|---|---|";
    for (std::size_t i = 0; i < std::size(fan_out_subscribers); ++i) out << "---:|---:|";
    out << "---:|\n";
    for (const auto& [transport, mode] : series_of(results, "fan_out")) {
        out << "| " << transport << " | " << mode << " |";
        std::string topology;
        for (const std::size_t subscribers : fan_out_subscribers) {
            topology = topology_name(1, subscribers);
            const Figure* rate = results.find({"fan_out", transport, mode, topology, fan_out_payload, "msg_per_s"});
            out << " " << cell(rate) << " | "
                << (rate != nullptr ? ratio_cell(ratio_to(results, *rate, "iceoryx", iceoryx_fan_out_mode))
                                    : std::string("—"))
                << " |";
        }
        out << " " << cell(results.find({"fan_out", transport, mode, topology, fan_out_payload, "deliveries_per_s"}))
            << " |\n";
    }

    out << "\n## Zero-copy round trip across sizes\n\nPing-pong as above, at 64 B to 4 MiB. Zero-copy modes "
           "(+zero_copy: shmq's Topic::loan and Subscription::read, iceoryx's loan and take) write the sequence "
           "number into a loaned buffer and read it in place, so their time should not depend on the size; the "
           "copying transports copy the whole message in and out at every hop, for contrast. p50 in µs; "
           "\"x iceoryx\" compares with iceoryx "
        << iceoryx_round_trip_mode << " (iceoryx's own benchmark busy-polls too).\n\n| transport | mode |";
    for (const std::size_t payload : zero_copy_payloads) out << " " << format_payload(payload) << " |";
    const std::size_t smallest = smallest_zero_copy_payload;
    const std::size_t largest = largest_zero_copy_payload;
    out << " " << format_payload(largest) << " / " << format_payload(smallest) << " | " << format_payload(smallest)
        << " x iceoryx | " << format_payload(largest) << " x iceoryx | " << format_payload(largest)
        << " p99.9 |\n|---|---|";
    for (std::size_t i = 0; i < std::size(zero_copy_payloads); ++i) out << "---:|";
    out << "---:|---:|---:|---:|\n";
    for (const auto& [transport, mode] : series_of(results, "zero_copy_round_trip")) {
        out << "| " << transport << " | " << mode << " |";
        auto p50 = [&, transport = transport, mode = mode](std::size_t payload) {
            return results.find({"zero_copy_round_trip", transport, mode, "1x1", payload, "p50_us"});
        };
        for (const std::size_t payload : zero_copy_payloads) out << " " << cell(p50(payload)) << " |";
        const Figure* small = p50(smallest);
        const Figure* large = p50(largest);
        out << " " << (small != nullptr && large != nullptr ? format_ratio(paired_ratio(*large, *small)) : "—")
            << " |";
        for (const Figure* figure : {small, large}) {
            out << " "
                << (figure != nullptr ? ratio_cell(ratio_to(results, *figure, "iceoryx", iceoryx_round_trip_mode))
                                      : std::string("—"))
                << " |";
        }
        out << " " << cell(results.find({"zero_copy_round_trip", transport, mode, "1x1", largest, "p99_9_us"}))
            << " |\n";
    }

    out << "\n## Idle broker\n\nThe real shmqd with three queues (64 B x 64, 4 KiB x 64, 1 MiB x 8) and no client, "
        << "for " << settings.idle_seconds << " s after it reported ready; % of one CPU.\n\n"
        << "| measure | CPU % |\n|---|---:|\n"
        << "| utime + stime, /proc/PID/stat (clock ticks) | "
        << cell(results.find({"idle_broker", "shmq", "shmqd", "", 0, "cpu_percent_stat"})) << " |\n"
        << "| on-CPU time of its threads, /proc/PID/task/*/schedstat (ns) | "
        << cell(results.find({"idle_broker", "shmq", "shmqd", "", 0, "cpu_percent_precise"})) << " |\n"
        << "| wake-ups per second (schedstat run count; the figure is not a %) | "
        << cell(results.find({"idle_broker", "shmq", "shmqd", "", 0, "wakeups_per_s"})) << " |\n";

    for (const auto* list : {&results.skipped, &results.failed}) {
        if (list->empty()) continue;
        out << "\n## " << (list == &results.skipped ? "Skipped" : "Failed") << "\n\n"
            << "| scenario | transport | mode | payload | topology | why |\n|---|---|---|---|---|---|\n";
        for (const auto& problem : *list) {
            out << "| " << problem.scenario << " | " << problem.transport << " | " << problem.mode << " | "
                << format_payload(problem.payload) << " | " << problem.topology << " | " << problem.reason << " |\n";
        }
    }
    if (!out) throw std::runtime_error("cannot write " + path);
}

void write_machine(const Results& results, const std::string& path) {
    const auto& machine = results.machine;
    std::ofstream out(path);
    out << "date: " << machine.date << "\ncpu model: " << machine.cpu_model << "\nnproc: " << machine.cpus
        << "\nkernel: " << machine.kernel << "\ncompiler: " << machine.compiler << "\nboost: " << machine.boost
        << "\nlibzmq: " << machine.zmq << "\nclocksource: " << machine.clocksource
        << "\nload average at start: " << machine.load_average << "\n";
    if (!out) throw std::runtime_error("cannot write " + path);
}

// zero_copy.dat: round-trip p50 by payload size, one block per series.
void write_zero_copy_plot_data(const Results& results, const std::string& directory) {
    std::ofstream out(directory + "/zero_copy.dat");
    bool first = true;
    for (const auto& [transport, mode] : series_of(results, "zero_copy_round_trip")) {
        out << (first ? "" : "\n\n") << "\"" << transport << " " << mode << "\" \"us\"\n";
        for (const std::size_t payload : zero_copy_payloads) {
            if (const auto p50 = results.median({"zero_copy_round_trip", transport, mode, "1x1", payload, "p50_us"})) {
                out << payload << " " << json_number(*p50) << "\n";
            }
        }
        first = false;
    }
}

// gnuplot data: one block per series, its first line the series' title.
void write_plot_data(const Results& results, const std::string& directory) {
    for (const std::size_t payload : round_trip_payloads) {
        std::ofstream out(directory + "/latency_" + std::to_string(payload) + ".dat");
        bool first = true;
        for (const auto& [transport, mode] : series_of(results, "round_trip")) {
            // The repeat with the median p50 stands for the configuration,
            // chosen among the undisturbed repeats when there are any.
            std::vector<const Curve*> runs, clean;
            for (const auto& curve : results.curves) {
                if (curve.transport == transport && curve.mode == mode && curve.payload == payload) {
                    runs.push_back(&curve);
                    if (!curve.disturbed) clean.push_back(&curve);
                }
            }
            if (!clean.empty()) runs = clean;
            if (runs.empty()) continue;
            std::sort(runs.begin(), runs.end(), [](const Curve* a, const Curve* b) { return a->p50_us < b->p50_us; });
            const Curve& median = *runs[runs.size() / 2];
            out << (first ? "" : "\n\n") << "\"" << transport << " " << mode << "\" \"us\"\n";
            // x: 1 / (1 - p), so 50% -> 2, 99% -> 100, 99.9% -> 1000.
            for (const auto& [percent, micros] : median.points) {
                out << json_number(1.0 / (1.0 - percent / 100.0)) << " " << json_number(micros) << "\n";
            }
            first = false;
        }
    }
    std::ofstream out(directory + "/throughput.dat");
    bool first = true;
    for (const auto& [transport, mode] : series_of(results, "throughput")) {
        out << (first ? "" : "\n\n") << "\"" << transport << " " << mode << "\" \"msg/s\" \"MB/s\"\n";
        for (const std::size_t payload : throughput_payloads) {
            const auto rate = results.median({"throughput", transport, mode, "1x1", payload, "msg_per_s"});
            const auto bytes = results.median({"throughput", transport, mode, "1x1", payload, "mb_per_s"});
            if (rate && bytes) out << payload << " " << json_number(*rate) << " " << json_number(*bytes) << "\n";
        }
        first = false;
    }
    write_zero_copy_plot_data(results, directory);
}

}  // namespace

void write_reports(const Results& results, const std::string& directory) {
    std::filesystem::create_directories(directory);
    write_json(results, directory + "/results.json");
    write_markdown(results, directory + "/results.md");
    write_machine(results, directory + "/machine.txt");
    write_plot_data(results, directory);
}

}  // namespace shmq::bench
