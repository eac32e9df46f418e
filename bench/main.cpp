// shmq_bench: shmq against its peers and against the hardware limit, in one
// run. See docs/benchmarks.md; bench/run.sh builds, runs and plots.
#include <boost/program_options.hpp>
#include <cmath>
#include <optional>
#include <tuple>
#include <iostream>
#include <set>
#include <sstream>

#include "bench/format.hpp"
#include "bench/idle_broker.hpp"
#include "bench/interference.hpp"
#include "bench/machine.hpp"
#include "bench/noise_floor.hpp"
#include "bench/plan.hpp"
#include "bench/processes.hpp"
#include "bench/report.hpp"
#include "bench/scenarios.hpp"
#include "bench/targets.hpp"
#include "bench/transport.hpp"

namespace po = boost::program_options;
using namespace shmq::bench;

namespace {

const std::vector<std::string> transport_names = {"shmq",      "boost_mq", "posix_mq", "unix_socket",
                                                  "zmq",       "iceoryx",  "spsc_ring", "mpmc_ring"};
const std::vector<std::string> scenario_names = {"noise_floor", "throughput", "round_trip", "many_to_many",
                                                 "fan_out",     "zero_copy_round_trip", "idle_broker"};

// Caps on what one run may record, whatever --messages says: a latency
// sample costs 4 bytes, an MPMC sequence number one bit per consumer.
constexpr std::uint64_t max_round_trips = 4'000'000;
constexpr std::uint64_t max_many_to_many_per_producer = 8'000'000;

struct Entry {
    std::unique_ptr<Transport> transport;
    bool throughput = false;
    bool round_trip = false;
    bool many_to_many = false;
    bool fan_out = false;
    // In the round trips across sizes: lending memory, or copying (the
    // references that show what copying costs as messages grow).
    std::optional<Copying> zero_copy_round_trip;
};

// How a figure names the mode of a zero-copy run.
std::string mode_of(const Transport& transport, Copying copying) {
    return transport.mode() + (copying == Copying::zero_copy ? "+zero_copy" : "");
}

// What to run: --only, --scenario and --payload narrow the full comparison
// (to profile one configuration, say). Empty means everything.
struct Selection {
    std::vector<std::pair<std::string, std::string>> only;  // (transport, mode; empty: every mode)
    std::set<std::string> scenarios;
    std::set<std::size_t> payloads;

