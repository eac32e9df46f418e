// Splits standard input into messages, in the chosen framing, as they
// arrive. Each call hands back every complete message read so far without
// waiting for more input, so a caller can send them as one batch: fast for a
// file, prompt for a trickle.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "cli/framing.hpp"

namespace shmq::cli {

class MessageReader {
public:
    explicit MessageReader(Framing framing) : framing_(framing) {}

    // Blocks until some input arrives, then replaces `messages` with the
    // complete messages now available (possibly none, when a long one is
    // still arriving). They stay valid until the next call. With lines, a
    // last line without '\n' is a message too. Returns false once the input
    // is exhausted. Throws std::system_error if reading fails, and
    // std::runtime_error for input that is not in the framing (saying where),
    // once every message before the flaw has been handed out.
    bool next_messages(std::vector<std::string_view>& messages);

    // At least how large the message still being read will be, so a caller
    // can give up on one that is already too long rather than buffer it whole.
    std::size_t partial_message_size() const;

private:
    bool fill();
    void split_lines(std::vector<std::string_view>& messages);
    void split_lengths(std::vector<std::string_view>& messages);
    void decode_json_lines(std::vector<std::string_view>& messages);

    Framing framing_;
    std::string buffer_;
    std::size_t consumed_ = 0;          // bytes of buffer_ already handed out
    std::vector<std::string> decoded_;  // json: the messages handed out last
    std::size_t line_number_ = 0;       // json: lines decoded so far, for errors
    std::string flaw_;                  // input not in the framing: thrown on the next call
    bool at_end_ = false;
};

}  // namespace shmq::cli
