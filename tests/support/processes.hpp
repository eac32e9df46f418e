// Child processes of a test and waiting: forking a child that runs a
// function, waiting for a child's end with a time limit, killing it, and
// waiting for a condition. A limit only catches a hang: the machine is shared
// and noisy, so every limit is generous and every wait polls a condition.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <sys/types.h>

namespace shmq::test {

// Forks; the child runs `body` and exits with its return value (never
// returning into the test framework), or with 98 when it throws, after
// saying what on stderr. Returns the child's pid. Waits first
// (up to 1 s) for an instant when every other thread of this process sleeps
// waiting, so that the child inherits no lock held mid-work (see
// processes.cpp).
pid_t fork_child(const std::function<int()>& body);

// The exit code of child `pid`, or 128 + the signal that ended it; nothing if
// it still runs after `limit` (it is left running).
std::optional<int> wait_for_exit(pid_t pid, std::chrono::milliseconds limit);

// The same, but a child still running after `timeout` is killed, and the
// answer is then -1.
int wait_child(pid_t pid, std::chrono::milliseconds timeout);

// A child forked while the test still runs no thread, which waits for
// release() before it runs `body`. A child forked from a process whose
// threads (an in-process broker, a client) hold a lock at that instant (the
// logger's, the allocator's) keeps that lock held forever, and hangs as soon
// as it logs or allocates. Fork this before starting them; `body` sees the
// process as it was at the fork. A child never released is killed.
class HeldChild {
public:
    explicit HeldChild(const std::function<int()>& body);
    ~HeldChild();
    HeldChild(const HeldChild&) = delete;
    HeldChild& operator=(const HeldChild&) = delete;

    // Lets the child run `body`.
    void release();
    // Its exit code as wait_child gives it.
    int wait(std::chrono::milliseconds timeout);
    int release_and_wait(std::chrono::milliseconds timeout) {
        release();
        return wait(timeout);
    }

private:
    pid_t pid_ = -1;
    int release_ = -1;  // the write end of a pipe the child reads one byte from
};

// Kills child `pid` with SIGKILL and reaps it.
void kill_and_reap(pid_t pid);

// Polls `condition` every `period` until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds period = std::chrono::milliseconds(1));

}  // namespace shmq::test