    bool wants(const Transport& transport) const {
        if (only.empty()) return true;
        for (const auto& [name, mode] : only) {
            if (name == transport.name() && (mode.empty() || mode == transport.mode())) return true;
        }
        return false;
    }
    bool wants(const std::string& scenario) const { return scenarios.empty() || scenarios.count(scenario) > 0; }
    bool wants(std::size_t payload) const { return payloads.empty() || payloads.count(payload) > 0; }
    // The idle broker belongs to shmq as a whole, not to one of its modes.
    bool wants_idle_broker() const {
        if (!wants(std::string("idle_broker"))) return false;
        if (only.empty()) return true;
        for (const auto& [name, mode] : only) {
            if (name == "shmq" && mode.empty()) return true;
        }
        return false;
    }
};

std::vector<Entry> catalog(const std::string& shmqd, const std::string& roudi) {
    using W = ShmqWait;
    constexpr auto zero = Copying::zero_copy;
    constexpr auto copy = Copying::whole_message;
    auto entry = [](std::unique_ptr<Transport> transport) {
        Entry made;
        made.transport = std::move(transport);
        return made;
    };
    std::vector<Entry> entries;
    // Queues, single messages: every wait strategy, in every scenario that
    // suits it (busy polling with four processes on one CPU measures the
    // scheduler). Batches: streaming only; a round trip has one message in flight.
    for (const auto& [mode, round_trip, many, sweep] :
         {std::tuple{ShmqMode{W::block, false, false}, true, true, false},
          std::tuple{ShmqMode{W::spin_then_block, false, false}, true, true, false},
          std::tuple{ShmqMode{W::busy_poll, false, false}, true, false, true},
          std::tuple{ShmqMode{W::block, true, false}, false, false, false},
          std::tuple{ShmqMode{W::spin_then_block, true, false}, false, true, false},
          std::tuple{ShmqMode{W::busy_poll, true, false}, false, false, false},
          std::tuple{ShmqMode{W::spin_then_block, false, true}, true, false, false},
          std::tuple{ShmqMode{W::spin_then_block, true, true}, false, false, false},
          std::tuple{ShmqMode{W::spin_then_block, false, false, true}, true, false, false},
          std::tuple{ShmqMode{W::busy_poll, false, false, true}, true, false, false}}) {
        Entry queue = entry(make_shmq(shmqd, mode));
        queue.throughput = true;
        queue.round_trip = round_trip;
        queue.many_to_many = many;
        if (sweep) queue.zero_copy_round_trip = copy;
        entries.push_back(std::move(queue));
    }
    // Topics: fan-out with the strategies that share a CPU among eight
    // subscribers; zero-copy round trips spinning and polling.
    for (const auto& [wait, fan_out] :
         {std::pair{W::block, true}, std::pair{W::spin_then_block, true}, std::pair{W::busy_poll, false}}) {
        Entry topic = entry(make_shmq_topic(shmqd, wait));
        topic.fan_out = fan_out;
        if (wait != W::block) topic.zero_copy_round_trip = zero;
        entries.push_back(std::move(topic));
    }
    for (auto&& make : {make_boost_mq, make_posix_mq}) {
        Entry peer = entry(make());
        peer.throughput = peer.round_trip = peer.many_to_many = true;
        entries.push_back(std::move(peer));
    }
    Entry socket = entry(make_unix_socket());
    socket.throughput = socket.round_trip = true;
    entries.push_back(std::move(socket));
    Entry zmq = entry(make_zmq());
    zmq.throughput = zmq.round_trip = true;
    zmq.zero_copy_round_trip = copy;
    entries.push_back(std::move(zmq));
    Entry zmq_pub_sub = entry(make_zmq_pub_sub());
    zmq_pub_sub.fan_out = true;
    entries.push_back(std::move(zmq_pub_sub));
    // iceoryx: fan-out sleeping in a WaitSet; zero-copy round trips both ways.
    Entry iceoryx_waitset = entry(make_iceoryx(roudi, IceoryxWait::waitset));
    iceoryx_waitset.fan_out = true;
    iceoryx_waitset.zero_copy_round_trip = zero;
    entries.push_back(std::move(iceoryx_waitset));
    Entry iceoryx_polling = entry(make_iceoryx(roudi, IceoryxWait::busy_poll));
    iceoryx_polling.zero_copy_round_trip = zero;
    entries.push_back(std::move(iceoryx_polling));
    Entry ring = entry(make_spsc_ring());
    ring.throughput = ring.round_trip = true;
    ring.zero_copy_round_trip = copy;
    entries.push_back(std::move(ring));
    Entry mpmc = entry(make_mpmc_ring());
    mpmc.throughput = mpmc.round_trip = mpmc.many_to_many = true;
    entries.push_back(std::move(mpmc));
    return entries;
}

// The catalog narrowed to the selection; throws po::error when a --only entry
// names nothing, listing what exists.
std::vector<Entry> select(std::vector<Entry> all, const Selection& selection) {
    for (const auto& [name, mode] : selection.only) {
        std::string modes;
        bool found = false;
        for (const auto& entry : all) {
            if (entry.transport->name() != name) continue;
            modes += (modes.empty() ? "" : ", ") + entry.transport->mode();
            found = found || mode.empty() || mode == entry.transport->mode();
        }
        if (!found) throw po::error("--only: " + name + " has no mode '" + mode + "'; its modes: " + modes);
    }
    std::vector<Entry> chosen;
    for (auto& entry : all) {
        if (selection.wants(*entry.transport)) chosen.push_back(std::move(entry));
    }
    return chosen;
}

// The round-trip distribution at 20 points per decade of 1 / (1 - p), from
// the median up to the highest percentile the sample count resolves.
std::vector<std::pair<double, double>> curve_points(const std::vector<std::uint32_t>& sorted) {
    std::vector<std::pair<double, double>> points;
    for (int step = 0;; ++step) {
        const double inverse_tail = 2.0 * std::pow(10.0, step / 20.0);
        if (inverse_tail > static_cast<double>(sorted.size())) break;
        const double percent = 100.0 * (1.0 - 1.0 / inverse_tail);
        points.emplace_back(percent, percentile(sorted, percent) / 1000.0);
    }
    return points;
}

// What one run of one configuration measured, kept aside until the driver
// knows whether the run was disturbed.
struct Measurement {
    struct Value {
        FigureKey key;
        std::string unit;
        bool higher_is_better;
        double value;
        std::size_t depth;
    };
    std::vector<Value> values;
    std::vector<Curve> curves;
    // The limit ring ran at different speeds before and after the run
    // (file_beside_limit): the machine changed phase during it.
    bool unsteady = false;

