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

}  // namespace shmq::platform
