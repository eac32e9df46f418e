// LD_PRELOAD shim for clock_tests: every read of the wall clock jumps an
// hour forward or back, as an NTP step or an operator's `date -s` would.
// Anything that measured a timeout on CLOCK_REALTIME would then expire at
// once or hang for an hour; shmq's timeouts must not notice.
#include <atomic>
#include <dlfcn.h>
#include <sys/time.h>
#include <time.h>

namespace {
std::atomic<unsigned> reads{0};
long jump() { return reads.fetch_add(1) % 2 == 0 ? 3600 : -3600; }
}  // namespace

extern "C" int clock_gettime(clockid_t clock, struct timespec* now) {
    using Real = int (*)(clockid_t, struct timespec*);
    static const auto real = reinterpret_cast<Real>(dlsym(RTLD_NEXT, "clock_gettime"));
    const int rc = real(clock, now);
    if (rc == 0 && (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE)) now->tv_sec += jump();
    return rc;
}

extern "C" int gettimeofday(struct timeval* now, void* zone) {
    using Real = int (*)(struct timeval*, void*);
    static const auto real = reinterpret_cast<Real>(dlsym(RTLD_NEXT, "gettimeofday"));
    const int rc = real(now, zone);
    if (rc == 0) now->tv_sec += jump();
    return rc;
}
