// Runs the real benchmark driver as a process, once, on tiny sizes: every
// transport must move messages and verify that none was lost or reordered.
// Timing is never asserted: this machine's load is nobody's business here.
#define BOOST_TEST_MODULE bench_smoke_tests
#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/support/files.hpp"
#include "tests/support/programs.hpp"

using namespace shmq;
namespace pt = boost::property_tree;

namespace {

const std::string driver = SHMQ_BINARY_DIR "/bench/shmq_bench";
const std::vector<std::string> transports = {"shmq", "boost_mq", "posix_mq", "unix_socket", "zmq", "spsc_ring",
                                              "mpmc_ring"};

// Runs `command` to its end, as a shell script would; a test fails and
// stops when it still runs after `limit`. Its output and errors, interleaved,
// are in the returned Run's `out`.
test::Run run(const std::vector<std::string>& command, std::chrono::minutes limit) {
    test::RunOptions options;
    options.limit = limit;
    options.errors_into_output = true;
    return test::run_program(command, options);
}

test::Run run_driver(std::vector<std::string> arguments, std::chrono::minutes limit) {
    arguments.insert(arguments.begin(), driver);
    return run(arguments, limit);
}

}  // namespace

BOOST_AUTO_TEST_CASE(quick_run_moves_and_verifies_messages_on_every_transport) {
    test::TempDir output;
    const auto driver_run = run_driver({"--quick", "--output-dir", output.path() + "/results"}, std::chrono::minutes(4));
    BOOST_TEST_INFO("driver output:\n" << driver_run.out);
    BOOST_REQUIRE_EQUAL(driver_run.exit_code, 0);

    pt::ptree json;
    pt::read_json(output.path() + "/results/results.json", json);
    BOOST_TEST(json.get_child("failed").empty());
    std::map<std::string, double> best_throughput;
    std::map<std::string, std::set<std::string>> scenarios;
    for (const auto& [unused, record] : json.get_child("records")) {
        const auto transport = record.get<std::string>("transport");
        const auto scenario = record.get<std::string>("scenario");
        BOOST_TEST_INFO(transport << " " << record.get<std::string>("mode") << " " << scenario << " "
                                  << record.get<std::string>("metric"));
        BOOST_TEST(record.get<bool>("verified"));
        scenarios[transport].insert(scenario);
        if (scenario == "throughput" && record.get<std::string>("metric") == "msg_per_s") {
            best_throughput[transport] = std::max(best_throughput[transport], record.get<double>("median"));
        }
    }
    for (const auto& transport : transports) {
        BOOST_TEST_INFO(transport);
        BOOST_TEST(best_throughput[transport] > 0);
        BOOST_TEST(scenarios[transport].count("round_trip") == 1u);
    }
    for (const char* transport : {"shmq", "boost_mq", "posix_mq", "mpmc_ring"}) {
        BOOST_TEST_INFO(transport);
        BOOST_TEST(scenarios[transport].count("many_to_many") == 1u);
    }
    // The report puts the single-message targets in scale: what the textbook
    // shared ring made of the limit ring in the same run.
    std::ifstream report(output.path() + "/results/results.md");
    const std::string markdown{std::istreambuf_iterator<char>(report), std::istreambuf_iterator<char>()};
    BOOST_TEST(markdown.find("For scale: the textbook lock-free MPMC ring (mpmc_ring)") != std::string::npos);
    // Topics: fan-out against the publish/subscribe peers, and zero-copy
    // round trips against iceoryx and the copying references.
    for (const char* transport : {"shmq", "zmq", "iceoryx"}) {
        BOOST_TEST_INFO(transport);
        BOOST_TEST(scenarios[transport].count("fan_out") == 1u);
    }
    for (const char* transport : {"shmq", "iceoryx", "zmq", "spsc_ring"}) {
        BOOST_TEST_INFO(transport);
        BOOST_TEST(scenarios[transport].count("zero_copy_round_trip") == 1u);
    }
    BOOST_TEST(scenarios["shmq"].count("idle_broker") == 1u);
    BOOST_TEST(json.get_child("targets").size() > 0u);
    BOOST_TEST(test::read_file(output.path() + "/results/results.md").find("## Targets") != std::string::npos);
    BOOST_TEST(std::filesystem::exists(output.path() + "/results/throughput.dat"));
    BOOST_TEST(std::filesystem::exists(output.path() + "/results/zero_copy.dat"));
}

