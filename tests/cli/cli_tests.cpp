// End-to-end tests of the `shmq` command-line tool: a real shmqd runs as a
// child process with its own configuration, and each test runs the real shmq
// binary against it, checking stdout, stderr and the exit code the way a user
// or a shell script sees them.
#define BOOST_TEST_MODULE cli_tests
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "shmq/client.hpp"
#include "tests/support/files.hpp"
#include "tests/support/processes.hpp"
#include "tests/support/programs.hpp"
#include "tests/support/shmqd.hpp"

namespace shmq {
// So that a failed check shows the status by name.
std::ostream& operator<<(std::ostream& out, Status status) { return out << to_string(status); }
}  // namespace shmq

namespace {

namespace fs = std::filesystem;
namespace pt = boost::property_tree;
using namespace std::chrono_literals;

const std::string cli_binary = SHMQ_BINARY_DIR "/cli/shmq";
const std::string broker_binary = SHMQ_BINARY_DIR "/daemon/shmqd";

// How long one run of the CLI may take before the test calls it hung.
constexpr auto run_limit = 10s;
// How long the broker may take to become ready, and to stop.
constexpr auto broker_limit = 5s;

// ---------------------------------------------------------------------------
// Files and child processes

using shmq::test::Child;
using shmq::test::contains;
using shmq::test::EnvironmentChanges;
using shmq::test::eventually;
using shmq::test::kill_and_reap;
using shmq::test::lines_of;
using shmq::test::read_file;
using shmq::test::Redirections;
using shmq::test::Run;
using shmq::test::wait_for_exit;
using shmq::test::write_file;

std::vector<std::string> words_of(const std::string& line) {
    std::vector<std::string> words;
    std::istringstream in(line);
    for (std::string word; in >> word;) words.push_back(word);
    return words;
}

// ---------------------------------------------------------------------------
// Running the CLI

// Runs the shmq binary with its input and output in files of a private
// directory. SHMQ_BROKER is removed from its environment unless a test sets
// it, so that the caller's environment cannot change what a test means.
class Workspace {
public:
    const fs::path& directory() const { return directory_; }

    Child start_shmq(const std::vector<std::string>& arguments, const std::string& input = "",
                     EnvironmentChanges environment = {}) {
        const std::string stem = "run-" + std::to_string(++runs_);
        const Redirections files{directory() / (stem + ".in"), directory() / (stem + ".out"),
                                 directory() / (stem + ".err")};
        write_file(files.input, input);
        environment.emplace("SHMQ_BROKER", std::nullopt);
        std::vector<std::string> command{cli_binary};
        command.insert(command.end(), arguments.begin(), arguments.end());
        return shmq::test::start_program(command, files, environment);
    }

    Run finish(const Child& child) const { return shmq::test::finish(child, run_limit); }

    Run shmq(const std::vector<std::string>& arguments, const std::string& input = "",
             EnvironmentChanges environment = {}) {
        return finish(start_shmq(arguments, input, std::move(environment)));
    }

private:
    shmq::test::TempDir temporary_;
    fs::path directory_ = temporary_.path();
    int runs_ = 0;
};

// The contract for every error: a non-zero exit code and exactly one line
// on stderr, starting with "shmq: ", which mentions what went wrong.
void check_error(const Run& run, int exit_code, const std::vector<std::string>& mentions) {
    BOOST_TEST(run.exit_code == exit_code);
    BOOST_CHECK_MESSAGE(run.err.rfind("shmq: ", 0) == 0, "stderr should start with 'shmq: ': " << run.err);
    BOOST_CHECK_MESSAGE(lines_of(run.err).size() == 1 && !run.err.empty() && run.err.back() == '\n',
                        "stderr should be one line: " << run.err);
    for (const auto& mention : mentions) {
        BOOST_CHECK_MESSAGE(run.err.find(mention) != std::string::npos,
                            "stderr should mention '" << mention << "': " << run.err);
    }
}

void check_success(const Run& run) {
    BOOST_TEST(run.exit_code == 0);
    BOOST_TEST(run.err == "");
}

// ---------------------------------------------------------------------------
// The broker

std::string unique_broker_name() { return shmq::test::unique_broker_name("cli"); }

constexpr std::uint32_t orders_capacity = 256;
constexpr std::uint32_t max_message_size = 64;
constexpr std::uint32_t jobs_capacity = 8;

std::string broker_config(const std::string& name) {
    return "broker:\n"
           "  name: " + name + "\n"
           "  liveness_interval_ms: 20\n"
           "queues:\n"
           "  - name: orders\n"
           "    capacity: " + std::to_string(orders_capacity) + "\n"
           "    max_message_size: " + std::to_string(max_message_size) + "\n"
           "    overflow: block\n"
           "  - name: jobs\n"
           "    capacity: " + std::to_string(jobs_capacity) + "\n"
           "    max_message_size: " + std::to_string(max_message_size) + "\n"
           "    overflow: reject\n"
           "    delivery: at_least_once\n"
           "    ack_timeout_ms: 100\n";
}

// A broker with room for two clients only.
std::string two_client_config(const std::string& name) {
    return "broker:\n"
           "  name: " + name + "\n"
           "  max_clients: 2\n"
           "  liveness_interval_ms: 20\n"
           "queues:\n"
           "  - name: orders\n"
           "    capacity: 4\n"
           "    max_message_size: 64\n";
}

std::unique_ptr<shmq::Client> try_attach(const std::string& broker, const std::string& program = "") {
    shmq::AttachOptions options;
    options.broker = broker;
    options.program = program;
    std::unique_ptr<shmq::Client> client;
    return shmq::Client::attach(options, client) == shmq::Status::ok ? std::move(client) : nullptr;
}

// A real shmqd with two queues: orders (block, at_most_once) and jobs
// (reject, at_least_once). It is stopped with SIGTERM at the end of the test,
// so that no segment is left behind.
class BrokerFixture : public Workspace {
public:
    BrokerFixture() : BrokerFixture(broker_config) {}

    // A broker configured by `config_of(name)` instead.
    explicit BrokerFixture(std::string (*config_of)(const std::string& name)) : name_(unique_broker_name()) {
        const auto config = directory() / "shmqd.yaml";
        write_file(config, config_of(name_));
        process_ = std::make_unique<shmq::test::ShmqdProcess>(
            config, Redirections{"/dev/null", directory() / "broker.out", directory() / "broker.log"});
        wait_until_ready();
    }

    ~BrokerFixture() {
        if (process_->running()) stop();
        if (crashed_) {
            ::shm_unlink(name_.c_str());
            std::error_code ignored;
            fs::remove("/dev/shm/" + name_ + ".lock", ignored);
        }
    }

    const std::string& name() const { return name_; }
    pid_t pid() const { return process_->pid(); }

    // `shmq ARGUMENTS --broker NAME`.
    Run shmq_on_broker(const std::vector<std::string>& arguments, const std::string& input = "") {
        auto with_broker = arguments;
        with_broker.insert(with_broker.end(), {"--broker", name_});
        return shmq(with_broker, input);
    }

    // Stops the broker with SIGTERM and returns its exit code (-1 if it had
    // to be killed). Never throws: it also runs in the destructor.
    int stop() {
        const auto code = process_->stop(broker_limit);
        if (!code) kill_hard();
        return code.value_or(-1);
    }

