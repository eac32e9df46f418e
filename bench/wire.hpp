// What the benchmark writes at the front of every payload, so the receiving
// side can prove that nothing was lost, duplicated or reordered.
#pragma once

#include <cstdint>
#include <cstring>

namespace shmq::bench {

enum class MessageKind : std::uint32_t {
    data = 0,
    stop = 1  // the sender is done; `sequence` carries how many data messages it sent
};

struct Header {
    std::uint32_t producer = 0;  // which sending process (MPMC), 0 otherwise
    MessageKind kind = MessageKind::data;
    std::uint64_t sequence = 0;  // per producer, from 0
};

inline constexpr std::size_t min_payload = sizeof(Header);

// Through memcpy: a payload buffer has no alignment guarantee.
inline void write_header(void* payload, const Header& header) { std::memcpy(payload, &header, sizeof header); }

inline Header read_header(const void* payload) {
    Header header;
    std::memcpy(&header, payload, sizeof header);
    return header;
}

}  // namespace shmq::bench
