// The three measurements made on every transport. Each sets the transport
// up, forks its processes (producers pinned to one CPU, consumers to the
// other), checks every sequence number, and tears the transport down. Any
// loss, duplicate or reordering throws std::runtime_error: a figure is only
// ever reported for a run that delivered everything in order.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "bench/transport.hpp"

namespace shmq::bench {

struct Limits {
    std::uint64_t messages = 0;        // most messages a sender sends (round trips for ping-pong)
    std::chrono::duration<double> duration{0};  // senders stop after this long
    // A smoke run proves delivery, not speed: every sender goes on past the
    // warm-up whatever the time, so that a loaded machine still yields a
    // measurable run instead of "too few messages to time".
    bool smoke = false;
};

struct Throughput {
    double messages_per_second = 0;
    std::uint64_t messages = 0;  // delivered and verified
    std::size_t depth = 0;       // the channel's effective depth
};

struct RoundTrips {
    std::vector<std::uint32_t> sorted_ns;  // one sample per round trip after warm-up, ascending
    std::size_t depth = 0;
};

// One producer, one consumer, one channel; measured at the consumer from the
// end of the warm-up to the last message.
Throughput measure_throughput(Transport& transport, std::size_t size, std::size_t depth, const Limits& limits);

// A client sends a message, a server echoes it on a second channel; the
// client times each round trip. Copying: every hop copies the whole message
// in and out. Zero copy (transport.zero_copy() only): every hop loans a
// buffer, writes the sequence number into it and reads it in place, as a
// zero-copy application handing over a filled buffer would.
enum class Copying { whole_message, zero_copy };
RoundTrips measure_round_trips(Transport& transport, std::size_t size, std::size_t depth, const Limits& limits,
                               Copying copying = Copying::whole_message);

// One publisher, `subscribers` processes on one fan-out channel, each of
// which must receive every message in order. messages_per_second is the
// rate every subscriber received (the slowest one's, from its warm-up to the
// last message); `messages` counts the messages published.
Throughput measure_fan_out(Transport& transport, std::size_t subscribers, std::size_t size, std::size_t depth,
                           const Limits& limits);

// `producers` x `consumers` processes on one channel; messages delivered per
// second from the start until the last producer stopped.
Throughput measure_many_to_many(Transport& transport, std::size_t producers, std::size_t consumers, std::size_t size,
                                std::size_t depth, const Limits& limits);

}  // namespace shmq::bench
