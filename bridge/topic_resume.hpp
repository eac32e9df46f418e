// Where a topic out route stopped, as JetStream itself remembers it: a topic
// keeps no messages for an absent subscriber but its `history`, so a route
// that starts again reads that history and must know which of it the stream
// already holds. Each message carries the Nats-Msg-Id
// ORIGIN/topic/TOPIC/BROKERRUN/POSITION (shmq::View::position), so the last
// message of the route's subject says the position it had reached.
#pragma once

#include <cstdint>
#include <string>

#include <nats/nats.h>

namespace shmq::bridge {

// The Msg-Id of a topic message without its position: what one broker run's
// messages of one topic share.
std::string topic_message_prefix(const std::string& origin, const std::string& topic, const std::string& broker_run);

struct ResumePoint {
    // The subject's last message is one of this route's in this broker run.
    bool known = false;
    std::uint64_t last_position = 0;
};

// Reads the last message of `subject` in `stream`. A subject with no message,
// or whose last message has another prefix (another broker run, another
// writer), gives an unknown point. false with `error` when JetStream does not
// answer.
bool find_resume_point(jsCtx* js, const std::string& stream, const std::string& subject, const std::string& prefix,
                       ResumePoint& point, std::string& error);

}  // namespace shmq::bridge
