// Waiting until every store another process has made is visible: the
// broker's half of an asymmetric fence. A producer marks a queue slot ready
// with a plain store and then reads its own client record (QueueRing::
// publish_checked), with no fence between the two, since a locked
// instruction per message was most of its time. A CPU may satisfy that read
// before the store leaves its store buffer. So the reaper, having marked a
// record `reclaiming`, waits here before it abandons the slots stamped with
// it: a store made before such a read is then visible, and the reaper finds
// the slot ready (and leaves it) rather than abandoning it under the store.
#pragma once

namespace shmq::platform {

// Returns once every thread of every process on the machine has passed a
// full memory barrier since the call began (Linux: membarrier(2); Windows,
// which has no such call across processes: a pause far longer than a store
// buffer takes to drain). Milliseconds: for the rare path only.
void wait_for_every_cpus_stores();

// The same asymmetric fence for the data path, between a process that stores
// a word and then loads a waiter's "armed" flag, with no fence between (the
// cheap side: a locked instruction per message held a single producer and
// consumer at under a quarter of the limit ring; docs/benchmarks.md), and a waiter
// that arms its flag and then checks the word (the dear side, taken only
// before a sleep).
//
// The cheap side: registers this process so that every
// fence_registered_processes() after it, in any process, orders its stores
// and loads. True when it may leave its own fence out from now on; false
// where the system has no such barrier (Windows, a Linux before 4.16, a
// seccomp filter refusing it): the process then keeps its fences.
bool let_waiters_fence_for_this_process();

// The dear side: returns once every thread now running in a process that
// registered above has passed a full memory barrier (Linux: membarrier
// GLOBAL_EXPEDITED, an interrupt to each such CPU: ~0.1 µs when none runs,
// ~13 µs on a 2-CPU VM when one does). Where that is refused it falls back
// to wait_for_every_cpus_stores(). Windows, where no process registers:
// nothing to do.
void fence_registered_processes();

}  // namespace shmq::platform
