// Survives a truncated mapping. Touching a page of a shared mapping beyond the
// end of its file raises SIGBUS, and any process that may write the segment
// may also truncate it. The guard keeps a table of this process's segment
// mappings; its SIGBUS handler, on a fault inside one of them, gives the file
// back its length (the lost pages return zero-filled) and lets the faulting
// access run again. Faults anywhere else go to the handler that was installed
// before (or the default action), so an application's own SIGBUS handling is
// kept. An application that installs a SIGBUS handler of its own after
// attaching takes these faults first: it should pass on the ones it does not
// expect to the handler it replaced.
//
// What the lost pages held is gone: the broker notices the truncation at its
// next tick, logs it and re-verifies every queue and topic (docs/guarantees.md).
#pragma once

#include <cstddef>

namespace shmq::platform {

// Registers [base, base + length) of the file open as `descriptor`; installs
// the handler on first use. Returns false when the table is full (the mapping
// then works, unprotected).
bool guard_mapping(void* base, std::size_t length, int descriptor);
void unguard_mapping(void* base);

// How many faults the guard has repaired in this process, ever.
unsigned long repaired_faults();

}  // namespace shmq::platform
