// End-to-end tests of shmqd as an operator meets it: real configuration
// files, the real shmqd binary run as a child process (--check-config, a
// start, a kill -9 and a restart), and what it prints and logs.
#define BOOST_TEST_MODULE daemon_tests
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <grp.h>
#include <new>
#include <optional>
#include <string>
#include <sys/mman.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "shmq/client.hpp"
#include "tests/support/files.hpp"
#include "tests/support/processes.hpp"
#include "tests/support/programs.hpp"
#include "tests/support/shmqd.hpp"
#include "tests/support/test_support.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using shmq::test::contains;
using shmq::test::eventually;
using shmq::test::kill_and_reap;
using shmq::test::lines_of;
using shmq::test::open_queue;
using shmq::test::read_file;
using shmq::test::Run;
using shmq::test::wait_for_exit;
using shmq::test::write_file;

const std::string broker_binary = SHMQ_BINARY_DIR "/daemon/shmqd";
const std::string cli_binary = SHMQ_BINARY_DIR "/cli/shmq";

// Generous: the machine is shared and noisy; only a hang should reach these.
constexpr auto run_limit = 20s;
constexpr auto broker_limit = 10s;

std::string unique_broker_name() { return shmq::test::unique_broker_name("daemon"); }

// NAME=VALUE assignments as changes to a child's environment.
shmq::test::EnvironmentChanges environment_changes(const std::vector<std::string>& assignments) {
    shmq::test::EnvironmentChanges changes;
    for (const auto& assignment : assignments) {
        const auto equals = assignment.find('=');
        changes[assignment.substr(0, equals)] = assignment.substr(equals + 1);
    }
    return changes;
}

// shmqd with `arguments`, its stdout and stderr in files, and
// `extra_environment` (NAME=VALUE) added to this process's environment.
pid_t spawn_shmqd(const std::vector<std::string>& arguments, const fs::path& out, const fs::path& err,
                  const std::vector<std::string>& extra_environment = {}) {
    std::vector<std::string> command{broker_binary};
    command.insert(command.end(), arguments.begin(), arguments.end());
    return shmq::test::spawn_program(command, {"/dev/null", out, err}, environment_changes(extra_environment));
}

// A private directory for the files of one test, and shmqd runs in it.
class Workspace {
public:
    const fs::path& directory() const { return directory_; }

    fs::path write(const std::string& name, const std::string& content) const {
        write_file(directory_ / name, content);
        return directory_ / name;
    }

    // Runs shmqd to its end; the test fails if it does not end in time.
    Run shmqd(const std::vector<std::string>& arguments) { return run(broker_binary, arguments); }
    // Runs the shmq tool to its end, the same way.
    Run shmq(const std::vector<std::string>& arguments) { return run(cli_binary, arguments); }

    Run check_config(const fs::path& config, const std::vector<std::string>& more = {}) {
        std::vector<std::string> arguments{"--check-config", "--config", config.string()};
        arguments.insert(arguments.end(), more.begin(), more.end());
        return shmqd(arguments);
    }

private:
    static Run run(const std::string& program, const std::vector<std::string>& arguments) {
        std::vector<std::string> command{program};
        command.insert(command.end(), arguments.begin(), arguments.end());
        shmq::test::RunOptions options;
        options.limit = run_limit;
        return shmq::test::run_program(command, options);
    }

    shmq::test::TempDir temporary_;
    fs::path directory_ = temporary_.path();
};

// --check-config refused the file: exit 1, and a line of its report names
// the file, the line and the key (where given) and says what is wrong.
void check_refused(const Run& run, const std::string& location, const std::string& problem) {
    BOOST_TEST(run.exit_code == 1);
    BOOST_TEST(run.out == "");
    bool found = false;
    for (const auto& line : lines_of(run.err)) {
        found = found || (line.rfind(location, 0) == 0 && contains(line, problem));
    }
    BOOST_CHECK_MESSAGE(found, "expected a line starting with '" << location << "' mentioning '" << problem
                                                                 << "', got:\n" << run.err);
}

std::string with_broker_keys(const std::string& name, const std::string& keys) {
    return "broker:\n  name: " + name + "\n" + keys + "queues:\n  - name: q\n    capacity: 4\n    max_message_size: 64\n";
}

// A real shmqd started on a configuration file, stopped with SIGTERM (or
// killed) at the end. Its log (stderr) is in a file of the workspace.
class BrokerProcess : public shmq::test::ShmqdProcess {
public:
    BrokerProcess(Workspace& workspace, const fs::path& config, const std::string& log_name = "broker.log",
                  const std::vector<std::string>& extra_environment = {},
                  const std::vector<std::string>& extra_arguments = {})
        : ShmqdProcess(spawn_shmqd(shmqd_arguments(config, extra_arguments), workspace.directory() / (log_name + ".out"),
                                   workspace.directory() / log_name, extra_environment),
                       workspace.directory() / log_name) {}

    // Waits until the log says it is ready; the test stops if it is not.
    void wait_until_ready() { ShmqdProcess::wait_until_ready(broker_limit); }

    // Its exit code once it ends by itself, or nothing.
    std::optional<int> wait_exit() { return ShmqdProcess::wait_exit(broker_limit); }

    // SIGTERM; its exit code, or -1 when it had to be killed.
    int stop() {
        const auto code = ShmqdProcess::stop(broker_limit);
        if (!code) kill();
        return code.value_or(-1);
    }

    void kill_hard() { kill(); }

private:
    static std::vector<std::string> shmqd_arguments(const fs::path& config, const std::vector<std::string>& more) {
        std::vector<std::string> arguments{"--config", config.string()};
        arguments.insert(arguments.end(), more.begin(), more.end());
        return arguments;
    }
};

// Removes a broker's segment however the test ends.
class SegmentGuard {
public:
    explicit SegmentGuard(std::string name) : name_(std::move(name)) {}
    ~SegmentGuard() { ::shm_unlink(("/" + name_).c_str()); }
    SegmentGuard(const SegmentGuard&) = delete;
    SegmentGuard& operator=(const SegmentGuard&) = delete;

private:
    std::string name_;
};

std::unique_ptr<shmq::Client> attach(const std::string& broker, const std::string& program = "") {
    shmq::AttachOptions options;
    options.broker = broker;
    options.program = program;
    std::unique_ptr<shmq::Client> client;
    std::string error;
    const auto status = shmq::Client::attach(options, client, &error);
    BOOST_REQUIRE_MESSAGE(status == shmq::Status::ok, "attach to " << broker << ": " << error);
    return client;
}

}  // namespace

// ---------------------------------------------------------------------------
// Item 11 of issue 16: --check-config passed files that cannot start, and
// read whatever --config named.

BOOST_FIXTURE_TEST_SUITE(files_that_cannot_start, Workspace)

BOOST_AUTO_TEST_CASE(a_group_that_does_not_exist_is_refused_in_both_formats) {
    const std::string group = "shmq-no-such-group-" + std::to_string(::getpid());
    const auto yaml = write("g.yaml", with_broker_keys("g", "  group: " + group + "\n"));
    check_refused(check_config(yaml), yaml.string() + ":3: key 'group'", "does not exist");
    const auto ini = write("g.ini", "[broker]\nname = g\ngroup = " + group + "\n[queue.q]\n");
    check_refused(check_config(ini), ini.string() + ":3: key 'group'", "does not exist");
}

BOOST_AUTO_TEST_CASE(an_existing_group_by_name_or_number_is_accepted) {
    const auto config = write("g.yaml", with_broker_keys("g", "  group: root\n"));
    BOOST_TEST(check_config(config).exit_code == 0);
    const auto numeric = write("n.yaml", with_broker_keys("g", "  group: 4242\n"));
    BOOST_TEST(check_config(numeric).exit_code == 0);
}

BOOST_AUTO_TEST_CASE(a_persist_path_in_a_missing_directory_is_refused) {
    const auto missing = directory() / "no-such-directory" / "s.segment";
    const auto yaml = write("p.yaml", with_broker_keys("p", "  persist_path: " + missing.string() + "\n"));
    check_refused(check_config(yaml), yaml.string() + ":3: key 'persist_path'", "does not exist");
    const auto ini = write("p.ini", "[broker]\nname = p\npersist_path = " + missing.string() + "\n[queue.q]\n");
    check_refused(check_config(ini), ini.string() + ":3: key 'persist_path'", "does not exist");
}

BOOST_AUTO_TEST_CASE(a_persist_path_that_is_not_a_regular_file_is_refused) {
    fs::create_directory(directory() / "a-directory");
    BOOST_REQUIRE(::mkfifo((directory() / "a-fifo").c_str(), 0600) == 0);
    write("a-file", "");
    const std::pair<std::string, std::string> cases[] = {
        {(directory() / "a-directory").string(), "is a directory"},
        {(directory() / "a-fifo").string(), "is a FIFO"},
        {(directory() / "a-file" / "s.segment").string(), "is not a directory"},
    };
    for (const auto& [path, problem] : cases) {
        BOOST_TEST_CONTEXT("persist_path " << path) {
            const auto config = write("p.yaml", with_broker_keys("p", "  persist_path: " + path + "\n"));
            check_refused(check_config(config), config.string() + ":3: key 'persist_path'", problem);
        }
    }
    const auto good = write("good.yaml",
                            with_broker_keys("p", "  persist_path: " + (directory() / "new.segment").string() + "\n"));
    BOOST_TEST(check_config(good).exit_code == 0);
}

