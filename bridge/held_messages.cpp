#include "bridge/held_messages.hpp"

namespace shmq::bridge {

HeldMessages::~HeldMessages() {
    // Unacked: JetStream redelivers them to the next run.
    for (auto& [sequence, message] : messages_) natsMsg_Destroy(message);
}

void HeldMessages::add(std::uint64_t stream_sequence, natsMsg* message) {
    auto [place, inserted] = messages_.emplace(stream_sequence, message);
    if (inserted) return;
    natsMsg_Destroy(place->second);
    place->second = message;
}

void HeldMessages::keep_alive(std::chrono::steady_clock::duration interval) {
    const auto now = std::chrono::steady_clock::now();
    if (now - kept_alive_ < interval) return;
    kept_alive_ = now;
    for (auto& [sequence, message] : messages_) natsMsg_InProgress(message, nullptr);
}

natsMsg* HeldMessages::take_oldest(std::uint64_t& stream_sequence) {
    if (messages_.empty()) return nullptr;
    const auto oldest = messages_.begin();
    stream_sequence = oldest->first;
    natsMsg* message = oldest->second;
    messages_.erase(oldest);
    return message;
}

}  // namespace shmq::bridge