    void add(const FigureKey& key, const std::string& unit, bool higher_is_better, double value, std::size_t depth) {
        values.push_back({key, unit, higher_is_better, value, depth});
    }
};

// Files the limit ring's runs `before` and `after` a shmq run as the figure
// beside `key` (their mean, under beside_limit_metric), marking the
// measurement unsteady when they disagree. Returns the summary's addition.
std::string file_beside_limit(Measurement& measurement, FigureKey key, const std::string& unit,
                              bool higher_is_better, std::size_t depth, double before, double after) {
    key.metric = beside_limit_metric(key.metric);
    measurement.add(key, unit, higher_is_better, (before + after) / 2, depth);
    const double low = std::min(before, after);
    measurement.unsteady = measurement.unsteady || low <= 0 || std::max(before, after) / low > unsteady_ratio;
    return " (limit ring around it: " + format_number(before) + " and " + format_number(after) + " " + unit +
           (measurement.unsteady ? ": unsteady" : "") + ")";
}

// Runs one configuration at a time, printing its progress and filing the
// outcome as figures, a skip or a failure. While its patience lasts, it
// waits for quiet CPUs before a run and runs again one that other processes
// disturbed (interference.hpp); the last try is kept either way, flagged
// when disturbed. Patience is one budget of time spent waiting and
// re-running for the whole benchmark, so a machine that never quiets down
// costs minutes, not hours.
class Driver {
public:
    Driver(Results& results, Clock::duration patience) : results_(results), patience_left_(patience) {}

    template <typename Measure>
    void attempt(const Problem& what, Measure measure) {
        std::cout << "  " << what.scenario << " " << what.transport << " " << what.mode
                  << (what.payload == 0 ? "" : " " + format_payload(what.payload))
                  << (what.topology.empty() ? "" : " " + what.topology) << ": " << std::flush;
        try {
            for (unsigned attempt = 0;; ++attempt) {
                if (patient()) {
                    const auto began = Clock::now();
                    wait_for_quiet(std::min(std::chrono::duration_cast<std::chrono::milliseconds>(patience_left_),
                                            max_quiet_wait));
                    patience_left_ -= Clock::now() - began;
                }
                const auto began = Clock::now();
                Measurement measurement;
                const Interference interference;
                const std::string summary = measure(measurement);
                const double others = interference.foreign_share();
                const bool disturbed = others > disturbed_share;
                std::cout << summary;
                if (disturbed) {
                    std::cout << " [disturbed: others used " << format_number(others * 100) << "% of the CPUs]";
                }
                if ((disturbed || measurement.unsteady) && attempt < max_retries && patient()) {
                    patience_left_ -= Clock::now() - began;
                    std::cout << ", again: " << std::flush;
                    continue;
                }
                std::cout << std::endl;
                commit(measurement, others, disturbed);
                break;
            }
        } catch (const Unsupported& reason) {
            std::cout << "skipped: " << reason.what() << std::endl;
            if (!already(results_.skipped, what)) {
                Problem skipped = what;
                skipped.reason = reason.what();
                results_.skipped.push_back(skipped);
            }
        } catch (const std::exception& failure) {
            std::cout << "FAILED: " << failure.what() << std::endl;
            Problem failed = what;
            failed.reason = failure.what();
            results_.failed.push_back(failed);
        }
    }

private:
    static constexpr auto max_quiet_wait = std::chrono::milliseconds(5000);
    static constexpr unsigned max_retries = 2;

