// The messages of Queue::send_batch and Queue::receive_batch: plain buffers
// described by the caller. Public, and used as they are by the queue ring
// underneath (common/queue_ring.hpp), so that a batch is never copied.
#pragma once

#include <cstddef>
#include <cstdint>

namespace shmq {

// One message to send in a batch.
struct OutgoingMessage {
    const void* data;
    std::size_t size;
};

// A receive buffer in a batch; `size` is filled in with the message's length.
struct IncomingMessage {
    void* buffer;
    std::size_t capacity;
    std::size_t size;
    std::uint64_t delivery;  // at_least_once: the token to acknowledge
};

}  // namespace shmq
