// Splits standard input into lines as they arrive. Each call hands
// back every complete line read so far without waiting for more input, so a
// caller can send them as one batch: fast for a file, prompt for a trickle.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace shmq::cli {

class LineReader {
public:
    // Blocks until some input arrives, then replaces `lines` with the
    // complete lines now available (without their '\n'; possibly none, when
    // a long line is still arriving). They stay valid until the next call.
    // At end of input a last line without '\n' is returned too. Returns false
    // once the input is exhausted; throws std::system_error if reading fails.
    bool next_lines(std::vector<std::string_view>& lines);

    // Bytes of the line still being read, so a caller can give up on a line
    // that is already too long rather than buffer it whole.
    std::size_t partial_line_size() const { return buffer_.size() - consumed_; }

private:
    bool fill();

    std::string buffer_;
    std::size_t consumed_ = 0;  // bytes of buffer_ already handed out as lines
    bool at_end_ = false;
};

}  // namespace shmq::cli
