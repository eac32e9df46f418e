// What a full benchmark run measures: the payload sizes and process counts
// the driver runs (main.cpp) and the reports lay out (report.cpp).
#pragma once

#include <cstddef>
#include <iterator>
#include <string>

namespace shmq::bench {

// One producer, one consumer.
inline constexpr std::size_t throughput_payloads[] = {64, 4096, 1 << 20};
inline constexpr std::size_t round_trip_payloads[] = {64, 4096};
// N producers x N consumers on one queue.
inline constexpr std::size_t many_to_many_payload = 64;
inline constexpr std::size_t many_to_many_sizes[] = {1, 2, 4};
// One publisher, N subscribers on one topic.
inline constexpr std::size_t fan_out_payload = 64;
inline constexpr std::size_t fan_out_subscribers[] = {1, 4, 8};
// Round trips across sizes, zero-copy transports lending their memory.
inline constexpr std::size_t zero_copy_payloads[] = {64, 4096, 1 << 20, 4 << 20};
// Flatness is judged between these two.
inline constexpr std::size_t smallest_zero_copy_payload = zero_copy_payloads[0];
inline constexpr std::size_t largest_zero_copy_payload = zero_copy_payloads[std::size(zero_copy_payloads) - 1];

// Queue depth in messages: 64, but 8 for messages of 1 MiB and more.
inline std::size_t depth_for(std::size_t payload) { return payload >= (1u << 20) ? 8 : 64; }

// "PxC": producers x consumers, as figures name their topology.
inline std::string topology_name(std::size_t producers, std::size_t consumers) {
    return std::to_string(producers) + "x" + std::to_string(consumers);
}

}  // namespace shmq::bench
