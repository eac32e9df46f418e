// How figures are written for people: 3 significant digits with k/M
// prefixes, payload sizes in B/KiB/MiB.
#pragma once

#include <cstddef>
#include <string>

namespace shmq::bench {

std::string format_number(double value);  // 21.6 M, 835 k, 45.7, 0.220
std::string format_payload(std::size_t bytes);  // 64 B, 4 KiB, 1 MiB
std::string format_ratio(double ratio);   // 0.52x, 6.1x, 31x

}  // namespace shmq::bench
