#include "cli/line_reader.hpp"

#include <cerrno>
#include <system_error>
#include <unistd.h>

namespace shmq::cli {

namespace {

constexpr std::size_t read_chunk = 64 * 1024;

}  // namespace

// Appends one read's worth of input to the buffer; false at end of input.
bool LineReader::fill() {
    const std::size_t old_size = buffer_.size();
    buffer_.resize(old_size + read_chunk);
    ssize_t got;
    do {
        got = ::read(fd_, buffer_.data() + old_size, read_chunk);
    } while (got < 0 && errno == EINTR);
    if (got < 0) {
        buffer_.resize(old_size);
        throw std::system_error(errno, std::generic_category(), "cannot read standard input");
    }
    buffer_.resize(old_size + static_cast<std::size_t>(got));
    return got > 0;
}

bool LineReader::next_lines(std::vector<std::string_view>& lines) {
    lines.clear();
    // The lines handed out last time are done with: drop them.
    buffer_.erase(0, consumed_);
    consumed_ = 0;
    if (at_end_) return false;
    at_end_ = !fill();
    const std::string_view text(buffer_);
    for (auto newline = text.find('\n'); newline != std::string_view::npos; newline = text.find('\n', consumed_)) {
        lines.push_back(text.substr(consumed_, newline - consumed_));
        consumed_ = newline + 1;
    }
    if (at_end_ && consumed_ < text.size()) {
        lines.push_back(text.substr(consumed_));
        consumed_ = text.size();
    }
    return !lines.empty() || !at_end_;
}

}  // namespace shmq::cli
