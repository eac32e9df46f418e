#include "cli/json_writer.hpp"

#include <cstdio>

namespace shmq::cli {

namespace {

constexpr const char* replacement_character = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

bool is_continuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

// The length of the well-formed UTF-8 sequence at text[at] that encodes a
// non-ASCII character, or 0 if there is none (Unicode Table 3-7: no overlong
// forms, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence_length(std::string_view text, std::size_t at) {
    const auto byte = [&](std::size_t offset) {
        return at + offset < text.size() ? static_cast<unsigned char>(text[at + offset]) : 0;
    };
    const unsigned char lead = byte(0);
    unsigned char second_min = 0x80, second_max = 0xBF;
    std::size_t length = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0) second_min = 0xA0;  // overlong
        if (lead == 0xED) second_max = 0x9F;  // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0) second_min = 0x90;  // overlong
        if (lead == 0xF4) second_max = 0x8F;  // above U+10FFFF
    } else {
        return 0;
    }
    if (byte(1) < second_min || byte(1) > second_max) return 0;
    for (std::size_t offset = 2; offset < length; ++offset) {
        if (!is_continuation(byte(offset))) return 0;
    }
    return length;
}

void append_escaped_ascii(std::string& quoted, char character) {
    switch (character) {
    case '"': quoted += "\\\""; return;
    case '\\': quoted += "\\\\"; return;
    case '\n': quoted += "\\n"; return;
    case '\r': quoted += "\\r"; return;
    case '\t': quoted += "\\t"; return;
    case '\b': quoted += "\\b"; return;
    case '\f': quoted += "\\f"; return;
    default: break;
    }
    if (static_cast<unsigned char>(character) < 0x20) {
        char escape[7];
        std::snprintf(escape, sizeof escape, "\\u%04x", static_cast<unsigned>(character));
        quoted += escape;
    } else {
        quoted += character;
    }
}

}  // namespace

std::string json_quote(std::string_view text) {
    std::string quoted = "\"";
    for (std::size_t at = 0; at < text.size();) {
        if (static_cast<unsigned char>(text[at]) < 0x80) {
            append_escaped_ascii(quoted, text[at]);
            ++at;
        } else if (const auto length = utf8_sequence_length(text, at)) {
            quoted.append(text, at, length);
            at += length;
        } else {
            quoted += replacement_character;
            ++at;
        }
    }
    return quoted + "\"";
}

void JsonWriter::before_value() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (!empty_.empty()) {
        if (!empty_.back()) out_ << ',';
        empty_.back() = false;
    }
}

JsonWriter& JsonWriter::open(char bracket) {
    before_value();
    out_ << bracket;
    empty_.push_back(true);
    return *this;
}

JsonWriter& JsonWriter::close(char bracket) {
    empty_.pop_back();
    out_ << bracket;
    return *this;
}

JsonWriter& JsonWriter::begin_object() { return open('{'); }
JsonWriter& JsonWriter::end_object() { return close('}'); }
JsonWriter& JsonWriter::begin_array() { return open('['); }
JsonWriter& JsonWriter::end_array() { return close(']'); }

JsonWriter& JsonWriter::key(std::string_view name) {
    before_value();
    out_ << json_quote(name) << ':';
    after_key_ = true;
    return *this;
}

JsonWriter& JsonWriter::string(std::string_view text) {
    before_value();
    out_ << json_quote(text);
    return *this;
}

JsonWriter& JsonWriter::boolean(bool value) {
    before_value();
    out_ << (value ? "true" : "false");
    return *this;
}

}  // namespace shmq::cli
