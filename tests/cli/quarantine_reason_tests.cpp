// A quarantined queue says why, wherever an operator looks (issue 14): the
// broker's log, `shmq list` (table and --json), `shmq stats --json` and
// `shmq stats --prometheus`. The damage is done by a scribbling process that
// maps the real shmqd's segment and writes garbage into it.
#define BOOST_TEST_MODULE quarantine_reason_tests
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "tests/support/test_support.hpp"

using namespace shmq;
using namespace std::chrono_literals;

namespace {

struct Fixture {
    Fixture() : name(test::unique_broker_name("qreason")) {
        const auto config = dir.write("shmqd.yaml", "broker:\n  name: " + name +
                                                       "\n  liveness_interval_ms: 20\n"
                                                       "queues:\n"
                                                       "  - name: slotted\n    capacity: 4\n    max_message_size: 32\n"
                                                       "  - name: counted\n    capacity: 4\n    max_message_size: 32\n"
                                                       "  - name: scrawled\n    capacity: 4\n    max_message_size: 32\n"
                                                       "  - name: healthy\n    capacity: 4\n    max_message_size: 32\n");
        // Its log (stdout and stderr) in a file.
        const auto log = dir.path() + "/shmqd.log";
        broker = std::make_unique<test::ShmqdProcess>(config, test::Redirections{"/dev/null", log, log, true});
        BOOST_TEST_REQUIRE(test::eventually(
            [&] {
                AttachOptions options;
                options.broker = name;
                return Client::attach(options, client) == Status::ok;
            },
            30s));
    }

    // Stopped with SIGTERM at the end, the client detached first.
    ~Fixture() {
        client.reset();
        broker->stop(20s);
    }

    // `shmq ARGUMENTS --broker NAME`: its output (stdout and stderr); the
    // test fails unless it exits 0.
    std::string shmq(std::vector<std::string> arguments) {
        arguments.insert(arguments.begin(), SHMQ_BINARY_DIR "/cli/shmq");
        arguments.insert(arguments.end(), {"--broker", name});
        test::RunOptions options;
        options.errors_into_output = true;
        options.limit = 60s;
        const auto run = test::run_program(arguments, options);
        BOOST_TEST(run.exit_code == 0, "shmq exited " << run.exit_code << ": " << run.out);
        return run.out;
    }

    bool log_says(const std::string& text) const {
        return test::eventually([&] { return broker->log().find(text) != std::string::npos; }, 20s);
    }

    test::TempDir dir;
    std::string name;
    std::unique_ptr<test::ShmqdProcess> broker;
    std::unique_ptr<Client> client;
};

const nlohmann::json& queue_named(const nlohmann::json& document, const std::string& name) {
    for (const auto& queue : document.at("queues")) {
        if (queue.at("name") == name) return queue;
    }
    BOOST_FAIL("no queue " << name << " in " << document.dump());
    throw std::logic_error("unreachable");
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(each_quarantine_reason_reaches_the_log_list_stats_and_metrics, Fixture) {
    auto slotted = test::open_queue(*client, "slotted");
    BOOST_TEST_REQUIRE(slotted.send("m0", 1s) == Status::ok);
    auto counted = test::open_queue(*client, "counted");
    // A scribbler: a garbage word in the slot at one queue's head, head
    // beyond tail in another's control, and in a third an out-of-range
    // reason written straight into the quarantine word (readers must not
    // trust it: it reads "unknown").
    test::die_in_place(name, [](test::RawSegment& raw) {
        auto& ring = raw.view.ring(0);
        ring.slot_at(ring.control().head.load()).word.store(0x5A5A'5A5A'5A5A'5A5Aull);
        raw.view.ring(1).control().head.store(0xFFFF'FFFF'FFFF'FFF0ull);
        raw.view.ring(2).control().quarantined.store(0xBAD);
    });
    std::string out;
    BOOST_TEST(slotted.receive(out, 5s) == Status::queue_quarantined);
    BOOST_TEST(counted.receive(out, 5s) == Status::queue_quarantined);

    BOOST_TEST(log_says("('slotted') failed validation and is quarantined (slot 0 (at head, position 0)"),
               broker->log());
    BOOST_TEST(log_says("reason damaged_slot"), broker->log());
    BOOST_TEST(log_says("('counted') failed validation and is quarantined (head 18446744073709551600"), broker->log());
    BOOST_TEST(log_says("reason inconsistent_counters"), broker->log());
    BOOST_TEST(log_says("('scrawled') failed validation and is quarantined"), broker->log());
    BOOST_TEST(log_says("reason unknown"), broker->log());

    const auto table = shmq({"list"});
    BOOST_TEST(table.find("yes (damaged_slot)") != std::string::npos, table);
    BOOST_TEST(table.find("yes (inconsistent_counters)") != std::string::npos, table);
    BOOST_TEST(table.find("yes (unknown)") != std::string::npos, table);

    for (const auto& command : {std::vector<std::string>{"list", "--json"}, std::vector<std::string>{"stats", "--json"}}) {
        const auto document = nlohmann::json::parse(shmq(command));
        BOOST_TEST(queue_named(document, "slotted").at("quarantine_reason") == "damaged_slot");
        BOOST_TEST(queue_named(document, "counted").at("quarantine_reason") == "inconsistent_counters");
        BOOST_TEST(queue_named(document, "scrawled").at("quarantine_reason") == "unknown");
        BOOST_TEST(queue_named(document, "healthy").at("quarantined") == false);
        BOOST_TEST(queue_named(document, "healthy").at("quarantine_reason") == "");
    }

    const auto metrics = shmq({"stats", "--prometheus"});
    const auto sample = [&](const std::string& queue, const std::string& reason, int value) {
        return "shmq_queue_quarantined{broker=\"" + name + "\",queue=\"" + queue + "\",reason=\"" + reason + "\"} " +
               std::to_string(value) + "\n";
    };
    BOOST_TEST(metrics.find(sample("slotted", "damaged_slot", 1)) != std::string::npos, metrics);
    BOOST_TEST(metrics.find(sample("counted", "inconsistent_counters", 1)) != std::string::npos, metrics);
    BOOST_TEST(metrics.find(sample("scrawled", "unknown", 1)) != std::string::npos, metrics);
    BOOST_TEST(metrics.find(sample("healthy", "none", 0)) != std::string::npos, metrics);
    client.reset();
}
