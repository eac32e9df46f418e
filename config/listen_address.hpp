// The address of `metrics_listen`: an IP address and a TCP port, written
// "127.0.0.1:9464" (IPv4) or "[::1]:9464" (IPv6, in brackets as in a URL).
// Parsed when the configuration is validated, so a bad address is refused
// with its file and line before the broker starts.
#pragma once

#include <cstdint>
#include <string>

namespace shmq::config {

struct ListenAddress {
    std::string host;  // the address alone, without brackets: "127.0.0.1", "::1"
    std::uint16_t port = 0;
};

// Empty when `text` is such an address (then `address` holds it), otherwise
// what is wrong with it, worded to follow the quoted text.
std::string parse_listen_address(const std::string& text, ListenAddress& address);

}  // namespace shmq::config
