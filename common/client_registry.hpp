// The table of attached clients: how a process takes a record on attach and
// gives it back on detach. The broker reclaims the records of dead processes
// (daemon/client_reaper.cpp).
#pragma once

#include <cstdint>
#include <string>

#include "common/segment_view.hpp"
#include "common/slot_word.hpp"

namespace shmq {

// Takes a free record for the calling process. too_many_clients when none is
// free; segment_from_earlier_boot or foreign_pid_namespace when the broker
// could not judge this process's liveness (another boot, another PID
// namespace).
Status claim_client_record(SegmentView& view, const std::string& program, OwnerStamp& stamp);

// How many taken records belong to processes that have died: the broker
// reclaims them on its next tick, so a table full of them means the broker is
// not running its ticks (stopped, hung or killed), not that max_clients is
// too small.
std::uint32_t count_dead_client_records(const SegmentView& view);

// Clears the client's roles and frees its record, if it still holds it.
void release_client_record(SegmentView& view, OwnerStamp stamp);

}  // namespace shmq
