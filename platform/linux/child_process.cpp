// posix_spawn, so that the child runs nothing of this process's state; the
// exit status is reaped by polling, since waitpid has no timeout.
#include "platform/child_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>

extern char** environ;

namespace shmq::platform {

ChildProcess::ChildProcess(const std::string& program, const std::vector<std::string>& arguments,
                           const std::string& output_path) {
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program.c_str()));
    for (const auto& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (!output_path.empty()) {
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                         0600);
        posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    }
    pid_t pid = 0;
    const int failed = ::posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (failed != 0) throw std::runtime_error("cannot start " + program + ": " + std::strerror(failed));
    id_ = static_cast<std::int32_t>(pid);
}

ChildProcess::~ChildProcess() {
    int status = 0;
    if (!ended_) {
        kill();
        wait(std::chrono::seconds(60), status);
    }
}

void ChildProcess::kill() {
    if (!ended_) ::kill(static_cast<pid_t>(id_), SIGKILL);
}

bool ChildProcess::wait(std::chrono::milliseconds timeout, int& exit_status) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!ended_) {
        int status = 0;
        const pid_t reaped = ::waitpid(static_cast<pid_t>(id_), &status, WNOHANG);
        if (reaped == static_cast<pid_t>(id_) || (reaped < 0 && errno != EINTR)) {
            ended_ = true;
            exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            break;
        }
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    exit_status = exit_status_;
    return true;
}

}  // namespace shmq::platform
