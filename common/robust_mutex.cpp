#include "common/robust_mutex.hpp"

#include <cerrno>
#include <ctime>
#include <stdexcept>

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

LockResult RobustMutex::try_lock() { return translate(pthread_mutex_trylock(&mutex_)); }

LockResult RobustMutex::lock(const Deadline& deadline) {
    const int first = pthread_mutex_trylock(&mutex_);
    if (first != EBUSY) return translate(first);
    if (deadline.is_never()) return translate(pthread_mutex_lock(&mutex_));
    // pthread_mutex_clocklock measures the monotonic clock, so a wall-clock
    // step cannot stretch or shorten the wait.
    timespec at{};
    at.tv_sec = static_cast<time_t>(deadline.at_ns() / 1'000'000'000ull);
    at.tv_nsec = static_cast<long>(deadline.at_ns() % 1'000'000'000ull);
    return translate(pthread_mutex_clocklock(&mutex_, CLOCK_MONOTONIC, &at));
}

void RobustMutex::mark_consistent() { pthread_mutex_consistent(&mutex_); }

void RobustMutex::unlock() { pthread_mutex_unlock(&mutex_); }

}  // namespace shmq
