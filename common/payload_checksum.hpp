// The checksum a persistent queue's producer stores in each slot header, so
// that the recovery after a power loss can tell a message whose pages did not
// all reach the disk (msync writes pages in no particular order) from a whole
// one. CRC-32 of the length, then the payload.
#pragma once

#include <boost/crc.hpp>
#include <cstddef>
#include <cstdint>

namespace shmq {

inline std::uint32_t payload_checksum(std::uint32_t length, const void* payload) {
    boost::crc_32_type crc;
    const unsigned char length_bytes[4] = {
        static_cast<unsigned char>(length), static_cast<unsigned char>(length >> 8),
        static_cast<unsigned char>(length >> 16), static_cast<unsigned char>(length >> 24)};
    crc.process_bytes(length_bytes, sizeof length_bytes);
    if (length > 0) crc.process_bytes(payload, length);
    return crc.checksum();
}

}  // namespace shmq