    bool patient() const { return patience_left_ > Clock::duration::zero(); }

    void commit(const Measurement& measurement, double others, bool disturbed) {
        for (const auto& value : measurement.values) {
            Figure& figure = results_.figure(value.key, value.unit, value.higher_is_better);
            figure.repeats.push_back(value.value);
            figure.others_share.push_back(others);
            figure.unsteady.push_back(measurement.unsteady);
            figure.disturbed += disturbed ? 1 : 0;
            figure.depth = value.depth;
        }
        for (Curve curve : measurement.curves) {
            curve.disturbed = disturbed || measurement.unsteady;
            results_.curves.push_back(curve);
        }
    }

    static bool already(const std::vector<Problem>& list, const Problem& what) {
        for (const auto& problem : list) {
            if (problem.scenario == what.scenario && problem.transport == what.transport && problem.mode == what.mode &&
                problem.payload == what.payload && problem.topology == what.topology) {
                return true;
            }
        }
        return false;
    }

    Results& results_;
    Clock::duration patience_left_;
};

// A figure with a failed repeat cannot claim that everything was verified.
void mark_failures(Results& results) {
    for (const auto& failed : results.failed) {
        for (auto& figure : results.figures) {
            const auto& key = figure.key;
            if (key.scenario == failed.scenario && key.transport == failed.transport && key.mode == failed.mode &&
                key.payload == failed.payload && key.topology == failed.topology) {
                figure.verified = false;
            }
        }
    }
}

// The limit ring, when the selection runs it: every run of a shmq queue is
// then paired with runs of the ring right before and after it
// (file_beside_limit).
Transport* limit_ring(std::vector<Entry>& entries) {
    for (auto& entry : entries) {
        if (entry.transport->name() == limit_transport && entry.transport->mode() == limit_mode) {
            return entry.transport.get();
        }
    }
    return nullptr;
}

// Whether `transport` is one of shmq's queues, whose targets name the limit ring.
bool shmq_queue(const Transport& transport) {
    return transport.name() == "shmq" && transport.mode().rfind("topic/", 0) != 0;
}

// One round-trip run, filed under `scenario` with its percentiles and curve;
// `beside`, when not null, is run before and after it, in the same attempt,
// and its p50 filed beside the figure's (file_beside_limit).
void round_trips(Driver& driver, const std::string& scenario, Transport& transport, Copying copying,
                 std::size_t payload, const Limits& limits, Transport* beside = nullptr) {
    const Problem what{scenario, transport.name(), mode_of(transport, copying), "1x1", payload, ""};
    driver.attempt(what, [&](Measurement& measurement) {
        const auto limit_p50 = [&] {
            return percentile(measure_round_trips(*beside, payload, depth_for(payload), limits, copying).sorted_ns,
                              50) /
                   1000.0;
        };
        const double before = beside != nullptr ? limit_p50() : 0;
        const RoundTrips trips = measure_round_trips(transport, payload, depth_for(payload), limits, copying);
        const std::string beside_summary =
            beside != nullptr ? file_beside_limit(measurement, {scenario, what.transport, what.mode, "1x1", payload,
                                                                "p50_us"},
                                                  "µs", false, trips.depth, before, limit_p50())
                              : "";
        const auto& sorted = trips.sorted_ns;
        const double p50 = percentile(sorted, 50) / 1000.0;
        const struct {
            const char* metric;
            double value;
        } figures[] = {{"p50_us", p50},
                       {"p99_us", percentile(sorted, 99) / 1000.0},
                       {"p99_9_us", percentile(sorted, 99.9) / 1000.0},
                       {"max_us", sorted.back() / 1000.0}};
        std::ostringstream summary;
        for (const auto& figure : figures) {
            measurement.add({scenario, what.transport, what.mode, "1x1", payload, figure.metric}, "µs", false,
                            figure.value, trips.depth);
            summary << figure.metric << " " << format_number(figure.value) << " ";
        }
        if (scenario == "round_trip") {
            measurement.curves.push_back(Curve{what.transport, what.mode, payload, p50, false, curve_points(sorted)});
        }
        summary << "(" << sorted.size() << " round trips)" << beside_summary;
        return summary.str();
    });
}

void run_all(Results& results, std::vector<Entry>& entries, const Selection& selection, const std::string& shmqd) {
    const auto& settings = results.settings;
    const auto duration = std::chrono::duration<double>(settings.seconds);
    const Limits throughput_limits{settings.messages, duration, settings.quick};
    const Limits round_trip_limits{std::min(settings.messages, max_round_trips), duration, settings.quick};
    const Limits many_limits{std::min(settings.messages, max_many_to_many_per_producer), duration, settings.quick};
    const auto patience = std::chrono::duration<double>(settings.patience);
    Driver driver(results, std::chrono::duration_cast<Clock::duration>(patience));
    Transport* const limit = limit_ring(entries);

    // Repeats outermost, so a transient disturbance of the machine lands in
    // one repeat of many configurations rather than every repeat of one.
    for (unsigned repeat = 1; repeat <= settings.repeats; ++repeat) {
        std::cout << "== repeat " << repeat << " of " << settings.repeats << " ==" << std::endl;
        if (selection.wants(std::string("noise_floor"))) {
            driver.attempt({"noise_floor", "machine", "probe", "", 0, ""}, [&](Measurement& measurement) {
                const NoiseFloor floor = measure_noise_floor(settings.seconds);
                const FigureKey key{"noise_floor", "machine", "probe", "", 0, ""};
                const struct {
                    const char* metric;
                    const char* unit;
                    double value;
                } figures[] = {{"interruptions_per_s", "1/s", floor.interruptions_per_second},
                               {"lost_percent", "%", floor.lost_percent},
                               {"median_interruption_us", "µs", floor.median_interruption_us}};
                for (const auto& figure : figures) {
                    FigureKey metric = key;
                    metric.metric = figure.metric;
                    measurement.add(metric, figure.unit, false, figure.value, 0);
                }
                return format_number(floor.interruptions_per_second) + " interruptions/s per CPU, median " +
                       format_number(floor.median_interruption_us) + " µs, " + format_number(floor.lost_percent) +
                       "% of the time lost";
            });
        }
        for (const std::size_t payload : throughput_payloads) {
            if (!selection.wants(payload)) continue;
            for (auto& entry : entries) {
                if (!entry.throughput || !selection.wants(std::string("throughput"))) continue;
                auto& transport = *entry.transport;
                const Problem what{"throughput", transport.name(), transport.mode(), "1x1", payload, ""};
                const bool paired = limit != nullptr && shmq_queue(transport);
                driver.attempt(what, [&](Measurement& measurement) {
                    const auto limit_rate = [&] {
                        return measure_throughput(*limit, payload, depth_for(payload), throughput_limits)
                            .messages_per_second;
                    };
                    const double before = paired ? limit_rate() : 0;
                    const Throughput figure =
                        measure_throughput(transport, payload, depth_for(payload), throughput_limits);
                    const std::string beside =
                        paired ? file_beside_limit(measurement,
                                                   {"throughput", what.transport, what.mode, "1x1", payload,
                                                    "msg_per_s"},
                                                   "msg/s", true, figure.depth, before, limit_rate())
                               : "";
                    const double megabytes = figure.messages_per_second * static_cast<double>(payload) / 1e6;
                    measurement.add({"throughput", what.transport, what.mode, "1x1", payload, "msg_per_s"}, "msg/s",
                           true, figure.messages_per_second, figure.depth);
                    measurement.add({"throughput", what.transport, what.mode, "1x1", payload, "mb_per_s"}, "MB/s", true,
                           megabytes, figure.depth);
                    return format_number(figure.messages_per_second) + " msg/s, " + format_number(megabytes) +
                           " MB/s (" + std::to_string(figure.messages) + " messages)" + beside;
                });
            }
        }
        for (const std::size_t payload : round_trip_payloads) {
            if (!selection.wants(payload) || !selection.wants(std::string("round_trip"))) continue;
            for (auto& entry : entries) {
                if (entry.round_trip) {
                    round_trips(driver, "round_trip", *entry.transport, Copying::whole_message, payload,
                                round_trip_limits, shmq_queue(*entry.transport) ? limit : nullptr);
                }
            }
        }
        for (const std::size_t size : many_to_many_sizes) {
            for (auto& entry : entries) {
                if (!entry.many_to_many || !entry.transport->multi_producer()) continue;
                if (!selection.wants(std::string("many_to_many"))) continue;
                auto& transport = *entry.transport;
                const std::string topology = topology_name(size, size);
                const Problem what{"many_to_many", transport.name(), transport.mode(), topology, many_to_many_payload,
                                   ""};
                driver.attempt(what, [&](Measurement& measurement) {
                    const Throughput figure = measure_many_to_many(transport, size, size, many_to_many_payload,
                                                                   depth_for(many_to_many_payload), many_limits);
                    measurement.add({"many_to_many", what.transport, what.mode, topology, many_to_many_payload,
                                     "msg_per_s"},
                           "msg/s", true, figure.messages_per_second, figure.depth);
                    return format_number(figure.messages_per_second) + " msg/s (" + std::to_string(figure.messages) +
                           " messages)";
                });
            }
        }
        for (const std::size_t subscribers : fan_out_subscribers) {
            if (!selection.wants(std::string("fan_out"))) continue;
            for (auto& entry : entries) {
                if (!entry.fan_out) continue;
                auto& transport = *entry.transport;
                const std::string topology = topology_name(1, subscribers);
                const Problem what{"fan_out", transport.name(), transport.mode(), topology, fan_out_payload, ""};
                driver.attempt(what, [&](Measurement& measurement) {
                    const Throughput figure = measure_fan_out(transport, subscribers, fan_out_payload,
                                                              depth_for(fan_out_payload), throughput_limits);
                    const double deliveries = figure.messages_per_second * static_cast<double>(subscribers);
                    measurement.add({"fan_out", what.transport, what.mode, topology, fan_out_payload, "msg_per_s"},
                                    "msg/s", true, figure.messages_per_second, figure.depth);
                    measurement.add(
                        {"fan_out", what.transport, what.mode, topology, fan_out_payload, "deliveries_per_s"},
                        "deliveries/s", true, deliveries, figure.depth);
                    return format_number(figure.messages_per_second) + " msg/s to each subscriber, " +
                           format_number(deliveries) + " deliveries/s (" + std::to_string(figure.messages) +
                           " messages)";
                });
            }
        }
        // Each configuration's sizes back to back: the flatness targets
        // compare its largest size with its smallest, so those runs are made
        // side by side, in one phase of the machine's speed.
        for (auto& entry : entries) {
            if (!entry.zero_copy_round_trip || !selection.wants(std::string("zero_copy_round_trip"))) continue;
            for (const std::size_t payload : zero_copy_payloads) {
                if (!selection.wants(payload)) continue;
                round_trips(driver, "zero_copy_round_trip", *entry.transport, *entry.zero_copy_round_trip, payload,
                            round_trip_limits);
            }
        }
        if (selection.wants_idle_broker()) {
            driver.attempt({"idle_broker", "shmq", "shmqd", "", 0, ""}, [&](Measurement& measurement) {
                const IdleCpu idle = measure_idle_broker(shmqd, settings.idle_seconds);
                measurement.add({"idle_broker", "shmq", "shmqd", "", 0, "cpu_percent_stat"}, "%", false,
                       idle.stat_percent, 0);
                measurement.add({"idle_broker", "shmq", "shmqd", "", 0, "cpu_percent_precise"}, "%", false,
                       idle.precise_percent, 0);
                measurement.add({"idle_broker", "shmq", "shmqd", "", 0, "wakeups_per_s"}, "1/s", false,
                       idle.wakeups_per_second, 0);
                return format_number(idle.precise_percent) + "% of one CPU (schedstat), " +
                       format_number(idle.stat_percent) + "% (stat), " + format_number(idle.wakeups_per_second) +
                       " wake-ups/s";
            });
        }
    }
    mark_failures(results);
}

std::vector<std::string> split(const std::string& list) {
    std::vector<std::string> items;
    std::istringstream in(list);
    for (std::string item; std::getline(in, item, ',');) {
        if (!item.empty()) items.push_back(item);
    }
    return items;
}

Selection parse_selection(const po::variables_map& arguments) {
    Selection selection;
    auto known = [](const std::vector<std::string>& names, const std::string& name, const char* option) {
        if (std::find(names.begin(), names.end(), name) == names.end()) {
            throw po::validation_error(po::validation_error::invalid_option_value, option, name);
        }
    };
    if (arguments.count("only")) {
        for (const auto& item : split(arguments["only"].as<std::string>())) {
            const auto colon = item.find(':');
            const std::string name = item.substr(0, colon);
            known(transport_names, name, "only");
            selection.only.emplace_back(name, colon == std::string::npos ? "" : item.substr(colon + 1));
        }
    }
    if (arguments.count("scenario")) {
        for (const auto& name : split(arguments["scenario"].as<std::string>())) {
            known(scenario_names, name, "scenario");
            selection.scenarios.insert(name);
        }
    }
    if (arguments.count("payload")) {
        for (const auto& text : split(arguments["payload"].as<std::string>())) {
            const auto size = std::strtoull(text.c_str(), nullptr, 10);
            const auto in = [size](const auto& list) {
                return std::find(std::begin(list), std::end(list), size) != std::end(list);
            };
            if (!in(throughput_payloads) && !in(zero_copy_payloads)) {
                throw po::validation_error(po::validation_error::invalid_option_value, "payload", text);
            }
            selection.payloads.insert(size);
        }
    }
    return selection;
}

}  // namespace

