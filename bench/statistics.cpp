#include "bench/statistics.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace shmq::bench {

Summary summarize(std::vector<double> values) {
    if (values.empty()) throw std::invalid_argument("summarize: no values");
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    Summary summary;
    summary.median = n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    summary.min = values.front();
    summary.max = values.back();
    summary.spread = summary.median > 0 ? (summary.max - summary.min) / summary.median : 0;
    summary.noisy = summary.spread > noisy_spread;
    return summary;
}

std::uint32_t percentile(const std::vector<std::uint32_t>& sorted, double p) {
    if (sorted.empty()) throw std::invalid_argument("percentile: no samples");
    // Nearest rank: the smallest sample with at least p% of samples at or below it.
    const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace shmq::bench