BOOST_AUTO_TEST_CASE(a_failed_start_names_the_file_line_and_key) {
    // A second broker on a live broker's name passes --check-config but
    // cannot start; its fatal line says which key of which file to change.
    const std::string name = unique_broker_name();
    SegmentGuard guard(name);
    const auto config = write("b.yaml", "# a comment first, so that the line is not 2 by chance\n" +
                                            with_broker_keys(name, "  liveness_interval_ms: 50\n"));
    BrokerProcess first(*this, config, "first.log");
    first.wait_until_ready();
    BrokerProcess second(*this, config, "second.log");
    const auto code = second.wait_exit();
    BOOST_REQUIRE_MESSAGE(code.has_value(), "the second broker should have given up; its log:\n" << second.log());
    BOOST_TEST(*code == 1);
    std::string fatal;
    for (const auto& line : lines_of(second.log())) {
        if (contains(line, "[fatal]")) fatal = line;
    }
    BOOST_TEST_INFO("second broker's log:\n" << second.log());
    BOOST_TEST(contains(fatal, config.string() + ":3: key 'name': "));
    BOOST_TEST(contains(fatal, "already running"));
    BOOST_TEST(first.stop() == 0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(config_files_read, Workspace)

BOOST_AUTO_TEST_CASE(dev_zero_is_refused_without_reading_it) {
    const Run run = check_config("/dev/zero", {"--format", "yaml"});
    check_refused(run, "/dev/zero: ", "is a character device, not a regular file");
}

BOOST_AUTO_TEST_CASE(a_fifo_is_refused_without_blocking) {
    const auto fifo = directory() / "config.yaml";
    BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    // No writer ever opens it: reading would block shmqd for ever, and
    // shmqd() fails the test if it does not end.
    check_refused(check_config(fifo), fifo.string() + ": ", "is a FIFO, not a regular file");
}

BOOST_AUTO_TEST_CASE(a_directory_is_refused) {
    const auto config = directory() / "config.yaml";
    fs::create_directory(config);
    check_refused(check_config(config), config.string() + ": ", "is a directory, not a regular file");
}

BOOST_AUTO_TEST_CASE(a_file_over_16_mib_is_refused_naming_the_limit) {
    // A valid configuration padded with a comment to 16 MiB + 1 byte.
    const std::string valid = with_broker_keys("big", "");
    std::string text = valid + "#";
    text.resize((16u << 20) + 1, 'x');
    const auto big = write("big.yaml", text);
    check_refused(check_config(big), big.string() + ": ", "larger than 16 MiB");
    // At the limit itself it is still read.
    text.resize(16u << 20);
    const auto limit = write("limit.yaml", text);
    BOOST_TEST(check_config(limit).exit_code == 0);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// Item 13 of issue 16.

BOOST_FIXTURE_TEST_SUITE(smaller_ones, Workspace)

BOOST_AUTO_TEST_CASE(world_permissions_need_allow_world_access_and_then_warn) {
    const auto refused = write("w.yaml", with_broker_keys("w", "  permissions: 0666\n"));
    check_refused(check_config(refused), refused.string() + ":3: key 'permissions'", "allow_world_access");
    const auto ini = write("w.ini", "[broker]\nname = w\npermissions = 0604\n[queue.q]\n");
    check_refused(check_config(ini), ini.string() + ":3: key 'permissions'", "allow_world_access");

    const auto allowed =
        write("a.yaml", with_broker_keys("w", "  permissions: 0666\n  allow_world_access: true\n"));
    const Run run = check_config(allowed);
    BOOST_TEST(run.exit_code == 0);
    BOOST_TEST(contains(run.err, "warning: " + allowed.string() + ":3: key 'permissions': 0666"));
    const auto allowed_ini = write("a.ini", "[broker]\nname = w\npermissions = 0666\nallow_world_access = true\n"
                                            "[queue.q]\n");
    BOOST_TEST(check_config(allowed_ini).exit_code == 0);
}

// Issue 17: --check-config shows who may use a restricted queue and who may only read it.
BOOST_AUTO_TEST_CASE(check_config_names_the_access_group_and_its_readers) {
    const auto config = write("r.yaml", "queues:\n  - name: pay\n    access: { group: root, readers: daemon }\n");
    const Run run = check_config(config);
    BOOST_TEST(run.exit_code == 0, run.err);
    BOOST_TEST(contains(run.out, "queue pay: "), run.out);
    BOOST_TEST(contains(run.out, ", access group root, readers daemon"), run.out);
}

BOOST_AUTO_TEST_CASE(a_broker_with_world_permissions_warns_when_it_starts) {
    const std::string name = unique_broker_name();
    SegmentGuard guard(name);
    const auto config = write("w.yaml", with_broker_keys(name, "  permissions: 0666\n  allow_world_access: true\n"));
    BrokerProcess broker(*this, config);
    broker.wait_until_ready();
    bool warned = false;
    for (const auto& line : lines_of(broker.log())) {
        warned = warned || (contains(line, "[warning]") && contains(line, "0666") && contains(line, "every account"));
    }
    BOOST_TEST(warned, "log:\n" << broker.log());
    struct stat segment {};
    BOOST_REQUIRE(::stat(("/dev/shm/" + name).c_str(), &segment) == 0);
    BOOST_TEST((segment.st_mode & 0777) == 0666u);
    BOOST_TEST(broker.stop() == 0);
}

BOOST_AUTO_TEST_CASE(a_program_name_cannot_forge_a_log_line) {
    const std::string name = unique_broker_name();
    SegmentGuard guard(name);
    const auto config = write("b.yaml", with_broker_keys(name, "  liveness_interval_ms: 20\n"));
    BrokerProcess broker(*this, config);
    broker.wait_until_ready();
    // The broker may read the record before the client has written its
    // name (it then logs it empty or cut short): attach until it was logged whole.
    const std::string escaped = "(evil\\n[fatal] forged\\x1b[2J) attached as record";
    std::size_t attachments = 0;
    const auto logged_attachments = [&] {
        std::size_t count = 0;
        for (const auto& line : lines_of(broker.log())) count += contains(line, "attached as record") ? 1 : 0;
        return count;
    };
    const bool named = eventually(
        [&] {
            const auto client = attach(name, "evil\n[fatal] forged\x1b[2J");
            ++attachments;
            BOOST_REQUIRE(eventually([&] { return logged_attachments() >= attachments; }, broker_limit));
            return contains(broker.log(), escaped);
        },
        broker_limit);
    BOOST_REQUIRE_MESSAGE(named, "the program name was never logged:\n" << broker.log());
    BOOST_TEST(broker.stop() == 0);
    const std::string log = broker.log();
    BOOST_TEST_INFO("log:\n" << log);
    for (const auto& line : lines_of(log)) {
        BOOST_TEST(line.rfind("[fatal]", 0) != 0);
        BOOST_TEST(!contains(line, "\x1b"));
    }
}

BOOST_AUTO_TEST_CASE(adoption_applies_changed_delivery_settings) {
    const std::string name = unique_broker_name();
    SegmentGuard guard(name);
    const auto config_of = [&](const std::string& jobs_settings) {
        return "broker:\n  name: " + name + "\n  liveness_interval_ms: 20\n"
               "queues:\n"
               "  - name: jobs\n    capacity: 8\n    max_message_size: 64\n    delivery: at_least_once\n" +
               jobs_settings + "  - name: failed\n    capacity: 8\n    max_message_size: 64\n";
    };
    // First: a long ack timeout, many deliveries, no dead-letter queue.
    const auto before = write("before.yaml", config_of("    max_deliveries: 100\n    ack_timeout_ms: 600000\n"));
    // Then: one delivery with a short ack timeout, and dead letters to `failed`.
    const auto after = write("after.yaml", config_of("    max_deliveries: 1\n    ack_timeout_ms: 50\n"
                                                     "    dead_letter: failed\n"));
    {
        BrokerProcess first(*this, before, "first.log");
        first.wait_until_ready();
        const auto client = attach(name);
        shmq::Queue jobs;
        BOOST_REQUIRE(client->open_queue("jobs", jobs) == shmq::Status::ok);
        BOOST_REQUIRE(jobs.send("job-1", 5s) == shmq::Status::ok);
        first.kill_hard();
    }
    BrokerProcess second(*this, after, "second.log");
    second.wait_until_ready();
    BOOST_TEST_INFO("second broker's log:\n" << second.log());
    BOOST_TEST(contains(second.log(), "adopted segment"));
    BOOST_TEST(contains(second.log(), "max_deliveries 100 -> 1"));
    BOOST_TEST(contains(second.log(), "ack_timeout_ms 600000 -> 50"));

    const auto client = attach(name);
    auto jobs = open_queue(*client, "jobs");
    auto failed = open_queue(*client, "failed");
    std::string message;
    std::uint64_t delivery = 0;
    BOOST_REQUIRE(jobs.receive(message, 5s, &delivery) == shmq::Status::ok);
    BOOST_TEST(message == "job-1");
    // Never acknowledged: with the new settings its one delivery times out
    // after 50 ms and the broker moves it to `failed`. With the old ones it
    // would stay in flight for ten minutes.
    std::string dead;
    BOOST_TEST(failed.receive(dead, 15s) == shmq::Status::ok);
    BOOST_TEST(dead == "job-1");
    BOOST_TEST(second.stop() == 0);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// Issue 11: live configuration. SIGHUP, `shmq reload` and `shmqd --reload`
// re-read the file; one that does not load changes nothing.

namespace {

// A broker with an at_least_once queue `jobs` (its delivery limits given by
// `jobs_limits`) and a plain queue `failed`, plus `more` YAML for queues.
std::string reload_config(const std::string& name, const std::string& jobs_limits, const std::string& more = "") {
    return "broker:\n  name: " + name + "\n  liveness_interval_ms: 20\n"
           "queues:\n"
           "  - name: jobs\n    capacity: 8\n    max_message_size: 64\n    delivery: at_least_once\n"
           "    ack_timeout_ms: 50\n" + jobs_limits +
           "  - name: failed\n    capacity: 8\n    max_message_size: 64\n" + more;
}

void send_all(shmq::Queue& queue, const std::vector<std::string>& messages) {
    for (const auto& message : messages) BOOST_REQUIRE(queue.send(message, 5s) == shmq::Status::ok);
}

// Every message waiting in `queue`, acknowledged, in order.
std::vector<std::string> drain(shmq::Queue& queue) {
    std::vector<std::string> messages;
    std::string message;
    std::uint64_t delivery = 0;
    while (queue.receive(message, shmq::no_wait, &delivery) == shmq::Status::ok) {
        queue.acknowledge(delivery);
        messages.push_back(message);
    }
    return messages;
}

// `jobs` (one delivery each, dead letters to `dead_letter`) and `failed`,
// each of the capacity given; `access`: the keys after each queue's, the
// same for both (a dead-letter queue has its queue's access).
std::string dead_letter_config(const std::string& name, int jobs_capacity, int failed_capacity,
                               const std::string& dead_letter = "failed", const std::string& access = "") {
    return "broker:\n  name: " + name + "\n  liveness_interval_ms: 20\n"
           "queues:\n"
           "  - name: jobs\n    capacity: " + std::to_string(jobs_capacity) + "\n    max_message_size: 64\n"
           "    delivery: at_least_once\n    ack_timeout_ms: 60000\n    max_deliveries: 1\n" +
           (dead_letter.empty() ? "" : "    dead_letter: " + dead_letter + "\n") + access +
           "  - name: failed\n    capacity: " + std::to_string(failed_capacity) + "\n    max_message_size: 64\n" +
           access;
}

// Takes the next message of `queue` in a client of its own, which then
// detaches without acknowledging it: its one delivery has failed, and the
// broker moves it to the dead-letter queue at its next tick.
void fail_one_delivery(const std::string& broker, const std::string& queue, const std::string& expected) {
    const auto taker = attach(broker);
    shmq::Queue handle;
    BOOST_REQUIRE(taker->open_queue(queue, handle) == shmq::Status::ok);
    std::string message;
    std::uint64_t delivery = 0;
    BOOST_REQUIRE(handle.receive(message, 5s, &delivery) == shmq::Status::ok);
    BOOST_TEST(message == expected);
}

// Broker `name`, started on `config`, takes messages m1 and m2 into its
// queue `kept`, then is killed at crash point `step` of the reload of
// `reloaded` (which adds queue `added`). The next broker on that file must
// adopt the segments, keep both messages in `kept`, serve `added`, and find
// no changes when reloaded again. Returns the next broker's log.
std::string killed_while_adding(Workspace& workspace, const std::string& name, const fs::path& config,
                                const std::string& step, const std::string& kept, const std::string& reloaded,
                                const std::string& added) {
    {
        BrokerProcess doomed(workspace, config, "doomed.log", {"SHMQ_TEST_CRASH_AT=" + step});
        doomed.wait_until_ready();
        const auto client = attach(name);
        shmq::Queue queue;
        BOOST_REQUIRE(client->open_queue(kept, queue) == shmq::Status::ok);
        send_all(queue, {"m1", "m2"});
        workspace.write(config.filename().string(), reloaded);
        const auto unanswered = workspace.shmq({"--broker", name, "reload"});
        BOOST_TEST(unanswered.exit_code == 1);
        BOOST_TEST(doomed.wait_exit().value_or(-1) == 128 + SIGKILL);
    }
    BrokerProcess second(workspace, config, "second.log");
    second.wait_until_ready();
    BOOST_TEST_INFO("second broker's log:\n" << second.log());
    BOOST_TEST(contains(second.log(), "adopted"));
    const auto client = attach(name);
    shmq::Queue queue;
    shmq::Queue added_queue;
    BOOST_REQUIRE(client->open_queue(kept, queue) == shmq::Status::ok);
    BOOST_REQUIRE(client->open_queue(added, added_queue) == shmq::Status::ok);
    BOOST_TEST(drain(queue) == (std::vector<std::string>{"m1", "m2"}), boost::test_tools::per_element());
    send_all(added_queue, {"new"});
    BOOST_TEST(drain(added_queue) == (std::vector<std::string>{"new"}), boost::test_tools::per_element());
    const auto unchanged = workspace.shmq({"--broker", name, "reload"});
    BOOST_TEST(contains(unchanged.out, ": no changes"), unchanged.out << unchanged.err);
    BOOST_TEST(second.stop() == 0);
    return second.log();
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(live_reload, Workspace)

BOOST_AUTO_TEST_CASE(sighup_reloads_and_never_ends_the_broker) {
    const std::string name = unique_broker_name();
    SegmentGuard guard(name);
    const auto config = write("broker.yaml", reload_config(name, ""));
    BrokerProcess broker(*this, config);
    broker.wait_until_ready();
    const auto client = attach(name);
    shmq::Queue jobs;
    BOOST_REQUIRE(client->open_queue("jobs", jobs) == shmq::Status::ok);
    send_all(jobs, {"one", "two"});
    for (int signal = 0; signal < 3; ++signal) BOOST_REQUIRE(::kill(broker.pid(), SIGHUP) == 0);
    BOOST_TEST(eventually([&] { return contains(broker.log(), "reloaded " + config.string() + ": no changes"); },
                          broker_limit),
               "log:\n" << broker.log());
    BOOST_TEST(contains(broker.log(), "received SIGHUP, reloading the configuration"));
    BOOST_TEST(broker.running(), "SIGHUP ended the broker; log:\n" << broker.log());
    BOOST_TEST(drain(jobs) == (std::vector<std::string>{"one", "two"}), boost::test_tools::per_element());
    BOOST_TEST(broker.stop() == 0);
}

BOOST_AUTO_TEST_CASE(a_file_that_does_not_load_changes_nothing) {
    const std::string name = unique_broker_name();
    SegmentGuard guard(name);
    const auto config = write("broker.yaml", reload_config(name, "    max_deliveries: 100\n"));
    BrokerProcess broker(*this, config);
    broker.wait_until_ready();
    const auto client = attach(name);
    shmq::Queue jobs;
    BOOST_REQUIRE(client->open_queue("jobs", jobs) == shmq::Status::ok);
    send_all(jobs, {"a", "b", "c"});

    // Line 11 (dead_letter names no queue) and line 16 (capacity 0) are wrong.
    write("broker.yaml", reload_config(name, "    max_deliveries: 1\n    dead_letter: nowhere\n",
                                       "  - name: extra\n    capacity: 0\n    max_message_size: 64\n"));
    const auto refused = shmq({"--broker", name, "reload"});
    BOOST_TEST_INFO("stdout:\n" << refused.out << "stderr:\n" << refused.err);
    BOOST_TEST(refused.exit_code == 1);
    BOOST_TEST(contains(refused.err, "refused the reload"));
    BOOST_TEST(contains(refused.err, config.string() + ":16: key 'capacity'"));
    BOOST_TEST(contains(refused.err, "nowhere"));
    const auto through_shmqd = shmqd({"--config", config.string(), "--reload"});
    BOOST_TEST(through_shmqd.exit_code == 1);
    BOOST_TEST(contains(through_shmqd.err, config.string() + ":16: key 'capacity'"));
    BOOST_REQUIRE(::kill(broker.pid(), SIGHUP) == 0);
    BOOST_TEST(eventually([&] { return contains(broker.log(), "received SIGHUP"); }, broker_limit));

    // Nothing changed: no new queue, and the old limits hold: a delivery not
    // acknowledged comes back (the refused file allowed one delivery and
    // named a dead-letter queue), and every message is there in order.
    BOOST_TEST(broker.running(), "log:\n" << broker.log());
    BOOST_TEST(contains(broker.log(), "was not reloaded, nothing changed"));
    const auto fresh = attach(name);
    shmq::Queue extra;
    BOOST_TEST(fresh->open_queue("extra", extra) == shmq::Status::queue_not_found);
    std::string first;
    std::uint64_t delivery = 0;
    BOOST_REQUIRE(jobs.receive(first, 5s, &delivery) == shmq::Status::ok);
    BOOST_TEST(first == "a");
    // `a` comes back, as its second delivery, whenever its ack times out
    // (before, between or after b and c: the machine may be slow).
    std::vector<std::string> others;
    int redeliveries = 0;
    std::string message;
    while (others.size() < 2 || redeliveries == 0) {
        BOOST_REQUIRE(jobs.receive(message, 15s, &delivery) == shmq::Status::ok);
        if (message == "a") {
            ++redeliveries;
            BOOST_TEST(shmq::delivery_attempt(delivery) == 2);
        } else {
            others.push_back(message);
        }
        BOOST_TEST(jobs.acknowledge(delivery) == shmq::Status::ok);
    }
    BOOST_TEST(redeliveries == 1);
    BOOST_TEST(others == (std::vector<std::string>{"b", "c"}), boost::test_tools::per_element());
    BOOST_TEST(broker.stop() == 0);
}

BOOST_AUTO_TEST_CASE(delivery_limits_change_live_and_the_rest_is_reported_as_needing_a_restart) {
    const std::string name = unique_broker_name();
    SegmentGuard guard(name);
    const auto config = write("broker.yaml", reload_config(name, "    max_deliveries: 100\n"));
    BrokerProcess broker(*this, config);
    broker.wait_until_ready();
    // Attached before the reload, and used after it without reattaching.
    const auto client = attach(name);
    auto jobs = open_queue(*client, "jobs");
    auto failed = open_queue(*client, "failed");
    send_all(jobs, {"job-1"});

    // A broker setting cannot change live.
    auto changed = reload_config(name, "    max_deliveries: 1\n    dead_letter: failed\n");
    changed.replace(changed.find("liveness_interval_ms: 20"), 24, "liveness_interval_ms: 30");
    write("broker.yaml", changed);
    const auto reloaded = shmq({"--broker", name, "reload"});
    BOOST_TEST_INFO("stdout:\n" << reloaded.out << "stderr:\n" << reloaded.err);
    BOOST_TEST(reloaded.exit_code == 3);
    BOOST_TEST(contains(reloaded.out, "applied: queue 'jobs': max_deliveries 100 -> 1"));
    BOOST_TEST(contains(reloaded.out, "applied: queue 'jobs': dead_letter (none) -> 'failed'"));
    BOOST_TEST(contains(reloaded.out, "needs a restart: " + config.string() + ":3: key 'liveness_interval_ms': 20 -> 30"));

    // Live: the one delivery allowed is not acknowledged, its ack times out
    // after 50 ms and the broker moves the message to `failed`. Under the old
    // limits it would have been redelivered a hundred times.
    std::string message;
    std::uint64_t delivery = 0;
    BOOST_REQUIRE(jobs.receive(message, 5s, &delivery) == shmq::Status::ok);
    BOOST_TEST(message == "job-1");
    std::string dead;
    BOOST_TEST(failed.receive(dead, 15s) == shmq::Status::ok);
    BOOST_TEST(dead == "job-1");

    // A second reload of the same file has nothing left to apply, and still
    // says what needs a restart; through shmqd --reload (ExecReload=) too.
    const auto again = shmqd({"--config", config.string(), "--reload"});
    BOOST_TEST_INFO("stdout:\n" << again.out << "stderr:\n" << again.err);
    BOOST_TEST(again.exit_code == 3);
    BOOST_TEST(!contains(again.out, "applied:"));
    BOOST_TEST(contains(again.out, "liveness_interval_ms"));
    BOOST_TEST(broker.stop() == 0);
}

BOOST_AUTO_TEST_CASE(a_broker_killed_mid_reload_restarts_on_the_file_with_every_message) {
    const std::string name = unique_broker_name();
    SegmentGuard guard(name);
    const auto config = write("broker.yaml", reload_config(name, "    max_deliveries: 100\n"));
    {
        // Killed after the reload reached the segment, before it answered.
        BrokerProcess doomed(*this, config, "doomed.log", {"SHMQ_TEST_CRASH_AT=reload_applied"});
        doomed.wait_until_ready();
        const auto client = attach(name);
        shmq::Queue jobs;
        BOOST_REQUIRE(client->open_queue("jobs", jobs) == shmq::Status::ok);
        send_all(jobs, {"m1", "m2", "m3"});
        write("broker.yaml", reload_config(name, "    max_deliveries: 1\n    dead_letter: failed\n"));
        const auto unanswered = shmq({"--broker", name, "reload"});
        BOOST_TEST_INFO("stderr:\n" << unanswered.err);
        BOOST_TEST(unanswered.exit_code == 1);
        BOOST_TEST(contains(unanswered.err, "broker_stopped"));
        BOOST_TEST(doomed.wait_exit().value_or(-1) == 128 + SIGKILL);
    }
    BrokerProcess second(*this, config, "second.log");
    second.wait_until_ready();
    BOOST_TEST_INFO("second broker's log:\n" << second.log());
    BOOST_TEST(contains(second.log(), "adopted"));
    const auto reloaded = shmq({"--broker", name, "reload"});
    BOOST_TEST(reloaded.exit_code == 0);
    BOOST_TEST(contains(reloaded.out, ": no changes"));
    // On the new limits: m1, delivered once and not acknowledged, moves to
    // `failed`; m2 and m3 wait in order. Nothing lost, nothing twice.
    const auto client = attach(name);
    auto jobs = open_queue(*client, "jobs");
    auto failed = open_queue(*client, "failed");
    std::string message;
    std::uint64_t delivery = 0;
    BOOST_REQUIRE(jobs.receive(message, 5s, &delivery) == shmq::Status::ok);
    BOOST_TEST(message == "m1");
    BOOST_TEST(failed.receive(message, 15s) == shmq::Status::ok);
    BOOST_TEST(message == "m1");
    BOOST_TEST(drain(jobs) == (std::vector<std::string>{"m2", "m3"}), boost::test_tools::per_element());
    BOOST_TEST(drain(failed).empty());
    BOOST_TEST(second.stop() == 0);
}

// Queues and topics added to the file are usable at once, by clients that
// attached before the reload too, and by other processes; they are in the
// stats; and a broker killed afterwards adopts them with their messages.
BOOST_AUTO_TEST_CASE(queues_and_topics_added_are_usable_at_once_and_survive_a_crash) {
    const std::string name = unique_broker_name();
    SegmentGuard guard(name);
    SegmentGuard first_live(name + ".live-1");
    SegmentGuard second_live(name + ".live-2");
    const auto config = write("broker.yaml", reload_config(name, ""));
    std::optional<BrokerProcess> broker(std::in_place, *this, config);
    broker->wait_until_ready();
    const auto before = attach(name);
    shmq::Queue added;
    BOOST_TEST(before->open_queue("added", added) == shmq::Status::queue_not_found);

    write("broker.yaml", reload_config(name, "",
                                       "  - name: added\n    capacity: 4\n    max_message_size: 64\n"
                                       "topics:\n  - name: news\n    capacity: 4\n    max_message_size: 64\n"));
    const auto reloaded = shmq({"--broker", name, "reload"});
    BOOST_TEST_INFO("stdout:\n" << reloaded.out << "stderr:\n" << reloaded.err);
    BOOST_TEST(reloaded.exit_code == 0);
    BOOST_TEST(contains(reloaded.out, "applied: queue 'added' added"));
    BOOST_TEST(contains(reloaded.out, "applied: topic 'news' added"));

    // The client attached before the reload uses them without reattaching.
    BOOST_REQUIRE(before->open_queue("added", added) == shmq::Status::ok);
    shmq::Subscription news;
    BOOST_REQUIRE(before->subscribe("news", news) == shmq::Status::ok);
    send_all(added, {"a1", "a2"});
    const auto published = shmq({"--broker", name, "publish", "--topic", "news", "headline"});
    BOOST_TEST(published.exit_code == 0, published.err);
    std::string message;
    BOOST_TEST(news.receive(message, 5s) == shmq::Status::ok);
    BOOST_TEST(message == "headline");
    // Another process finds what this one sent.
    const auto consumed = shmq({"--broker", name, "consume", "added", "--count", "1", "--timeout", "5000"});
    BOOST_TEST(consumed.exit_code == 0, consumed.err);
    BOOST_TEST(consumed.out == "a1\n");
    const auto names = before->queue_names();
    BOOST_TEST((std::find(names.begin(), names.end(), "added") != names.end()));
    const auto listed = shmq({"--broker", name, "list"});
    BOOST_TEST(contains(listed.out, "added"), listed.out);
    BOOST_TEST(contains(listed.out, "news"), listed.out);

    // A second reload adds a second live segment; the first keeps its message.
    write("broker.yaml", reload_config(name, "",
                                       "  - name: added\n    capacity: 4\n    max_message_size: 64\n"
                                       "  - name: later\n    capacity: 4\n    max_message_size: 64\n"
                                       "topics:\n  - name: news\n    capacity: 4\n    max_message_size: 64\n"));
    const auto again = shmq({"--broker", name, "reload"});
    BOOST_TEST(again.exit_code == 0, again.out << again.err);
    BOOST_TEST(contains(again.out, "applied: queue 'later' added"));
    BOOST_TEST(!contains(again.out, "'added' added"));
    shmq::Queue later;
    BOOST_REQUIRE(before->open_queue("later", later) == shmq::Status::ok);
    send_all(later, {"l1"});

    // Killed, and started again on the same file: every segment adopted.
    broker->kill_hard();
    broker.emplace(*this, config, "second.log");
    broker->wait_until_ready();
    BOOST_TEST_INFO("second broker's log:\n" << broker->log());
    BOOST_TEST(contains(broker->log(), "adopted"));
    const auto after = attach(name);
    BOOST_REQUIRE(after->open_queue("added", added) == shmq::Status::ok);
    BOOST_REQUIRE(after->open_queue("later", later) == shmq::Status::ok);
    BOOST_TEST(drain(added) == (std::vector<std::string>{"a2"}), boost::test_tools::per_element());
    BOOST_TEST(drain(later) == (std::vector<std::string>{"l1"}), boost::test_tools::per_element());
    const auto unchanged = shmq({"--broker", name, "reload"});
    BOOST_TEST(unchanged.exit_code == 0);
    BOOST_TEST(contains(unchanged.out, ": no changes"), unchanged.out);
    BOOST_TEST(fs::exists("/dev/shm/" + name + ".live-1"));
    BOOST_TEST(broker->stop() == 0);
    // A clean stop removes the live segments with the main one.
    BOOST_TEST(!fs::exists("/dev/shm/" + name + ".live-1"));
}

// A queue added live whose dead-letter queue the broker already runs: its
// dead letters cross from the new live segment into the main one. A queue
// added with a dead_letter that an earlier reload removed (the file has the
// name again, which needs a restart) is not added: it is reported as needing
// a restart, with the reason, and the rest of the reload applies.
BOOST_AUTO_TEST_CASE(a_queue_added_live_dead_letters_into_a_queue_the_broker_runs) {
    const std::string name = unique_broker_name();
    SegmentGuard guard(name);
    SegmentGuard first_live(name + ".live-1");
    SegmentGuard second_live(name + ".live-2");
    const auto config = write("broker.yaml", reload_config(name, ""));
    BrokerProcess broker(*this, config);
    broker.wait_until_ready();
    const std::string retries = "  - name: retries\n    capacity: 4\n    max_message_size: 64\n"
                                "    delivery: at_least_once\n    max_deliveries: 1\n    dead_letter: failed\n";
    const std::string fresh = "  - name: fresh\n    capacity: 4\n    max_message_size: 64\n";
    write("broker.yaml", reload_config(name, "", retries + fresh));
    const auto added = shmq({"--broker", name, "reload"});
    BOOST_TEST_INFO("stdout:\n" << added.out << "stderr:\n" << added.err << "log:\n" << broker.log());
    BOOST_TEST(added.exit_code == 0);
    BOOST_TEST(contains(added.out, "applied: queue 'retries' added"));
    BOOST_TEST(contains(added.out, "applied: queue 'fresh' added"));
    const auto client = attach(name);
    auto queue = open_queue(*client, "retries");
    auto failed = open_queue(*client, "failed");
    send_all(queue, {"r1"});
    fail_one_delivery(name, "retries", "r1");
    std::string message;
    BOOST_TEST(failed.receive(message, 15s) == shmq::Status::ok);
    BOOST_TEST(message == "r1");

    write("broker.yaml", reload_config(name, "", retries));
    BOOST_REQUIRE(shmq({"--broker", name, "reload"}).exit_code == 0);  // fresh removed
    const std::string late = "  - name: late\n    capacity: 4\n    max_message_size: 64\n"
                             "    delivery: at_least_once\n    dead_letter: fresh\n";
    const std::string other = "  - name: other\n    capacity: 4\n    max_message_size: 64\n";
    write("broker.yaml", reload_config(name, "", retries + fresh + late + other));
    const auto refused = shmq({"--broker", name, "reload"});
    BOOST_TEST_INFO("stdout:\n" << refused.out << "stderr:\n" << refused.err);
    BOOST_TEST(refused.exit_code == 3);
    BOOST_TEST(contains(refused.out, "queue 'late' added (dead_letter 'fresh' was removed by an earlier reload)"));
    BOOST_TEST(contains(refused.out, "applied: queue 'other' added"));
    BOOST_TEST(client->open_queue("other", queue) == shmq::Status::ok);
    BOOST_TEST(client->open_queue("late", queue) == shmq::Status::queue_not_found);
    BOOST_TEST(broker.stop() == 0);
}

// The broker killed after it built a live segment but before it listed it,
// and killed just after listing it: either way the next broker, started on
// the file, keeps every message of the old queues and serves the new one.
BOOST_AUTO_TEST_CASE(a_broker_killed_while_adding_a_live_segment_recovers) {
    for (const std::string step : {"live_segment_built", "live_segment_listed"}) {
        BOOST_TEST_CONTEXT("killed at " << step) {
            const std::string name = unique_broker_name();
            SegmentGuard guard(name);
            SegmentGuard live(name + ".live-1");
            const auto config = write("broker.yaml", reload_config(name, ""));
            const auto log = killed_while_adding(
                *this, name, config, step, "jobs",
                reload_config(name, "", "  - name: added\n    capacity: 4\n    max_message_size: 64\n"), "added");
            // The live segment, listed or not, runs (adopted or built anew).
            BOOST_TEST(contains(log, name + ".live-1' ready"), log);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// Issue 14 item 5 and issue 11 item 5: logs an operator can use, and the
// signals an operator sends by habit.

namespace {

// A broker whose segment is the file `segment` (persist_path), so that it
// outlives a clean stop; `interval` is its liveness tick.
std::string persistent_config(const std::string& name, const fs::path& segment, int interval = 20) {
    return "broker:\n  name: " + name + "\n  persist_path: " + segment.string() +
           "\n  liveness_interval_ms: " + std::to_string(interval) +
           "\nqueues:\n  - name: q\n    capacity: 8\n    max_message_size: 64\n";
}

std::size_t count_lines_with(const std::string& text, const std::string& part) {
    std::size_t count = 0;
    for (const auto& line : lines_of(text)) count += contains(line, part) ? 1 : 0;
    return count;
}

// The files rotated from `log` beside it (LOG.YYYYmmdd-HHMMSS.N).
std::vector<fs::path> rotated_files(const fs::path& log) {
    std::vector<fs::path> found;
    for (const auto& entry : fs::directory_iterator(log.parent_path())) {
        const auto name = entry.path().filename().string();
        if (name.rfind(log.filename().string() + ".", 0) == 0) found.push_back(entry.path());
    }
    return found;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(operator_logs, Workspace)

BOOST_AUTO_TEST_CASE(a_clean_stop_then_a_start_is_logged_as_a_clean_stop) {
    const std::string name = unique_broker_name();
    const auto segment = directory() / "segment";
    const auto config = write("p.yaml", persistent_config(name, segment));
    pid_t first_pid = -1;
    {
        BrokerProcess first(*this, config, "first.log");
        first.wait_until_ready();
        first_pid = first.pid();
        const auto client = attach(segment.string());
        shmq::Queue queue;
        BOOST_REQUIRE(client->open_queue("q", queue) == shmq::Status::ok);
        BOOST_REQUIRE(queue.send("kept", 5s) == shmq::Status::ok);
        BOOST_TEST(first.stop() == 0, "log:\n" << first.log());
    }
    BrokerProcess second(*this, config, "second.log");
    second.wait_until_ready();
    const std::string log = second.log();
    BOOST_TEST_INFO("second broker's log:\n" << log);
    BOOST_TEST(contains(log, "resuming the segment '" + segment.string() +
                                 "' left by a clean stop of broker pid " + std::to_string(first_pid) + " at 20"));
    BOOST_TEST(contains(log, "1 queued messages kept"));
    BOOST_TEST(!contains(log, "died"));
    BOOST_TEST(!contains(log, "[warning]"));
    const auto client = attach(segment.string());
    shmq::Queue queue;
    BOOST_REQUIRE(client->open_queue("q", queue) == shmq::Status::ok);
    std::string message;
    BOOST_TEST(queue.receive(message, 5s) == shmq::Status::ok);
    BOOST_TEST(message == "kept");
    BOOST_TEST(second.stop() == 0);
}

BOOST_AUTO_TEST_CASE(a_kill_then_a_start_is_logged_as_a_death) {
    const std::string name = unique_broker_name();
    const auto persistent = write("p.yaml", persistent_config(name, directory() / "segment"));
    const std::string memory_name = unique_broker_name();
    SegmentGuard guard(memory_name);
    const auto in_memory = write("m.yaml", with_broker_keys(memory_name, ""));
    for (const auto& config : {persistent, in_memory}) {
        pid_t first_pid = -1;
        {
            BrokerProcess first(*this, config, "first.log");
            first.wait_until_ready();
            first_pid = first.pid();
            first.kill_hard();
        }
        BrokerProcess second(*this, config, "second.log");
        second.wait_until_ready();
        const std::string log = second.log();
        BOOST_TEST_INFO(config << ": second broker's log:\n" << log);
        BOOST_TEST(contains(log, "left by broker pid " + std::to_string(first_pid) + ", which died"));
        BOOST_TEST(!contains(log, "clean stop"));
        BOOST_TEST(second.stop() == 0);
    }
}

// 50 clients attach and detach within one tick of a second: the broker,
// which reads its client table once a tick, logs every one of them.
BOOST_AUTO_TEST_CASE(every_attach_and_detach_is_logged_even_within_one_tick) {
    const std::string name = unique_broker_name();
    SegmentGuard guard(name);
    const auto config = write("b.yaml", with_broker_keys(name, "  liveness_interval_ms: 1000\n"));
    BrokerProcess broker(*this, config);
    broker.wait_until_ready();
    constexpr int clients = 50;
    for (int index = 0; index < clients; ++index) attach(name, "blink-" + std::to_string(index));
    const auto all_logged = [&] {
        const auto log = broker.log();
        return count_lines_with(log, "(blink-") == 2 * clients;
    };
    BOOST_TEST(eventually(all_logged, broker_limit), "log:\n" << broker.log());
    const std::string log = broker.log();
    BOOST_TEST_INFO("log:\n" << log);
    const std::string pid = std::to_string(::getpid());
    for (int index = 0; index < clients; ++index) {
        const std::string who = "client pid " + pid + " (blink-" + std::to_string(index) + ") ";
        BOOST_TEST(count_lines_with(log, who + "attached as record ") == 1u, who);
        BOOST_TEST(count_lines_with(log, who + "detached from record ") == 1u, who);
    }
    // A detach says how long the client was attached.
    for (const auto& line : lines_of(log)) {
        if (contains(line, "(blink-") && contains(line, " detached from record ")) {
            BOOST_TEST((contains(line, " after ") && line.substr(line.size() - 2) == " s"), line);
        }
    }
    BOOST_TEST(!contains(log, "were not logged"));
    BOOST_TEST(broker.stop() == 0);
}

BOOST_AUTO_TEST_CASE(the_log_file_rotates_by_size_and_keeps_a_bounded_number) {
    const std::string name = unique_broker_name();
    SegmentGuard guard(name);
    const auto config = write("b.yaml", with_broker_keys(name, "  liveness_interval_ms: 20\n"));
    const auto log_file = directory() / "logs" / "shmqd.log";
    fs::create_directories(log_file.parent_path());
    BrokerProcess broker(*this, config, "broker.log", {},
                         {"--log-file", log_file.string(), "--log-rotate-size", "1K", "--log-keep", "3"});
    broker.wait_until_ready();
    // About 100 bytes a line, two lines a client: 1 KiB every 5 clients.
    std::size_t most_kept = 0;
    for (int index = 0; index < 100; ++index) {
        attach(name, "rotation-" + std::to_string(index));
        most_kept = std::max(most_kept, rotated_files(log_file).size());
    }
    BOOST_TEST(eventually([&] { return count_lines_with(broker.log(), "(rotation-99) detached") == 1; }, broker_limit));
    BOOST_TEST(eventually([&] { return rotated_files(log_file).size() == 3; }, broker_limit),
               rotated_files(log_file).size() << " rotated files");
    // One more only while a rotation is under way (renamed, the oldest not yet deleted).
    BOOST_TEST(most_kept <= 4u);
    for (const auto& rotated : rotated_files(log_file)) {
        // Rotated before the line that would take it past the size.
        BOOST_TEST(fs::file_size(rotated) <= 1024u, rotated);
        BOOST_TEST(fs::file_size(rotated) > 512u, rotated);
        BOOST_TEST(contains(read_file(rotated), " [info] "), rotated);
    }
    // The newest lines are in the file of the configured name.
    BOOST_TEST(contains(read_file(log_file), "(rotation-99) detached"), read_file(log_file));
    BOOST_TEST(broker.stop() == 0);
}

BOOST_AUTO_TEST_CASE(rotation_options_are_checked) {
    const auto config = write("b.yaml", with_broker_keys("unused", ""));
    const auto log_file = (directory() / "shmqd.log").string();
    const auto without_file = shmqd({"--config", config.string(), "--log-rotate-every", "hour"});
    BOOST_TEST(without_file.exit_code == 2);
    BOOST_TEST(contains(without_file.err, "--log-rotate-every needs --log-file"), without_file.err);
    for (const auto& [option, value] : std::vector<std::pair<std::string, std::string>>{
             {"--log-rotate-size", "10X"}, {"--log-rotate-size", "0"}, {"--log-rotate-every", "week"},
             {"--log-keep", "0"}}) {
        const auto refused = shmqd({"--config", config.string(), "--log-file", log_file, option, value});
        BOOST_TEST(refused.exit_code == 2, option << " " << value);
        const std::string said = "('" + value + "') for option '" + option.substr(2) + "' is invalid";
        BOOST_TEST(contains(refused.err, said), refused.err);
    }
}

// A log file that cannot be opened stops a console broker's start (exit 1),
// the message saying what is wrong with the path.
BOOST_AUTO_TEST_CASE(an_unopenable_log_file_is_refused_saying_why) {
    const auto config = write("b.yaml", with_broker_keys("unused", ""));
    const auto missing = directory() / "missing";
    const auto in_missing = shmqd({"--config", config.string(), "--log-file", (missing / "shmqd.log").string()});
    BOOST_TEST(in_missing.exit_code == 1);
    BOOST_TEST(contains(in_missing.err, "its folder '" + missing.string() + "' does not exist"), in_missing.err);
    const auto a_folder = shmqd({"--config", config.string(), "--log-file", directory().string()});
    BOOST_TEST(a_folder.exit_code == 1);
    BOOST_TEST(contains(a_folder.err, "cannot open log file '" + directory().string() + "': it is a folder"),
               a_folder.err);
}

// What logrotate does: rename the file, then SIGUSR1 (postrotate).
BOOST_AUTO_TEST_CASE(sigusr1_after_a_rename_starts_a_new_log_file) {
    const std::string name = unique_broker_name();
    SegmentGuard guard(name);
    const auto config = write("b.yaml", with_broker_keys(name, "  liveness_interval_ms: 20\n"));
    const auto log_file = directory() / "shmqd.log";
    const auto renamed = directory() / "shmqd.log.1";
    BrokerProcess broker(*this, config, "broker.log", {}, {"--log-file", log_file.string()});
    broker.wait_until_ready();
    BOOST_TEST(contains(read_file(log_file), "ready:"));
    fs::rename(log_file, renamed);
    attach(name, "before-reopen");
    BOOST_REQUIRE(eventually([&] { return contains(read_file(renamed), "(before-reopen) detached"); }, broker_limit));
    BOOST_REQUIRE(::kill(broker.pid(), SIGUSR1) == 0);
    BOOST_REQUIRE_MESSAGE(eventually([&] { return contains(broker.log(), "received SIGUSR1, reopened the log file"); },
                                     broker_limit),
                          "log:\n" << broker.log());
    attach(name, "after-reopen");
    BOOST_TEST(eventually([&] { return contains(read_file(log_file), "(after-reopen) detached"); }, broker_limit),
               "new file:\n" << read_file(log_file));
    BOOST_TEST(!contains(read_file(renamed), "after-reopen"));
    BOOST_TEST(broker.running());
    BOOST_TEST(broker.stop() == 0);
    BOOST_TEST(contains(read_file(log_file), "stopped; segment removed"));
}

BOOST_AUTO_TEST_CASE(signals_sent_by_habit_never_end_the_broker_uncleanly) {
    const std::string name = unique_broker_name();
    SegmentGuard guard(name);
    const auto config = write("b.yaml", with_broker_keys(name, "  liveness_interval_ms: 20\n"));
    BrokerProcess broker(*this, config, "broker.log", {}, {"--log-level", "debug"});
    broker.wait_until_ready();
    for (const auto& [signal, logged] : std::vector<std::pair<int, std::string>>{
             {SIGUSR2, "received SIGUSR2, ignored"},
             {SIGPIPE, "received SIGPIPE, ignored"},
             {SIGUSR1, "received SIGUSR1, reopened the log file"},
             {SIGHUP, "received SIGHUP, reloading the configuration"}}) {
        BOOST_REQUIRE(::kill(broker.pid(), signal) == 0);
        BOOST_TEST(eventually([&] { return contains(broker.log(), logged); }, broker_limit), logged);
        BOOST_TEST(broker.running(), logged << "; log:\n" << broker.log());
    }
    // Still serving.
    const auto client = attach(name);
    shmq::Queue queue;
    BOOST_REQUIRE(client->open_queue("q", queue) == shmq::Status::ok);
    BOOST_TEST(queue.send("still here", 5s) == shmq::Status::ok);
    BOOST_TEST(broker.stop() == 0);

    // Each of these stops it cleanly: exit 0, the segment removed.
    for (const auto& [signal, signal_name] :
         std::vector<std::pair<int, std::string>>{{SIGTERM, "SIGTERM"}, {SIGINT, "SIGINT"}, {SIGQUIT, "SIGQUIT"}}) {
        BrokerProcess stopped(*this, config, signal_name + ".log");
        stopped.wait_until_ready();
        BOOST_REQUIRE(::kill(stopped.pid(), signal) == 0);
        const auto code = stopped.wait_exit();
        BOOST_TEST_INFO(signal_name << " log:\n" << stopped.log());
        BOOST_TEST(code.value_or(-1) == 0);
        BOOST_TEST(contains(stopped.log(), "received " + signal_name + ", stopping"));
        BOOST_TEST(contains(stopped.log(), "stopped; segment removed"));
        BOOST_TEST(!fs::exists("/dev/shm/" + name));
    }
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// Issue 11: live removal. A queue or topic removed from the file is retired
// at once: it takes no more messages (queue_removed), its consumers drain
// what it held and then get queue_removed too, and a restart drops it.

namespace {

// A queue `work` (and, unless `with_work` is false, nothing else changes)
// beside the queues of reload_config; `more` as there.
std::string removal_config(const std::string& name, bool with_work, const std::string& more = "") {
    return reload_config(name, "",
                         (with_work ? "  - name: work\n    capacity: 64\n    max_message_size: 64\n" : "") + more);
}

// A broker of a name of its own, running and ready on the workspace's
// broker.yaml (removal_config(name, with_work, more)); its segment is removed
// however the test ends.
struct RemovalBroker {
    RemovalBroker(Workspace& workspace, bool with_work, const std::string& more = "")
        : name(unique_broker_name()),
          guard(name),
          config(workspace.write("broker.yaml", removal_config(name, with_work, more))),
          process(workspace, config) {
        process.wait_until_ready();
    }

    const std::string name;
    SegmentGuard guard;
    const fs::path config;
    BrokerProcess process;
};

// Counters in memory shared with forked children.
struct SharedCounters {
    std::atomic<int> sent{0};      // sends the producer saw succeed
    std::atomic<int> received{0};  // messages the consumer received
    std::atomic<int> ready{0};     // children in place
};

SharedCounters& shared_counters() {
    void* memory = ::mmap(nullptr, sizeof(SharedCounters), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    BOOST_REQUIRE(memory != MAP_FAILED);
    return *new (memory) SharedCounters;
}

// Forks a child that runs `body` and exits with what it returns, never
// returning into the test framework.
pid_t fork_running(const std::function<int()>& body) {
    const pid_t pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
        int code = 90;
        try {
            code = body();
        } catch (...) {
            code = 91;
        }
        ::_exit(code);
    }
    return pid;
}

// Exit codes of the children: 0 when they saw what they must.
constexpr int child_ok = 0;
constexpr int child_failed = 1;

std::unique_ptr<shmq::Client> attach_in_child(const std::string& broker) {
    shmq::AttachOptions options;
    options.broker = broker;
    std::unique_ptr<shmq::Client> client;
    if (shmq::Client::attach(options, client) != shmq::Status::ok) ::_exit(child_failed);
    return client;
}

// Set-aside segments of broker `name` in /dev/shm.
std::vector<fs::path> set_aside_of(const std::string& name) {
    std::vector<fs::path> found;
    for (const auto& entry : fs::directory_iterator("/dev/shm")) {
        if (entry.path().filename().string().rfind(name + ".stale-", 0) == 0) found.push_back(entry.path());
    }
    return found;
}

// Removes them however the test ends.
class SetAsideGuard {
public:
    explicit SetAsideGuard(std::string name) : name_(std::move(name)) {}
    ~SetAsideGuard() {
        for (const auto& path : set_aside_of(name_)) {
            std::error_code ignored;
            fs::remove(path, ignored);
        }
    }
    SetAsideGuard(const SetAsideGuard&) = delete;
    SetAsideGuard& operator=(const SetAsideGuard&) = delete;

private:
    std::string name_;
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(live_removal, Workspace)

// A producer sends numbered messages as fast as the queue takes them and a
// slow consumer receives them, so that the queue is full when it is removed:
// the producer gets queue_removed, the consumer receives every message that
// was sent ok, in order, and then queue_removed. A receiver blocked on an
// empty queue removed with it wakes with queue_removed.
BOOST_AUTO_TEST_CASE(a_removed_queue_refuses_sends_and_is_drained_by_its_consumers) {
    const std::string idle = "  - name: idle\n    capacity: 4\n    max_message_size: 64\n";
    RemovalBroker running(*this, true, idle);
    const auto& name = running.name;
    auto& broker = running.process;
    auto& counters = shared_counters();

    const pid_t producer = fork_running([&] {
        auto client = attach_in_child(name);
        shmq::Queue work;
        if (client->open_queue("work", work) != shmq::Status::ok) return child_failed;
        for (int number = 0;; ++number) {
            const auto status = work.send("m" + std::to_string(number), 20s);
            if (status == shmq::Status::queue_removed) return child_ok;
            if (status != shmq::Status::ok) return child_failed;
            counters.sent.fetch_add(1);
        }
    });
    const pid_t consumer = fork_running([&] {
        auto client = attach_in_child(name);
        shmq::Queue work;
        if (client->open_queue("work", work) != shmq::Status::ok) return child_failed;
        for (int expected = 0;; ++expected) {
            std::string message;
            const auto status = work.receive(message, 20s);
            if (status == shmq::Status::queue_removed) return child_ok;
            if (status != shmq::Status::ok || message != "m" + std::to_string(expected)) return child_failed;
            counters.received.fetch_add(1);
            std::this_thread::sleep_for(1ms);  // slower than the producer: the queue fills
        }
    });
    const pid_t blocked = fork_running([&] {
        auto client = attach_in_child(name);
        shmq::Queue queue;
        if (client->open_queue("idle", queue) != shmq::Status::ok) return child_failed;
        counters.ready.fetch_add(1);
        std::string message;
        return queue.receive(message, shmq::wait_forever) == shmq::Status::queue_removed ? child_ok : child_failed;
    });
    BOOST_REQUIRE(eventually([&] { return counters.sent.load() >= 100 && counters.ready.load() == 1; }, 20s));

    write("broker.yaml", removal_config(name, false));
    const auto reloaded = shmq({"--broker", name, "reload"});
    BOOST_TEST_INFO("stdout:\n" << reloaded.out << "stderr:\n" << reloaded.err);
    BOOST_TEST(reloaded.exit_code == 0);
    BOOST_TEST(contains(reloaded.out, "applied: queue 'work' removed"));
    BOOST_TEST(contains(reloaded.out, "applied: queue 'idle' removed"));

    BOOST_TEST(wait_for_exit(producer, 30s).value_or(-1) == child_ok);
    BOOST_TEST(wait_for_exit(consumer, 30s).value_or(-1) == child_ok);
    BOOST_TEST(wait_for_exit(blocked, 30s).value_or(-1) == child_ok);
    BOOST_TEST(counters.received.load() == counters.sent.load());
    BOOST_TEST(contains(broker.log(), "queue 'work' retired"), broker.log());

    // The name stays, retired: opening it says so, and list and stats show it.
    const auto client = attach(name);
    shmq::Queue work;
    BOOST_TEST(client->open_queue("work", work) == shmq::Status::queue_removed);
    const auto listed = shmq({"--broker", name, "list"});
    BOOST_TEST(contains(listed.out, "REMOVED"), listed.out);
    for (const auto& line : lines_of(listed.out)) {
        if (line.rfind("work ", 0) == 0 || line.rfind("jobs ", 0) == 0) {
            BOOST_TEST(contains(line, line.rfind("work", 0) == 0 ? " yes" : " no"), line);
        }
    }
    const auto stats = shmq({"--broker", name, "stats", "--json"});
    BOOST_TEST(contains(stats.out, "\"name\": \"work\""), stats.out);
    BOOST_TEST(contains(stats.out, "\"removed\": true"), stats.out);
    const auto metrics = shmq({"--broker", name, "stats", "--prometheus"});
    BOOST_TEST(contains(metrics.out, "shmq_queue_removed{broker=\"" + name + "\",queue=\"work\"} 1"), metrics.out);

    // Adding the name back needs a restart, and says why.
    write("broker.yaml", removal_config(name, true));
    const auto readded = shmq({"--broker", name, "reload"});
    BOOST_TEST(readded.exit_code == 3);
    BOOST_TEST(contains(readded.out, "queue 'work' added again, but an earlier reload removed it"), readded.out);
    BOOST_TEST(broker.stop() == 0);
}

// A subscriber reads what was published before the removal and then gets
// queue_removed, woken from its wait; publish, loan, open and subscribe are
// refused with queue_removed.
BOOST_AUTO_TEST_CASE(a_removed_topic_ends_its_subscriptions_after_what_was_published) {
    const std::string news = "topics:\n  - name: news\n    capacity: 8\n    max_message_size: 64\n";
    RemovalBroker running(*this, false, news);
    const auto& name = running.name;
    auto& broker = running.process;
    auto& counters = shared_counters();
    const pid_t subscriber = fork_running([&] {
        auto client = attach_in_child(name);
        shmq::Subscription subscription;
        if (client->subscribe("news", subscription) != shmq::Status::ok) return child_failed;
        counters.ready.fetch_add(1);
        for (int expected = 0;; ++expected) {
            std::string message;
            const auto status = subscription.receive(message, shmq::wait_forever);
            if (status == shmq::Status::queue_removed) return child_ok;
            if (status != shmq::Status::ok || message != "n" + std::to_string(expected)) return child_failed;
            counters.received.fetch_add(1);
        }
    });
    BOOST_REQUIRE(eventually([&] { return counters.ready.load() == 1; }, 20s));
    const auto client = attach(name);
    shmq::Topic topic;
    BOOST_REQUIRE(client->open_topic("news", topic) == shmq::Status::ok);
    // Read by the subscriber, which then waits for more.
    for (int number = 0; number < 3; ++number) {
        BOOST_REQUIRE(topic.publish("n" + std::to_string(number), 5s) == shmq::Status::ok);
    }
    BOOST_REQUIRE(eventually([&] { return counters.received.load() == 3; }, 20s));
    // Not read yet by this one, subscribed from now on.
    shmq::Subscription late;
    BOOST_REQUIRE(client->subscribe("news", late) == shmq::Status::ok);
    BOOST_REQUIRE(topic.publish("n3", 5s) == shmq::Status::ok);

    write("broker.yaml", removal_config(name, false));
    const auto reloaded = shmq({"--broker", name, "reload"});
    BOOST_TEST(reloaded.exit_code == 0, reloaded.out << reloaded.err);
    BOOST_TEST(contains(reloaded.out, "applied: topic 'news' removed"), reloaded.out);
    BOOST_TEST(wait_for_exit(subscriber, 30s).value_or(-1) == child_ok);
    BOOST_TEST(counters.received.load() == 4);

    std::string message;
    BOOST_TEST(late.receive(message, 5s) == shmq::Status::ok);
    BOOST_TEST(message == "n3");
    BOOST_TEST(late.receive(message, 5s) == shmq::Status::queue_removed);
    BOOST_TEST(topic.publish("n4", 5s) == shmq::Status::queue_removed);
    shmq::Loan loan;
    BOOST_TEST(topic.loan(8, loan, 5s) == shmq::Status::queue_removed);
    shmq::Subscription again;
    BOOST_TEST(client->subscribe("news", again) == shmq::Status::queue_removed);
    BOOST_TEST(client->open_topic("news", topic) == shmq::Status::queue_removed);
    const auto listed = shmq({"--broker", name, "list", "--json"});
    BOOST_TEST(contains(listed.out, "\"removed\": true"), listed.out);
    BOOST_TEST(broker.stop() == 0);
}

// at_least_once: a delivery held when the queue is removed can still be
// acknowledged, and one whose consumer dies is delivered again to the
// consumer that is left; only then does it get queue_removed.
BOOST_AUTO_TEST_CASE(deliveries_of_a_removed_queue_are_acknowledged_or_delivered_again) {
    const std::string name = unique_broker_name();
    SegmentGuard guard(name);
    const auto with_tasks = [&](bool tasks) {
        return "broker:\n  name: " + name + "\n  liveness_interval_ms: 20\nqueues:\n"
               "  - name: kept\n    capacity: 4\n    max_message_size: 64\n" +
               std::string(tasks ? "  - name: tasks\n    capacity: 8\n    max_message_size: 64\n"
                                   "    delivery: at_least_once\n    ack_timeout_ms: 600000\n"
                                 : "");
    };
    const auto config = write("broker.yaml", with_tasks(true));
    BrokerProcess broker(*this, config);
    broker.wait_until_ready();
    const auto client = attach(name);
    shmq::Queue tasks;
    BOOST_REQUIRE(client->open_queue("tasks", tasks) == shmq::Status::ok);
    send_all(tasks, {"t1", "t2", "t3"});
    auto& counters = shared_counters();
    // Takes t1 and dies holding it.
    const pid_t doomed = fork_running([&] {
        auto child = attach_in_child(name);
        shmq::Queue queue;
        std::string message;
        if (child->open_queue("tasks", queue) != shmq::Status::ok) return child_failed;
        if (queue.receive(message, 5s) != shmq::Status::ok || message != "t1") return child_failed;
        counters.ready.fetch_add(1);
        for (;;) ::pause();
    });
    BOOST_REQUIRE(eventually([&] { return counters.ready.load() == 1; }, 20s));
    std::string message;
    std::uint64_t held = 0;
    BOOST_REQUIRE(tasks.receive(message, 5s, &held) == shmq::Status::ok);
    BOOST_TEST(message == "t2");

    write("broker.yaml", with_tasks(false));
    const auto reloaded = shmq({"--broker", name, "reload"});
    BOOST_TEST(reloaded.exit_code == 0, reloaded.out << reloaded.err);
    BOOST_TEST(tasks.send("t4", 5s) == shmq::Status::queue_removed);
    BOOST_TEST(tasks.acknowledge(held) == shmq::Status::ok);
    std::uint64_t delivery = 0;
    BOOST_REQUIRE(tasks.receive(message, 5s, &delivery) == shmq::Status::ok);
    BOOST_TEST(message == "t3");
    BOOST_TEST(tasks.acknowledge(delivery) == shmq::Status::ok);
    // t1 is still out: not drained yet.
    BOOST_TEST(tasks.receive(message, 100ms, &delivery) == shmq::Status::timeout);
    ::kill(doomed, SIGKILL);
    BOOST_TEST(wait_for_exit(doomed, 10s).value_or(-1) == 128 + SIGKILL);
    // The broker reclaims the dead consumer at its next tick: t1 comes again.
    BOOST_REQUIRE(tasks.receive(message, 20s, &delivery) == shmq::Status::ok);
    BOOST_TEST(message == "t1");
    BOOST_TEST(tasks.acknowledge(delivery) == shmq::Status::ok);
    BOOST_TEST(tasks.receive(message, 5s, &delivery) == shmq::Status::queue_removed);
    BOOST_TEST(broker.stop() == 0);
}

// A queue a reload added (in live segment 1) is removed by a later reload.
BOOST_AUTO_TEST_CASE(a_queue_of_a_live_segment_is_removed_live) {
    const std::string name = unique_broker_name();
    SegmentGuard guard(name);
    SegmentGuard live(name + ".live-1");
    SetAsideGuard set_aside(name);
    const auto config = write("broker.yaml", removal_config(name, false));
    BrokerProcess broker(*this, config);
    broker.wait_until_ready();
    write("broker.yaml", removal_config(name, true));
    const auto added = shmq({"--broker", name, "reload"});
    BOOST_REQUIRE_MESSAGE(contains(added.out, "applied: queue 'work' added"), added.out << added.err);
    const auto client = attach(name);
    shmq::Queue work;
    BOOST_REQUIRE(client->open_queue("work", work) == shmq::Status::ok);
    send_all(work, {"w1", "w2"});

    write("broker.yaml", removal_config(name, false));
    const auto removed = shmq({"--broker", name, "reload"});
    BOOST_TEST(removed.exit_code == 0, removed.out << removed.err);
    BOOST_TEST(contains(removed.out, "applied: queue 'work' removed"), removed.out);
    BOOST_TEST(work.send("w3", 5s) == shmq::Status::queue_removed);
    BOOST_TEST(drain(work) == (std::vector<std::string>{"w1", "w2"}), boost::test_tools::per_element());
    std::string message;
    BOOST_TEST(work.receive(message, 5s) == shmq::Status::queue_removed);
    // Another client, attached after: the name is found, retired.
    const auto later = attach(name);
    BOOST_TEST(later->open_queue("work", work) == shmq::Status::queue_removed);

    // A restart drops the drained live segment: carried (nothing), removed, not set aside.
    broker.kill_hard();
    BrokerProcess second(*this, config, "second.log");
    second.wait_until_ready();
    BOOST_TEST_INFO("second broker's log:\n" << second.log());
    BOOST_TEST(contains(second.log(), "live segment 1 removed: every message it held was carried over"));
    BOOST_TEST(set_aside_of(name).empty());
    BOOST_TEST(!fs::exists("/dev/shm/" + name + ".live-1"));
    const auto after = attach(name);
    BOOST_TEST(after->open_queue("work", work) == shmq::Status::queue_not_found);
    BOOST_TEST(second.stop() == 0);
}

// A queue and a topic restricted to an access group are retired live in the
// group's segment (NAME.access-GROUP), as open ones are in theirs, while the
// group's other queue serves on. A restart drops them and sets what was not
// drained aside, with the command that replays it.
BOOST_AUTO_TEST_CASE(a_restricted_queue_and_topic_are_removed_live) {
    const std::string name = unique_broker_name();
    SegmentGuard guard(name);
    SegmentGuard group_segment(name + ".access-root");
    SetAsideGuard set_aside(name);
    SetAsideGuard group_set_aside(name + ".access-root");
    const std::string ledger = "  - name: ledger\n    capacity: 8\n    max_message_size: 64\n"
                               "    access: { group: root }\n";
    const std::string pay = "  - name: pay\n    capacity: 8\n    max_message_size: 64\n    access: { group: root }\n";
    const std::string alerts = "topics:\n  - name: alerts\n    capacity: 8\n    max_message_size: 64\n"
                               "    access: { group: root }\n";
    const auto config = write("broker.yaml", removal_config(name, false, ledger + pay + alerts));
    std::optional<BrokerProcess> broker(std::in_place, *this, config);
    broker->wait_until_ready();
    const auto client = attach(name);
    shmq::Queue pay_queue;
    shmq::Queue ledger_queue;
    shmq::Topic topic;
    shmq::Subscription subscription;
    BOOST_REQUIRE(client->open_queue("pay", pay_queue) == shmq::Status::ok);
    BOOST_REQUIRE(client->open_queue("ledger", ledger_queue) == shmq::Status::ok);
    BOOST_REQUIRE(client->open_topic("alerts", topic) == shmq::Status::ok);
    BOOST_REQUIRE(client->subscribe("alerts", subscription) == shmq::Status::ok);
    send_all(pay_queue, {"p1", "p2"});
    BOOST_REQUIRE(topic.publish("a1", 5s) == shmq::Status::ok);

    write("broker.yaml", removal_config(name, false, ledger));
    const auto reloaded = shmq({"--broker", name, "reload"});
    BOOST_TEST_INFO("stdout:\n" << reloaded.out << "stderr:\n" << reloaded.err);
    BOOST_TEST(reloaded.exit_code == 0);
    BOOST_TEST(contains(reloaded.out, "applied: queue 'pay' removed"));
    BOOST_TEST(contains(reloaded.out, "applied: topic 'alerts' removed"));
    BOOST_TEST(contains(broker->log(), "queue 'pay' retired"), broker->log());

    BOOST_TEST(pay_queue.send("p3", 5s) == shmq::Status::queue_removed);
    std::string message;
    BOOST_TEST(pay_queue.receive(message, 5s) == shmq::Status::ok);
    BOOST_TEST(message == "p1");
    BOOST_TEST(topic.publish("a2", 5s) == shmq::Status::queue_removed);
    BOOST_TEST(subscription.receive(message, 5s) == shmq::Status::ok);
    BOOST_TEST(message == "a1");
    BOOST_TEST(subscription.receive(message, 5s) == shmq::Status::queue_removed);
    const auto later = attach(name);
    shmq::Queue reopened;
    BOOST_TEST(later->open_queue("pay", reopened) == shmq::Status::queue_removed);
    send_all(ledger_queue, {"l1"});
    const auto listed = shmq({"--broker", name, "list", "--json"});
    BOOST_TEST(contains(listed.out, "\"removed\": true"), listed.out);

    // p2 was not drained: the restart sets it aside.
    broker->kill_hard();
    broker.emplace(*this, config, "second.log");
    broker->wait_until_ready();
    BOOST_TEST_INFO("second broker's log:\n" << broker->log());
    BOOST_TEST(contains(broker->log(), "are dropped: 'pay'"));
    BOOST_TEST(contains(broker->log(), "shmq replay"));
    const auto after = attach(name);
    BOOST_TEST(after->open_queue("pay", reopened) == shmq::Status::queue_not_found);
    BOOST_REQUIRE(after->open_queue("ledger", ledger_queue) == shmq::Status::ok);
    BOOST_TEST(drain(ledger_queue) == (std::vector<std::string>{"l1"}), boost::test_tools::per_element());
    BOOST_TEST(broker->stop() == 0);
}

// The broker killed right after it retired a queue, before it answered. A
// broker started on the new file drops the queue and sets its messages
// aside (and says so); one started on a file that has the queue again
// adopts the segment and serves the queue with its messages.
BOOST_AUTO_TEST_CASE(a_broker_killed_after_retiring_a_queue_recovers) {
    for (const bool restart_with_work : {false, true}) {
        BOOST_TEST_CONTEXT("restarted on a file " << (restart_with_work ? "with" : "without") << " the queue") {
            const std::string name = unique_broker_name();
            SegmentGuard guard(name);
            SetAsideGuard set_aside(name);
            const auto config = write("broker.yaml", removal_config(name, true));
            {
                BrokerProcess doomed(*this, config, "doomed.log", {"SHMQ_TEST_CRASH_AT=reload_retired"});
                doomed.wait_until_ready();
                const auto client = attach(name);
                auto work = open_queue(*client, "work");
                auto failed = open_queue(*client, "failed");
                send_all(work, {"w1", "w2", "w3"});
                send_all(failed, {"f1"});
                write("broker.yaml", removal_config(name, false));
                const auto unanswered = shmq({"--broker", name, "reload"});
                BOOST_TEST(unanswered.exit_code == 1);
                BOOST_TEST(doomed.wait_exit().value_or(-1) == 128 + SIGKILL);
                // Retired before the death: the client saw it.
                BOOST_TEST(work.send("w4", 1s) == shmq::Status::queue_removed);
            }
            if (restart_with_work) write("broker.yaml", removal_config(name, true));
            BrokerProcess second(*this, config, "second.log");
            second.wait_until_ready();
            BOOST_TEST_INFO("second broker's log:\n" << second.log());
            const auto client = attach(name);
            shmq::Queue failed;
            BOOST_REQUIRE(client->open_queue("failed", failed) == shmq::Status::ok);
            BOOST_TEST(drain(failed) == (std::vector<std::string>{"f1"}), boost::test_tools::per_element());
            shmq::Queue work;
            if (restart_with_work) {
                BOOST_TEST(contains(second.log(), "adopted"));
                BOOST_REQUIRE(client->open_queue("work", work) == shmq::Status::ok);
                BOOST_TEST(drain(work) == (std::vector<std::string>{"w1", "w2", "w3"}), boost::test_tools::per_element());
                BOOST_TEST(work.send("w5", 5s) == shmq::Status::ok);
            } else {
                BOOST_TEST(contains(second.log(), "are dropped: 'work'"));
                BOOST_TEST(contains(second.log(), "3 messages still queued in them are set aside"));
                BOOST_TEST(contains(second.log(), "shmq replay"));
                BOOST_TEST(set_aside_of(name).size() == 1u);
                BOOST_TEST(client->open_queue("work", work) == shmq::Status::queue_not_found);
            }
            BOOST_TEST(second.stop() == 0);
        }
    }
}

// Dead letters are never moved into a removed queue. A reload that removes
// a queue and points a dead_letter at it is refused whole, naming the file,
// line and key: nothing changes, the queue keeps taking messages. Pointing
// one at a queue an earlier reload removed (the file has it again) is not
// applied live either: it needs a restart, and says so.
BOOST_AUTO_TEST_CASE(a_dead_letter_at_a_removed_queue_is_refused) {
    RemovalBroker running(*this, true);
    const auto& name = running.name;
    const auto& config = running.config;
    auto& broker = running.process;
    const auto client = attach(name);
    shmq::Queue work;
    BOOST_REQUIRE(client->open_queue("work", work) == shmq::Status::ok);
    send_all(work, {"w1"});

    // Line 11: jobs' dead_letter, naming the queue the file no longer has.
    write("broker.yaml", reload_config(name, "    max_deliveries: 1\n    dead_letter: work\n"));
    const auto refused = shmq({"--broker", name, "reload"});
    BOOST_TEST_INFO("stdout:\n" << refused.out << "stderr:\n" << refused.err);
    BOOST_TEST(refused.exit_code == 1);
    BOOST_TEST(contains(refused.err, "refused the reload"));
    BOOST_TEST(contains(refused.err, config.string() + ":11: key 'dead_letter'"));
    BOOST_TEST(contains(refused.err, "no queue named 'work' is configured"));
    BOOST_TEST(!contains(broker.log(), "queue 'work' retired"), broker.log());
    send_all(work, {"w2"});
    BOOST_TEST(drain(work) == (std::vector<std::string>{"w1", "w2"}), boost::test_tools::per_element());

    write("broker.yaml", removal_config(name, false));
    BOOST_REQUIRE(shmq({"--broker", name, "reload"}).exit_code == 0);
    BOOST_REQUIRE(work.send("w3", 5s) == shmq::Status::queue_removed);
    // The file has `work` again, and jobs' dead_letter names it.
    write("broker.yaml", removal_config(name, true, "").insert(reload_config(name, "").find("  - name: failed"),
                                                                  "    dead_letter: work\n"));
    const auto again = shmq({"--broker", name, "reload"});
    BOOST_TEST_INFO("stdout:\n" << again.out << "stderr:\n" << again.err);
    BOOST_TEST(again.exit_code == 3);
    BOOST_TEST(!contains(again.out, "applied:"));
    BOOST_TEST(contains(again.out, "needs a restart: " + config.string() +
                                       ": queue 'jobs': dead_letter (none) -> 'work'"));
    BOOST_TEST(broker.stop() == 0);
}

// Any client can write a queue's retired word (shared memory). The broker
// puts back its own record at its next tick, both ways: a queue it never
// retired takes sends again (one write must not retire it for everybody),
// one a reload removed stays removed. It logs each scribble once.
BOOST_AUTO_TEST_CASE(a_retired_word_written_by_a_client_is_put_back_by_the_broker) {
    const std::string idle = "  - name: idle\n    capacity: 4\n    max_message_size: 64\n";
    RemovalBroker running(*this, true, idle);
    const auto& name = running.name;
    auto& broker = running.process;
    write("broker.yaml", removal_config(name, true));
    BOOST_REQUIRE(shmq({"--broker", name, "reload"}).exit_code == 0);
    const auto client = attach(name);
    shmq::Queue work;
    shmq::Queue idle_queue;
    BOOST_REQUIRE(client->open_queue("work", work) == shmq::Status::ok);
    const auto scribble = [&](const std::string& queue, std::uint32_t value) {
        shmq::test::RawSegment raw(name);
        raw.view.ring(raw.view.find_queue(queue)).control().retired.store(value);
    };
    const std::string line = "queue 'work': another process wrote its retired word (scribble): it read retired (7), "
                             "the broker's record is in service; written back";

    scribble("work", 7);
    // Refused (queue_removed) until the broker's tick puts the word back,
    // then taken: one send ok. No timing is assumed: the tick may come first.
    BOOST_TEST(eventually([&] { return work.send("w1", 1s) == shmq::Status::ok; }, 20s));
    BOOST_TEST(eventually([&] { return contains(broker.log(), line); }, 20s), broker.log());
    scribble("work", 7);
    BOOST_TEST(eventually([&] { return work.send("w2", 1s) == shmq::Status::ok; }, 20s));
    BOOST_TEST(drain(work) == (std::vector<std::string>{"w1", "w2"}), boost::test_tools::per_element());
    const auto log = broker.log();
    std::size_t reported = 0;
    for (auto at = log.find(line); at != std::string::npos; at = log.find(line, at + 1)) ++reported;
    BOOST_TEST(reported == 1u, log);

    // The removed queue: a cleared mark is set again, and opening it says so.
    scribble("idle", 0);
    BOOST_TEST(eventually([&] { return contains(broker.log(), "queue 'idle': another process wrote its retired word "
                                                              "(scribble): it read in service, the broker's record "
                                                              "is retired (1)"); },
                          20s),
               broker.log());
    BOOST_TEST(client->open_queue("idle", idle_queue) == shmq::Status::queue_removed);
    BOOST_TEST(broker.stop() == 0);
}

// A restart (here after a kill -9) after a completed removal drops the
// retired queue; what its consumers had not drained is set aside, and
// `shmq replay` sends it into a queue of that name once one is configured.
BOOST_AUTO_TEST_CASE(a_restart_after_a_removal_sets_leftover_messages_aside) {
    const std::string name = unique_broker_name();
    SegmentGuard guard(name);
    SegmentGuard live(name + ".live-1");
    SetAsideGuard set_aside(name);
    const auto config = write("broker.yaml", removal_config(name, true));
    std::optional<BrokerProcess> broker(std::in_place, *this, config);
    broker->wait_until_ready();
    {
        const auto client = attach(name);
        shmq::Queue work;
        BOOST_REQUIRE(client->open_queue("work", work) == shmq::Status::ok);
        send_all(work, {"w1", "w2"});
    }
    write("broker.yaml", removal_config(name, false));
    BOOST_REQUIRE(shmq({"--broker", name, "reload"}).exit_code == 0);
    broker->kill_hard();
    broker.emplace(*this, config, "second.log");
    broker->wait_until_ready();
    BOOST_TEST_INFO("second broker's log:\n" << broker->log());
    BOOST_TEST(contains(broker->log(), "are dropped: 'work'"));
    const auto files = set_aside_of(name);
    BOOST_REQUIRE(files.size() == 1u);
    // Since the restart the name is free: a reload adds it back, live.
    write("broker.yaml", removal_config(name, true));
    const auto readded = shmq({"--broker", name, "reload"});
    BOOST_TEST(contains(readded.out, "applied: queue 'work' added"), readded.out << readded.err);
    const auto replayed = shmq({"--broker", name, "replay", files.front().string(), "--queue", "work"});
    BOOST_TEST(replayed.exit_code == 0, replayed.out << replayed.err);
    const auto client = attach(name);
    shmq::Queue work;
    BOOST_REQUIRE(client->open_queue("work", work) == shmq::Status::ok);
    BOOST_TEST(drain(work) == (std::vector<std::string>{"w1", "w2"}), boost::test_tools::per_element());
    BOOST_TEST(broker->stop() == 0);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// Issue 11: live settings change. A reload that changes a queue's ring
// settings builds a successor of the same name in a live segment (of the
// main segment for an open queue, of its group's for a restricted one:
// each test runs both) and supersedes the old queue: producers go to the successor, consumers drain
// the old ring first, nobody reattaches, and a restart carries both, the
// old ring's messages first.

namespace {

// Queue `work` (`work_keys` after its name), beside `jobs` and `failed`.
std::string settings_config(const std::string& name, const std::string& work_keys, const std::string& more = "") {
    return reload_config(name, "", "  - name: work\n" + work_keys + more);
}

const std::string small_work = "    capacity: 8\n    max_message_size: 64\n";
const std::string large_work = "    capacity: 16\n    max_message_size: 128\n";

// Removes the live segments of broker `name` however the test ends.
struct LiveSegmentGuards {
    explicit LiveSegmentGuards(const std::string& name)
        : first(name + ".live-1"), second(name + ".live-2"), third(name + ".live-3") {}
    SegmentGuard first;
    SegmentGuard second;
    SegmentGuard third;
};

// The test user's primary group, by name: an access group it belongs to.
std::string primary_group() {
    const auto* entry = ::getgrgid(::getgid());
    BOOST_REQUIRE(entry != nullptr);
    return entry->gr_name;
}

std::string restricted_to(const std::string& group) { return "    access: { group: " + group + " }\n"; }

// Where a queue or topic of the live-settings tests lives: open, in the main
// segment (no access keys), or restricted to the test user's group, in that
// group's segment (docs/crash-safety.md, "Live settings change").
std::vector<std::string> open_and_restricted() { return {std::string(), restricted_to(primary_group())}; }

// The segment of broker `name` that holds what `access` (as
// open_and_restricted gives it) places, beside which its live segments are.
std::string holder_of(const std::string& name, const std::string& access) {
    return access.empty() ? name : name + ".access-" + primary_group();
}

// Removes the segments of broker `name`'s access group `group` (its own,
// its live ones, those set aside) however the test ends.
struct GroupSegmentGuards {
    GroupSegmentGuards(const std::string& name, const std::string& group)
        : segment_name(name + ".access-" + group), segment(segment_name), live(segment_name), set_aside(segment_name) {}
    const std::string& name() const { return segment_name; }
    const std::string segment_name;
    SegmentGuard segment;
    LiveSegmentGuards live;
    SetAsideGuard set_aside;
};

// Runs `test(name, access)` for a queue or topic open and restricted
// (open_and_restricted), each with a broker of a name of its own, whose
// segments are removed however the test ends.
template <typename Test>
void for_open_and_restricted(const Test& test) {
    for (const auto& access : open_and_restricted()) {
        BOOST_TEST_CONTEXT((access.empty() ? "open" : "restricted")) {
            const std::string name = unique_broker_name();
            SegmentGuard guard(name);
            LiveSegmentGuards live(name);
            GroupSegmentGuards group_segments(name, primary_group());
            test(name, access);
        }
    }
}

// As for_open_and_restricted, for `test(name, access, step)` with a broker
// killed at `step`, each step of a change (docs/crash-safety.md, "Live
// settings change").
template <typename Test>
void at_every_step_of_a_change(const Test& test) {
    for (const std::string step : {"live_segment_built", "live_segment_listed", "reload_superseded", "reload_applied"}) {
        BOOST_TEST_CONTEXT("killed at " << step) {
            for_open_and_restricted([&](const std::string& name, const std::string& access) { test(name, access, step); });
        }
    }
}

// Per-producer bookkeeping in memory shared with forked children: which
// numbers were received (a duplicate is seen), and how many went each way.
struct StreamCounters {
    static constexpr int producers = 4;
    static constexpr int max_messages = 60'000;  // per producer
    std::atomic<int> sent{0};
    std::atomic<int> received{0};
    std::atomic<int> producers_done{0};
    std::atomic<int> reloaded{0};
    std::atomic<int> duplicates{0};
    std::atomic<std::uint8_t> seen[producers][max_messages];
};

StreamCounters& stream_counters() {
    void* memory = ::mmap(nullptr, sizeof(StreamCounters), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    BOOST_REQUIRE(memory != MAP_FAILED);
    return *new (memory) StreamCounters;
}

// Sends "P-N" for N = 0, 1, ... until it has sent `after_reload` messages
// since it saw the reload done, then counts itself done.
int produce_stream(const std::string& broker, StreamCounters& counters, int producer, int after_reload) {
    auto client = attach_in_child(broker);
    shmq::Queue queue;
    if (client->open_queue("work", queue) != shmq::Status::ok) return child_failed;
    int since_reload = 0;
    const auto give_up = std::chrono::steady_clock::now() + 120s;
    for (int number = 0; since_reload < after_reload; ++number) {
        // A reload that takes long (a loaded machine) pauses the stream
        // before it outgrows the bookkeeping, rather than fail the test; a
        // test that never reloads (it failed) ends it.
        while (counters.reloaded.load() == 0 && number + after_reload >= StreamCounters::max_messages) {
            if (std::chrono::steady_clock::now() > give_up) return child_failed;
            std::this_thread::sleep_for(1ms);
        }
        if (number >= StreamCounters::max_messages) return child_failed;
        if (counters.reloaded.load() != 0) ++since_reload;
        if (queue.send(std::to_string(producer) + "-" + std::to_string(number), 30s) != shmq::Status::ok) {
            return child_failed;
        }
        counters.sent.fetch_add(1);
    }
    counters.producers_done.fetch_add(1);
    return child_ok;
}

// Receives (and acknowledges) until every producer is done and everything
// sent was received; each producer's numbers must rise strictly here.
int consume_stream(const std::string& broker, StreamCounters& counters) {
    auto client = attach_in_child(broker);
    shmq::Queue queue;
    if (client->open_queue("work", queue) != shmq::Status::ok) return child_failed;
    std::vector<int> last(StreamCounters::producers, -1);
    const auto give_up = std::chrono::steady_clock::now() + 120s;
    while (std::chrono::steady_clock::now() < give_up) {
        std::string message;
        std::uint64_t delivery = 0;
        const auto status = queue.receive(message, 200ms, &delivery);
        if (status == shmq::Status::timeout) {
            if (counters.producers_done.load() == StreamCounters::producers &&
                counters.received.load() == counters.sent.load()) {
                return child_ok;
            }
            continue;
        }
        if (status != shmq::Status::ok) return child_failed;
        // at_most_once deliveries are numbered 0: nothing to acknowledge.
        const bool reliable = shmq::delivery_attempt(delivery) != 0;
        if (reliable && queue.acknowledge(delivery) != shmq::Status::ok) return child_failed;
        const auto dash = message.find('-');
        const int producer = std::stoi(message.substr(0, dash));
        const int number = std::stoi(message.substr(dash + 1));
        if (producer < 0 || producer >= StreamCounters::producers || number <= last[producer]) return child_failed;
        last[producer] = number;
        if (counters.seen[producer][number].exchange(1) != 0) counters.duplicates.fetch_add(1);
        counters.received.fetch_add(1);
    }
    return child_failed;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(live_settings, Workspace)

// A producer and a consumer attached before two reloads: the first doubles
// `work`'s capacity and max_message_size, the second (while the first old
// ring may still hold messages: a chain) makes it at_least_once. Every
// message arrives once, in order, and the handles opened before serve the
// new settings without a reattach.
BOOST_AUTO_TEST_CASE(a_queue_changed_live_keeps_every_message_in_order) {
    for_open_and_restricted([&](const std::string& name, const std::string& access) {
        const auto config = write("broker.yaml", settings_config(name, small_work + access));
        BrokerProcess broker(*this, config);
        broker.wait_until_ready();
        auto& counters = stream_counters();
        std::vector<pid_t> children;
        children.push_back(fork_running([&] { return produce_stream(name, counters, 0, 300); }));
        for (int producer = 1; producer < StreamCounters::producers; ++producer) {
            counters.producers_done.fetch_add(1);  // only one producer here
        }
        children.push_back(fork_running([&] { return consume_stream(name, counters); }));
        BOOST_REQUIRE(eventually([&] { return counters.received.load() >= 50; }, 30s));

        write("broker.yaml", settings_config(name, large_work + access));
        const auto first = shmq({"--broker", name, "reload"});
        BOOST_TEST_INFO("stdout:\n" << first.out << "stderr:\n" << first.err << "log:\n" << broker.log());
        BOOST_TEST(first.exit_code == 0);
        BOOST_TEST(contains(first.out, "applied: queue 'work': capacity 8 -> 16, max_message_size 64 -> 128"));
        write("broker.yaml", settings_config(name, large_work + "    delivery: at_least_once\n    ack_timeout_ms: 60000\n" + access));
        const auto second = shmq({"--broker", name, "reload"});
        BOOST_TEST(second.exit_code == 0, second.out << second.err);
        BOOST_TEST(contains(second.out, "applied: queue 'work': delivery at_most_once -> at_least_once"), second.out);
        counters.reloaded.store(1);

        for (const auto child : children) BOOST_TEST(wait_for_exit(child, 150s).value_or(-1) == child_ok);
        BOOST_TEST(counters.received.load() == counters.sent.load());
        BOOST_TEST(counters.duplicates.load() == 0);
        BOOST_TEST(contains(broker.log(), "queue 'work' superseded by its successor in live segment 2"), broker.log());
        // Beside the segment that holds the queue: the main one, or its group's.
        BOOST_TEST(fs::exists("/dev/shm/" + holder_of(name, access) + ".live-2"));
        BOOST_TEST(fs::exists("/dev/shm/" + name + ".live-1") == access.empty());

        // A handle opened before the reloads: the newest ring's settings, and a
        // message longer than the old limit goes through.
        const auto client = attach(name);
        shmq::Queue work;
        BOOST_REQUIRE(client->open_queue("work", work) == shmq::Status::ok);
        BOOST_TEST(work.capacity() == 16u);
        BOOST_TEST(work.max_message_size() == 128u);
        const std::string long_message(100, 'x');
        BOOST_TEST(work.send(long_message, 5s) == shmq::Status::ok);
        std::string message;
        std::uint64_t delivery = 0;
        BOOST_TEST(work.receive(message, 5s, &delivery) == shmq::Status::ok);
        BOOST_TEST(message == long_message);
        BOOST_TEST(shmq::delivery_attempt(delivery) == 1u);  // at_least_once now
        BOOST_TEST(work.acknowledge(delivery) == shmq::Status::ok);
        BOOST_TEST(broker.stop() == 0);
    });
}

// Consumers take from the old ring until it is drained, acknowledgements of
// its deliveries included; a delivery of the old ring is acknowledged after
// the change, and only then does the successor deliver.
BOOST_AUTO_TEST_CASE(deliveries_of_a_superseded_queue_are_acknowledged_before_the_successor_delivers) {
    const std::string name = unique_broker_name();
    SegmentGuard guard(name);
    LiveSegmentGuards live(name);
    const std::string reliable = "    delivery: at_least_once\n    ack_timeout_ms: 60000\n";
    const auto config = write("broker.yaml", settings_config(name, small_work + reliable));
    BrokerProcess broker(*this, config);
    broker.wait_until_ready();
    const auto client = attach(name);
    shmq::Queue work;
    BOOST_REQUIRE(client->open_queue("work", work) == shmq::Status::ok);
    send_all(work, {"o1", "o2"});
    std::string message;
    std::uint64_t held = 0;
    BOOST_REQUIRE(work.receive(message, 5s, &held) == shmq::Status::ok);
    BOOST_TEST(message == "o1");

    write("broker.yaml", settings_config(name, large_work + reliable));
    const auto reloaded = shmq({"--broker", name, "reload"});
    BOOST_TEST(reloaded.exit_code == 0, reloaded.out << reloaded.err);
    send_all(work, {"n1"});
    std::uint64_t delivery = 0;
    BOOST_REQUIRE(work.receive(message, 5s, &delivery) == shmq::Status::ok);
    BOOST_TEST(message == "o2");
    BOOST_TEST(work.acknowledge(delivery) == shmq::Status::ok);
    // o1 is still out: the old ring is not drained, the successor waits.
    BOOST_TEST(work.receive(message, 300ms, &delivery) == shmq::Status::timeout);
    BOOST_TEST(work.acknowledge(held) == shmq::Status::ok);
    BOOST_REQUIRE(work.receive(message, 5s, &delivery) == shmq::Status::ok);
    BOOST_TEST(message == "n1");
    BOOST_TEST(work.acknowledge(delivery) == shmq::Status::ok);
    BOOST_TEST(work.acknowledge(delivery) == shmq::Status::not_acknowledgeable);
    BOOST_TEST(broker.stop() == 0);
}

// A queue with a dead-letter queue, and the dead-letter queue itself, change
// their settings live: the broker moves dead letters by name to the newest
// ring of `failed`, so a delivery of the old `jobs` ring that fails after
// the reload crosses from the main segment to the live one, and one of the
// successor stays within it; both come after what the old `failed` held.
// Restricted to a group, the same within the group's segments.
BOOST_AUTO_TEST_CASE(dead_letters_follow_queues_changed_live) {
    for_open_and_restricted([&](const std::string& name, const std::string& access) {
        const auto config = write("broker.yaml", dead_letter_config(name, 8, 8, "failed", access));
        BrokerProcess broker(*this, config);
        broker.wait_until_ready();
        const auto client = attach(name);
        auto jobs = open_queue(*client, "jobs");
        auto failed = open_queue(*client, "failed");
        send_all(failed, {"failed-before"});
        send_all(jobs, {"old-job"});

        write("broker.yaml", dead_letter_config(name, 16, 16, "failed", access));
        const auto reloaded = shmq({"--broker", name, "reload"});
        BOOST_TEST_INFO("stdout:\n" << reloaded.out << "stderr:\n" << reloaded.err << "log:\n" << broker.log());
        BOOST_TEST(reloaded.exit_code == 0);
        BOOST_TEST(contains(reloaded.out, "applied: queue 'jobs': capacity 8 -> 16"));
        BOOST_TEST(contains(reloaded.out, "applied: queue 'failed': capacity 8 -> 16"));
        BOOST_TEST(!contains(reloaded.out, "needs a restart"));

        fail_one_delivery(name, "jobs", "old-job");  // in the old ring, in the main segment
        send_all(jobs, {"new-job"});                 // in the successor, in live segment 1
        fail_one_delivery(name, "jobs", "new-job");
        std::vector<std::string> dead;
        std::string message;
        while (dead.size() < 3 && failed.receive(message, 15s) == shmq::Status::ok) dead.push_back(message);
        BOOST_TEST(dead == (std::vector<std::string>{"failed-before", "old-job", "new-job"}),
                   boost::test_tools::per_element());
        BOOST_TEST(failed.capacity() == 16u);
        BOOST_TEST(jobs.receive(message, 300ms) == shmq::Status::timeout);
        BOOST_TEST(contains(broker.log(), "queue 'jobs': 1 messages failed 1 deliveries and moved to 'failed'"));
        BOOST_TEST(broker.stop() == 0);
    });
}

// A reload that changes a queue's capacity and gives it a dead_letter: the
// old ring's failed deliveries go there too, not only the successor's.
BOOST_AUTO_TEST_CASE(a_dead_letter_set_with_a_change_takes_the_old_rings_too) {
    const std::string name = unique_broker_name();
    SegmentGuard guard(name);
    LiveSegmentGuards live(name);
    const auto config = write("broker.yaml", dead_letter_config(name, 8, 8, ""));
    BrokerProcess broker(*this, config);
    broker.wait_until_ready();
    const auto client = attach(name);
    auto jobs = open_queue(*client, "jobs");
    auto failed = open_queue(*client, "failed");
    send_all(jobs, {"old-job"});
    write("broker.yaml", dead_letter_config(name, 16, 8));
    const auto reloaded = shmq({"--broker", name, "reload"});
    BOOST_TEST(reloaded.exit_code == 0, reloaded.out << reloaded.err);
    BOOST_TEST(contains(reloaded.out, "applied: queue 'jobs': capacity 8 -> 16, dead_letter (none) -> 'failed'"),
               reloaded.out);
    fail_one_delivery(name, "jobs", "old-job");  // of the old ring
    std::string message;
    BOOST_TEST(failed.receive(message, 15s) == shmq::Status::ok, broker.log());
    BOOST_TEST(message == "old-job");
    BOOST_TEST(broker.stop() == 0);
}

// The broker killed at each step of moving a dead letter from the main
// segment into a successor in a live segment (the copy's claim is stamped
// with the broker's record in that segment): the next broker, started on the
// file, carries both segments' messages into one (a migration: `failed` is in
// both), the failed delivery as one to make again. The message is never
// lost, and is in both queues only if the broker was killed once the copy was
// published.
BOOST_AUTO_TEST_CASE(a_broker_killed_moving_a_dead_letter_across_segments_loses_nothing) {
    for (const std::string step : {"dead_letter_marked", "dead_letter_claimed", "dead_letter_published"}) {
        BOOST_TEST_CONTEXT("killed at " << step) {
            const std::string name = unique_broker_name();
            SegmentGuard guard(name);
            LiveSegmentGuards live(name);
            const auto config = write("broker.yaml", dead_letter_config(name, 8, 8));
            {
                BrokerProcess doomed(*this, config, "doomed.log", {"SHMQ_TEST_CRASH_AT=" + step});
                doomed.wait_until_ready();
                const auto client = attach(name);
                shmq::Queue jobs;
                BOOST_REQUIRE(client->open_queue("jobs", jobs) == shmq::Status::ok);
                send_all(jobs, {"poison"});
                write("broker.yaml", dead_letter_config(name, 8, 16));
                BOOST_REQUIRE(shmq({"--broker", name, "reload"}).exit_code == 0);
                fail_one_delivery(name, "jobs", "poison");
                BOOST_TEST(doomed.wait_exit().value_or(-1) == 128 + SIGKILL, doomed.log());
            }
            BrokerProcess second(*this, config, "second.log");
            second.wait_until_ready();
            BOOST_TEST_INFO("second broker's log:\n" << second.log());
            const auto client = attach(name);
            auto jobs = open_queue(*client, "jobs");
            auto failed = open_queue(*client, "failed");
            auto found = drain(jobs);
            const auto dead = drain(failed);
            found.insert(found.end(), dead.begin(), dead.end());
            const auto copies = step == "dead_letter_published" ? 2u : 1u;
            BOOST_TEST(found == std::vector<std::string>(copies, "poison"), boost::test_tools::per_element());
            BOOST_TEST(contains(second.log(), "carrying its queued messages into a new segment"), second.log());
            BOOST_TEST(second.stop() == 0);
        }
    }
}

// A new capacity below what the queue holds, or a max_message_size below
// a message it holds, refuses the whole reload, naming file, line and key:
// nothing changes.
BOOST_AUTO_TEST_CASE(a_change_that_cannot_hold_what_is_queued_is_refused) {
    for_open_and_restricted([&](const std::string& name, const std::string& access) {
        const auto config = write("broker.yaml", settings_config(name, small_work + access));
        BrokerProcess broker(*this, config);
        broker.wait_until_ready();
        const auto client = attach(name);
        shmq::Queue work;
        BOOST_REQUIRE(client->open_queue("work", work) == shmq::Status::ok);
        send_all(work, {"1", "2", "3", "4", "5", std::string(40, 'x')});

        write("broker.yaml", settings_config(name, "    capacity: 4\n    max_message_size: 32\n" + access,
                                             "  - name: extra\n    capacity: 4\n    max_message_size: 64\n"));
        const auto refused = shmq({"--broker", name, "reload"});
        BOOST_TEST_INFO("stdout:\n" << refused.out << "stderr:\n" << refused.err);
        BOOST_TEST(refused.exit_code == 1);
        const auto all = refused.out + refused.err;
        // reload_config's lines 1-12, then work's name, capacity, max_message_size.
        BOOST_TEST(contains(all, config.string() + ":14: queue 'work' key 'capacity': 4 cannot hold the 6 messages"));
        BOOST_TEST(contains(all, config.string() + ":15: queue 'work' key 'max_message_size': 32 is shorter than a "
                                                    "message of 40 bytes"));
        BOOST_TEST(work.capacity() == 8u);
        shmq::Queue extra;
        BOOST_TEST(client->open_queue("extra", extra) == shmq::Status::queue_not_found);
        BOOST_TEST(work.send("7", 5s) == shmq::Status::ok);
        BOOST_TEST(drain(work) == (std::vector<std::string>{"1", "2", "3", "4", "5", std::string(40, 'x'), "7"}),
                   boost::test_tools::per_element());
        BOOST_TEST(broker.stop() == 0);
    });
}

// A restart after a change (clean stop, or kill -9) finds the queue in two
// segments and migrates: the old ring's messages first, then the successor's.
BOOST_AUTO_TEST_CASE(a_restart_after_a_change_keeps_every_message_in_order) {
    for (const bool killed : {false, true}) {
        BOOST_TEST_CONTEXT((killed ? "kill -9" : "clean stop")) {
            // A clean stop of a memory-backed broker removes its segments:
            // a persistent one keeps them, with their messages.
            for_open_and_restricted([&](const std::string& name, const std::string& access) {
                const std::string file = (directory() / "segment").string();
                const auto persistent = [&](std::string text) {
                    return killed ? text : text.replace(text.find("\n") + 1, 0, "  persist_path: " + file + "\n");
                };
                const std::string address = killed ? name : file;
                const auto config = write("broker.yaml", persistent(settings_config(name, small_work + access)));
                std::optional<BrokerProcess> broker;
                broker.emplace(*this, config);
                broker->wait_until_ready();
                {
                    const auto client = attach(address);
                    shmq::Queue work;
                    BOOST_REQUIRE(client->open_queue("work", work) == shmq::Status::ok);
                    send_all(work, {"o1", "o2", "o3"});
                    write("broker.yaml", persistent(settings_config(name, large_work + access)));
                    const auto reloaded = shmq({"--broker", address, "reload"});
                    BOOST_TEST(reloaded.exit_code == 0, reloaded.out << reloaded.err);
                    send_all(work, {"n1", "n2"});
                }
                if (killed) {
                    broker->kill_hard();
                } else {
                    BOOST_TEST(broker->stop() == 0);
                }
                broker.emplace(*this, config, "second.log");
                broker->wait_until_ready();
                BOOST_TEST_INFO("second broker's log:\n" << broker->log());
                BOOST_TEST(contains(broker->log(), "a reload changed its settings"));
                BOOST_TEST(contains(broker->log(), "5 queued messages carried over"));
                const auto client = attach(address);
                shmq::Queue work;
                BOOST_REQUIRE(client->open_queue("work", work) == shmq::Status::ok);
                BOOST_TEST(work.capacity() == 16u);
                BOOST_TEST(drain(work) == (std::vector<std::string>{"o1", "o2", "o3", "n1", "n2"}),
                           boost::test_tools::per_element());
                BOOST_TEST(broker->stop() == 0);
            });
        }
    }
}

// The broker killed at each step of a change: built, listed, superseded,
// applied. The next broker, started on the new file, carries every message
// (those sent to the old ring, and to the successor once superseded) in
// order, once.
BOOST_AUTO_TEST_CASE(a_broker_killed_while_changing_a_queue_recovers) {
    at_every_step_of_a_change([&](const std::string& name, const std::string& access, const std::string& step) {
        const auto config = write("broker.yaml", settings_config(name, small_work + access));
        {
            BrokerProcess doomed(*this, config, "doomed.log", {"SHMQ_TEST_CRASH_AT=" + step});
            doomed.wait_until_ready();
            const auto client = attach(name);
            shmq::Queue work;
            BOOST_REQUIRE(client->open_queue("work", work) == shmq::Status::ok);
            send_all(work, {"o1", "o2"});
            write("broker.yaml", settings_config(name, large_work + access));
            const auto unanswered = shmq({"--broker", name, "reload"});
            BOOST_TEST(unanswered.exit_code == 1);
            BOOST_TEST(doomed.wait_exit().value_or(-1) == 128 + SIGKILL);
            // To the old ring, or once superseded to the successor.
            send_all(work, {"n1"});
        }
        BrokerProcess second(*this, config, "second.log");
        second.wait_until_ready();
        BOOST_TEST_INFO("second broker's log:\n" << second.log());
        const auto client = attach(name);
        shmq::Queue work;
        BOOST_REQUIRE(client->open_queue("work", work) == shmq::Status::ok);
        BOOST_TEST(work.capacity() == 16u);
        BOOST_TEST(drain(work) == (std::vector<std::string>{"o1", "o2", "n1"}), boost::test_tools::per_element());
        BOOST_TEST(second.stop() == 0);
    });
}

// ---------------------------------------------------------------------------
// Issue 11, item 2, restricted: a queue or topic restricted to an access
// group changes its settings live as an open one does, its successor in a
// live segment of the group's segment (SEGMENT.access-GROUP.live-G).

// A restricted queue changed live, then the broker killed and started on a
// file where the queue is open and its group gone: the main segment's
// migration carries the group's segment and the group's live segment as
// companions, the old ring's messages first, and removes both.
BOOST_AUTO_TEST_CASE(a_restricted_queue_changed_live_then_opened_keeps_every_message_in_order) {
    const std::string name = unique_broker_name();
    const std::string group = primary_group();
    SegmentGuard guard(name);
    GroupSegmentGuards group_segments(name, group);
    const auto config = write("broker.yaml", settings_config(name, small_work + restricted_to(group)));
    std::optional<BrokerProcess> broker(std::in_place, *this, config);
    broker->wait_until_ready();
    {
        const auto client = attach(name);
        shmq::Queue work;
        BOOST_REQUIRE(client->open_queue("work", work) == shmq::Status::ok);
        send_all(work, {"o1", "o2", "o3"});
        write("broker.yaml", settings_config(name, large_work + restricted_to(group)));
        const auto reloaded = shmq({"--broker", name, "reload"});
        BOOST_TEST(reloaded.exit_code == 0, reloaded.out << reloaded.err);
        send_all(work, {"n1", "n2"});
    }
    broker->kill_hard();
    write("broker.yaml", settings_config(name, large_work));
    broker.emplace(*this, config, "second.log");
    broker->wait_until_ready();
    BOOST_TEST_INFO("second broker's log:\n" << broker->log());
    BOOST_TEST(contains(broker->log(), "5 queued messages carried over"));
    BOOST_TEST(!fs::exists("/dev/shm/" + group_segments.name()));
    BOOST_TEST(!fs::exists("/dev/shm/" + group_segments.name() + ".live-1"));
    const auto client = attach(name);
    shmq::Queue work;
    BOOST_REQUIRE(client->open_queue("work", work) == shmq::Status::ok);
    BOOST_TEST(work.capacity() == 16u);
    BOOST_TEST(drain(work) == (std::vector<std::string>{"o1", "o2", "o3", "n1", "n2"}),
               boost::test_tools::per_element());
    BOOST_TEST(broker->stop() == 0);
}

// The mark names where to look, never what to trust: a client-written mark
// naming a generation nobody listed, or one that does not hold the queue,
// only refuses sends until the broker's tick puts its record back; a
// superseded queue's mark cleared by a client is set again.
BOOST_AUTO_TEST_CASE(a_superseded_mark_written_by_a_client_is_put_back_by_the_broker) {
    const std::string name = unique_broker_name();
    SegmentGuard guard(name);
    LiveSegmentGuards live(name);
    const auto config = write("broker.yaml", settings_config(name, small_work));
    BrokerProcess broker(*this, config);
    broker.wait_until_ready();
    const auto client = attach(name);
    auto work = open_queue(*client, "work");
    auto failed = open_queue(*client, "failed");
    const auto scribble = [&](const std::string& queue, std::uint32_t value) {
        shmq::test::RawSegment raw(name);
        raw.view.ring(raw.view.find_queue(queue)).control().retired.store(value);
    };

    scribble("failed", shmq::layout::superseded_by(5));  // no live segment 5
    BOOST_TEST(eventually([&] { return failed.send("f1", 1s) == shmq::Status::ok; }, 20s));
    BOOST_TEST(eventually([&] { return contains(broker.log(), "queue 'failed': another process wrote its retired word "
                                                              "(scribble): it read superseded by live segment 5"); },
                          20s),
               broker.log());

    write("broker.yaml", settings_config(name, large_work));
    BOOST_REQUIRE(shmq({"--broker", name, "reload"}).exit_code == 0);
    // Live segment 1 exists now, but holds no queue 'failed'.
    scribble("failed", shmq::layout::superseded_by(1));
    BOOST_TEST(eventually([&] { return failed.send("f2", 1s) == shmq::Status::ok; }, 20s));
    BOOST_TEST(drain(failed) == (std::vector<std::string>{"f1", "f2"}), boost::test_tools::per_element());
    // The superseded queue's mark cleared: sends land in the old ring for at
    // most a tick, and consumers still take them, in order, before the successor's.
    scribble("work", 0);
    BOOST_TEST(eventually([&] { return contains(broker.log(), "the broker's record is superseded by live segment 1"); },
                          20s),
               broker.log());
    send_all(work, {"w1", "w2"});
    BOOST_TEST(drain(work) == (std::vector<std::string>{"w1", "w2"}), boost::test_tools::per_element());
    BOOST_TEST(work.capacity() == 16u);
    BOOST_TEST(broker.stop() == 0);
}

// Issue 11 item 6: 4 producer and 4 consumer processes on `work` while one
// reload adds `fresh`, removes `gone` and doubles `work`'s capacity: nothing
// lost or duplicated, each producer's numbers rise at every consumer,
// `fresh` serves clients attached before, `gone` is drained and then
// refuses sends. In both delivery modes.
BOOST_AUTO_TEST_CASE(four_producers_and_four_consumers_through_an_add_a_removal_and_a_resize) {
    for (const std::string delivery : {"at_most_once", "at_least_once"}) {
        BOOST_TEST_CONTEXT("delivery " << delivery) {
            const std::string name = unique_broker_name();
            SegmentGuard guard(name);
            LiveSegmentGuards live(name);
            const std::string mode = "    delivery: " + delivery + "\n    ack_timeout_ms: 60000\n";
            const std::string gone = "  - name: gone\n    capacity: 8\n    max_message_size: 64\n";
            const std::string fresh = "  - name: fresh\n    capacity: 8\n    max_message_size: 64\n";
            const auto config = write("broker.yaml", settings_config(name, small_work + mode, gone));
            BrokerProcess broker(*this, config);
            broker.wait_until_ready();
            const auto client = attach(name);
            shmq::Queue gone_queue;
            BOOST_REQUIRE(client->open_queue("gone", gone_queue) == shmq::Status::ok);
            send_all(gone_queue, {"g1", "g2"});

            auto& counters = stream_counters();
            std::vector<pid_t> children;
            for (int producer = 0; producer < StreamCounters::producers; ++producer) {
                children.push_back(fork_running([&, producer] { return produce_stream(name, counters, producer, 200); }));
            }
            for (int consumer = 0; consumer < 4; ++consumer) {
                children.push_back(fork_running([&] { return consume_stream(name, counters); }));
            }
            BOOST_REQUIRE(eventually([&] { return counters.received.load() >= 200; }, 60s));

            write("broker.yaml", settings_config(name, "    capacity: 16\n    max_message_size: 64\n" + mode, fresh));
            const auto reloaded = shmq({"--broker", name, "reload"});
            BOOST_TEST_INFO("stdout:\n" << reloaded.out << "stderr:\n" << reloaded.err);
            BOOST_TEST(reloaded.exit_code == 0);
            BOOST_TEST(contains(reloaded.out, "applied: queue 'work': capacity 8 -> 16"));
            BOOST_TEST(contains(reloaded.out, "applied: queue 'fresh' added"));
            BOOST_TEST(contains(reloaded.out, "applied: queue 'gone' removed"));
            counters.reloaded.store(1);

            // Attached before the reload: `fresh` at once, `gone` drained then refused.
            shmq::Queue fresh_queue;
            BOOST_REQUIRE(client->open_queue("fresh", fresh_queue) == shmq::Status::ok);
            send_all(fresh_queue, {"f1"});
            BOOST_TEST(drain(fresh_queue) == (std::vector<std::string>{"f1"}), boost::test_tools::per_element());
            BOOST_TEST(gone_queue.send("g3", 1s) == shmq::Status::queue_removed);
            BOOST_TEST(drain(gone_queue) == (std::vector<std::string>{"g1", "g2"}), boost::test_tools::per_element());
            std::string message;
            BOOST_TEST(gone_queue.receive(message, 1s) == shmq::Status::queue_removed);

            for (const auto child : children) BOOST_TEST(wait_for_exit(child, 150s).value_or(-1) == child_ok);
            BOOST_TEST(counters.received.load() == counters.sent.load());
            BOOST_TEST(counters.duplicates.load() == 0);
            BOOST_TEST(counters.producers_done.load() == StreamCounters::producers);
            BOOST_TEST(broker.stop() == 0);
        }
    }
}

// A broker of a name of its own whose queue `work` is restricted to the
// test user's group (the group the restricted-add tests add to), written to
// broker.yaml; its segments are removed however the test ends.
struct RestrictedWork {
    explicit RestrictedWork(const Workspace& workspace)
        : name(unique_broker_name()), guard(name), live(name), group_segments(name, primary_group()),
          access(restricted_to(primary_group())),
          config(workspace.write("broker.yaml", settings_config(name, small_work + access))) {}
    const std::string name;
    SegmentGuard guard;
    LiveSegmentGuards live;
    GroupSegmentGuards group_segments;
    const std::string access;
    const fs::path config;
};

namespace {

// The restricted queue `secret` and topic `alerts` a reload added to group
// `group`, used by `client`, attached before the reload: two messages sent
// and one received, one published and received; `shmq list` and the
// figures show the queue with its group and one message in it.
void use_restricted_adds(Workspace& workspace, shmq::Client& client, const std::string& name,
                         const std::string& group) {
    shmq::Queue secret;
    BOOST_REQUIRE(client.open_queue("secret", secret) == shmq::Status::ok);
    send_all(secret, {"s1", "s2"});
    std::string message;
    BOOST_TEST(secret.receive(message, 5s) == shmq::Status::ok);
    BOOST_TEST(message == "s1");
    shmq::Subscription alerts;
    BOOST_REQUIRE(client.subscribe("alerts", alerts) == shmq::Status::ok);
    const auto published = workspace.shmq({"--broker", name, "publish", "--topic", "alerts", "fire"});
    BOOST_TEST(published.exit_code == 0, published.err);
    BOOST_TEST(alerts.receive(message, 5s) == shmq::Status::ok);
    BOOST_TEST(message == "fire");
    const auto listed = workspace.shmq({"--broker", name, "list"});
    bool secret_listed = false;
    for (const auto& line : lines_of(listed.out)) {
        secret_listed = secret_listed || (contains(line, "secret") && contains(line, "group:" + group));
    }
    BOOST_TEST(secret_listed, listed.out);
    bool in_stats = false;
    for (const auto& queue : client.stats().queues) {
        in_stats = in_stats || (queue.name == "secret" && queue.access_group == group && queue.depth == 1);
    }
    BOOST_TEST(in_stats);
}

// `broker` killed, and started again on `config`: every segment adopted,
// none migrated, and `secret` holds the message use_restricted_adds left.
void restart_keeps_restricted_adds(Workspace& workspace, std::optional<BrokerProcess>& broker,
                                   const fs::path& config, const std::string& name) {
    broker->kill_hard();
    broker.emplace(workspace, config, "second.log");
    broker->wait_until_ready();
    BOOST_TEST_INFO("second broker's log:\n" << broker->log());
    BOOST_TEST(!contains(broker->log(), "migrat"));
    const auto after = attach(name);
    shmq::Queue secret;
    BOOST_REQUIRE(after->open_queue("secret", secret) == shmq::Status::ok);
    BOOST_TEST(drain(secret) == (std::vector<std::string>{"s2"}), boost::test_tools::per_element());
}

}  // namespace

// Issue 11, item 2: a restricted queue and topic added by a reload to an
// access group the broker runs are usable at once by a member attached
// before the reload: the group's broker holds them in a live segment of its
// segment, and the main segment's AccessTable lists them once that is
// listed. A broker killed afterwards adopts everything with its messages.
BOOST_AUTO_TEST_CASE(a_restricted_queue_and_topic_added_live_are_usable_at_once_and_survive_a_crash) {
    const RestrictedWork restricted(*this);
    const auto& name = restricted.name;
    const auto& access = restricted.access;
    const auto& config = restricted.config;
    std::optional<BrokerProcess> broker(std::in_place, *this, config);
    broker->wait_until_ready();
    const auto before = attach(name);
    shmq::Queue secret;
    BOOST_TEST(before->open_queue("secret", secret) == shmq::Status::queue_not_found);

    const std::string added = "  - name: secret\n" + small_work + access + "topics:\n  - name: alerts\n" + small_work +
                              access;
    write("broker.yaml", settings_config(name, small_work + access, added));
    const auto reloaded = shmq({"--broker", name, "reload"});
    BOOST_TEST_INFO("stdout:\n" << reloaded.out << "stderr:\n" << reloaded.err << "log:\n" << broker->log());
    BOOST_TEST(reloaded.exit_code == 0);
    BOOST_TEST(contains(reloaded.out, "applied: queue 'secret' added"));
    BOOST_TEST(contains(reloaded.out, "applied: topic 'alerts' added"));

    use_restricted_adds(*this, *before, name, primary_group());
    // Killed, and started again on the file the reload applied.
    restart_keeps_restricted_adds(*this, broker, config, name);
    BOOST_TEST(broker->stop() == 0);
}

// The broker killed at each step of adding a restricted queue: its group's
// live segment built, listed in the group's segment, the name appended to
// the main segment's AccessTable, the reload applied. The next broker on
// the same file keeps every message and serves the new queue: a main table
// a step short of the file is adopted and appended to.
BOOST_AUTO_TEST_CASE(a_broker_killed_while_adding_a_restricted_queue_recovers) {
    for (const std::string step : {"live_segment_built", "live_segment_listed", "access_entry_listed", "reload_applied"}) {
        BOOST_TEST_CONTEXT("killed at " << step) {
            const RestrictedWork restricted(*this);
            const auto& access = restricted.access;
            const auto log = killed_while_adding(
                *this, restricted.name, restricted.config, step, "work",
                settings_config(restricted.name, small_work + access, "  - name: secret\n" + small_work + access),
                "secret");
            BOOST_TEST(!contains(log, "migrat"), log);
            BOOST_TEST(contains(log, restricted.group_segments.name() + ".live-1' ready"), log);
        }
    }
}

// The lock a broker holds on segment `name` all its life, held by the test:
// a broker that would make that segment finds it running elsewhere.
class HeldSegmentLock {
public:
    explicit HeldSegmentLock(const std::string& name)
        : path_("/dev/shm/" + name + ".lock"), descriptor_(::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
        BOOST_REQUIRE(descriptor_ >= 0);
        BOOST_REQUIRE(::flock(descriptor_, LOCK_EX | LOCK_NB) == 0);
    }
    ~HeldSegmentLock() {
        ::unlink(path_.c_str());
        ::close(descriptor_);
    }
    HeldSegmentLock(const HeldSegmentLock&) = delete;
    HeldSegmentLock& operator=(const HeldSegmentLock&) = delete;

private:
    std::string path_;
    int descriptor_;
};

// Issue 11, item 2: a queue and a topic restricted to an access group the
// broker has no segment for yet are usable at once by a member attached
// before the reload: the reload makes the group's segment (whole and ready,
// with the group's mode and group), then the main segment's AccessTable
// lists the group, then its names. A group whose segment cannot be made
// (another process holds its lock) fails its own queue only, with the
// reason. A broker killed afterwards adopts every segment, with its
// messages.
BOOST_AUTO_TEST_CASE(a_queue_and_topic_in_a_new_access_group_are_usable_at_once_and_survive_a_crash) {
    const std::string name = unique_broker_name();
    SegmentGuard guard(name);
    LiveSegmentGuards live(name);
    const std::string group = primary_group();
    GroupSegmentGuards group_segments(name, group);
    const std::string locked_group = "daemon";
    GroupSegmentGuards locked_segments(name, locked_group);
    const HeldSegmentLock held(locked_segments.name());
    const auto config = write("broker.yaml", settings_config(name, small_work));
    std::optional<BrokerProcess> broker(std::in_place, *this, config);
    broker->wait_until_ready();
    const auto before = attach(name);
    shmq::Queue secret;
    BOOST_TEST(before->open_queue("secret", secret) == shmq::Status::queue_not_found);

    const std::string access = restricted_to(group);
    const std::string added = "  - name: secret\n" + small_work + access + "topics:\n  - name: alerts\n" + small_work +
                              access;
    const std::string nowhere = "  - name: nowhere\n" + small_work + restricted_to(locked_group);
    write("broker.yaml", settings_config(name, small_work, nowhere + added));
    const auto reloaded = shmq({"--broker", name, "reload"});
    BOOST_TEST_INFO("stdout:\n" << reloaded.out << "stderr:\n" << reloaded.err << "log:\n" << broker->log());
    BOOST_TEST(reloaded.exit_code == 3);
    BOOST_TEST(contains(reloaded.out, "applied: queue 'secret' added"));
    BOOST_TEST(contains(reloaded.out, "applied: topic 'alerts' added"));
    BOOST_TEST(contains(reloaded.out, "needs a restart: queue 'nowhere' added, but the segment of its access group "
                                      "could not be made: "));
    BOOST_TEST(contains(reloaded.out, "is already running"));
    BOOST_TEST(contains(broker->log(), "access group '" + group + "' listed"));
    struct stat made {};
    BOOST_REQUIRE(::stat(("/dev/shm/" + group_segments.name()).c_str(), &made) == 0);
    BOOST_TEST((made.st_mode & 0777) == 0660u);
    BOOST_TEST(made.st_gid == ::getgid());

    use_restricted_adds(*this, *before, name, group);
    shmq::Queue nowhere_queue;
    BOOST_TEST(before->open_queue("nowhere", nowhere_queue) == shmq::Status::queue_not_found);
    // Killed, and started again on the file the reload applied.
    write("broker.yaml", settings_config(name, small_work, added));
    restart_keeps_restricted_adds(*this, broker, config, name);
    BOOST_TEST(broker->stop() == 0);
}

// The broker killed at each step of adding a queue restricted to a new
// access group: the group's segment built, the group and the name listed in
// the main segment's AccessTable, the reload applied. The next broker on the
// same file keeps every message and serves the new queue: a main table a
// step short of the file (without the group) is adopted and appended to.
BOOST_AUTO_TEST_CASE(a_broker_killed_while_adding_a_new_access_group_recovers) {
    for (const std::string step : {"access_segment_built", "access_entry_listed", "reload_applied"}) {
        BOOST_TEST_CONTEXT("killed at " << step) {
            const std::string name = unique_broker_name();
            SegmentGuard guard(name);
            LiveSegmentGuards live(name);
            GroupSegmentGuards group_segments(name, primary_group());
            const auto config = write("broker.yaml", settings_config(name, small_work));
            const auto log = killed_while_adding(
                *this, name, config, step, "work",
                settings_config(name, small_work, "  - name: secret\n" + small_work + restricted_to(primary_group())),
                "secret");
            BOOST_TEST(!contains(log, "migrat"), log);
            BOOST_TEST(contains(log, "access group '" + primary_group() + "' listed") ==
                           (step == "access_segment_built"),
                       log);
        }
    }
}

// The AccessTable holds layout::max_restricted names, and a removed one
// keeps its entry until a restart: a full table makes an add need a
// restart, with the reason, while the removal beside it applies.
BOOST_AUTO_TEST_CASE(a_restricted_add_to_a_full_access_table_needs_a_restart) {
    const RestrictedWork restricted(*this);
    const auto& access = restricted.access;
    const auto queue = [&](int number) { return "  - name: r" + std::to_string(number) + "\n" + small_work + access; };
    std::string others;
    for (int number = 1; number < static_cast<int>(shmq::layout::max_restricted); ++number) others += queue(number);
    write("broker.yaml", settings_config(restricted.name, small_work + access, others));
    BrokerProcess broker(*this, restricted.config);
    broker.wait_until_ready();
    const auto last = std::to_string(shmq::layout::max_restricted - 1);
    others.erase(others.find("  - name: r" + last + "\n"));
    write("broker.yaml", settings_config(restricted.name, small_work + access, others + queue(100)));
    const auto reloaded = shmq({"--broker", restricted.name, "reload"});
    BOOST_TEST_INFO("stdout:\n" << reloaded.out << "stderr:\n" << reloaded.err);
    BOOST_TEST(reloaded.exit_code == 3);
    BOOST_TEST(contains(reloaded.out, "applied: queue 'r" + last + "' removed"));
    BOOST_TEST(contains(reloaded.out, "queue 'r100' added (the main segment lists 64 restricted queues and topics "
                                      "already)"));
    BOOST_TEST(broker.stop() == 0);
}

// A group's readers are a property of its segment's file (an ACL), which
// every queue and topic of the group shares: a file that gives the group
// other readers changes the access of the group's queues (a restart), and a
// queue added to the group with those readers is not added live either,
// each line saying why; the rest of the reload applies.
BOOST_AUTO_TEST_CASE(other_readers_for_a_running_group_need_a_restart) {
    const RestrictedWork restricted(*this);
    const auto with_readers = "    access: { group: " + primary_group() + ", readers: daemon }\n";
    BrokerProcess broker(*this, restricted.config);
    broker.wait_until_ready();
    write("broker.yaml", settings_config(restricted.name, small_work + with_readers,
                                         "  - name: secret\n" + small_work + with_readers +
                                             "  - name: open\n" + small_work));
    const auto reloaded = shmq({"--broker", restricted.name, "reload"});
    BOOST_TEST_INFO("stdout:\n" << reloaded.out << "stderr:\n" << reloaded.err);
    BOOST_TEST(reloaded.exit_code == 3);
    BOOST_TEST(contains(reloaded.out, "applied: queue 'open' added"));
    BOOST_TEST(contains(reloaded.out, "queue 'work': access.readers (none) -> 'daemon'"));
    BOOST_TEST(contains(reloaded.out, "queue 'secret' added (its access.readers 'daemon' differ from those of the "
                                      "segment of group '" + primary_group() + "', (none))"));
    const auto client = attach(restricted.name);
    shmq::Queue secret;
    BOOST_TEST(client->open_queue("secret", secret) == shmq::Status::queue_not_found);
    BOOST_TEST(broker.stop() == 0);
}

// Any process may write the main segment's AccessTable. A client that
// looks for a name it does not know reads a checked copy of it, so a count
// beyond the table or an entry naming no group only makes the name not
// found; the broker writes its own count and entries back at its next tick,
// and the name it listed is found again.
BOOST_AUTO_TEST_CASE(a_scribbled_access_table_is_put_back_and_never_followed) {
    const RestrictedWork restricted(*this);
    const auto& name = restricted.name;
    const auto& access = restricted.access;
    const auto& config = restricted.config;
    BrokerProcess broker(*this, config);
    broker.wait_until_ready();
    const auto before = attach(name);
    write("broker.yaml", settings_config(name, small_work + access, "  - name: secret\n" + small_work + access));
    BOOST_REQUIRE(shmq({"--broker", name, "reload"}).exit_code == 0);

    shmq::test::RawSegment raw(name);
    auto& table = raw.view.access_table();
    const auto count = table.entry_count.load();
    BOOST_REQUIRE(count == 2u);
    // Stopped, the broker cannot put the table back before the client reads
    // it: an entry past the table's groups, then a count past the table.
    BOOST_REQUIRE(::kill(broker.pid(), SIGSTOP) == 0);
    table.entries[1].segment = 200;
    shmq::Queue secret;
    BOOST_TEST(before->open_queue("secret", secret) == shmq::Status::queue_not_found);
    table.entry_count.store(0xFFFF'FFFF);
    BOOST_TEST(before->open_queue("secret", secret) == shmq::Status::queue_not_found);
    BOOST_REQUIRE(::kill(broker.pid(), SIGCONT) == 0);
    BOOST_TEST(eventually([&] { return table.entry_count.load() == count && table.entries[1].segment == 0; }, 20s));
    BOOST_TEST(eventually([&] { return contains(broker.log(), "its list of restricted queues and topics was overwritten"); },
                          20s),
               broker.log());
    BOOST_TEST(eventually([&] { return before->open_queue("secret", secret) == shmq::Status::ok; }, 20s));
    send_all(secret, {"s1"});
    BOOST_TEST(drain(secret) == (std::vector<std::string>{"s1"}), boost::test_tools::per_element());
    BOOST_TEST(broker.stop() == 0);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------
// A topic's settings changed live: the same successor as a queue's. Publishers
// go to the successor at once; a subscription reads the old ring to its end,
// then the successor from its first message.

namespace {

// Broker `name` as settings_config with `work` unchanged, plus topic `ticks`
// (`ticks_keys` after its name).
std::string topic_settings_config(const std::string& name, const std::string& ticks_keys) {
    return settings_config(name, small_work) + "topics:\n  - name: ticks\n" + ticks_keys;
}

const std::string small_ticks = "    capacity: 8\n    max_message_size: 64\n    history: 4\n";
const std::string large_ticks = "    capacity: 16\n    max_message_size: 128\n    history: 8\n";

// Per-publisher bookkeeping in memory shared with forked children.
struct TopicCounters {
    static constexpr int publishers = 2;
    static constexpr int subscribers = 2;
    std::atomic<int> subscribed{0};
    std::atomic<int> sent{0};
    std::atomic<int> publishers_done{0};
    std::atomic<int> reloaded{0};
    std::atomic<int> received[subscribers];
};

TopicCounters& topic_counters() {
    void* memory = ::mmap(nullptr, sizeof(TopicCounters), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    BOOST_REQUIRE(memory != MAP_FAILED);
    return *new (memory) TopicCounters;
}

// Publishes "P-N" for N = 0, 1, ... once every subscriber is in, until it has
// published `after_reload` messages since it saw the reload done.
int publish_stream(const std::string& broker, TopicCounters& counters, int publisher, int after_reload) {
    auto client = attach_in_child(broker);
    shmq::Topic topic;
    if (client->open_topic("ticks", topic) != shmq::Status::ok) return child_failed;
    const auto give_up = std::chrono::steady_clock::now() + 60s;
    while (counters.subscribed.load() < TopicCounters::subscribers) {
        if (std::chrono::steady_clock::now() > give_up) return child_failed;
        std::this_thread::sleep_for(1ms);
    }
    int since_reload = 0;
    for (int number = 0; since_reload < after_reload; ++number) {
        if (counters.reloaded.load() != 0) ++since_reload;
        if (topic.publish(std::to_string(publisher) + "-" + std::to_string(number), 30s) != shmq::Status::ok) {
            return child_failed;
        }
        counters.sent.fetch_add(1);
    }
    counters.publishers_done.fetch_add(1);
    return child_ok;
}

// Subscribed before anything is published: under block it must receive every
// publisher's numbers 0, 1, 2, ... with none missing, duplicated or out of
// order, across the change, until every publisher is done and it has all.
int subscribe_stream(const std::string& broker, TopicCounters& counters, int subscriber) {
    auto client = attach_in_child(broker);
    shmq::Subscription subscription;
    if (client->subscribe("ticks", subscription) != shmq::Status::ok) return child_failed;
    counters.subscribed.fetch_add(1);
    std::vector<int> last(TopicCounters::publishers, -1);
    const auto give_up = std::chrono::steady_clock::now() + 120s;
    while (std::chrono::steady_clock::now() < give_up) {
        std::string message;
        const auto status = subscription.receive(message, 200ms);
        if (status == shmq::Status::timeout) {
            if (counters.publishers_done.load() == TopicCounters::publishers &&
                counters.received[subscriber].load() == counters.sent.load()) {
                return subscription.lost() == 0 ? child_ok : child_failed;
            }
            continue;
        }
        if (status != shmq::Status::ok) return child_failed;
        const auto dash = message.find('-');
        const int publisher = std::stoi(message.substr(0, dash));
        const int number = std::stoi(message.substr(dash + 1));
        if (publisher < 0 || publisher >= TopicCounters::publishers || number != last[publisher] + 1) {
            return child_failed;
        }
        last[publisher] = number;
        counters.received[subscriber].fetch_add(1);
    }
    return child_failed;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(live_topic_settings, Workspace)

// Issue 11, item 2: 2 publisher and 2 subscriber processes on `ticks` while a
// reload doubles its capacity and max_message_size: every subscriber gets
// every publisher's numbers in order, none missing (block), without a
// reattach; `shmq list` shows the new settings.
BOOST_AUTO_TEST_CASE(a_topic_changed_under_load_keeps_every_message_in_order) {
    const std::string name = unique_broker_name();
    SegmentGuard guard(name);
    LiveSegmentGuards live(name);
    const auto config = write("broker.yaml", topic_settings_config(name, small_ticks));
    BrokerProcess broker(*this, config);
    broker.wait_until_ready();
    auto& counters = topic_counters();
    std::vector<pid_t> children;
    for (int subscriber = 0; subscriber < TopicCounters::subscribers; ++subscriber) {
        children.push_back(fork_running([&, subscriber] { return subscribe_stream(name, counters, subscriber); }));
    }
    for (int publisher = 0; publisher < TopicCounters::publishers; ++publisher) {
        children.push_back(fork_running([&, publisher] { return publish_stream(name, counters, publisher, 300); }));
    }
    BOOST_REQUIRE(eventually([&] { return counters.received[0].load() >= 100; }, 60s));

    write("broker.yaml", topic_settings_config(name, large_ticks));
    const auto reloaded = shmq({"--broker", name, "reload"});
    BOOST_TEST_INFO("stdout:\n" << reloaded.out << "stderr:\n" << reloaded.err << "log:\n" << broker.log());
    BOOST_TEST(reloaded.exit_code == 0);
    BOOST_TEST(contains(reloaded.out, "applied: topic 'ticks': capacity 8 -> 16, max_message_size 64 -> 128, "
                                      "history 4 -> 8"));
    counters.reloaded.store(1);

    for (const auto child : children) BOOST_TEST(wait_for_exit(child, 150s).value_or(-1) == child_ok);
    for (int subscriber = 0; subscriber < TopicCounters::subscribers; ++subscriber) {
        BOOST_TEST(counters.received[subscriber].load() == counters.sent.load());
    }
    BOOST_TEST(counters.publishers_done.load() == TopicCounters::publishers);
    BOOST_TEST(contains(broker.log(), "topic 'ticks' superseded by its successor in live segment 1"), broker.log());
    const auto listed = shmq({"--broker", name, "list"});
    BOOST_TEST_INFO("shmq list:\n" << listed.out << listed.err);
    BOOST_TEST(listed.exit_code == 0);
    BOOST_TEST(contains(listed.out, "ticks"));
    const auto stats = shmq({"--broker", name, "stats", "--json"});
    BOOST_TEST(stats.exit_code == 0, stats.err);
    BOOST_TEST(contains(stats.out, "\"ticks\""), stats.out);
    BOOST_TEST(broker.stop() == 0);
}

// One process: a subscription from before the change reads the old ring to
// its end, then the successor (a message longer than the old limit too); a
// view of the old ring stays readable; a subscription made after the change
// gets history from the successor only; handles show the new settings.
BOOST_AUTO_TEST_CASE(a_subscription_reads_the_old_ring_then_the_successor) {
    for_open_and_restricted([&](const std::string& name, const std::string& access) {
        const auto config = write("broker.yaml", topic_settings_config(name, small_ticks + access));
        BrokerProcess broker(*this, config, "broker.log", {}, {"--log-level", "debug"});
        broker.wait_until_ready();
        const auto client = attach(name);
        shmq::Topic ticks;
        BOOST_REQUIRE(client->open_topic("ticks", ticks) == shmq::Status::ok);
        shmq::Subscription before;
        BOOST_REQUIRE(client->subscribe("ticks", before) == shmq::Status::ok);
        for (const std::string message : {"o1", "o2", "o3"}) BOOST_REQUIRE(ticks.publish(message, 5s) == shmq::Status::ok);
        shmq::View held;
        BOOST_REQUIRE(before.read(held, 5s) == shmq::Status::ok);
        BOOST_TEST(held.text() == "o1");

        write("broker.yaml", topic_settings_config(name, large_ticks + access));
        const auto reloaded = shmq({"--broker", name, "reload"});
        BOOST_TEST(reloaded.exit_code == 0, reloaded.out << reloaded.err);
        const std::string long_message(100, 'n');
        BOOST_TEST(ticks.capacity() == 16u);
        BOOST_TEST(ticks.max_message_size() == 128u);
        BOOST_TEST(ticks.history() == 8u);
        BOOST_REQUIRE(ticks.publish("n1", 5s) == shmq::Status::ok);
        BOOST_REQUIRE(ticks.publish(long_message, 5s) == shmq::Status::ok);
        shmq::Loan loan;
        BOOST_REQUIRE(ticks.loan(2, loan, 5s) == shmq::Status::ok);
        BOOST_TEST(loan.capacity() == 128u);
        std::memcpy(loan.data(), "n3", 2);
        BOOST_REQUIRE(ticks.publish(loan) == shmq::Status::ok);

        std::vector<std::string> read;
        std::string message;
        while (before.receive(message, shmq::no_wait) == shmq::Status::ok) read.push_back(message);
        BOOST_TEST(read == (std::vector<std::string>{"o2", "o3", "n1", long_message, "n3"}),
                   boost::test_tools::per_element());
        BOOST_TEST(held.text() == "o1");  // the old ring's view, still readable
        held.release();
        BOOST_TEST(before.received() == 6u);
        BOOST_TEST(before.lost() == 0u);

        shmq::Subscription after;
        shmq::SubscribeOptions options;
        options.from_history = 8;
        BOOST_REQUIRE(client->subscribe("ticks", after, options) == shmq::Status::ok);
        read.clear();
        while (after.receive(message, shmq::no_wait) == shmq::Status::ok) read.push_back(message);
        BOOST_TEST(read == (std::vector<std::string>{"n1", long_message, "n3"}), boost::test_tools::per_element());
        shmq::Topic reopened;
        BOOST_REQUIRE(client->open_topic("ticks", reopened) == shmq::Status::ok);
        BOOST_TEST(reopened.capacity() == 16u);
        before.unsubscribe();
        after.unsubscribe();
        // The broker's hold on the successor ends once no subscriber of the old
        // ring is left.
        BOOST_TEST(eventually([&] { return contains(broker.log(), "topic 'ticks': every subscriber of the superseded "
                                                                  "topic moved to its successor or left"); },
                              20s),
                   broker.log());
        BOOST_TEST(fs::exists("/dev/shm/" + holder_of(name, access) + ".live-1"));
        BOOST_TEST(broker.stop() == 0);
    });
}

// The broker killed at each step of a topic's change. The next broker,
// started on the new file, serves the topic with its new settings (a topic
// carries no message over a restart) to publishers and subscribers.
BOOST_AUTO_TEST_CASE(a_broker_killed_while_changing_a_topic_recovers) {
    at_every_step_of_a_change([&](const std::string& name, const std::string& access, const std::string& step) {
        const auto config = write("broker.yaml", topic_settings_config(name, small_ticks + access));
        {
            BrokerProcess doomed(*this, config, "doomed.log", {"SHMQ_TEST_CRASH_AT=" + step});
            doomed.wait_until_ready();
            const auto client = attach(name);
            shmq::Topic ticks;
            BOOST_REQUIRE(client->open_topic("ticks", ticks) == shmq::Status::ok);
            BOOST_REQUIRE(ticks.publish("o1", 5s) == shmq::Status::ok);
            write("broker.yaml", topic_settings_config(name, large_ticks + access));
            const auto unanswered = shmq({"--broker", name, "reload"});
            BOOST_TEST(unanswered.exit_code == 1);
            BOOST_TEST(doomed.wait_exit().value_or(-1) == 128 + SIGKILL);
        }
        BrokerProcess second(*this, config, "second.log");
        second.wait_until_ready();
        BOOST_TEST_INFO("second broker's log:\n" << second.log());
        const auto client = attach(name);
        shmq::Topic ticks;
        BOOST_REQUIRE(client->open_topic("ticks", ticks) == shmq::Status::ok);
        BOOST_TEST(ticks.capacity() == 16u);
        shmq::Subscription subscription;
        BOOST_REQUIRE(client->subscribe("ticks", subscription) == shmq::Status::ok);
        BOOST_REQUIRE(ticks.publish(std::string(100, 'x'), 5s) == shmq::Status::ok);
        std::string message;
        BOOST_TEST(subscription.receive(message, 5s) == shmq::Status::ok);
        BOOST_TEST(message == std::string(100, 'x'));
        subscription.unsubscribe();
        BOOST_TEST(second.stop() == 0);
    });
}

// The mark names where to look, never what to trust: a client-written mark
// on a topic naming a generation nobody listed, or one without the topic,
// only refuses publishes until the broker's tick puts its record back; a
// superseded topic's mark cleared by a client is set again, and what was
// published into the old ring meanwhile still reaches its subscribers first.
BOOST_AUTO_TEST_CASE(a_topic_superseded_mark_written_by_a_client_is_put_back_by_the_broker) {
    const std::string name = unique_broker_name();
    SegmentGuard guard(name);
    LiveSegmentGuards live(name);
    const auto config =
        write("broker.yaml", topic_settings_config(name, small_ticks) +
                                 "  - name: other\n    capacity: 8\n    max_message_size: 64\n");
    BrokerProcess broker(*this, config);
    broker.wait_until_ready();
    const auto client = attach(name);
    shmq::Topic ticks;
    shmq::Topic other;
    BOOST_REQUIRE(client->open_topic("ticks", ticks) == shmq::Status::ok);
    BOOST_REQUIRE(client->open_topic("other", other) == shmq::Status::ok);
    shmq::Subscription reader;
    BOOST_REQUIRE(client->subscribe("ticks", reader) == shmq::Status::ok);
    const auto scribble = [&](const std::string& topic, std::uint32_t value) {
        shmq::test::RawSegment raw(name);
        raw.view.topic(raw.view.find_topic(topic)).control().retired.store(value);
    };

    scribble("other", shmq::layout::superseded_by(5));  // no live segment 5
    BOOST_TEST(eventually([&] { return other.publish("x1", 1s) == shmq::Status::ok; }, 20s));
    BOOST_TEST(eventually([&] { return contains(broker.log(), "topic 'other': another process wrote its retired word "
                                                              "(scribble): it read superseded by live segment 5"); },
                          20s),
               broker.log());

    write("broker.yaml", topic_settings_config(name, large_ticks) +
                             "  - name: other\n    capacity: 8\n    max_message_size: 64\n");
    const auto reloaded = shmq({"--broker", name, "reload"});
    BOOST_REQUIRE(reloaded.exit_code == 0);
    // Live segment 1 exists now, but holds no topic 'other'.
    scribble("other", shmq::layout::superseded_by(1));
    BOOST_TEST(eventually([&] { return other.publish("x2", 1s) == shmq::Status::ok; }, 20s));
    // The old ring's mark cleared: a publish lands there for at most a tick,
    // and the subscriber reads it before the successor's.
    BOOST_REQUIRE(ticks.publish("n1", 5s) == shmq::Status::ok);
    scribble("ticks", 0);
    BOOST_TEST(eventually([&] { return contains(broker.log(), "topic 'ticks': another process wrote its retired word "
                                                              "(scribble): it read in service, the broker's record "
                                                              "is superseded by live segment 1"); },
                          20s),
               broker.log());
    BOOST_REQUIRE(ticks.publish("n2", 5s) == shmq::Status::ok);
    std::vector<std::string> read;
    std::string message;
    while (reader.receive(message, shmq::no_wait) == shmq::Status::ok) read.push_back(message);
    BOOST_TEST(read == (std::vector<std::string>{"n1", "n2"}), boost::test_tools::per_element());
    BOOST_TEST(ticks.capacity() == 16u);
    reader.unsubscribe();
    BOOST_TEST(broker.stop() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
