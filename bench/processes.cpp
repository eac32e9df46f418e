#include "bench/processes.hpp"

#include "bench/reaping.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <sched.h>
#include <stdexcept>
#include <sys/mman.h>
#include <sys/wait.h>
#include <system_error>
#include <thread>
#include <unistd.h>

namespace shmq::bench {

namespace {

sigset_t child_signal_set() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    return set;
}

std::vector<int> usable_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::vector<int> cpus;
    if (::sched_getaffinity(0, sizeof set, &set) == 0) {
        for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
            if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
        }
    }
    return cpus;
}

void pin_to(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (::sched_setaffinity(0, sizeof set, &set) != 0) {
        throw std::system_error(errno, std::generic_category(), "sched_setaffinity");
    }
}

// Under a real-time policy (`chrt -f`), one step below the driver. Tasks of
// one FIFO priority never preempt each other, so two busy-polling children,
// which never block, kept the driver from the CPU it needed to stop their
// run: a 1 MiB busy_poll run under `chrt -f 10` never ended.
void rank_below_driver() {
    const int policy = ::sched_getscheduler(0);
    if (policy != SCHED_FIFO && policy != SCHED_RR) return;
    sched_param param{};
    if (::sched_getparam(0, &param) != 0) throw std::system_error(errno, std::generic_category(), "sched_getparam");
    if (param.sched_priority <= ::sched_get_priority_min(policy)) return;
    --param.sched_priority;
    if (::sched_setscheduler(0, policy, &param) != 0) {
        throw std::system_error(errno, std::generic_category(), "sched_setscheduler");
    }
}

}  // namespace

void block_child_signals() {
    const sigset_t set = child_signal_set();
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
}

ProcessGroup::ProcessGroup(std::size_t scratch_bytes) : cpus_(usable_cpus()) {
    const std::size_t control_bytes = (sizeof(RunControl) + 4095) / 4096 * 4096;
    mapped_ = control_bytes + scratch_bytes;
    // NORESERVE: scratch is sized for the most a run may produce and only
    // the pages a run touches are ever backed.
    void* memory = ::mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (memory == MAP_FAILED) {
        throw std::system_error(errno, std::generic_category(), "mmap of the run's control block");
    }
    control_ = new (memory) RunControl{};
    scratch_ = static_cast<std::byte*>(memory) + control_bytes;
}

ProcessGroup::~ProcessGroup() {
    for (auto& child : children_) {
        if (child.exited) continue;
        ::kill(child.pid, SIGKILL);
        reap_process(child.pid, child.status, 0);
    }
    ::munmap(control_, mapped_);
}

std::size_t ProcessGroup::spawn(int cpu_slot, const std::function<void(ChildReport&)>& body) {
    const std::size_t index = children_.size();
    if (index >= max_children) throw std::logic_error("too many children in one run");
    ChildReport& report = control_->children[index];
    const pid_t pid = ::fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid == 0) {
        int code = 0;
        try {
            const sigset_t set = child_signal_set();
            ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
            if (cpu_slot >= 0 && !cpus_.empty()) pin_to(cpus_[static_cast<std::size_t>(cpu_slot) % cpus_.size()]);
            rank_below_driver();
            body(report);
        } catch (const std::exception& failure) {
            std::snprintf(report.error, sizeof report.error, "%s", failure.what());
            code = 1;
        } catch (...) {
            std::snprintf(report.error, sizeof report.error, "unknown exception");
            code = 1;
        }
        report.failed = code;
        // _exit: the driver's objects (a broker handle, say) were copied by
        // fork and must not be destroyed a second time here.
        std::fflush(nullptr);
        ::_exit(code);
    }
    children_.push_back(Child{pid});
    return index;
}

void ProcessGroup::arrive_and_wait() {
    control_->ready.fetch_add(1, std::memory_order_acq_rel);
    while (control_->go.load(std::memory_order_acquire) == 0) {
        std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
}

void ProcessGroup::wait_ready(std::chrono::milliseconds timeout) {
    const auto end = Clock::now() + timeout;
    while (control_->ready.load(std::memory_order_acquire) < children_.size()) {
        reap();
        for (const auto& child : children_) {
            if (child.exited) check();  // it failed before getting ready
        }
        if (Clock::now() >= end) throw std::runtime_error("children not ready in time");
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

void ProcessGroup::start() {
    control_->go_ns = now_ns();
    control_->go.store(1, std::memory_order_release);
}

void ProcessGroup::reap() {
    for (auto& child : children_) {
        if (!child.exited && reap_process(child.pid, child.status, WNOHANG) == child.pid) child.exited = true;
    }
}

bool ProcessGroup::wait(const std::vector<std::size_t>& which, Clock::time_point deadline) {
    const sigset_t set = child_signal_set();
    for (;;) {
        reap();
        bool all = true;
        if (which.empty()) {
            for (const auto& child : children_) all = all && child.exited;
        } else {
            for (const auto index : which) all = all && children_.at(index).exited;
        }
        if (all) return true;
        const auto left = deadline - Clock::now();
        if (left <= Clock::duration::zero()) return false;
        const auto left_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
        timespec timeout{static_cast<time_t>(left_ns / 1'000'000'000), static_cast<long>(left_ns % 1'000'000'000)};
        // Sleeps until some child exits (SIGCHLD is blocked, so it stays
        // pending and cannot be missed between reap() and here) or time is up.
        ::sigtimedwait(&set, nullptr, &timeout);
    }
}

void ProcessGroup::check() const {
    std::string problems;
    for (std::size_t index = 0; index < children_.size(); ++index) {
        const auto& child = children_[index];
        if (!child.exited) continue;
        std::string problem;
        if (WIFSIGNALED(child.status)) {
            problem = "killed by signal " + std::to_string(WTERMSIG(child.status));
        } else if (WEXITSTATUS(child.status) != 0) {
            const char* error = control_->children[index].error;
            problem = error[0] != '\0' ? error : "exit code " + std::to_string(WEXITSTATUS(child.status));
        }
        if (problem.empty()) continue;
        problems += (problems.empty() ? "" : "; ") + ("child " + std::to_string(index) + ": " + problem);
    }
    if (!problems.empty()) throw std::runtime_error(problems);
}

}  // namespace shmq::bench
