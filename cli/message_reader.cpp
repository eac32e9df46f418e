#include "cli/message_reader.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "cli/base64.hpp"
#include "platform/standard_input.hpp"

namespace shmq::cli {

namespace {

constexpr std::size_t read_chunk = 64 * 1024;
constexpr std::size_t length_prefix = 4;

std::uint32_t big_endian_length(const char* bytes) {
    const auto* u = reinterpret_cast<const unsigned char*>(bytes);
    return (std::uint32_t{u[0]} << 24) | (std::uint32_t{u[1]} << 16) | (std::uint32_t{u[2]} << 8) | u[3];
}

}  // namespace

// Appends one read's worth of input to the buffer; false at end of input.
bool MessageReader::fill() {
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

bool MessageReader::next_messages(std::vector<std::string_view>& messages) {
    messages.clear();
    decoded_.clear();
    if (!flaw_.empty()) throw std::runtime_error(flaw_);
    // The messages handed out last time are done with: drop them.
    buffer_.erase(0, consumed_);
    consumed_ = 0;
    if (at_end_) return false;
    at_end_ = !fill();
    switch (framing_) {
    case Framing::lines: split_lines(messages); break;
    case Framing::length: split_lengths(messages); break;
    case Framing::json: decode_json_lines(messages); break;
    }
    return !messages.empty() || !at_end_ || !flaw_.empty();
}

void MessageReader::split_lines(std::vector<std::string_view>& messages) {
    const std::string_view text(buffer_);
    for (auto newline = text.find('\n'); newline != std::string_view::npos; newline = text.find('\n', consumed_)) {
        messages.push_back(text.substr(consumed_, newline - consumed_));
        consumed_ = newline + 1;
    }
    if (at_end_ && consumed_ < text.size()) {
        messages.push_back(text.substr(consumed_));
        consumed_ = text.size();
    }
}

void MessageReader::split_lengths(std::vector<std::string_view>& messages) {
    const std::string_view text(buffer_);
    while (text.size() - consumed_ >= length_prefix) {
        const std::size_t length = big_endian_length(text.data() + consumed_);
        if (text.size() - consumed_ - length_prefix < length) break;
        messages.push_back(text.substr(consumed_ + length_prefix, length));
        consumed_ += length_prefix + length;
    }
    if (at_end_ && consumed_ < text.size()) {
        flaw_ = "standard input ends inside a length-framed message (" + std::to_string(text.size() - consumed_) +
                " bytes left over)";
    }
}

void MessageReader::decode_json_lines(std::vector<std::string_view>& messages) {
    std::vector<std::string_view> lines;
    split_lines(lines);
    for (const auto line : lines) {
        ++line_number_;
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;  // blank lines carry nothing
        const auto where = "standard input, line " + std::to_string(line_number_) + ": ";
        const auto object = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
        if (!object.is_object() || !object.contains("data") || !object["data"].is_string()) {
            flaw_ = where + "not a JSON object with a string member \"data\"";
            break;
        }
        auto bytes = base64_decode(object["data"].get<std::string>());
        if (!bytes) {
            flaw_ = where + "\"data\" is not base64";
            break;
        }
        decoded_.push_back(std::move(*bytes));
    }
    for (const auto& message : decoded_) messages.push_back(message);
}

std::size_t MessageReader::partial_message_size() const {
    const std::size_t pending = buffer_.size() - consumed_;
    switch (framing_) {
    case Framing::lines: return pending;
    case Framing::length: return pending >= length_prefix ? big_endian_length(buffer_.data() + consumed_) : 0;
    case Framing::json: return pending / 4 * 3 > 1024 ? pending / 4 * 3 - 1024 : 0;  // base64, less the JSON around it
    }
    return pending;
}

}  // namespace shmq::cli