    // Kills the broker with SIGKILL: its segment stays behind, as after a
    // crash, and is removed by the fixture's destructor.
    void crash() {
        process_->kill();
        crashed_ = true;
    }

private:
    // The destructor does not run when the constructor fails: whatever
    // fails here must not leave the broker or its segment behind.
    void wait_until_ready() {
        try {
            process_->wait_until_attachable(name_, broker_limit);
        } catch (...) {
            kill_hard();
            throw;
        }
    }

    void kill_hard() {
        process_->kill();
        ::shm_unlink(name_.c_str());  // what the broker would have removed
    }

    std::string name_;
    std::unique_ptr<shmq::test::ShmqdProcess> process_;
    bool crashed_ = false;
};

// ---------------------------------------------------------------------------
// `shmq stats --json`, parsed

pt::ptree parse_json(const std::string& text) {
    std::istringstream in(text);
    pt::ptree tree;
    pt::read_json(in, tree);  // throws on anything that is not valid JSON
    return tree;
}

// The element of JSON array `array` whose member `key` equals `value`.
const pt::ptree& element_where(const pt::ptree& array, const std::string& key, const std::string& value) {
    for (const auto& [unused_key, element] : array) {
        if (element.get<std::string>(key, "") == value) return element;
    }
    BOOST_FAIL("no element with " << key << " = " << value);
    throw std::logic_error("unreachable");
}

pt::ptree broker_stats(BrokerFixture& broker) {
    const Run run = broker.shmq_on_broker({"stats", "--json"});
    check_success(run);
    BOOST_TEST_INFO("stats --json printed: " << run.out);
    return parse_json(run.out);
}

std::string numbered_lines(int count, const std::string& prefix, bool final_newline) {
    std::string text;
    for (int index = 0; index < count; ++index) {
        if (index > 0) text += '\n';
        text += prefix + std::to_string(index);
    }
    return final_newline ? text + '\n' : text;
}

}  // namespace

// ---------------------------------------------------------------------------

BOOST_FIXTURE_TEST_SUITE(publish_and_consume, BrokerFixture)

BOOST_AUTO_TEST_CASE(messages_from_arguments_are_consumed_in_order) {
    check_success(shmq_on_broker({"publish", "orders", "first", "second message", "third"}));
    const Run consumed = shmq_on_broker({"consume", "orders", "--count", "3"});
    check_success(consumed);
    BOOST_TEST(consumed.out == "first\nsecond message\nthird\n");
}

BOOST_AUTO_TEST_CASE(each_line_of_stdin_is_a_message) {
    // The last line has no newline: it is a message all the same.
    const std::string input = numbered_lines(100, "line-", false);
    check_success(shmq_on_broker({"publish", "orders"}, input));
    const Run consumed = shmq_on_broker({"consume", "orders", "--count", "100"});
    check_success(consumed);
    BOOST_TEST(consumed.out == input + "\n");
    BOOST_TEST(shmq_on_broker({"consume", "orders", "--timeout", "0"}).exit_code == 3);  // nothing more
}

BOOST_AUTO_TEST_CASE(empty_lines_are_empty_messages_and_a_final_newline_is_not_one) {
    check_success(shmq_on_broker({"publish", "orders"}, "a\n\nb\n"));
    check_success(shmq_on_broker({"publish", "orders"}, ""));  // no input: nothing to send
    const auto stats = broker_stats(*this);
    BOOST_TEST(element_where(stats.get_child("queues"), "name", "orders").get<int>("depth") == 3);
    const Run consumed = shmq_on_broker({"consume", "orders", "--count", "3"});
    check_success(consumed);
    BOOST_TEST(consumed.out == "a\n\nb\n");
}

BOOST_AUTO_TEST_CASE(stdin_larger_than_the_queue_streams_through_a_consumer) {
    // 5000 lines (~80 KiB, read in more than one chunk, with a line cut
    // between chunks) through a queue of 256 slots: publish must wait for
    // room batch after batch while the consumer drains it.
    const int count = 5000;
    const std::string input = numbered_lines(count, "streamed-message-", true);
    const Child consumer = start_shmq({"consume", "orders", "--count", std::to_string(count), "--broker", name()});
    check_success(shmq_on_broker({"publish", "orders"}, input));
    const Run consumed = finish(consumer);
    check_success(consumed);
    BOOST_TEST(consumed.out == input);
}

BOOST_AUTO_TEST_CASE(messages_beginning_with_a_dash_follow_a_double_dash) {
    check_success(shmq({"publish", "--broker", name(), "orders", "--", "-1", "--not-an-option"}));
    const Run consumed = shmq_on_broker({"consume", "orders", "--count", "2"});
    check_success(consumed);
    BOOST_TEST(consumed.out == "-1\n--not-an-option\n");
}

BOOST_AUTO_TEST_CASE(consume_timeout_on_an_empty_queue_exits_3) {
    const Run run = shmq_on_broker({"consume", "orders", "--timeout", "100"});
    check_error(run, 3, {"orders", "timeout"});
    BOOST_TEST(run.out == "");
}

BOOST_AUTO_TEST_CASE(consume_timeout_before_count_prints_what_came_and_exits_3) {
    check_success(shmq_on_broker({"publish", "orders", "one", "two"}));
    const Run run = shmq_on_broker({"consume", "orders", "--count", "5", "--timeout", "100"});
    check_error(run, 3, {"orders", "timeout", "2 of 5"});
    BOOST_TEST(run.out == "one\ntwo\n");
}

BOOST_AUTO_TEST_CASE(consume_acknowledges_each_message_of_an_at_least_once_queue) {
    check_success(shmq_on_broker({"publish", "jobs", "a", "b", "c"}));
    const Run consumed = shmq_on_broker({"consume", "jobs", "--count", "3"});
    check_success(consumed);
    BOOST_TEST(consumed.out == "a\nb\nc\n");
    // Unacknowledged, they would come back after the 100 ms ack timeout.
    std::this_thread::sleep_for(400ms);
    const auto jobs = element_where(broker_stats(*this).get_child("queues"), "name", "jobs");
    BOOST_TEST(jobs.get<int>("redelivered") == 0);
    BOOST_TEST(jobs.get<int>("depth") == 0);
    BOOST_TEST(shmq_on_broker({"consume", "jobs", "--timeout", "0"}).exit_code == 3);
}

BOOST_AUTO_TEST_CASE(an_unacknowledged_delivery_does_come_back) {
    // The control for the test above: a delivery nobody acknowledges comes
    // back after the ack timeout, so a consume that did not acknowledge would
    // have been caught there.
    check_success(shmq_on_broker({"publish", "jobs", "once"}));
    {
        auto client = try_attach(name());
        BOOST_TEST_REQUIRE(client.get() != nullptr);
        shmq::Queue jobs;
        BOOST_TEST_REQUIRE(client->open_queue("jobs", jobs) == shmq::Status::ok);
        std::string message;
        std::uint64_t delivery = 0;
        BOOST_TEST_REQUIRE(jobs.receive(message, 1s, &delivery) == shmq::Status::ok);
    }
    const Run consumed = shmq_on_broker({"consume", "jobs", "--count", "1", "--timeout", "5000"});
    check_success(consumed);
    BOOST_TEST(consumed.out == "once\n");
    const auto jobs = element_where(broker_stats(*this).get_child("queues"), "name", "jobs");
    BOOST_TEST(jobs.get<int>("redelivered") == 1);
}

