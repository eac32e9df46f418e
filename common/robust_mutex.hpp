// A process-shared mutex that survives the death of its owner.
//
// Boost 1.74's interprocess_mutex stays locked forever when its owner is
// killed, and later Boost versions make it unusable (boostorg/interprocess
// #65, #187). This wraps a PTHREAD_MUTEX_ROBUST mutex instead: the next locker
// is told the owner died, repairs the state the mutex protects, and carries on.
#pragma once

#include <pthread.h>

#include "common/monotonic_clock.hpp"

namespace shmq {

enum class LockResult {
    acquired,        // the mutex is ours and the state it guards is consistent
    owner_died,      // the mutex is ours, but its last owner died holding it:
                     // repair the guarded state, then call mark_consistent()
    timed_out,       // the deadline passed first
    error            // an unexpected error from the system
};

class RobustMutex {
public:
    // Lives in shared memory: constructed once by the broker, never copied.
    RobustMutex();
    ~RobustMutex();
    RobustMutex(const RobustMutex&) = delete;
    RobustMutex& operator=(const RobustMutex&) = delete;

    LockResult lock(const Deadline& deadline);
    // After repairing the guarded state of an owner_died lock.
    void mark_consistent();
    void unlock();

private:
    pthread_mutex_t mutex_;
};

// Locks in the constructor; the guard's owner must check result() and, on
// owner_died, repair and call mark_consistent() before relying on the state.
class RobustLockGuard {
public:
    RobustLockGuard(RobustMutex& mutex, const Deadline& deadline)
        : mutex_(mutex), result_(mutex.lock(deadline)) {}
    ~RobustLockGuard() {
        if (owns()) mutex_.unlock();
    }
    RobustLockGuard(const RobustLockGuard&) = delete;
    RobustLockGuard& operator=(const RobustLockGuard&) = delete;

    LockResult result() const { return result_; }
    bool owns() const { return result_ == LockResult::acquired || result_ == LockResult::owner_died; }
    bool owner_died() const { return result_ == LockResult::owner_died; }

private:
    RobustMutex& mutex_;
    LockResult result_;
};

}  // namespace shmq
