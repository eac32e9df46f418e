#include "common/robust_mutex.hpp"

#include <cerrno>
#include <cstdint>
#include <ctime>
#include <stdexcept>

#if defined(__SANITIZE_THREAD__)
#define SHMQ_THREAD_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SHMQ_THREAD_SANITIZER 1
#endif
#endif

namespace shmq {

RobustMutex::RobustMutex() {
    pthread_mutexattr_t attributes;
    pthread_mutexattr_init(&attributes);
    pthread_mutexattr_setpshared(&attributes, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attributes, PTHREAD_MUTEX_ROBUST);
    const int rc = pthread_mutex_init(&mutex_, &attributes);
    pthread_mutexattr_destroy(&attributes);
    if (rc != 0) throw std::runtime_error("pthread_mutex_init failed for a robust process-shared mutex");
}

// Never destroyed while clients may hold it: the broker only runs this when
// the segment itself goes away.
RobustMutex::~RobustMutex() { pthread_mutex_destroy(&mutex_); }

namespace {
LockResult translate(int rc) {
    switch (rc) {
    case 0: return LockResult::acquired;
    case EOWNERDEAD: return LockResult::owner_died;
    case ETIMEDOUT:
    case EBUSY: return LockResult::timed_out;
    default: return LockResult::error;
    }
}
}  // namespace

LockResult RobustMutex::lock(const Deadline& deadline) {
    const int first = pthread_mutex_trylock(&mutex_);
    if (first != EBUSY) return translate(first);
    if (deadline.is_never()) return translate(pthread_mutex_lock(&mutex_));
#ifdef SHMQ_THREAD_SANITIZER
    // ThreadSanitizer before LLVM 18 (GCC 12's, Clang 14's) does not intercept
    // pthread_mutex_clocklock (llvm/llvm-project#62623): a lock taken with it
    // is invisible, so TSan calls its unlock "of an unlocked mutex" and every
    // access the mutex guards a race. Under TSan only, wait with the
    // intercepted pthread_mutex_timedlock, whose deadline is on the realtime
    // clock; a wall-clock step during a sanitizer run stretches one wait.
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    const std::uint64_t at_ns = static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000ull +
                                static_cast<std::uint64_t>(now.tv_nsec) + deadline.remaining_ns(UINT64_MAX);
    timespec at{};
    at.tv_sec = static_cast<time_t>(at_ns / 1'000'000'000ull);
    at.tv_nsec = static_cast<long>(at_ns % 1'000'000'000ull);
    return translate(pthread_mutex_timedlock(&mutex_, &at));
#else
    // pthread_mutex_clocklock measures the monotonic clock, so a wall-clock
    // step cannot stretch or shorten the wait.
    timespec at{};
    at.tv_sec = static_cast<time_t>(deadline.at_ns() / 1'000'000'000ull);
    at.tv_nsec = static_cast<long>(deadline.at_ns() % 1'000'000'000ull);
    return translate(pthread_mutex_clocklock(&mutex_, CLOCK_MONOTONIC, &at));
#endif
}

void RobustMutex::mark_consistent() { pthread_mutex_consistent(&mutex_); }

void RobustMutex::unlock() { pthread_mutex_unlock(&mutex_); }

}  // namespace shmq
