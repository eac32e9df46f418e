// Both ends of a configuration reload asked through the segment
// (layout::ReloadExchange): a client asks and reads the answer, the broker
// notices the request and writes the answer. Every field of the exchange may
// have been written by any client, so each is read once and checked.
#pragma once

#include <cstdint>
#include <string>

#include "common/layout.hpp"
#include "common/segment_view.hpp"
#include "shmq/status.hpp"

namespace shmq {

struct ReloadAnswer {
    std::uint32_t outcome = 0;  // layout::reload_*
    std::string report;
};

// Client: takes the next request number; the broker answers it (or a later one).
std::uint32_t ask_for_reload(layout::ReloadExchange& exchange);

// Client: true when the answer for `request` or a later one is there, copied
// whole into `answer`. False while it is not, or while the broker is writing
// the next answer; `malformed` is set when what is there cannot be an answer
// (an outcome or length out of range).
bool read_reload_answer(const layout::ReloadExchange& exchange, std::uint32_t request, ReloadAnswer& answer,
                        bool& malformed);

// Client: asks the broker of `view` to reload and waits up to `timeout_ns`
// for the answer. ok with `answer` filled; timeout; broker_stopped when the
// broker stops or its process is gone; corrupt_segment when what the segment
// holds cannot be an answer.
Status request_reload(const SegmentView& view, std::uint64_t timeout_ns, ReloadAnswer& answer);

// Broker: the request to answer when one is waiting (`requested` differs
// from the last request the broker answered), else false.
bool reload_waiting(const layout::ReloadExchange& exchange, std::uint32_t last_answered, std::uint32_t& request);

// Broker: publishes the answer to every request up to `request`, the report
// cut to the exchange's capacity (saying so), and wakes the clients waiting
// for it.
void answer_reload(layout::ReloadExchange& exchange, std::uint32_t request, std::uint32_t outcome,
                   const std::string& report);

}  // namespace shmq
