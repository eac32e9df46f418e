// End-to-end tests of shmqd as an operator meets it: real configuration
// files, the real shmqd binary run as a child process (--check-config, a
// start, a kill -9 and a restart), and what it prints and logs.
#define BOOST_TEST_DYN_LINK
#define BOOST_TEST_MODULE daemon_tests
#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <spawn.h>
#include <sstream>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "shmq/client.hpp"

extern char** environ;

namespace shmq {
// So that a failed check shows the status by name.
std::ostream& operator<<(std::ostream& out, Status status) { return out << to_string(status); }
}  // namespace shmq

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string broker_binary = SHMQ_BINARY_DIR "/daemon/shmqd";
const std::string cli_binary = SHMQ_BINARY_DIR "/cli/shmq";

// Generous: the machine is shared and noisy; only a hang should reach these.
constexpr auto run_limit = 20s;
constexpr auto broker_limit = 10s;

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

void write_file(const fs::path& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary);
    out << content;
    BOOST_REQUIRE_MESSAGE(out.flush(), "cannot write " << path);
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!condition()) {
        if (std::chrono::steady_clock::now() >= end) return false;
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

std::string unique_broker_name() {
    static int counter = 0;
    return "daemontest-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

// The exit code of `pid`, or 128 + the signal that ended it; nothing if it
// still runs after `limit`.
std::optional<int> wait_for_exit(pid_t pid, std::chrono::milliseconds limit) {
    std::optional<int> code;
    eventually(
        [&] {
            int status = 0;
            if (::waitpid(pid, &status, WNOHANG) != pid) return false;
            code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            return true;
        },
        limit);
    return code;
}

void kill_and_reap(pid_t pid) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
}

// `program` with `arguments`, its stdout and stderr in files, and
// `extra_environment` (NAME=VALUE) added to this process's environment.
pid_t spawn_program(const std::string& program, const std::vector<std::string>& arguments, const fs::path& out,
                    const fs::path& err, const std::vector<std::string>& extra_environment = {}) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<std::string> command{program};
    command.insert(command.end(), arguments.begin(), arguments.end());
    std::vector<char*> argv;
    for (auto& argument : command) argv.push_back(argument.data());
    argv.push_back(nullptr);
    std::vector<std::string> variables(extra_environment);
    std::vector<char*> envp;
    for (char** entry = environ; *entry != nullptr; ++entry) envp.push_back(*entry);
    for (auto& variable : variables) envp.push_back(variable.data());
    envp.push_back(nullptr);
    pid_t pid = -1;
    const int failed = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    BOOST_REQUIRE_MESSAGE(failed == 0, "cannot start " << program << ": " << std::strerror(failed));
    return pid;
}

// shmqd with `arguments`, its stdout and stderr in files.
pid_t spawn_shmqd(const std::vector<std::string>& arguments, const fs::path& out, const fs::path& err,
                  const std::vector<std::string>& extra_environment = {}) {
    return spawn_program(broker_binary, arguments, out, err, extra_environment);
}

struct Run {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// A private directory for the files of one test, and shmqd runs in it.
class Workspace {
public:
    Workspace() {
        std::string pattern = (fs::temp_directory_path() / "shmq-daemon-test-XXXXXX").string();
        BOOST_REQUIRE_MESSAGE(::mkdtemp(pattern.data()) != nullptr, "mkdtemp: " << std::strerror(errno));
        directory_ = pattern;
    }
    ~Workspace() {
        std::error_code ignored;
        fs::remove_all(directory_, ignored);
    }
    Workspace(const Workspace&) = delete;
    Workspace& operator=(const Workspace&) = delete;

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
    Run run(const std::string& program, const std::vector<std::string>& arguments) {
        const std::string stem = "run-" + std::to_string(++runs_);
        const auto out = directory_ / (stem + ".out");
        const auto err = directory_ / (stem + ".err");
        const pid_t pid = spawn_program(program, arguments, out, err);
        const auto code = wait_for_exit(pid, run_limit);
        if (!code) kill_and_reap(pid);
        BOOST_REQUIRE_MESSAGE(code.has_value(), program << " did not finish within " << run_limit.count() << " s");
        return Run{*code, read_file(out), read_file(err)};
    }

