#include "tests/support/processes.hpp"

#include <csignal>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <stdexcept>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <utility>

namespace shmq::test {

namespace {

// Whether thread `tid` of this process sleeps in a system call that waits
// for something (a lock, a condition, a timer, input), as opposed to running
// or doing work in the kernel (a thread writing a log line holds the
// logger's lock meanwhile).
bool sleeps_waiting(const std::string& tid) {
    std::ifstream file("/proc/self/task/" + tid + "/syscall");
    std::string first;
    if (!(file >> first)) return true;  // it ended meanwhile
    if (first == "running") return false;
    long number = -1;
    try {
        number = std::stol(first);
    } catch (const std::exception&) {
        return false;
    }
    static const std::set<long> waits = {
        SYS_futex, SYS_nanosleep, SYS_clock_nanosleep, SYS_ppoll, SYS_pselect6, SYS_epoll_pwait, SYS_rt_sigtimedwait,
        SYS_wait4,
#ifdef SYS_poll
        SYS_poll, SYS_select, SYS_epoll_wait, SYS_pause,
#endif
    };
    return waits.count(number) != 0;
}

// fork() copies the memory of a process whose other threads keep running: a
// lock one of them holds at that instant (the allocator's: GCC 12's
// AddressSanitizer takes none around fork; the logger's) stays held forever
// in the child, which then hangs at its first allocation or log line. A test
// that runs a broker on threads of its own forks its children only while
// every other thread sleeps waiting, which the broker's do between ticks.
// After `limit` it forks anyway: a test thread may spin for good.
void wait_for_a_quiet_instant(std::chrono::milliseconds limit) {
    const auto self = std::to_string(::gettid());
    const bool quiet = eventually(
        [&] {
            for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
                const auto tid = entry.path().filename().string();
                if (tid != self && !sleeps_waiting(tid)) return false;
            }
            return true;
        },
        limit);
    // Said, because a child that then hangs is explained by it.
    if (!quiet) std::fprintf(stderr, "forking while another thread of the test still works\n");
}

}  // namespace

pid_t fork_child(const std::function<int()>& body) {
    wait_for_a_quiet_instant(std::chrono::seconds(1));
    std::fflush(nullptr);  // or the child would print the parent's buffered output again
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        int code = 99;
        try {
            code = body();
        } catch (const std::exception& failure) {
            // Said on stderr, which the tests show: exit code 98 alone
            // does not tell one exception from another.
            std::fprintf(stderr, "child %d threw: %s\n", static_cast<int>(::getpid()), failure.what());
            code = 98;
        } catch (...) {
            std::fprintf(stderr, "child %d threw a non-standard exception\n", static_cast<int>(::getpid()));
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