int main(int argc, char** argv) {
    std::string names;
    for (const auto& name : transport_names) names += (names.empty() ? "" : ", ") + name;
    po::options_description options(
        "shmq_bench: shmq against boost::interprocess::message_queue, POSIX mq, a Unix domain socket, ZeroMQ ipc:// "
        "(PUSH/PULL and XPUB/SUB), iceoryx, a lock-free SPSC ring (the hardware limit) and the textbook lock-free "
        "MPMC ring (what sharing a queue costs before any crash safety)\n\n"
        "Measures one-way throughput (64 B, 4 KiB, 1 MiB), ping-pong round trips (64 B, 4 KiB), producers x "
        "consumers 1x1, 2x2 and 4x4 on one queue, topic fan-out from one publisher to 1, 4 and 8 subscribers "
        "(64 B), zero-copy round trips (64 B, 4 KiB, 1 MiB, 4 MiB) against copying ones, and the CPU of an idle "
        "shmqd. Senders and receivers are separate processes pinned to different CPUs; every message carries a "
        "sequence number that every receiver checks.\n\n"
        "Usage: shmq_bench [options]\n\nOptions");
    options.add_options()
        ("help,h", "print this help and exit")
        ("quick", "a smoke test: tiny message counts, 1 repeat, short runs (figures are not meaningful)")
        ("repeats", po::value<unsigned>()->value_name("N"), "repeats of every configuration (default 3; --quick 1)")
        ("messages", po::value<std::uint64_t>()->value_name("N"),
         "at most N messages per sender in a run, N round trips in a ping-pong run "
         "(default 100000000, i.e. --seconds decides; --quick 2000)")
        ("seconds", po::value<double>()->value_name("S"),
         "senders stop after S seconds of a run (default 0.5; --quick 0.2)")
        ("idle-seconds", po::value<double>()->value_name("S"),
         "how long the idle broker is watched (default 2; --quick 0.2)")
        ("patience", po::value<double>()->value_name("S"),
         "spend up to S seconds in all waiting (up to 5 s a run) for CPUs free of other processes' work before "
         "runs, and running again (up to twice) runs during which others used more than 5% of the CPUs; once it is "
         "spent, runs go ahead at once, and a run still disturbed is kept and flagged (default 120; --quick 0)")
        ("output-dir", po::value<std::string>()->default_value("shmq-bench-results")->value_name("DIR"),
         "where results.json, results.md, machine.txt and the plot data go (created if needed)")
        ("only", po::value<std::string>()->value_name("LIST"),
         ("only these transports, comma-separated, each TRANSPORT or TRANSPORT:MODE (e.g. shmq:busy_poll+batch); "
          "transports: " + names + "; the idle broker comes with shmq without a mode").c_str())
        ("scenario", po::value<std::string>()->value_name("LIST"),
         "only these measurements, comma-separated: noise_floor (how often the machine interrupts a spinning "
         "process), throughput, round_trip, many_to_many, fan_out, zero_copy_round_trip, idle_broker")
        ("payload", po::value<std::string>()->value_name("LIST"),
         "only these payload sizes in bytes, comma-separated: 64, 4096, 1048576 (throughput), 4194304 (with the "
         "others: zero_copy_round_trip); round_trip uses those of 64 and 4096 chosen, many_to_many and fan_out "
         "always 64")
        ("shmqd", po::value<std::string>()->default_value(SHMQ_SHMQD_PATH)->value_name("PATH"),
         "the broker executable the shmq runs start")
        ("roudi", po::value<std::string>()->default_value(SHMQ_ROUDI_PATH)->value_name("PATH"),
         "iceoryx's daemon, which the iceoryx runs start (one at a time: no other RouDi may run meanwhile)");
    po::variables_map arguments;
    Selection selection;
    std::vector<Entry> entries;
    try {
        po::store(po::parse_command_line(argc, argv, options), arguments);
        po::notify(arguments);
        selection = parse_selection(arguments);
        entries = select(catalog(arguments["shmqd"].as<std::string>(), arguments["roudi"].as<std::string>()),
                         selection);
    } catch (const po::error& failure) {
        std::cerr << "shmq_bench: " << failure.what() << "\nTry 'shmq_bench --help'.\n";
        return 2;
    }
    if (arguments.count("help")) {
        std::cout << options
                  << "\nExit status: 0 when every configuration ran and verified (skipped ones, which the system "
                     "cannot run, included); 1 when any failed; 2 on a usage error.\n";
        return 0;
    }

    Results results;
    auto& settings = results.settings;
    settings.quick = arguments.count("quick") > 0;
    settings.repeats = arguments.count("repeats") ? arguments["repeats"].as<unsigned>() : settings.quick ? 1 : 3;
    settings.messages = arguments.count("messages") ? arguments["messages"].as<std::uint64_t>()
                        : settings.quick                ? 2000
                                                        : 100'000'000;
    settings.seconds = arguments.count("seconds") ? arguments["seconds"].as<double>() : settings.quick ? 0.2 : 0.5;
    settings.idle_seconds =
        arguments.count("idle-seconds") ? arguments["idle-seconds"].as<double>() : settings.quick ? 0.2 : 2;
    settings.patience = arguments.count("patience") ? arguments["patience"].as<double>() : settings.quick ? 0 : 120;
    if (settings.repeats == 0 || settings.messages < 16 || settings.seconds <= 0 || settings.idle_seconds <= 0 ||
        settings.patience < 0) {
        std::cerr << "shmq_bench: --repeats must be at least 1, --messages at least 16, --patience not negative, "
                     "and the durations positive\n";
        return 2;
    }
    results.machine = describe_machine();
    if (results.machine.load_average > busy_load_average) {
        std::cout << "shmq_bench: warning: load average " << results.machine.load_average
                  << ": other work shares the CPUs, figures will be unreliable\n";
    }

    block_child_signals();
    const auto started = Clock::now();
    run_all(results, entries, selection, arguments["shmqd"].as<std::string>());
    const std::string directory = arguments["output-dir"].as<std::string>();
    try {
        write_reports(results, directory);
    } catch (const std::exception& failure) {
        std::cerr << "shmq_bench: " << failure.what() << "\n";
        return 1;
    }

    std::cout << "\nTargets:\n";
    for (const auto& check : check_targets(results)) {
        std::cout << "  [" << (!check.available ? "n/a   " : check.met ? "met   " : "MISSED") << "] " << check.target
                  << ": " << check.measured << "\n";
    }
    std::cout << "\nWrote " << directory << "/results.{md,json}, machine.txt and plot data in "
              << std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - started).count() << " s";
    if (!results.failed.empty()) std::cout << "; " << results.failed.size() << " configuration(s) FAILED";
    std::cout << std::endl;
    return results.failed.empty() ? 0 : 1;
}
