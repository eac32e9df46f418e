// Nothing to guard: Windows refuses to shrink a file while any process maps
// it (SetEndOfFile fails with ERROR_USER_MAPPED_FILE), so a mapped segment can
// never lose pages under its readers, and there is no SIGBUS to repair.
#include "platform/truncation_guard.hpp"

namespace shmq::platform {

bool guard_mapping(void*, std::size_t, int) { return true; }
void unguard_mapping(void*) {}
unsigned long repaired_faults() { return 0; }

}  // namespace shmq::platform