    fs::path directory_;
    int runs_ = 0;
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
class BrokerProcess {
public:
    BrokerProcess(Workspace& workspace, const fs::path& config, const std::string& log_name = "broker.log",
                  const std::vector<std::string>& extra_environment = {})
        : log_(workspace.directory() / log_name) {
        pid_ = spawn_shmqd({"--config", config.string()}, workspace.directory() / (log_name + ".out"), log_,
                           extra_environment);
    }
    ~BrokerProcess() {
        if (pid_ > 0) kill_and_reap(pid_);
    }
    BrokerProcess(const BrokerProcess&) = delete;
    BrokerProcess& operator=(const BrokerProcess&) = delete;

    pid_t pid() const { return pid_; }
    std::string log() const { return read_file(log_); }

    // Waits until the log says it is ready; the test stops if it is not.
    void wait_until_ready() {
        bool exited = false;
        const bool ready = eventually(
            [&] {
                if (contains(log(), "ready:")) return true;
                exited = wait_for_exit(pid_, 0ms).has_value();
                if (exited) pid_ = -1;
                return exited;
            },
            broker_limit);
        BOOST_REQUIRE_MESSAGE(ready && !exited, "shmqd did not become ready; its log:\n" << log());
    }

    // Its exit code once it ends by itself, or nothing.
    std::optional<int> wait_exit() {
        const auto code = wait_for_exit(pid_, broker_limit);
        if (code) pid_ = -1;
        return code;
    }

    int stop() {
        ::kill(pid_, SIGTERM);
        const auto code = wait_for_exit(pid_, broker_limit);
        if (!code) kill_and_reap(pid_);
        pid_ = -1;
        return code.value_or(-1);
    }

    // False once it has ended (it is then reaped).
    bool running() {
        if (pid_ <= 0) return false;
        if (!wait_for_exit(pid_, 0ms)) return true;
        pid_ = -1;
        return false;
    }

    void kill_hard() {
        kill_and_reap(pid_);
        pid_ = -1;
    }

private:
    fs::path log_;
    pid_t pid_ = -1;
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
    shmq::Queue jobs;
    shmq::Queue failed;
    BOOST_REQUIRE(client->open_queue("jobs", jobs) == shmq::Status::ok);
    BOOST_REQUIRE(client->open_queue("failed", failed) == shmq::Status::ok);
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
    shmq::Queue jobs;
    shmq::Queue failed;
    BOOST_REQUIRE(client->open_queue("jobs", jobs) == shmq::Status::ok);
    BOOST_REQUIRE(client->open_queue("failed", failed) == shmq::Status::ok);
    send_all(jobs, {"job-1"});

    write("broker.yaml", reload_config(name, "    max_deliveries: 1\n    dead_letter: failed\n",
                                       "  - name: extra\n    capacity: 4\n    max_message_size: 64\n"));
    const auto reloaded = shmq({"--broker", name, "reload"});
    BOOST_TEST_INFO("stdout:\n" << reloaded.out << "stderr:\n" << reloaded.err);
    BOOST_TEST(reloaded.exit_code == 3);
    BOOST_TEST(contains(reloaded.out, "applied: queue 'jobs': max_deliveries 100 -> 1"));
    BOOST_TEST(contains(reloaded.out, "applied: queue 'jobs': dead_letter (none) -> 'failed'"));
    BOOST_TEST(contains(reloaded.out, "needs a restart: " + config.string() + ": queue 'extra' added"));

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
    BOOST_TEST(contains(again.out, "queue 'extra' added"));
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
    shmq::Queue jobs;
    shmq::Queue failed;
    BOOST_REQUIRE(client->open_queue("jobs", jobs) == shmq::Status::ok);
    BOOST_REQUIRE(client->open_queue("failed", failed) == shmq::Status::ok);
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

BOOST_AUTO_TEST_SUITE_END()
