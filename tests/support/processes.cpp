#include "tests/support/processes.hpp"

#include <csignal>
#include <cstdio>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <utility>

namespace shmq::test {

pid_t fork_child(const std::function<int()>& body) {
    std::fflush(nullptr);  // or the child would print the parent's buffered output again
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        int code = 99;
        try {
            code = body();
        } catch (...) {
            code = 98;
        }
        std::fflush(nullptr);
        ::_exit(code);
    }
    return pid;
}

HeldChild::HeldChild(const std::function<int()>& body) {
    int ends[2];
    if (::pipe(ends) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork_child([&] {
        ::close(ends[1]);
        char go = 0;
        if (::read(ends[0], &go, 1) != 1) return 97;  // the test ended without releasing it
        return body();
    });
    ::close(ends[0]);
    release_ = ends[1];
}

HeldChild::~HeldChild() {
    if (release_ >= 0) ::close(release_);
    if (pid_ > 0) kill_and_reap(pid_);
}

void HeldChild::release() {
    const char go = 1;
    if (release_ >= 0 && ::write(release_, &go, 1) != 1) kill_and_reap(std::exchange(pid_, -1));
    if (release_ >= 0) ::close(release_);
    release_ = -1;
}

int HeldChild::wait(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return -1;
    return wait_child(std::exchange(pid_, -1), timeout);
}

std::optional<int> wait_for_exit(pid_t pid, std::chrono::milliseconds limit) {
    std::optional<int> code;
    eventually(
        [&] {
            int status = 0;
            if (::waitpid(pid, &status, WNOHANG) != pid) return false;
            code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            return true;
        },
        limit, std::chrono::milliseconds(2));
    return code;
}

int wait_child(pid_t pid, std::chrono::milliseconds timeout) {
    const auto code = wait_for_exit(pid, timeout);
    if (!code) kill_and_reap(pid);
    return code.value_or(-1);
}

void kill_and_reap(pid_t pid) {
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds period) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
        if (condition()) return true;
        std::this_thread::sleep_for(period);
    }
    return condition();
}

}  // namespace shmq::test
