#include "bench/reaping.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sched.h>
#include <sys/wait.h>
#include <system_error>

namespace shmq::bench {

namespace {

// The calling thread under SCHED_OTHER for its lifetime, when it ran under a
// real-time policy.
class NormalPolicy {
public:
    NormalPolicy() : policy_(::sched_getscheduler(0)) {
        if (!real_time()) return;
        if (::sched_getparam(0, &saved_) != 0) throw std::system_error(errno, std::generic_category(), "sched_getparam");
        const sched_param normal{};
        if (::sched_setscheduler(0, SCHED_OTHER, &normal) != 0) {
            throw std::system_error(errno, std::generic_category(), "sched_setscheduler");
        }
    }
    // A policy that cannot be restored leaves the rest of the run under the
    // normal one, as without `chrt`; said, not thrown from a destructor.
    ~NormalPolicy() {
        if (real_time() && ::sched_setscheduler(0, policy_, &saved_) != 0) {
            std::fprintf(stderr, "shmq_bench: cannot restore the real-time policy: %s\n", std::strerror(errno));
        }
    }
    NormalPolicy(const NormalPolicy&) = delete;
    NormalPolicy& operator=(const NormalPolicy&) = delete;

private:
    bool real_time() const { return policy_ == SCHED_FIFO || policy_ == SCHED_RR; }

    int policy_;
    sched_param saved_{};
};

}  // namespace

pid_t reap_process(pid_t pid, int& status, int options) {
    // Most calls are polls that find nothing to reap: those keep the policy.
    if ((options & WNOHANG) != 0) {
        siginfo_t info{};
        if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
            return ::waitpid(pid, &status, options);  // its error (ECHILD, ...), as waitpid alone would give
        }
        if (info.si_pid == 0) return 0;
    }
    const NormalPolicy normal;
    return ::waitpid(pid, &status, options);
}

}  // namespace shmq::bench
