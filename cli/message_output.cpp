#include "cli/message_output.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <system_error>

#include "cli/base64.hpp"

namespace shmq::cli {

namespace {

[[noreturn]] void fail_writing() {
    throw std::system_error(errno, std::generic_category(), "cannot write to standard output");
}

void write_bytes(const void* data, std::size_t size) {
    if (std::fwrite(data, 1, size, stdout) != size) fail_writing();
}

}  // namespace

void flush_output() {
    if (std::fflush(stdout) != 0) fail_writing();
}

void write_message(const char* data, std::size_t size, Framing framing, bool flush) {
    switch (framing) {
    case Framing::lines:
        write_bytes(data, size);
        write_bytes("\n", 1);
        break;
    case Framing::length: {
        const auto length = static_cast<std::uint32_t>(size);
        const unsigned char prefix[4] = {static_cast<unsigned char>(length >> 24), static_cast<unsigned char>(length >> 16),
                                         static_cast<unsigned char>(length >> 8), static_cast<unsigned char>(length)};
        write_bytes(prefix, sizeof prefix);
        write_bytes(data, size);
        break;
    }
    case Framing::json: {
        const std::string line = nlohmann::json{{"data", base64_encode(data, size)}}.dump() + "\n";
        write_bytes(line.data(), line.size());
        break;
    }
    }
    if (flush) flush_output();
}

}  // namespace shmq::cli
