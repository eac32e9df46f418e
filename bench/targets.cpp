#include "bench/targets.hpp"

#include <optional>

#include "bench/format.hpp"

namespace shmq::bench {

namespace {

// Below this share of one CPU an idle broker counts as "near 0%": what top
// shows as 0.0-0.5, i.e. a process that wakes now and then and never spins.
constexpr double idle_cpu_target_percent = 0.5;

constexpr std::size_t small = 64;
constexpr std::size_t medium = 4096;
constexpr std::size_t large = 1 << 20;

// a / b repeat by repeat (paired_ratio), when both were measured.
std::optional<double> ratio_of(const Results& results, const FigureKey& a, const FigureKey& b) {
    const Figure* first = results.find(a);
    const Figure* second = results.find(b);
    if (first == nullptr || second == nullptr || first->repeats.empty() || second->repeats.empty()) {
        return std::nullopt;
    }
    return paired_ratio(*first, *second);
}

std::optional<double> median_of(const Results& results, const FigureKey& key) {
    const Figure* figure = results.find(key);
    if (figure == nullptr || figure->repeats.empty()) return std::nullopt;
    return figure->summary().median;
}

// shmq's best one-way mode at `payload`: its name and msg/s.
std::optional<std::pair<std::string, double>> best_shmq_throughput(const Results& results, std::size_t payload) {
    std::optional<std::pair<std::string, double>> best;
    for (const auto& figure : results.figures) {
        const auto& key = figure.key;
        if (key.scenario != "throughput" || key.transport != "shmq" || key.payload != payload ||
            key.metric != "msg_per_s" || figure.repeats.empty()) {
            continue;
        }
        const double median = figure.summary().median;
        if (!best || median > best->second) best = std::make_pair(key.mode, median);
    }
    return best;
}

// "at least `required` x the reference" for throughput.
TargetCheck at_least(const Results& results, std::size_t payload, const char* reference,
                     const std::string& reference_mode, const std::string& label, double required) {
    TargetCheck check;
    check.target = format_payload(payload) + " throughput >= " + format_ratio(required) + " " + label;
    const auto shmq = best_shmq_throughput(results, payload);
    const FigureKey reference_key{"throughput", reference, reference_mode, "1x1", payload, "msg_per_s"};
    const auto other = median_of(results, reference_key);
    if (!shmq || !other) {
        check.measured = "not measured in this run";
        return check;
    }
    const FigureKey shmq_key{"throughput", "shmq", shmq->first, "1x1", payload, "msg_per_s"};
    const double ratio = *ratio_of(results, shmq_key, reference_key);
    check.available = true;
    check.met = ratio >= required;
    check.measured = format_ratio(ratio) + " (shmq " + shmq->first + " " + format_number(shmq->second) + " msg/s vs " +
                     format_number(*other) + ")";
    if (!check.met) {
        check.measured += ": short by " + std::to_string(static_cast<int>((1 - ratio / required) * 100 + 0.5)) + "%";
    }
    return check;
}

TargetCheck latency_against(const Results& results, std::size_t payload, const std::string& shmq_mode,
                            const char* reference, const std::string& reference_mode, double allowed,
                            const std::string& label) {
    TargetCheck check;
    check.target = format_payload(payload) + " round trip p50, shmq " + shmq_mode + " <= " + label;
    const FigureKey shmq_key{"round_trip", "shmq", shmq_mode, "1x1", payload, "p50_us"};
    const FigureKey other_key{"round_trip", reference, reference_mode, "1x1", payload, "p50_us"};
    const auto shmq = median_of(results, shmq_key);
    const auto other = median_of(results, other_key);
    if (!shmq || !other) {
        check.measured = "not measured in this run";
        return check;
    }
    const double ratio = *ratio_of(results, shmq_key, other_key);
    check.available = true;
    check.met = ratio <= allowed;
    check.measured = format_number(*shmq) + " µs vs " + format_number(*other) + " µs = " + format_ratio(ratio);
    if (!check.met) check.measured += ": " + format_ratio(ratio / allowed) + " over";
    return check;
}

TargetCheck tail_latency(const Results& results, std::size_t payload, const std::string& mode) {
    TargetCheck check;
    check.target = format_payload(payload) + " round trip p99.9 <= 5x p50, shmq " + mode;
    const FigureKey p50_key{"round_trip", "shmq", mode, "1x1", payload, "p50_us"};
    const FigureKey p999_key{"round_trip", "shmq", mode, "1x1", payload, "p99_9_us"};
    const auto p50 = median_of(results, p50_key);
    const auto p999 = median_of(results, p999_key);
    if (!p50 || !p999) {
        check.measured = "not measured in this run";
        return check;
    }
    const double ratio = *ratio_of(results, p999_key, p50_key);
    check.available = true;
    check.met = ratio <= 5;
    check.measured = format_number(*p999) + " µs / " + format_number(*p50) + " µs = " + format_ratio(ratio);
    // The same ratio of the references tells what the machine allows.
    for (const auto& [transport, mode_of] : {std::pair{limit_transport, limit_mode}, {boost_transport, boost_mode}}) {
        if (const auto other = ratio_of(results, {"round_trip", transport, mode_of, "1x1", payload, "p99_9_us"},
                                        {"round_trip", transport, mode_of, "1x1", payload, "p50_us"})) {
            check.measured += "; " + std::string(transport) + " " + format_ratio(*other);
        }
    }
    return check;
}

}  // namespace

std::vector<TargetCheck> check_targets(const Results& results) {
    std::vector<TargetCheck> checks;
    checks.push_back(at_least(results, small, limit_transport, limit_mode, "the limit ring", 0.5));
    checks.push_back(at_least(results, small, boost_transport, boost_mode, "Boost message_queue", 6));
    checks.push_back(at_least(results, medium, limit_transport, limit_mode, "the limit ring", 0.8));
    checks.push_back(at_least(results, large, limit_transport, limit_mode, "the limit ring", 0.9));
    for (const std::size_t payload : {small, medium}) {
        checks.push_back(latency_against(results, payload, "spin_then_block", limit_transport, limit_mode, 2,
                                         "2x the limit ring's"));
    }
    for (const std::size_t payload : {small, medium}) {
        checks.push_back(latency_against(results, payload, "block", boost_transport, boost_mode, 1,
                                         "Boost message_queue's"));
    }
    for (const std::size_t payload : {small, medium}) {
        for (const char* mode : {"block", "spin_then_block", "busy_poll"}) {
            checks.push_back(tail_latency(results, payload, mode));
        }
    }
    TargetCheck idle;
    idle.target = "idle broker near 0% CPU (< " + format_number(idle_cpu_target_percent) + "% of one CPU)";
    if (const auto percent = median_of(results, {"idle_broker", "shmq", "shmqd", "", 0, "cpu_percent_precise"})) {
        idle.available = true;
        idle.met = *percent < idle_cpu_target_percent;
        idle.measured = format_number(*percent) + "% of one CPU";
        if (const auto wakeups = median_of(results, {"idle_broker", "shmq", "shmqd", "", 0, "wakeups_per_s"})) {
            idle.measured += ", " + format_number(*wakeups) + " wake-ups/s";
        }
    } else {
        idle.measured = "not measured in this run";
    }
    checks.push_back(idle);
    return checks;
}

}  // namespace shmq::bench
