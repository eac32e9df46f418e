// JetStream messages an in route fetched but may not send to shmq yet,
// because older ones of its consumer are still out with someone else (a
// fetch lost with a NATS node, a killed predecessor): kept unacked, by
// stream sequence, to be sent in stream order once those came back.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>

#include <nats/nats.h>

namespace shmq::bridge {

class HeldMessages {
public:
    HeldMessages() = default;
    ~HeldMessages();
    HeldMessages(const HeldMessages&) = delete;
    HeldMessages& operator=(const HeldMessages&) = delete;

    // Takes ownership. A redelivery of a message already held replaces it:
    // acking the latest delivery is what JetStream expects.
    void add(std::uint64_t stream_sequence, natsMsg* message);
    bool empty() const { return messages_.empty(); }
    std::size_t size() const { return messages_.size(); }
    // Tells JetStream they are still being worked on, at most once per
    // `interval`, so that they are not redelivered while held.
    void keep_alive(std::chrono::steady_clock::duration interval);
    // The oldest (lowest stream sequence) one, handed over; nullptr if none.
    natsMsg* take_oldest(std::uint64_t& stream_sequence);

private:
    std::map<std::uint64_t, natsMsg*> messages_;
    std::chrono::steady_clock::time_point kept_alive_;
};

}  // namespace shmq::bridge
