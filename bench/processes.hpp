// The processes of one benchmark run: children forked from the driver, each
// pinned to a CPU, meeting at a start barrier in shared memory and reporting
// back through it. The driver blocks SIGCHLD (block_child_signals(), once at
// start-up) and sleeps in sigtimedwait, so it never wakes up periodically on
// the CPUs the children are measured on.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace shmq::bench {

using Clock = std::chrono::steady_clock;

inline std::uint64_t now_ns() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count());
}

// What one child writes back; read by the driver after the child exited.
struct ChildReport {
    std::uint64_t count;     // messages the child sent or received (scenario-defined)
    std::uint64_t begin_ns;  // Clock time the measured interval began
    std::uint64_t end_ns;    // ... and ended
    std::int32_t failed;
    char error[244];
};

inline constexpr std::size_t max_children = 16;

struct alignas(64) RunControl {
    alignas(64) std::atomic<std::uint32_t> ready;  // children past setup, waiting for go
    alignas(64) std::atomic<std::uint32_t> go;
    alignas(64) std::atomic<std::uint32_t> stop;   // senders: finish now
    alignas(64) std::atomic<std::uint32_t> consumers_done;  // receivers that took their stop marker
    std::atomic<std::uint64_t> markers_taken;      // stop markers consumers took (MPMC)
    std::uint64_t go_ns;
    alignas(64) ChildReport children[max_children];
};

// Call once, before any child is forked.
void block_child_signals();

class ProcessGroup {
public:
    // `scratch_bytes` of zeroed shared memory for the scenario (latency
    // samples, sequence bitmaps), mapped before any fork.
    explicit ProcessGroup(std::size_t scratch_bytes = 0);
    // Kills and reaps any child still running.
    ~ProcessGroup();
    ProcessGroup(const ProcessGroup&) = delete;
    ProcessGroup& operator=(const ProcessGroup&) = delete;

    RunControl& control() { return *control_; }
    std::byte* scratch() { return scratch_; }

    // Forks a child pinned to the `cpu_slot`-th CPU this process may use
    // (modulo their count; -1: not pinned). The child runs body(its report)
    // and exits: 0, or 1 with the exception's text in the report. Returns the
    // child's index (its report is control().children[index]).
    std::size_t spawn(int cpu_slot, const std::function<void(ChildReport&)>& body);

    // In a child, once set up: counts itself ready and waits for go.
    void arrive_and_wait();

    // Waits until every spawned child is ready; throws if one exits first or
    // `timeout` passes.
    void wait_ready(std::chrono::milliseconds timeout);
    void start();  // sets go (and go_ns)
    void stop() { control_->stop.store(1, std::memory_order_relaxed); }
    // Waits until the children `which` (all when empty) have exited or
    // `deadline` passes; returns whether they all exited.
    bool wait(const std::vector<std::size_t>& which, Clock::time_point deadline);
    // Throws std::runtime_error naming every child that failed or was killed.
    void check() const;

private:
    struct Child {
        pid_t pid = -1;
        bool exited = false;
        int status = 0;
    };
    void reap();

    RunControl* control_ = nullptr;
    std::byte* scratch_ = nullptr;
    std::size_t mapped_ = 0;
    std::vector<Child> children_;
    std::vector<int> cpus_;
};

}  // namespace shmq::bench
