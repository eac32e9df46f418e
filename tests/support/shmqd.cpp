#include "tests/support/shmqd.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <memory>
#include <regex>
#include <unistd.h>

#include "shmq/client.hpp"
#include "tests/support/files.hpp"
#include "tests/support/processes.hpp"

namespace shmq::test {

namespace {

const std::string shmqd_binary = SHMQ_BINARY_DIR "/daemon/shmqd";

// Reading the log is a whole-file read: poll it less often than a flag.
constexpr std::chrono::milliseconds poll_period(10);

}  // namespace

std::string unique_broker_name(const std::string& tag) {
    static std::atomic<int> counter{0};
    return "shmqtest-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

namespace {

std::vector<std::string> shmqd_command(const std::filesystem::path& config, const std::vector<std::string>& arguments) {
    std::vector<std::string> command{shmqd_binary, "--config", config.string()};
    command.insert(command.end(), arguments.begin(), arguments.end());
    return command;
}

}  // namespace

EnvironmentChanges crash_at(const std::string& step) {
    EnvironmentChanges environment;
    environment["SHMQ_TEST_CRASH_AT"] = step.empty() ? std::nullopt : std::optional<std::string>(step);
    return environment;
}

ShmqdProcess::ShmqdProcess(const std::filesystem::path& config, const Redirections& files,
                           const ShmqdOptions& options)
    : ShmqdProcess(spawn_program(shmqd_command(config, options.arguments), files, options.environment,
                                 options.own_pid_variable),
                   files.errors) {}

std::string ShmqdProcess::log() const { return read_file(log_); }

void ShmqdProcess::wait_until_attachable(const std::string& address, std::chrono::milliseconds limit) {
    wait_until(
        [&] {
            std::unique_ptr<Client> client;
            AttachOptions options;
            options.broker = address;
            return Client::attach(options, client) == Status::ok;
        },
        "accept clients on " + address, limit);
}

void ShmqdProcess::wait_until_logged(const std::string& text, std::chrono::milliseconds limit) {
    wait_until([&] { return contains(log(), text); }, "log '" + text + "'", limit);
}

void ShmqdProcess::wait_until_ready(std::chrono::milliseconds limit) {
    static const std::regex main_ready(R"(broker '[^']*' ready:)");
    static const std::regex part_ready(R"(broker '[^']*\.(access|live)-[^']*' ready:)");
    wait_until(
        [&] {
            const auto text = log();
            for (std::sregex_iterator line(text.begin(), text.end(), main_ready), end; line != end; ++line) {
                if (!std::regex_match(line->str(), part_ready)) return true;
            }
            return false;
        },
        "log that its main segment is ready", limit);
}

void ShmqdProcess::wait_until(const std::function<bool()>& ready, const std::string& what,
                              std::chrono::milliseconds limit) {
    bool ended = false;
    const bool done = eventually(
        [&] {
            ended = !running();
            return ended || ready();
        },
        limit, poll_period);
    BOOST_TEST_REQUIRE((done && !ended), "shmqd did not " << what << ": "
                                         << (ended ? "it exited with " + std::to_string(*wait_exit({}))
                                                   : "still not after " + std::to_string(limit.count()) + " ms")
                                         << "; its log:\n" << log());
}

}  // namespace shmq::test
