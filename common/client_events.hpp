// Attach and detach events: clients append them to their segment's
// ClientEventRing (common/layout.hpp), the broker drains them and logs each
// one, so that a client attached for less than a liveness tick is logged too.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/layout.hpp"

namespace shmq {

// Appends one event without waiting: a client that dies halfway leaves an
// entry the broker skips. `kind` is layout::client_event_*.
void announce_client_event(layout::ClientEventRing& ring, std::uint32_t kind, std::uint32_t record,
                           std::uint32_t generation, std::int32_t pid, std::uint64_t attached_at_ns,
                           std::string_view program);

// One event as the broker read it, checked: kind is one of client_event_*
// and record below the client table's capacity.
struct ClientEventRecord {
    std::uint32_t kind = 0;
    std::uint32_t record = 0;
    std::uint32_t generation = 0;
    std::int32_t pid = 0;
    std::uint64_t attached_at_ns = 0;
    std::uint64_t at_ns = 0;
    std::string program;  // raw bytes up to the first NUL: the log escapes them
};

// The broker's side: remembers how far it read, so that each event is
// reported once, and counts the events it could not read.
class ClientEventReader {
public:
    // Reads the events appended from now on.
    explicit ClientEventReader(const layout::ClientEventRing& ring);
    ClientEventReader() = default;

    struct Drained {
        std::vector<ClientEventRecord> events;
        std::uint64_t missed = 0;     // overwritten before they were read (the ring wrapped)
        std::uint64_t unreadable = 0;  // damaged, or never finished by their writer
        bool counter_reset = false;   // `next` went backwards: another process wrote it
    };
    Drained drain(const layout::ClientEventRing& ring, std::uint32_t client_capacity);

    // Whether drain() has something to read now: events it has not read, the
    // next of them not still being written.
    bool has_news(const layout::ClientEventRing& ring) const;

    // An entry still unpublished this long after drain() first found it so
    // is given up: its writer died (or is stopped) between taking it and
    // publishing it.
    static constexpr std::uint64_t stall_limit_ns = 1'000'000'000;

private:
    std::uint64_t next_ = 0;  // the sequence number of the next event to read
    // Since when (monotonic) the entry at next_ has been found unpublished
    // (0: it was not), and the ring's `next` then: every entry below it was
    // taken before the stall began.
    std::uint64_t stalled_since_ns_ = 0;
    std::uint64_t stalled_below_ = 0;
    // Entries below this that are still unpublished had their while: skipped
    // at once, so that a ring full of them (a scribbled `next`) costs one
    // wait, not one per entry.
    std::uint64_t give_up_below_ = 0;
};

}  // namespace shmq
