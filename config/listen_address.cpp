#include "config/listen_address.hpp"

#include <boost/asio/ip/address.hpp>
#include <charconv>

namespace shmq::config {

namespace {

constexpr const char* expected_form = "; expected ADDRESS:PORT, e.g. 127.0.0.1:9464 or [::1]:9464";

}  // namespace

std::string parse_listen_address(const std::string& text, ListenAddress& address) {
    std::string host;
    std::string port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            return std::string("is not an address and port") + expected_form;
        }
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string::npos) return std::string("has no port") + expected_form;
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        // An IPv6 address needs brackets, or its last group would be taken for the port.
        if (host.find(':') != std::string::npos) return "is an IPv6 address without brackets; write [ADDRESS]:PORT";
    }
    boost::system::error_code error;
    const auto parsed = boost::asio::ip::make_address(host, error);
    if (error) return "has '" + host + "', which is not an IPv4 or IPv6 address (host names are not accepted)";
    if (text.front() == '[' && !parsed.is_v6()) return "has '" + host + "' in brackets, which is not an IPv6 address";
    unsigned value = 0;
    const auto [end, failure] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || failure != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
        return "has the port '" + port + "'; expected a number from 1 to 65535";
    }
    address.host = host;
    address.port = static_cast<std::uint16_t>(value);
    return {};
}

}  // namespace shmq::config
