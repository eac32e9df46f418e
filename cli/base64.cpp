#include "cli/base64.hpp"

#include <algorithm>
#include <boost/archive/iterators/base64_from_binary.hpp>
#include <boost/archive/iterators/binary_from_base64.hpp>
#include <boost/archive/iterators/transform_width.hpp>

namespace shmq::cli {

namespace iterators = boost::archive::iterators;

std::string base64_encode(const void* data, std::size_t size) {
    using Encoder = iterators::base64_from_binary<iterators::transform_width<const char*, 6, 8>>;
    const auto* bytes = static_cast<const char*>(data);
    std::string text(Encoder(bytes), Encoder(bytes + size));
    text.append((3 - size % 3) % 3, '=');
    return text;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    if (text.empty()) return std::string();
    const auto last = text.find_last_not_of('=');
    const std::size_t padding = last == std::string_view::npos ? text.size() : text.size() - last - 1;
    if (padding > 2) return std::nullopt;
    const auto body = text.substr(0, text.size() - padding);
    const auto valid = [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    };
    if (!std::all_of(body.begin(), body.end(), valid)) return std::nullopt;
    // The iterators decode whole 6-bit groups: the padding's bits are zeros,
    // and the bytes they would make are not part of the message.
    std::string padded(body);
    padded.append(padding, 'A');
    using Decoder = iterators::transform_width<iterators::binary_from_base64<std::string::const_iterator>, 8, 6>;
    std::string bytes(Decoder(padded.cbegin()), Decoder(padded.cend()));
    bytes.resize(bytes.size() - padding);
    return bytes;
}

}  // namespace shmq::cli
