// libFuzzer target: the INI configuration loader. Any input must either
// parse or be refused with config::ConfigError; every other exception, and
// every crash or sanitizer report, is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/broker_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        shmq::config::parse_ini(text, "fuzz.ini");
    } catch (const shmq::config::ConfigError&) {
        // The documented way to refuse a bad file. Anything else escapes,
        // and libFuzzer reports the uncaught exception as a crash.
    }
    return 0;
}
