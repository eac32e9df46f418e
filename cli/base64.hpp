// Base64 (RFC 4648, with padding) for the CLI's JSON framing of binary
// messages, built on Boost's archive iterators.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace shmq::cli {

std::string base64_encode(const void* data, std::size_t size);
// Nothing when `text` is not well-formed base64.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace shmq::cli
