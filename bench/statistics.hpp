// Percentiles of one run's samples, and the summary of a figure over repeats.
#pragma once

#include <cstdint>
#include <vector>

namespace shmq::bench {

// A run's spread above this fraction of its median flags the figure as noisy.
inline constexpr double noisy_spread = 0.20;

struct Summary {
    double median = 0;
    double min = 0;
    double max = 0;
    double spread = 0;  // (max - min) / median
    bool noisy = false;
};

// Median (the mean of the middle two for an even count), extremes, spread.
Summary summarize(std::vector<double> values);

// Nearest-rank percentile (0 < p <= 100) of ascending samples.
std::uint32_t percentile(const std::vector<std::uint32_t>& sorted, double p);

}  // namespace shmq::bench
