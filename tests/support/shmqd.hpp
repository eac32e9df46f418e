// A real shmqd for a test, started from a configuration file the way an
// operator starts it, in a process of its own: waited for until it serves,
// stopped with SIGTERM (its exit code checked by the test) or killed with
// SIGKILL, and killed in any case when the test leaves it.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "tests/support/programs.hpp"

namespace shmq::test {

// A broker name no other test (or concurrent test run) uses.
std::string unique_broker_name(const std::string& tag);

// The environment of a shmqd or shmq that the test-only crash point
// (common/test_crash_point.hpp) kills at `step`; none when it is empty.
EnvironmentChanges crash_at(const std::string& step);

struct ShmqdOptions {
    std::vector<std::string> arguments;  // after --config FILE
    EnvironmentChanges environment;      // e.g. the test-only crash point SHMQ_TEST_CRASH_AT
    std::string own_pid_variable;        // see spawn_program
};

class ShmqdProcess : public BackgroundProgram {
public:
    // Starts `shmqd --config CONFIG`, its streams as `files` say: its log is
    // its stderr. Returns at once: see wait_until_attachable.
    ShmqdProcess(const std::filesystem::path& config, const Redirections& files, const ShmqdOptions& options = {});
    // Takes charge of shmqd `pid`, which the caller started with its log in `log`.
    ShmqdProcess(pid_t pid, std::filesystem::path log) : BackgroundProgram(pid), log_(std::move(log)) {}

    // What it has logged so far.
    std::string log() const;

    // Waits until a client can attach to `address` (the broker's name or
    // persist_path); the test fails and stops if it ends or `limit` passes first.
    void wait_until_attachable(const std::string& address, std::chrono::milliseconds limit);
    // Waits until its log says `text`, the same way.
    void wait_until_logged(const std::string& text, std::chrono::milliseconds limit);
    // Waits until the main segment's broker logs that it is ready, the same
    // way. The brokers of its access-group and live segments log the same
    // line under their own names (NAME.access-GROUP, NAME.live-N), earlier.
    void wait_until_ready(std::chrono::milliseconds limit);

private:
    void wait_until(const std::function<bool()>& ready, const std::string& what, std::chrono::milliseconds limit);

    std::filesystem::path log_;
};

}  // namespace shmq::test
