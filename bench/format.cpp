#include "bench/format.hpp"

#include <cmath>
#include <cstdio>

namespace shmq::bench {

namespace {

std::string three_digits(double value) {
    char text[32];
    const double magnitude = std::fabs(value);
    const char* pattern = magnitude >= 100 ? "%.0f" : magnitude >= 10 ? "%.1f" : magnitude >= 1 ? "%.2f" : "%.3f";
    std::snprintf(text, sizeof text, pattern, value);
    return text;
}

}  // namespace

std::string format_number(double value) {
    if (std::fabs(value) >= 1e6) return three_digits(value / 1e6) + " M";
    if (std::fabs(value) >= 1e4) return three_digits(value / 1e3) + " k";
    return three_digits(value);
}

std::string format_payload(std::size_t bytes) {
    if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
    if (bytes >= 1024 && bytes % 1024 == 0) return std::to_string(bytes >> 10) + " KiB";
    return std::to_string(bytes) + " B";
}

std::string format_ratio(double ratio) {
    char text[32];
    std::snprintf(text, sizeof text, ratio >= 10 ? "%.0fx" : ratio >= 1 ? "%.1fx" : "%.2fx", ratio);
    return text;
}

}  // namespace shmq::bench
