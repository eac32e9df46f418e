#include "bench/daemon_process.hpp"

#include "bench/reaping.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/wait.h>
#include <system_error>
#include <thread>
#include <unistd.h>

namespace shmq::bench {

pid_t start_daemon(const std::vector<std::string>& arguments, const std::vector<std::string>& environment,
                   const std::string& output) {
    // Everything the child needs is prepared before fork: it only execs.
    std::vector<char*> argv;
    for (const auto& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid > 0) return pid;
    // The driver blocks SIGCHLD to wait for its children; the daemon starts clean.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (const auto& variable : environment) ::putenv(const_cast<char*>(variable.c_str()));
    if (!output.empty()) {
        const int fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd >= 0) {
            ::dup2(fd, STDOUT_FILENO);
            ::dup2(fd, STDERR_FILENO);
        }
    }
    ::execv(argv[0], argv.data());
    std::fprintf(stderr, "shmq_bench: cannot run %s: %s\n", argv[0], std::strerror(errno));
    ::_exit(127);
}

void terminate_and_reap(pid_t pid, std::chrono::milliseconds grace) {
    ::kill(pid, SIGTERM);
    const auto end = std::chrono::steady_clock::now() + grace;
    int status = 0;
    while (reap_process(pid, status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() >= end) {
            ::kill(pid, SIGKILL);
            reap_process(pid, status, 0);
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

bool has_exited(pid_t pid, int& status) { return reap_process(pid, status, WNOHANG) == pid; }

}  // namespace shmq::bench
