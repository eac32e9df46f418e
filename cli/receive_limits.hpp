// What `shmq consume` and `shmq subscribe` share: how many messages to print
// (--count), how long to wait for each (--timeout), the exit statuses those
// lead to, and how a receive loop's last status reads to a script.
#pragma once

#include <cstdint>
#include <optional>

#include "cli/framing.hpp"
#include "cli/subcommand_parser.hpp"
#include "shmq/client.hpp"

namespace shmq::cli {

struct ReceiveLimits {
    std::optional<std::uint64_t> count;  // none: until a failure or timeout
    Timeout timeout;                     // per message
};

// Declares --count, --timeout and --framing, and the exit statuses as the epilog.
void add_receive_options(SubcommandParser& parser);
ReceiveLimits receive_limits(const po::variables_map& variables);

// With --timeout 0 the library answers `empty` rather than `timeout`: to a
// script both mean that no message came in time.
inline bool no_message_in_time(Status status) { return status == Status::timeout || status == Status::empty; }

// A drain: without --count, receiving until the queue or topic stays quiet
// for --timeout is the job done, once something was received (a script
// under `set -e` must not fail for it). A timeout before the first message,
// or before --count messages, is still a failure.
inline bool drained(const ReceiveLimits& limits, Status status, std::uint64_t printed) {
    return !limits.count && printed > 0 && no_message_in_time(status);
}

}  // namespace shmq::cli
