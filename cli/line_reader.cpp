#include "cli/line_reader.hpp"

#include "platform/standard_input.hpp"

namespace shmq::cli {

namespace {

constexpr std::size_t read_chunk = 64 * 1024;

}  // namespace

// Appends one read's worth of input to the buffer; false at end of input.
bool LineReader::fill() {
    const std::size_t old_size = buffer_.size();
    buffer_.resize(old_size + read_chunk);
    std::size_t got = 0;
    try {
        got = platform::read_standard_input(buffer_.data() + old_size, read_chunk);
    } catch (...) {
        buffer_.resize(old_size);
        throw;
    }
    buffer_.resize(old_size + got);
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