BOOST_AUTO_TEST_CASE(help_lists_every_option) {
    const auto help_run = run_driver({"--help"}, std::chrono::minutes(1));
    BOOST_REQUIRE_EQUAL(help_run.exit_code, 0);
    const std::string& help = help_run.out;
    for (const char* option : {"--quick", "--repeats", "--messages", "--seconds", "--idle-seconds", "--output-dir",
                               "--patience", "--only", "--scenario", "--payload", "--shmqd", "--roudi"}) {
        BOOST_TEST_INFO(option);
        BOOST_TEST(help.find(option) != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(an_unknown_transport_mode_scenario_or_payload_is_a_usage_error) {
    BOOST_TEST(run_driver({"--only", "carrier_pigeon"}, std::chrono::minutes(1)).exit_code == 2);
    BOOST_TEST(run_driver({"--only", "shmq:teleport"}, std::chrono::minutes(1)).exit_code == 2);
    BOOST_TEST(run_driver({"--scenario", "bandwidth"}, std::chrono::minutes(1)).exit_code == 2);
    BOOST_TEST(run_driver({"--payload", "100"}, std::chrono::minutes(1)).exit_code == 2);
}

BOOST_AUTO_TEST_CASE(a_selection_runs_only_what_it_names) {
    test::TempDir output;
    const std::string results = output.path() + "/results";
    BOOST_REQUIRE_EQUAL(run_driver({"--quick", "--only", "shmq:busy_poll+batch", "--scenario", "throughput",
                                    "--payload", "64", "--output-dir", results},
                                   std::chrono::minutes(1))
                            .exit_code,
                        0);
    pt::ptree json;
    pt::read_json(results + "/results.json", json);
    BOOST_REQUIRE(!json.get_child("records").empty());
    for (const auto& [unused, record] : json.get_child("records")) {
        BOOST_TEST(record.get<std::string>("transport") == "shmq");
        BOOST_TEST(record.get<std::string>("mode") == "busy_poll+batch");
        BOOST_TEST(record.get<std::string>("scenario") == "throughput");
        BOOST_TEST(record.get<int>("payload_bytes") == 64);
    }
}

// This host's speed can change threefold within seconds, so every run of a
// shmq queue comes with runs of the limit ring right before and after it,
// filed beside the queue's figure, repeat for repeat (and a repeat during
// which they disagree counted as unsteady); the targets compare with those.
BOOST_AUTO_TEST_CASE(every_shmq_queue_run_has_a_limit_ring_run_beside_it) {
    test::TempDir output;
    const std::string results = output.path() + "/results";
    const auto driver_run = run_driver({"--quick", "--repeats", "2", "--only", "shmq:spin_then_block,spsc_ring",
                                        "--scenario", "throughput,round_trip", "--payload", "64", "--output-dir",
                                        results},
                                       std::chrono::minutes(2));
    BOOST_TEST_INFO("driver output:\n" << driver_run.out);
    BOOST_REQUIRE_EQUAL(driver_run.exit_code, 0);
    pt::ptree json;
    pt::read_json(results + "/results.json", json);
    std::map<std::string, std::size_t> repeats;  // "transport scenario metric" -> repeats
    for (const auto& [unused, record] : json.get_child("records")) {
        repeats[record.get<std::string>("transport") + " " + record.get<std::string>("scenario") + " " +
                record.get<std::string>("metric")] = record.get_child("repeats").size();
        BOOST_TEST(record.get<unsigned>("unsteady_repeats") <= record.get_child("repeats").size());
    }
    for (const char* figure : {"shmq throughput limit_ring_msg_per_s", "shmq round_trip limit_ring_p50_us",
                               "shmq throughput msg_per_s", "shmq round_trip p50_us",
                               "spsc_ring throughput msg_per_s", "spsc_ring round_trip p50_us"}) {
        BOOST_TEST_INFO(figure);
        BOOST_TEST(repeats[figure] == 2u);
    }
    // The ring has no ring beside it.
    BOOST_TEST(repeats.count("spsc_ring throughput limit_ring_msg_per_s") == 0u);
    // The targets name the figures measured side by side.
    bool compared = false;
    for (const auto& [unused, check] : json.get_child("targets")) {
        if (check.get<std::string>("target").find("round trip p50, shmq spin_then_block <= 1.3x") ==
            std::string::npos) {
            continue;
        }
        compared = check.get<bool>("available");
    }
    BOOST_TEST(compared);
    BOOST_TEST(test::read_file(results + "/results.md")
                   .find("run of the ring right before it and another right after") != std::string::npos);
}

#ifdef SHMQ_PYTHON
// The Python comparison, quick: every transport delivers every message and
// its consumer checks each one; the figures and targets join results.json
// and results.md. It adds to what the C++ driver wrote, so it runs after a
// selection of it, as bench/run.sh runs it.
BOOST_AUTO_TEST_CASE(python_quick_run_moves_and_verifies_messages_on_every_transport) {
    test::TempDir output;
    const std::string results = output.path() + "/results";
    BOOST_REQUIRE_EQUAL(run_driver({"--quick", "--only", "shmq:spin_then_block", "--scenario", "throughput",
                                    "--payload", "64", "--output-dir", results},
                                   std::chrono::minutes(1))
                            .exit_code,
                        0);
    const auto python_run = run({SHMQ_PYTHON, SHMQ_SOURCE_DIR "/bench/python/bench.py", "--quick", "--build",
                                 SHMQ_BINARY_DIR, "--output-dir", results},
                                std::chrono::minutes(2));
    BOOST_TEST_INFO("python bench output:\n" << python_run.out);
    BOOST_REQUIRE_EQUAL(python_run.exit_code, 0);

    pt::ptree json;
    pt::read_json(results + "/results.json", json);
    BOOST_TEST(json.get_child("failed").empty());
    std::map<std::string, std::set<int>> delivered;  // "transport mode" -> payload sizes
    std::set<int> zero_copy_sizes;
    bool kept_driver_records = false;
    for (const auto& [unused, record] : json.get_child("records")) {
        const auto scenario = record.get<std::string>("scenario");
        kept_driver_records = kept_driver_records || scenario == "throughput";
        if (scenario.rfind("python_", 0) != 0) continue;
        const auto name = record.get<std::string>("transport") + " " + record.get<std::string>("mode");
        BOOST_TEST_INFO(name << " " << scenario << " " << record.get<std::string>("metric"));
        BOOST_TEST(record.get<bool>("verified"));
        BOOST_TEST(record.get<double>("median") > 0);
        if (scenario == "python_zero_copy_read") zero_copy_sizes.insert(record.get<int>("payload_bytes"));
        if (scenario == "python_throughput" && record.get<std::string>("metric") == "msg_per_s") {
            delivered[name].insert(record.get<int>("payload_bytes"));
        }
    }
    BOOST_TEST(kept_driver_records);
    std::vector<std::string> transports = {"shmq spin_then_block", "shmq spin_then_block+batch",
                                           "shmq spin_then_block+packed", "shmq spin_then_block+single",
                                           "shmq spin_then_block+packed+single", "multiprocessing.Queue blocking",
                                           "multiprocessing.Pipe blocking"};
    if (SHMQ_PYZMQ) transports.push_back("pyzmq ipc push/pull");
    for (const auto& name : transports) {
        BOOST_TEST_INFO(name);
        BOOST_TEST((delivered[name] == std::set<int>{64, 4096}));
    }
    BOOST_TEST((zero_copy_sizes == std::set<int>{64, 4 << 20}));
    std::size_t python_targets = 0;
    for (const auto& [unused, target] : json.get_child("targets")) {
        if (target.get<std::string>("target").rfind("Python", 0) == 0) {
            ++python_targets;
            BOOST_TEST(target.get<bool>("available"));
        }
    }
    // Five 64 B throughputs (one message per call, batch, packed, and the
    // first and last on a single-producer single-consumer queue) and zero copy.
    BOOST_TEST(python_targets == 6u);
    // The targets' rows in the driver's Targets table, the section after it.
    const std::string markdown = test::read_file(results + "/results.md");
    const auto table = markdown.find("## Targets");
    const auto row = markdown.find("| Python 64 B msg/s");
    const auto section = markdown.find("## Python: one process to another");
    BOOST_REQUIRE(table != std::string::npos);
    BOOST_REQUIRE(row != std::string::npos);
    BOOST_REQUIRE(section != std::string::npos);
    BOOST_TEST(table < row);
    BOOST_TEST(row < section);
}
#endif

#ifdef SHMQ_BRIDGE_BENCH
// The bridge's benchmark, quick: a real nats-server, shmqd and shmq-bridge;
// both paths deliver every message (the stream holds exactly the messages
// sent, the latency samples arrive unaltered, or the program fails), and
// the figures and targets join results.json and results.md through
// bench/bridge/merge.py, as bench/run.sh runs them. Speed is not asserted.
BOOST_AUTO_TEST_CASE(bridge_quick_run_delivers_every_message_both_ways) {
    test::TempDir output;
    const std::string results = output.path() + "/results";
    const auto bench_run = run({SHMQ_BRIDGE_BENCH, "--quick", "--output-dir", results}, std::chrono::minutes(2));
    BOOST_TEST_INFO("bridge bench output:\n" << bench_run.out);
    BOOST_REQUIRE_EQUAL(bench_run.exit_code, 0);
    const auto merge_run =
        run({SHMQ_BRIDGE_PYTHON, SHMQ_SOURCE_DIR "/bench/bridge/merge.py", "--output-dir", results},
            std::chrono::minutes(1));
    BOOST_TEST_INFO("merge output:\n" << merge_run.out);
    BOOST_REQUIRE_EQUAL(merge_run.exit_code, 0);

    pt::ptree json;
    pt::read_json(results + "/results.json", json);
    std::set<std::string> measured;  // "scenario transport metric size"
    for (const auto& [unused, record] : json.get_child("records")) {
        BOOST_TEST(record.get<bool>("verified"));
        measured.insert(record.get<std::string>("scenario") + " " + record.get<std::string>("transport") + " " +
                        record.get<std::string>("metric") + " " + record.get<std::string>("payload_bytes"));
    }
    for (const std::string size : {"64", "4096"}) {
        for (const auto& expected :
             {"bridge_throughput nats.c msg_per_s ", "bridge_throughput shmq-bridge msg_per_s ",
              "bridge_latency nats.c publish_ack_p50_us ", "bridge_latency nats.c one_way_p50_us ",
              "bridge_throughput shmq-bridge cpu_us_per_msg ", "bridge_latency shmq-bridge one_way_p50_us "}) {
            BOOST_TEST(measured.count(expected + size) == 1u, expected + size);
        }
    }
    BOOST_TEST(json.get_child("targets").size() == 4u);
    const auto markdown = test::read_file(results + "/results.md");
    BOOST_TEST(markdown.find("## Bridge: shmq-bridge against direct JetStream publishes") != std::string::npos);
    BOOST_TEST(markdown.find("| Bridge 64 B throughput") != std::string::npos);
    // The verdict compares with direct publishes carrying a Nats-Msg-Id, as
    // the bridge's do; the ratio to bare publishes is reported beside it.
    BOOST_TEST(markdown.find("| Bridge 64 B throughput >= 0.8x direct JetStream async publish with a Nats-Msg-Id each") !=
               std::string::npos, markdown);
    BOOST_TEST(markdown.find("of nats.c without Msg-Id") != std::string::npos, markdown);
}
#endif
