// Everything one benchmark invocation measured, as the reports see it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bench/interference.hpp"
#include "bench/statistics.hpp"

namespace shmq::bench {

// The transport every figure is compared with (the hardware-limit ring) and
// the peer the targets name.
inline constexpr const char* limit_transport = "spsc_ring";
inline constexpr const char* limit_mode = "busy_poll";
inline constexpr const char* boost_transport = "boost_mq";
inline constexpr const char* boost_mode = "blocking";
// The textbook MPMC ring: what a shared queue costs this machine before any
// crash safety, the scale against which the single-message targets read.
inline constexpr const char* mpmc_transport = "mpmc_ring";
inline constexpr const char* mpmc_mode = "spin_then_yield";

// The metric under which a shmq figure keeps the limit ring measured in the
// same attempt, right before and right after it, as their mean
// ("limit_ring_msg_per_s" beside "msg_per_s"). This host's speed can change
// threefold within seconds, between two configurations of one repeat; a
// ratio is only fair between runs made side by side.
inline std::string beside_limit_metric(const std::string& metric) { return "limit_ring_" + metric; }
// Two runs of the limit ring further apart than this (the larger over the
// smaller) tell a machine that changed speed between them. This host's two
// phases differ 2.5-3x; runs within one phase, by a few percent.
inline constexpr double unsteady_ratio = 1.25;

struct Machine {
    std::string cpu_model;
    unsigned cpus = 0;
    std::string kernel;
    std::string compiler;
    std::string boost;
    std::string zmq;
    std::string clocksource;
    std::string date;  // UTC, when the run started
    double load_average = 0;  // 1-minute, when the run started: a hint of others' work on the CPUs
};

// A 1-minute load average above this when the run starts is worth a warning
// on the console; the report relies on the measured interference instead.
inline constexpr double busy_load_average = 0.5;

struct Settings {
    bool quick = false;
    unsigned repeats = 0;
    std::uint64_t messages = 0;  // the per-run cap
    double seconds = 0;          // the per-run duration
    double idle_seconds = 0;
    double patience = 0;         // seconds the benchmark may spend in all waiting for quiet CPUs and re-running
};

// Identifies a figure. `scenario`: throughput, round_trip, many_to_many or
// idle_broker; `topology`: producers x consumers ("1x1" unless MPMC).
struct FigureKey {
    std::string scenario;
    std::string transport;
    std::string mode;
    std::string topology;
    std::size_t payload = 0;
    std::string metric;  // msg_per_s, mb_per_s, p50_us, p99_us, p99_9_us, max_us, cpu_percent, ...

    bool operator==(const FigureKey& other) const {
        return scenario == other.scenario && transport == other.transport && mode == other.mode &&
               topology == other.topology && payload == other.payload && metric == other.metric;
    }
};

struct Figure {
    FigureKey key;
    std::string unit;
    std::size_t depth = 0;         // the channel's effective depth (0: not counted in messages)
    bool verified = false;         // every repeat delivered everything, in order
    bool higher_is_better = true;
    std::vector<double> repeats;       // one value per repeat
    std::vector<double> others_share;  // per repeat: share of the CPUs other processes used meanwhile
    std::vector<bool> unsteady;        // per repeat: the machine changed speed meanwhile (main.cpp, file_beside_limit)
    unsigned disturbed = 0;            // repeats kept although others used the CPUs (interference.hpp)

    // Whether repeat `i` is set aside when others exist: it shared its CPUs
    // with other work, and measured that work as much as the transport, or
    // the machine changed speed during it.
    bool set_aside(std::size_t i) const {
        return (i < others_share.size() && others_share[i] > disturbed_share) || (i < unsteady.size() && unsteady[i]);
    }
    // Over the repeats not set aside when there are any.
    Summary summary() const {
        const auto clean = undisturbed();
        return summarize(clean.empty() ? repeats : clean);
    }
    // The repeats summary() stands on; all of them when this is 0.
    std::size_t summarized() const { return undisturbed().size(); }

private:
    std::vector<double> undisturbed() const {
        std::vector<double> clean;
        for (std::size_t i = 0; i < repeats.size(); ++i) {
            if (!set_aside(i)) clean.push_back(repeats[i]);
        }
        return clean;
    }
};

// One run's round-trip distribution: latency (µs) at a rising fraction of
// samples, for the plot; the report keeps the run with the median p50.
struct Curve {
    std::string transport;
    std::string mode;
    std::size_t payload = 0;
    double p50_us = 0;
    bool disturbed = false;  // other processes used the CPUs during the run
    std::vector<std::pair<double, double>> points;  // (percentile, µs)
};

// A configuration that did not produce a figure: skipped (the system cannot
// run it) or failed (it ran and went wrong: the run as a whole fails).
struct Problem {
    std::string scenario;
    std::string transport;
    std::string mode;
    std::string topology;
    std::size_t payload = 0;
    std::string reason;
};

// a / b as the median, over the repeats, of a's value over b's in the same
// repeat (only pairs neither of which is set aside, when there are any):
// this machine's state changes over minutes and seconds (where the
// hypervisor runs its vCPUs: round trips of 0.27 or 0.78 µs, 1 MiB at 37 k
// or 2.7 k msg/s), and a ratio is only fair between runs made in the same
// state. Falls back to the ratio of the medians when the repeats do not pair
// up (a failed repeat).
double paired_ratio(const Figure& a, const Figure& b);

struct Results {
    Machine machine;
    Settings settings;
    std::vector<Figure> figures;
    std::vector<Curve> curves;
    std::vector<Problem> skipped;
    std::vector<Problem> failed;

    // The figure with this key, created empty on first use.
    Figure& figure(const FigureKey& key, const std::string& unit, bool higher_is_better);
    const Figure* find(const FigureKey& key) const;
    // The summarized median of the figure with this key, when it has repeats.
    std::optional<double> median(const FigureKey& key) const;
    // What `key`'s figure is compared with when a target or a table names
    // `other`: the limit ring measured beside it (beside_limit_metric) when
    // `other` is the limit ring and the run measured one, else `other`'s own
    // figure; null when neither has repeats.
    const Figure* reference(const FigureKey& key, const FigureKey& other) const;
};

}  // namespace shmq::bench