BOOST_AUTO_TEST_CASE(a_message_larger_than_max_message_size_is_refused) {
    const std::string too_large(max_message_size + 1, 'x');
    check_error(shmq_on_broker({"publish", "orders", "fits", too_large}), 1,
                {"orders", "message_too_large", "after 1 "});
    check_error(shmq_on_broker({"publish", "orders"}, "fits\n" + too_large + "\n"), 1,
                {"orders", "message_too_large", "after 1 "});
}

BOOST_AUTO_TEST_CASE(a_full_reject_queue_reports_queue_full_and_how_many_went) {
    check_error(shmq_on_broker({"publish", "jobs"}, numbered_lines(jobs_capacity + 2, "job-", true)), 1,
                {"jobs", "queue_full", "after " + std::to_string(jobs_capacity) + " "});
}

BOOST_AUTO_TEST_CASE(publish_timeout_on_a_full_blocking_queue) {
    check_error(shmq_on_broker({"publish", "orders", "--timeout", "100"},
                               numbered_lines(orders_capacity + 1, "order-", true)),
                1, {"orders", "timeout", "after " + std::to_string(orders_capacity) + " "});
}

BOOST_AUTO_TEST_CASE(broker_stop_ends_a_waiting_consume_and_removes_the_segment) {
    const Child consumer = start_shmq({"consume", "orders", "--broker", name()});
    BOOST_TEST_REQUIRE(eventually(
        [&] { return element_where(broker_stats(*this).get_child("queues"), "name", "orders").get<int>("consumers") == 1; },
        5s));
    BOOST_TEST(stop() == 0);
    check_error(finish(consumer), 1, {"orders", "broker_stopped"});
    BOOST_TEST(!fs::exists("/dev/shm/" + name()));
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------

BOOST_FIXTURE_TEST_SUITE(list_and_stats, BrokerFixture)

BOOST_AUTO_TEST_CASE(list_shows_each_queue_with_its_configuration) {
    check_success(shmq_on_broker({"publish", "orders", "waiting"}));
    const Run run = shmq_on_broker({"list"});
    check_success(run);
    const auto lines = lines_of(run.out);
    BOOST_TEST_REQUIRE(lines.size() == 3u);
    const std::vector<std::string> header{"NAME",     "CAPACITY", "DEPTH",      "MAX_MESSAGE_SIZE",
                                          "OVERFLOW", "DELIVERY", "QUARANTINED"};
    const auto size = std::to_string(max_message_size);
    const std::vector<std::string> orders{"orders", std::to_string(orders_capacity), "1", size, "block", "at_most_once",
                                          "no"};
    const std::vector<std::string> jobs{"jobs", std::to_string(jobs_capacity), "0", size, "reject", "at_least_once",
                                        "no"};
    BOOST_TEST(words_of(lines[0]) == header, boost::test_tools::per_element());
    BOOST_TEST(words_of(lines[1]) == orders, boost::test_tools::per_element());
    BOOST_TEST(words_of(lines[2]) == jobs, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(stats_json_counts_what_was_published_and_consumed) {
    check_success(shmq_on_broker({"publish", "orders", "1", "2", "3", "4", "5"}));
    check_success(shmq_on_broker({"consume", "orders", "--count", "2"}));
    const auto stats = broker_stats(*this);
    BOOST_TEST(stats.get<std::string>("broker") == name());
    BOOST_TEST(stats.get<pid_t>("broker_pid") == pid());
    BOOST_TEST(stats.get<bool>("broker_alive"));
    BOOST_TEST(stats.get<int>("epoch") == 1);
    BOOST_TEST(stats.get<std::uint64_t>("segment_size") > 0u);

    const auto& orders = element_where(stats.get_child("queues"), "name", "orders");
    BOOST_TEST(orders.get<std::uint32_t>("capacity") == orders_capacity);
    BOOST_TEST(orders.get<std::uint32_t>("max_message_size") == max_message_size);
    BOOST_TEST(orders.get<std::string>("overflow") == "block");
    BOOST_TEST(orders.get<std::string>("delivery") == "at_most_once");
    BOOST_TEST(!orders.get<bool>("quarantined"));
    BOOST_TEST(orders.get<int>("depth") == 3);
    BOOST_TEST(orders.get<int>("enqueued") == 5);
    BOOST_TEST(orders.get<int>("dequeued") == 2);
    for (const char* counter : {"rejected", "dropped", "abandoned", "lost_in_read", "redelivered", "dead_lettered",
                                "producers", "consumers"}) {
        BOOST_TEST_INFO("counter " << counter);
        BOOST_TEST(orders.get<int>(counter) == 0);
    }
    const auto& jobs = element_where(stats.get_child("queues"), "name", "jobs");
    BOOST_TEST(jobs.get<std::string>("delivery") == "at_least_once");
    BOOST_TEST(jobs.get<int>("enqueued") == 0);

    // The stats command itself is attached while it reads the statistics.
    const auto& itself = element_where(stats.get_child("clients"), "program", "shmq");
    BOOST_TEST(itself.get<pid_t>("pid") > 0);
    BOOST_TEST(itself.get<std::uint64_t>("attached_ms") < 60'000u);
    BOOST_TEST(itself.get<int>("record") >= 0);
}

BOOST_AUTO_TEST_CASE(stats_json_escapes_strings) {
    // A client's program name is whatever it says: quotes, backslashes,
    // control characters, UTF-8, and a byte that is not UTF-8 at all.
    const std::string program = "q\"b\\s\tc\x01\xC3\xA9\xFF";
    const auto client = try_attach(name(), program);
    BOOST_TEST_REQUIRE(client.get() != nullptr);
    const Run run = shmq_on_broker({"stats", "--json"});
    check_success(run);
    BOOST_TEST(run.out.find('\x01') == std::string::npos);
    BOOST_TEST(run.out.find("\\u0001") != std::string::npos);
    const auto stats = parse_json(run.out);
    BOOST_TEST(element_where(stats.get_child("clients"), "program", "q\"b\\s\tc\x01\xC3\xA9\xEF\xBF\xBD")
                   .get<pid_t>("pid") == ::getpid());
}

BOOST_AUTO_TEST_CASE(stats_text_shows_counters_clients_and_the_broker) {
    check_success(shmq_on_broker({"publish", "orders", "x"}));
    const Run run = shmq_on_broker({"stats"});
    check_success(run);
    for (const char* expected : {"QUEUE", "DEPTH", "ENQUEUED", "DEQUEUED", "REJECTED", "DROPPED", "ABANDONED",
                                 "LOST_IN_READ", "REDELIVERED", "DEAD_LETTERED", "PRODUCERS", "CONSUMERS",
                                 "QUARANTINED", "RECORD", "PID", "PROGRAM", "ATTACHED_MS"}) {
        BOOST_CHECK_MESSAGE(run.out.find(expected) != std::string::npos, "stats should show " << expected);
    }
    BOOST_TEST(run.out.find("broker '" + name() + "': pid " + std::to_string(pid()) + " (alive)") !=
               std::string::npos);
    const auto lines = lines_of(run.out);
    const auto orders = std::find_if(lines.begin(), lines.end(), [](const std::string& line) {
        return line.rfind("orders ", 0) == 0;
    });
    BOOST_TEST_REQUIRE((orders != lines.end()));
    const std::vector<std::string> counters{"orders", "1", "1", "0", "0", "0", "0", "0", "0", "0", "0", "0", "no"};
    BOOST_TEST(words_of(*orders) == counters, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// For operators and scripts: any bytes through --framing, drains, JSON,
// Prometheus, health, exit statuses when the broker is gone.

namespace {

std::string length_framed(const std::vector<std::string>& messages) {
    std::string framed;
    for (const auto& message : messages) {
        const auto size = static_cast<std::uint32_t>(message.size());
        for (int shift = 24; shift >= 0; shift -= 8) framed += static_cast<char>((size >> shift) & 0xFF);
        framed += message;
    }
    return framed;
}

// Every byte value, a newline inside a message, an empty message.
std::vector<std::string> awkward_messages() {
    std::string every_byte;
    for (std::uint32_t byte = 0; byte < max_message_size; ++byte) every_byte += static_cast<char>(byte * 4 + 3);
    return {every_byte, "two\nlines", "", std::string("nul\0inside", 10)};
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(operations, BrokerFixture)

BOOST_AUTO_TEST_CASE(length_framing_carries_any_bytes_through_a_queue) {
    const auto messages = awkward_messages();
    check_success(shmq_on_broker({"publish", "orders", "--framing", "length"}, length_framed(messages)));
    const Run consumed = shmq_on_broker({"consume", "orders", "--count", "4", "--framing", "length"});
    check_success(consumed);
    BOOST_TEST(consumed.out == length_framed(messages));
}

BOOST_AUTO_TEST_CASE(json_framing_carries_any_bytes_and_reads_back) {
    const auto messages = awkward_messages();
    check_success(shmq_on_broker({"publish", "orders", "--framing", "length"}, length_framed(messages)));
    const Run as_json = shmq_on_broker({"consume", "orders", "--count", "4", "--framing", "json"});
    check_success(as_json);
    const auto lines = lines_of(as_json.out);
    BOOST_TEST_REQUIRE(lines.size() == 4u);
    BOOST_TEST(lines[1] == R"({"data":"dHdvCmxpbmVz"})");  // "two\nlines"
    BOOST_TEST(lines[2] == R"({"data":""})");
    // What consume printed is what publish reads: the same bytes go round again.
    check_success(shmq_on_broker({"publish", "orders", "--framing", "json"}, as_json.out));
    const Run again = shmq_on_broker({"consume", "orders", "--count", "4", "--framing", "length"});
    check_success(again);
    BOOST_TEST(again.out == length_framed(messages));
}

BOOST_AUTO_TEST_CASE(input_that_breaks_the_framing_is_refused_after_what_came_before) {
    const std::string cut_short = length_framed({"whole"}) + length_framed({"cut short"}).substr(0, 7);
    check_error(shmq_on_broker({"publish", "orders", "--framing", "length"}, cut_short), 1,
                {"ends inside a length-framed message", "after 1 messages"});
    check_error(shmq_on_broker({"publish", "orders", "--framing", "json"}, "{\"data\":\"b2s=\"}\nnot json\n"), 1,
                {"line 2", "not a JSON object", "after 1 messages"});
    check_error(shmq_on_broker({"publish", "orders", "--framing", "json"}, "{\"data\":\"%%%%\"}\n"), 1,
                {"line 1", "not base64"});
    const Run consumed = shmq_on_broker({"consume", "orders", "--timeout", "100"});
    BOOST_TEST(consumed.out == "whole\nok\n");
    check_error(shmq_on_broker({"consume", "orders", "--framing", "bogus"}), 2, {"framing"});
}

BOOST_AUTO_TEST_CASE(a_drain_that_received_messages_then_timed_out_exits_0) {
    check_success(shmq_on_broker({"publish", "orders", "a", "b"}));
    const Run drained = shmq_on_broker({"consume", "orders", "--timeout", "100"});
    check_success(drained);
    BOOST_TEST(drained.out == "a\nb\n");
    // Nothing there: the timeout is still a failure to a script.
    check_error(shmq_on_broker({"consume", "orders", "--timeout", "100"}), 3, {"orders", "timeout"});
}

BOOST_AUTO_TEST_CASE(list_json_has_a_timestamp_and_each_queue) {
    check_success(shmq_on_broker({"publish", "orders", "waiting"}));
    const Run run = shmq_on_broker({"list", "--json"});
    check_success(run);
    const auto list = parse_json(run.out);
    BOOST_TEST(list.get<int>("schema") == 1);
    BOOST_TEST(list.get<std::string>("timestamp").size() == std::string("2026-11-29T14:05:09.123Z").size());
    BOOST_TEST(list.get<std::uint64_t>("timestamp_ms") > 1'700'000'000'000u);
    const auto& orders = element_where(list.get_child("queues"), "name", "orders");
    BOOST_TEST(orders.get<int>("depth") == 1);
    BOOST_TEST(orders.get<std::uint32_t>("capacity") == orders_capacity);
    BOOST_TEST(orders.get<std::string>("overflow") == "block");
    BOOST_TEST(!orders.get<bool>("quarantined"));
    BOOST_TEST(element_where(list.get_child("queues"), "name", "jobs").get<std::string>("delivery") == "at_least_once");
}

BOOST_AUTO_TEST_CASE(stats_watch_prints_one_json_object_per_line_until_stopped) {
    const Child watcher = start_shmq({"stats", "--json", "--watch", "0.05", "--broker", name()});
    BOOST_TEST_REQUIRE(eventually([&] { return lines_of(read_file(watcher.files.output)).size() >= 3; }, 10s));
    ::kill(watcher.pid, SIGTERM);
    finish(watcher);
    std::uint64_t previous = 0;
    for (const auto& line : lines_of(read_file(watcher.files.output))) {
        if (line.empty()) continue;
        const auto snapshot = parse_json(line);  // each line is a whole object
        BOOST_TEST(snapshot.get<std::uint64_t>("timestamp_ms") >= previous);
        previous = snapshot.get<std::uint64_t>("timestamp_ms");
    }
}

BOOST_AUTO_TEST_CASE(stats_prometheus_passes_promtool_and_counts) {
    check_success(shmq_on_broker({"publish", "orders", "1", "2", "3"}));
    const Run run = shmq_on_broker({"stats", "--prometheus"});
    check_success(run);
    BOOST_TEST(run.out.find("shmq_queue_depth{broker=\"" + name() + "\",queue=\"orders\"} 3\n") != std::string::npos);
    BOOST_TEST(run.out.find("shmq_queue_enqueued_total{broker=\"" + name() + "\",queue=\"orders\"} 3\n") !=
               std::string::npos);
    BOOST_TEST(run.out.find("# TYPE shmq_queue_enqueued_total counter\n") != std::string::npos);
    // Prometheus' own linter, on the exact text.
    shmq::test::RunOptions promtool_input;
    promtool_input.input = run.out;
    promtool_input.limit = run_limit;
    const Run promtool = shmq::test::run_program({"/usr/bin/promtool", "check", "metrics"}, promtool_input);
    BOOST_TEST(promtool.exit_code == 0, "promtool check metrics: " << promtool.out << promtool.err);
}

BOOST_AUTO_TEST_CASE(purge_removes_what_waits_and_counts_it) {
    check_success(shmq_on_broker({"publish", "orders", "1", "2", "3", "4", "5"}));
    check_success(shmq_on_broker({"publish", "jobs", "a", "b"}));
    const Run purged = shmq_on_broker({"purge", "orders"});
    check_success(purged);
    BOOST_TEST(purged.out == "removed 5 messages from queue 'orders'\n");
    check_success(shmq_on_broker({"purge", "jobs"}));  // at_least_once: acknowledged, so never redelivered
    BOOST_TEST(shmq_on_broker({"purge", "jobs"}).out == "removed 0 messages from queue 'jobs'\n");
    const auto stats = broker_stats(*this);
    BOOST_TEST(element_where(stats.get_child("queues"), "name", "orders").get<int>("depth") == 0);
    BOOST_TEST(element_where(stats.get_child("queues"), "name", "jobs").get<int>("depth") == 0);
}

BOOST_AUTO_TEST_CASE(peek_prints_waiting_messages_and_takes_none) {
    const Run empty = shmq_on_broker({"peek", "orders"});
    check_success(empty);
    BOOST_TEST(empty.out == "");
    check_success(shmq_on_broker({"publish", "orders", "one", "two", "three"}));
    const Run first_two = shmq_on_broker({"peek", "orders", "--count", "2"});
    check_success(first_two);
    BOOST_TEST(first_two.out == "one\ntwo\n");
    const Run framed = shmq_on_broker({"peek", "orders", "--framing", "json"});
    check_success(framed);
    BOOST_TEST(framed.out == "{\"data\":\"b25l\"}\n{\"data\":\"dHdv\"}\n{\"data\":\"dGhyZWU=\"}\n");
    const auto stats = broker_stats(*this);
    const auto& orders = element_where(stats.get_child("queues"), "name", "orders");
    BOOST_TEST(orders.get<int>("depth") == 3);
    BOOST_TEST(orders.get<int>("dequeued") == 0);
    BOOST_TEST(orders.get<int>("consumers") == 0);
    const Run taken = shmq_on_broker({"consume", "orders", "--count", "3"});
    check_success(taken);
    BOOST_TEST(taken.out == "one\ntwo\nthree\n");
    check_error(shmq_on_broker({"peek", "orders", "--count", "0"}), 2, {"count"});
    check_error(shmq_on_broker({"peek", "nosuch"}), 1, {"nosuch"});
}

BOOST_AUTO_TEST_CASE(move_takes_messages_in_order_and_never_drops_one_the_destination_refuses) {
    check_success(shmq_on_broker({"publish", "jobs", "j1", "j2"}));
    const Run moved = shmq_on_broker({"move", "jobs", "orders"});
    check_success(moved);
    BOOST_TEST(moved.out == "moved 2 messages from queue 'jobs' to queue 'orders'\n");
    // orders now holds j1 j2 o0..o7; jobs (reject, capacity 8) cannot take
    // all ten: the move stops at the first refusal (o6), which goes back to
    // the end of orders.
    std::vector<std::string> publish{"publish", "orders"};
    for (int i = 0; i < 8; ++i) publish.push_back("o" + std::to_string(i));
    check_success(shmq_on_broker(publish));
    check_error(shmq_on_broker({"move", "orders", "jobs"}), 1, {"after 8 messages", "queue_full", "went back"});
    const Run rest = shmq_on_broker({"consume", "orders", "--timeout", "100"});
    check_success(rest);
    BOOST_TEST(rest.out == "o7\no6\n");
    const Run in_jobs = shmq_on_broker({"consume", "jobs", "--count", "8"});
    check_success(in_jobs);
    BOOST_TEST(in_jobs.out == "j1\nj2\no0\no1\no2\no3\no4\no5\n");
}

// shmq top in a real terminal: a tmux server of its own, a pane running top,
// and what tmux shows in that pane.
BOOST_AUTO_TEST_CASE(top_shows_live_rates_and_depths_in_a_terminal) {
    const std::string server = "shmq-top-" + name();
    const auto tmux = [&](std::vector<std::string> arguments) {
        arguments.insert(arguments.begin(), {"/usr/bin/tmux", "-L", server});
        shmq::test::RunOptions options;
        // A terminal type tmux knows, whatever the test runs under (CI has none).
        options.environment = {{"TERM", "xterm-256color"}};
        options.limit = run_limit;
        const Run run = shmq::test::run_program(arguments, options);
        BOOST_REQUIRE_MESSAGE(run.exit_code == 0, "tmux failed: " << run.err);
        return run.out;
    };
    tmux({"new-session", "-d", "-x", "160", "-y", "40", cli_binary, "top", "--broker", name(), "--interval", "0.2"});
    struct KillServer {
        std::function<void()> kill;
        ~KillServer() { kill(); }
    } cleanup{[&] { tmux({"kill-server"}); }};
    // The row of `queue` on the screen, split into words: QUEUE IN/S OUT/S DEPTH FILL ...
    const auto row_of = [&](const std::string& queue) {
        for (const auto& line : lines_of(tmux({"capture-pane", "-p"}))) {
            const auto words = words_of(line);
            if (!words.empty() && words[0] == queue) return words;
        }
        return std::vector<std::string>{};
    };
    BOOST_TEST_REQUIRE(eventually([&] { return row_of("jobs").size() == 8; }, 10s));
    check_success(shmq_on_broker({"publish", "orders", "1", "2", "3", "4", "5"}));
    BOOST_TEST(eventually([&] { const auto row = row_of("orders"); return row.size() == 8 && row[3] == "5"; }, 10s));
    // Sends keep coming until a screen shows them as a rate.
    bool rate_shown = false;
    for (int round = 0; round < 100 && !rate_shown; ++round) {
        check_success(shmq_on_broker({"consume", "orders", "--count", "5"}));
        check_success(shmq_on_broker({"publish", "orders", "1", "2", "3", "4", "5"}));
        const auto row = row_of("orders");
        rate_shown = row.size() == 8 && row[1] != "-" && row[1] != "0";
    }
    BOOST_TEST(rate_shown);
    const auto screen = tmux({"capture-pane", "-p"});
    BOOST_TEST(screen.find("shmq top - broker '" + name() + "'") != std::string::npos, screen);
    BOOST_TEST(screen.find("REDELIVER/S") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(health_list_and_stats_fail_once_the_broker_process_is_gone) {
    const Run healthy = shmq_on_broker({"health"});
    check_success(healthy);
    BOOST_TEST(healthy.out.find("healthy") != std::string::npos);
    const auto broker_pid = std::to_string(pid());
    crash();
    for (const std::vector<std::string>& command : {std::vector<std::string>{"health"}, {"list"}, {"stats", "--json"},
                                                   {"stats", "--prometheus"}}) {
        BOOST_TEST_INFO("shmq " << command.front());
        check_error(shmq_on_broker(command), 1, {name(), "not running", broker_pid});
    }
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------

BOOST_FIXTURE_TEST_SUITE(choosing_the_broker, BrokerFixture)

BOOST_AUTO_TEST_CASE(broker_option_before_or_after_the_subcommand) {
    check_success(shmq({"--broker", name(), "publish", "orders", "before"}));
    check_success(shmq({"publish", "orders", "after", "--broker", name()}));
    const Run consumed = shmq({"consume", "--broker", name(), "orders", "--count", "2"});
    check_success(consumed);
    BOOST_TEST(consumed.out == "before\nafter\n");
    // After the subcommand is closer to the action, so it wins.
    check_success(shmq({"--broker", name() + "-absent", "list", "--broker", name()}));
}

BOOST_AUTO_TEST_CASE(shmq_broker_environment_variable_names_the_default) {
    const Run listed = shmq({"list"}, "", {{"SHMQ_BROKER", name()}});
    check_success(listed);
    BOOST_TEST(listed.out.find("orders") != std::string::npos);
    // --broker overrides it.
    check_success(shmq({"list", "--broker", name()}, "", {{"SHMQ_BROKER", name() + "-absent"}}));
    check_error(shmq({"list"}, "", {{"SHMQ_BROKER", name() + "-absent"}}), 1, {name() + "-absent"});
}

BOOST_AUTO_TEST_CASE(an_unknown_queue_is_named_in_the_error) {
    check_error(shmq_on_broker({"publish", "no-such-queue", "x"}), 1, {"'no-such-queue'", "queue_not_found", name()});
    check_error(shmq_on_broker({"consume", "no-such-queue", "--count", "1"}), 1, {"'no-such-queue'"});
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------

BOOST_FIXTURE_TEST_SUITE(without_a_broker, Workspace)

BOOST_AUTO_TEST_CASE(an_unknown_broker_is_named_in_the_error) {
    const std::string absent = unique_broker_name() + "-absent";
    for (const std::vector<std::string>& arguments :
         {std::vector<std::string>{"list"}, {"stats"}, {"stats", "--json"}, {"publish", "orders", "x"},
          {"consume", "orders", "--count", "1"}}) {
        auto with_broker = arguments;
        with_broker.insert(with_broker.end(), {"--broker", absent});
        BOOST_TEST_INFO("shmq " << arguments.front());
        const Run run = shmq(with_broker);
        check_error(run, 1, {absent});
        BOOST_TEST(run.out == "");
    }
}

// Issue 16, item 12: an empty --broker before the command was answered with
// internal option names ("ambiguous ... '--arguments', '--command'"), and
// after it silently meant the default broker.
BOOST_AUTO_TEST_CASE(an_empty_broker_name_is_a_usage_error_that_says_so) {
    for (const std::vector<std::string>& arguments :
         {std::vector<std::string>{"--broker", "", "list"}, {"list", "--broker", ""},
          {"stats", "--broker", ""}, {"publish", "orders", "x", "--broker", ""}}) {
        BOOST_TEST_INFO("shmq " << arguments.front() << " " << arguments.at(1));
        const Run run = shmq(arguments);
        check_error(run, 2, {"--broker: the broker name is empty"});
        BOOST_TEST(run.err.find("ambiguous") == std::string::npos);
    }
}

// The value of --broker was looked up as an abbreviated option first, so a
// broker named "b" or "co" was refused as a missing argument.
BOOST_AUTO_TEST_CASE(a_broker_named_like_an_option_prefix_is_a_broker) {
    for (const std::string broker : {"b", "co", "ver", "arg"}) {
        BOOST_TEST_INFO("--broker " << broker);
        const Run run = shmq({"--broker", broker, "list"});
        check_error(run, 1, {"broker '" + broker + "'", "/dev/shm/" + broker + ")", "no broker segment of that name exists"});
    }
}

// Issue 16, item 12: a 300-character name was answered with "another magic
// or layout version than this client" although no segment exists. Broker
// names follow the daemon configuration's rule, checked before any attach.
BOOST_AUTO_TEST_CASE(an_impossible_broker_name_says_what_is_wrong) {
    const std::string long_name(300, 'a');
    for (const std::vector<std::string>& arguments :
         {std::vector<std::string>{"--broker", long_name, "list"}, {"list", "--broker", long_name}}) {
        const Run run = shmq(arguments);
        check_error(run, 2, {"--broker: broker name 'aaaa", "(300 characters) is longer than 64 characters"});
        BOOST_TEST(run.err.find("magic") == std::string::npos);
    }
    const Run slash = shmq({"--broker", "a/b", "list"});
    check_error(slash, 2, {"broker name 'a/b' may only contain letters, digits, '.', '_' and '-'"});
    const Run directory = shmq({"--broker", "/var/lib/", "list"});
    check_error(directory, 2, {"broker file '/var/lib/' does not name a file"});
    // The library says the same to its own callers.
    shmq::AttachOptions options;
    options.broker = long_name;
    std::unique_ptr<shmq::Client> client;
    std::string error;
    BOOST_TEST(shmq::Client::attach(options, client, &error) == shmq::Status::invalid_argument);
    BOOST_TEST(error.find("is longer than 64 characters") != std::string::npos, error);
}

BOOST_AUTO_TEST_CASE(help_of_each_subcommand_shows_its_options) {
    const std::map<std::string, std::vector<std::string>> options{
        {"publish", {"--timeout", "--broker", "--help"}},
        {"consume", {"--count", "--timeout", "--broker", "3 when --timeout"}},
        {"subscribe", {"--framing", "--count", "--from-history"}},
        {"list", {"--broker", "--help", "--json"}},
        {"stats", {"--json", "--prometheus", "--watch", "--broker"}},
        {"health", {"--broker", "quarantined", "Exit status"}}};
    for (const auto& [subcommand, mentions] : options) {
        for (const auto& help : {"--help", "-h"}) {
            BOOST_TEST_INFO("shmq " << subcommand << " " << help);
            const Run run = shmq({subcommand, help});
            check_success(run);
            BOOST_TEST(run.out.rfind("Usage: shmq " + subcommand, 0) == 0);
            for (const auto& mention : mentions) {
                BOOST_CHECK_MESSAGE(run.out.find(mention) != std::string::npos, "help should mention " << mention);
            }
        }
    }
    // After a positional argument too: it is still the subcommand's help.
    const Run run = shmq({"publish", "orders", "--help"});
    check_success(run);
    BOOST_TEST(run.out.rfind("Usage: shmq publish", 0) == 0);
}

BOOST_AUTO_TEST_CASE(top_level_help_lists_the_subcommands_and_global_options) {
    const Run run = shmq({"--help"});
    check_success(run);
    for (const char* mention : {"publish", "consume", "list", "stats", "health", "--broker", "--version", "--help", "SHMQ_BROKER"}) {
        BOOST_CHECK_MESSAGE(run.out.find(mention) != std::string::npos, "help should mention " << mention);
    }
    const Run version = shmq({"--version"});
    check_success(version);
    BOOST_TEST(version.out.rfind("shmq ", 0) == 0);
}

BOOST_AUTO_TEST_CASE(usage_errors_exit_2_with_one_line) {
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
        {{}, "missing COMMAND"},
        {{"frobnicate"}, "'frobnicate'"},
        {{"--bogus", "list"}, "--bogus"},
        {{"list", "--bogus"}, "--bogus"},
        {{"list", "extra"}, "list"},
        {{"consume"}, "QUEUE"},
        {{"publish"}, "QUEUE"},
        {{"consume", "orders", "--count", "0"}, "--count"},
        {{"consume", "orders", "--count", "many"}, "--count"},
        {{"publish", "orders", "--timeout=-1", "x"}, "--timeout"},
        {{"stats", "--broker"}, "--broker"},
    };
    for (const auto& [arguments, mention] : cases) {
        BOOST_TEST_INFO("shmq " << (arguments.empty() ? std::string() : arguments.front()) << " ... expecting "
                                << mention);
        const Run run = shmq(arguments);
        check_error(run, 2, {mention});
        BOOST_TEST(run.out == "");
    }
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// Topics

namespace {

constexpr std::uint32_t ticks_capacity = 4;

// ticks: a small ring that drops what a slow subscriber cannot keep up with;
// news: blocks publishers for the slowest subscriber. Both keep 2 messages of
// history for late subscribers.
// jobs gives up after one unacknowledged delivery and dead-letters into
// jobs.dead.
std::string dead_letter_config(const std::string& name) {
    return "broker:\n"
           "  name: " + name + "\n"
           "  liveness_interval_ms: 20\n"
           "queues:\n"
           "  - name: jobs\n"
           "    capacity: 8\n"
           "    max_message_size: 64\n"
           "    delivery: at_least_once\n"
           "    ack_timeout_ms: 50\n"
           "    max_deliveries: 1\n"
           "    dead_letter: jobs.dead\n"
           "  - name: jobs.dead\n"
           "    capacity: 8\n"
           "    max_message_size: 64\n";
}

class DeadLetterFixture : public BrokerFixture {
public:
    DeadLetterFixture() : BrokerFixture(dead_letter_config) {}
};

BOOST_FIXTURE_TEST_CASE(peek_shows_a_dead_letter_queue_and_leaves_it_for_a_replay, DeadLetterFixture) {
    check_success(shmq_on_broker({"publish", "jobs", "failed-1", "failed-2"}));
    // A consumer that never acknowledges: after the ack timeout both go to jobs.dead.
    auto client = try_attach(name());
    BOOST_TEST_REQUIRE(static_cast<bool>(client));
    shmq::Queue jobs;
    BOOST_TEST_REQUIRE(client->open_queue("jobs", jobs) == shmq::Status::ok);
    std::string message;
    std::uint64_t delivery = 0;
    BOOST_TEST_REQUIRE(jobs.receive(message, 5000ms, &delivery) == shmq::Status::ok);
    BOOST_TEST_REQUIRE(jobs.receive(message, 5000ms, &delivery) == shmq::Status::ok);
    BOOST_TEST_REQUIRE(eventually([&] { return shmq_on_broker({"peek", "jobs.dead"}).out == "failed-1\nfailed-2\n"; },
                                  20s));
    // Looked at twice, still there: the replay moves both.
    BOOST_TEST(shmq_on_broker({"peek", "jobs.dead", "--count", "1"}).out == "failed-1\n");
    check_success(shmq_on_broker({"move", "jobs.dead", "jobs"}));
    BOOST_TEST(shmq_on_broker({"peek", "jobs"}).out == "failed-1\nfailed-2\n");
    BOOST_TEST(shmq_on_broker({"peek", "jobs.dead"}).out == "");
}

std::string topic_broker_config(const std::string& name) {
    return "broker:\n"
           "  name: " + name + "\n"
           "  liveness_interval_ms: 20\n"
           "topics:\n"
           "  - name: ticks\n"
           "    capacity: " + std::to_string(ticks_capacity) + "\n"
           "    max_message_size: " + std::to_string(max_message_size) + "\n"
           "    history: 2\n"
           "    slow_subscriber: drop\n"
           "  - name: news\n"
           "    capacity: 16\n"
           "    max_message_size: " + std::to_string(max_message_size) + "\n"
           "    history: 2\n"
           "    slow_subscriber: block\n";
}

class TopicBrokerFixture : public BrokerFixture {
public:
    TopicBrokerFixture() : BrokerFixture(topic_broker_config) {}

    // The topic's entry in `shmq stats --json`.
    pt::ptree topic_stats(const std::string& topic) {
        return element_where(broker_stats(*this).get_child("topics"), "name", topic);
    }

    // Waits until `count` subscribers are subscribed to `topic`.
    bool subscribed(const std::string& topic, std::size_t count) {
        return eventually([&] { return topic_stats(topic).get_child("subscribers").size() == count; }, 5s);
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(topics, TopicBrokerFixture)

BOOST_AUTO_TEST_CASE(every_subscriber_prints_every_message_published_to_the_topic) {
    const Child first = start_shmq({"subscribe", "news", "--count", "3", "--broker", name()});
    const Child second = start_shmq({"subscribe", "news", "--count", "3", "--broker", name()});
    BOOST_TEST_REQUIRE(subscribed("news", 2));
    check_success(shmq_on_broker({"publish", "--topic", "news", "first", "second message"}));
    check_success(shmq_on_broker({"publish", "--topic", "news"}, "third\n"));
    for (const Child& subscriber : {first, second}) {
        const Run run = finish(subscriber);
        check_success(run);
        BOOST_TEST(run.out == "first\nsecond message\nthird\n");
    }
}

BOOST_AUTO_TEST_CASE(a_late_subscriber_asks_for_history) {
    check_success(shmq({"publish", "--topic", "news", "--broker", name(), "--", "a", "-b", "c"}));
    // Asking for more than the topic keeps gets what it keeps: 2.
    const Run run = shmq_on_broker({"subscribe", "news", "--from-history", "10", "--count", "2"});
    check_success(run);
    BOOST_TEST(run.out == "-b\nc\n");
    // Without history, only what is published from then on.
    check_error(shmq_on_broker({"subscribe", "news", "--timeout", "100"}), 3, {"news", "timeout", "after 0"});
}

BOOST_AUTO_TEST_CASE(publishing_to_a_topic_without_subscribers_succeeds) {
    check_success(shmq_on_broker({"publish", "--topic", "ticks"}, numbered_lines(20, "tick-", true)));
    BOOST_TEST(topic_stats("ticks").get<int>("published") == 20);
}

BOOST_AUTO_TEST_CASE(stats_json_shows_each_subscribers_lag_and_losses) {
    // A subscriber in this process that never reads: under drop it loses
    // what the ring cannot keep.
    auto client = try_attach(name(), "idle-subscriber");
    BOOST_TEST_REQUIRE(client.get() != nullptr);
    shmq::Subscription idle;
    BOOST_TEST_REQUIRE(client->subscribe("ticks", idle) == shmq::Status::ok);
    check_success(shmq_on_broker({"publish", "--topic", "ticks", "1", "2", "3", "4", "5", "6", "7"}));
    const auto ticks = topic_stats("ticks");
    BOOST_TEST(ticks.get<std::uint32_t>("capacity") == ticks_capacity);
    BOOST_TEST(ticks.get<int>("history") == 2);
    BOOST_TEST(ticks.get<std::string>("slow_subscriber") == "drop");
    BOOST_TEST(!ticks.get<bool>("quarantined"));
    BOOST_TEST(ticks.get<int>("published") == 7);
    BOOST_TEST(ticks.get<int>("dropped") == 3);
    BOOST_TEST(ticks.get<int>("subscriptions") == 1);
    const auto& subscribers = ticks.get_child("subscribers");
    BOOST_TEST_REQUIRE(subscribers.size() == 1u);
    const auto& subscriber = subscribers.front().second;
    BOOST_TEST(subscriber.get<pid_t>("pid") == ::getpid());
    BOOST_TEST(subscriber.get<std::string>("program") == "idle-subscriber");
    BOOST_TEST(subscriber.get<std::uint32_t>("lag") == ticks_capacity);
    BOOST_TEST(subscriber.get<int>("lost") == 3);
    BOOST_TEST(subscriber.get<int>("received") == 0);
    BOOST_TEST(subscriber.get<int>("views") == 0);
    BOOST_TEST(idle.lost() == 3u);

    // What is left is the last capacity messages.
    const Run run = shmq_on_broker({"stats"});
    check_success(run);
    for (const char* expected : {"TOPIC", "PUBLISHED", "SUBSCRIBER", "LAG", "LOST", "VIEWS", "idle-subscriber"}) {
        BOOST_CHECK_MESSAGE(run.out.find(expected) != std::string::npos, "stats should show " << expected);
    }
    const auto lines = lines_of(run.out);
    const auto row = std::find_if(lines.begin(), lines.end(), [](const std::string& line) {
        return line.find("idle-subscriber") != std::string::npos;
    });
    BOOST_TEST_REQUIRE((row != lines.end()));
    const std::vector<std::string> columns{"ticks", "0", std::to_string(::getpid()), "idle-subscriber", "4", "0", "3",
                                           "0"};
    BOOST_TEST(words_of(*row) == columns, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_subscriber_that_lost_messages_says_so_when_it_ends) {
    const Child slow = start_shmq({"subscribe", "ticks", "--count", "1", "--broker", name()});
    BOOST_TEST_REQUIRE(subscribed("ticks", 1));
    // Stop it before it reads (it waits for input it has not got yet)...
    ::kill(slow.pid, SIGSTOP);
    check_success(shmq_on_broker({"publish", "--topic", "ticks", "1", "2", "3", "4", "5", "6"}));
    ::kill(slow.pid, SIGCONT);
    const Run run = finish(slow);
    BOOST_TEST(run.exit_code == 0);
    BOOST_TEST(run.out == "3\n");
    BOOST_TEST(run.err.find("2 lost") != std::string::npos, run.err);
}

BOOST_AUTO_TEST_CASE(list_shows_each_topic_with_its_configuration) {
    const auto client = try_attach(name());
    BOOST_TEST_REQUIRE(client.get() != nullptr);
    shmq::Subscription subscription;
    BOOST_TEST_REQUIRE(client->subscribe("news", subscription) == shmq::Status::ok);
    const Run run = shmq_on_broker({"list"});
    check_success(run);
    const auto lines = lines_of(run.out);
    BOOST_TEST_REQUIRE(lines.size() == 3u);  // no empty queue table
    const std::vector<std::string> header{"TOPIC",           "CAPACITY",    "MAX_MESSAGE_SIZE", "HISTORY",
                                          "SLOW_SUBSCRIBER", "SUBSCRIBERS", "MAX_SUBSCRIBERS", "QUARANTINED"};
    const auto size = std::to_string(max_message_size);
    const std::vector<std::string> ticks{"ticks", std::to_string(ticks_capacity), size, "2", "drop", "0", "64", "no"};
    const std::vector<std::string> news{"news", "16", size, "2", "block", "1", "64", "no"};
    BOOST_TEST(words_of(lines[0]) == header, boost::test_tools::per_element());
    BOOST_TEST(words_of(lines[1]) == ticks, boost::test_tools::per_element());
    BOOST_TEST(words_of(lines[2]) == news, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(topic_errors_name_the_topic) {
    check_error(shmq_on_broker({"publish", "--topic", "no-such-topic", "x"}), 1,
                {"'no-such-topic'", "topic_not_found", name()});
    check_error(shmq_on_broker({"subscribe", "no-such-topic", "--count", "1"}), 1,
                {"'no-such-topic'", "topic_not_found"});
    // A topic is not a queue, nor the other way round.
    check_error(shmq_on_broker({"publish", "news", "x"}), 1, {"'news'", "queue_not_found"});
    const std::string too_large(max_message_size + 1, 'x');
    check_error(shmq_on_broker({"publish", "--topic", "news", "fits", too_large}), 1,
                {"topic 'news'", "message_too_large", "after 1 "});
    check_error(shmq_on_broker({"subscribe"}), 2, {"TOPIC"});
    check_error(shmq_on_broker({"subscribe", "news", "--from-history", "-1"}), 2, {"--from-history"});
}

BOOST_AUTO_TEST_CASE(publish_times_out_when_the_slowest_subscriber_does_not_read) {
    const auto client = try_attach(name());
    BOOST_TEST_REQUIRE(client.get() != nullptr);
    shmq::Subscription stalled;
    BOOST_TEST_REQUIRE(client->subscribe("news", stalled) == shmq::Status::ok);
    check_error(shmq_on_broker({"publish", "--topic", "news", "--timeout", "100"}, numbered_lines(17, "n-", true)), 1,
                {"topic 'news'", "timeout", "after 16 "});
}

BOOST_AUTO_TEST_CASE(help_describes_topics) {
    const Run publish = shmq({"publish", "--help"});
    check_success(publish);
    BOOST_TEST(publish.out.find("--topic") != std::string::npos);
    const Run subscribe = shmq({"subscribe", "--help"});
    check_success(subscribe);
    BOOST_TEST(subscribe.out.rfind("Usage: shmq subscribe", 0) == 0);
    for (const char* option : {"--count", "--from-history", "--timeout", "--broker", "3 when --timeout"}) {
        BOOST_CHECK_MESSAGE(subscribe.out.find(option) != std::string::npos, "help should mention " << option);
    }
    const Run top = shmq({"--help"});
    check_success(top);
    BOOST_TEST(top.out.find("subscribe") != std::string::npos);
    BOOST_TEST(top.out.find("topic") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------

BOOST_FIXTURE_TEST_SUITE(a_full_client_table, Workspace)

// Issue 16, item 12: "raise max_clients" was the advice even when the table
// was full of dead clients that the broker had not reclaimed (because it was
// stopped); then it is the broker that needs attention.
BOOST_AUTO_TEST_CASE(says_whether_dead_clients_await_reclaim) {
    BrokerFixture broker(two_client_config);
    {
        const auto first = try_attach(broker.name());
        const auto second = try_attach(broker.name());
        BOOST_REQUIRE(first && second);
        const Run run = broker.shmq_on_broker({"list"});
        check_error(run, 1, {"client table is full", "raise max_clients"});
        BOOST_TEST(run.err.find("died") == std::string::npos);
    }
    // A stopped broker reclaims nothing: two clients killed meanwhile keep
    // their records.
    BOOST_REQUIRE(::kill(broker.pid(), SIGSTOP) == 0);
    struct Resume {
        pid_t pid;
        ~Resume() { ::kill(pid, SIGCONT); }
    } resume{broker.pid()};
    for (int i = 0; i < 2; ++i) {
        const pid_t child = ::fork();
        BOOST_REQUIRE(child >= 0);
        if (child == 0) {
            const auto client = try_attach(broker.name());
            ::raise(client ? SIGKILL : SIGTERM);
            ::_exit(1);
        }
        BOOST_REQUIRE(wait_for_exit(child, broker_limit) == 128 + SIGKILL);
    }
    const Run run = broker.shmq_on_broker({"list"});
    check_error(run, 1, {"client table is full", "2 of its 3 records belong to processes that have died",
                         "await reclaim by the broker"});
    BOOST_TEST(run.err.find("raise max_clients") == std::string::npos);
    ::kill(broker.pid(), SIGCONT);
    BOOST_TEST(eventually([&] { return broker.shmq_on_broker({"list"}).exit_code == 0; }, broker_limit));
}

BOOST_AUTO_TEST_SUITE_END()
