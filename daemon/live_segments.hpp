// Which segment runs which queue and topic once reloads have added some or
// changed their settings: a segment (the main one for the open queues and
// topics, an access group's for its restricted ones) holds those it was
// built with, and each of its live segments (SEGMENT.live-GENERATION,
// listed in that segment's LiveTable) the ones one reload added, or the
// successors of those it changed. A configuration part for each is cut out
// of the segment's part of the configuration by the names the segment
// holds, in its order: the broker of a segment runs on its part (its
// queues' delivery settings; their dead letters go by name to whichever
// segment holds the target, Broker::newest_queue). The reload adds live segments; the start adopts them
// (split_adopted), and builds one for configured queues that no segment
// holds, the same way a reload does. docs/crash-safety.md, "Live segments".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/segment_view.hpp"
#include "config/broker_config.hpp"

namespace shmq::daemon {

// The names a segment holds, in its order.
struct SegmentContents {
    std::vector<std::string> queues;
    std::vector<std::string> topics;
};

SegmentContents contents_of(const SegmentView& view);

// The configuration part of a segment holding `contents`: `open` (the open
// queues and topics, with the broker's settings) restricted to those names,
// in the segment's order. False with `missing` saying what when the
// configuration lacks one of them (a queue removed while the broker was down).
bool part_holding(const config::BrokerConfig& open, const SegmentContents& contents, config::BrokerConfig& part,
                  std::string& missing);

// The queues and topics of `open` that none of `held` holds: what a reload
// (or a start) adds in a new live segment.
config::BrokerConfig not_held(const config::BrokerConfig& open, const std::vector<SegmentContents>& held);

// The configuration of live segment `generation` of the segment `main`
// configures (the main one, or an access group's), holding `added`: named
// MAIN.live-GENERATION (and, persistent, PERSIST_PATH.live-GENERATION), with
// that segment's permissions, group, readers and client table size.
config::BrokerConfig live_segment_config(const config::BrokerConfig& main, std::uint32_t generation,
                                         const config::BrokerConfig& added);

// One live segment an existing main segment lists, as a restart finds it.
struct AdoptedLiveSegment {
    std::uint32_t generation = 0;
    config::BrokerConfig part;  // live_segment_config of what it holds
};

// For a broker adopting its main segment (validated in `main_view`, at
// `main_path`): reads the live segments the main segment lists, and splits
// `open` into what the main segment holds (`main_part`), what each live
// segment holds (`live`) and what none holds (`extra`, for a new live
// segment). False with `difference` when a live segment cannot be read or
// holds a queue or topic the configuration no longer has, or a queue or
// topic an earlier segment holds too (a reload changed its settings: its successor):
// then the main segment cannot be adopted as it is, and is migrated.
bool split_adopted(const SegmentView& main_view, const std::string& main_path, bool file_backed,
                   const config::BrokerConfig& open, config::BrokerConfig& main_part,
                   std::vector<AdoptedLiveSegment>& live, config::BrokerConfig& extra, std::string& difference);

}  // namespace shmq::daemon
