#include "common/process_identity.hpp"

#include "platform/process.hpp"

namespace shmq {

ProcessIdentity ProcessIdentity::self() { return of(platform::current_process_id()); }

ProcessIdentity ProcessIdentity::of(std::int32_t pid) {
    ProcessIdentity identity;
    identity.pid = pid;
    identity.start_time = platform::process_start_time(pid);
    return identity;
}

bool is_alive(const ProcessIdentity& identity) {
    if (identity.pid <= 0) return false;
    const auto start_time = platform::process_start_time(identity.pid);
    if (start_time == 0) return false;
    return identity.start_time == 0 || identity.start_time == start_time;
}

}  // namespace shmq
