// Real programs run by a test (shmqd, the shmq tool, systemd-analyze, ...):
// started in the background with their streams in files, or run to their
// end with what they printed captured, as a user or a shell script runs them.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace shmq::test {

// Variables to change in a child's environment, which is otherwise this
// process's: a value sets one, nothing removes it.
using EnvironmentChanges = std::map<std::string, std::optional<std::string>>;

// Where a child's standard streams go. An empty output or errors leaves that
// stream this process's own; errors equal to output shares one open file, so
// that both streams are interleaved as written.
struct Redirections {
    std::filesystem::path input = "/dev/null";
    std::filesystem::path output;
    std::filesystem::path errors;
    // Adds to output and errors instead of replacing them: one log for a
    // broker started again and again.
    bool append = false;
};

// Starts `command` (command[0] a path, or a name looked up on $PATH) in the
// background. `own_pid_variable`, unless empty, is set in its environment to
// its own pid, as systemd sets $WATCHDOG_PID. Throws std::runtime_error
// saying why when it cannot start.
pid_t spawn_program(const std::vector<std::string>& command, const Redirections& files = {},
                    const EnvironmentChanges& environment = {}, const std::string& own_pid_variable = "");

// A program started in the background that the test owns: killed with
// SIGKILL and reaped when the test leaves it, whichever way it leaves.
class BackgroundProgram {
public:
    // Starts it; see spawn_program.
    BackgroundProgram(const std::vector<std::string>& command, const Redirections& files,
                      const EnvironmentChanges& environment = {}, const std::string& own_pid_variable = "");
    // Takes charge of child `pid`, which the caller started.
    explicit BackgroundProgram(pid_t pid) : pid_(pid) {}
    ~BackgroundProgram();
    BackgroundProgram(const BackgroundProgram&) = delete;
    BackgroundProgram& operator=(const BackgroundProgram&) = delete;

    pid_t pid() const { return pid_; }
    // False once it has ended (it is reaped then, its exit code kept).
    bool running();
    // Sends it `number`; the test fails and stops if it cannot.
    void signal(int number) const;

    // Its exit code (128 + N when signal N ended it) once it has ended;
    // nothing if it still runs after `limit` (it is left running).
    std::optional<int> wait_exit(std::chrono::milliseconds limit);
    // SIGTERM, the clean stop, then wait_exit(limit).
    std::optional<int> stop(std::chrono::milliseconds limit);
    // SIGKILL; its exit code (128 + SIGKILL unless it had ended already).
    int kill();

private:
    pid_t pid_;
    std::optional<int> exit_code_;
};

// What a finished program left: its exit code (128 + N when signal N ended
// it) and what it printed.
struct Run {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// A program running in the background, its streams in files.
struct Child {
    pid_t pid = -1;
    Redirections files;
    std::string name;  // what a failure calls it
};

// Starts `command` in the background (see spawn_program).
Child start_program(const std::vector<std::string>& command, const Redirections& files,
                    const EnvironmentChanges& environment = {});

// Waits for `child` to end and reads what it printed (err is empty when it
// went to out). The test fails and stops when it still runs after `limit`:
// it is killed then.
Run finish(const Child& child, std::chrono::milliseconds limit);

struct RunOptions {
    std::string input;  // all of its standard input
    EnvironmentChanges environment;
    std::chrono::milliseconds limit = std::chrono::seconds(20);
    bool errors_into_output = false;  // stderr interleaved into Run::out, as a terminal shows both
};

// Runs `command` to its end (see spawn_program and finish), its streams in
// files of a directory of its own.
Run run_program(const std::vector<std::string>& command, const RunOptions& options = {});

}  // namespace shmq::test
