// JetStream's answer to a publish (its PubAck), read by the out routes
// themselves: they publish with core NATS and a reply subject of their own
// rather than through nats.c's asynchronous JetStream publish, whose map of
// pending publishes, timers and general JSON parser cost more per message
// than the bridge's own code (docs/benchmarks.md).
//
// The parser knows only what a PubAck holds and is strict about it: anything
// that is not a well-formed ack with its stream and a sequence, or a
// well-formed error, is `malformed`, which the route treats as a failed
// publish (republished, never acknowledged to shmq).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace shmq::bridge {

struct PubAck {
    enum class Kind {
        stored,     // {"stream":"S","seq":N}
        duplicate,  // the same with "duplicate":true: the Msg-Id was stored already
        refused,    // {"error":{"code":C,"err_code":E,"description":"D"}}
        malformed,  // anything else (an empty "no responders" answer included)
    };
    Kind kind = Kind::malformed;
    std::uint64_t sequence = 0;  // stored, duplicate: the message's sequence in the stream
    int code = 0;                // refused: the API's HTTP-like code
    int err_code = 0;            // refused: JetStream's error code (jsErrCode)
    std::string description;     // refused: the server's text; malformed: what is wrong

    bool positive() const { return kind == Kind::stored || kind == Kind::duplicate; }
};

PubAck parse_pub_ack(std::string_view text);

// "what went wrong" for a log line: the error's description and codes, or
// why the answer could not be read.
std::string failure_text(const PubAck& ack);

}  // namespace shmq::bridge
