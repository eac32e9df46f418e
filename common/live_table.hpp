// The live segments a main segment lists (layout::LiveTable): the queues and
// topics reloads added, each reload's in a file of its own beside the main
// segment. The broker appends to the table; clients read it when they look
// for a name the segments they know do not hold (docs/crash-safety.md,
// "Live segments").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/layout.hpp"

namespace shmq {

// The file of live segment `generation`, beside the main segment's file `main_path`.
std::string live_segment_path(const std::string& main_path, std::uint32_t generation);

// The generations the table lists, in order, read once each: a count beyond
// the table is clamped to it and a generation of 0 skipped. Any value read is
// harmless: it only names a file, which is validated as any segment is.
std::vector<std::uint32_t> read_live_generations(const layout::LiveTable& table);

// Writes the broker's own list of generations (at most max_live_segments,
// in the order they were added) into the table: the entries first, then the
// count with release, so that a reader that sees the count sees its entries.
// Entries already published are written with the values they have, so this
// both publishes a new segment and repairs a table another process damaged;
// the table's own count is never trusted for it.
void write_live_generations(layout::LiveTable& table, const std::vector<std::uint32_t>& generations);

}  // namespace shmq
