// A minimal streaming JSON writer: enough for `shmq stats --json`. It places
// the commas and colons, and escapes strings so that any bytes (a client's
// program name is whatever that client chose) come out as valid JSON.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace shmq::cli {

// `text` as a JSON string literal, quotes included. Control characters, '"'
// and '\\' are escaped; bytes that are not valid UTF-8 become U+FFFD, since
// JSON text must be Unicode.
std::string json_quote(std::string_view text);

class JsonWriter {
public:
    explicit JsonWriter(std::ostream& out) : out_(out) {}

    JsonWriter& begin_object();
    JsonWriter& end_object();
    JsonWriter& begin_array();
    JsonWriter& end_array();
    // Names the next value, inside an object.
    JsonWriter& key(std::string_view name);

    JsonWriter& string(std::string_view text);
    JsonWriter& boolean(bool value);
    template <typename Integer>
    JsonWriter& number(Integer value) {
        static_assert(std::is_integral_v<Integer> && !std::is_same_v<Integer, bool>);
        before_value();
        out_ << std::to_string(value);
        return *this;
    }

private:
    void before_value();
    JsonWriter& open(char bracket);
    JsonWriter& close(char bracket);

    std::ostream& out_;
    // One entry per open object or array: whether it is still empty.
    std::vector<bool> empty_;
    bool after_key_ = false;
};

}  // namespace shmq::cli
