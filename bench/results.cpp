#include "bench/results.hpp"

#include <algorithm>

namespace shmq::bench {

Figure& Results::figure(const FigureKey& key, const std::string& unit, bool higher_is_better) {
    const auto found = std::find_if(figures.begin(), figures.end(), [&](const Figure& f) { return f.key == key; });
    if (found != figures.end()) return *found;
    Figure created;
    created.key = key;
    created.unit = unit;
    created.higher_is_better = higher_is_better;
    created.verified = true;  // until a repeat says otherwise
    figures.push_back(created);
    return figures.back();
}

double paired_ratio(const Figure& a, const Figure& b) {
    if (a.repeats.size() != b.repeats.size() || a.repeats.empty()) return a.summary().median / b.summary().median;
    std::vector<double> clean, all;
    for (std::size_t i = 0; i < a.repeats.size(); ++i) {
        if (b.repeats[i] == 0) continue;
        const double ratio = a.repeats[i] / b.repeats[i];
        all.push_back(ratio);
        if (!a.set_aside(i) && !b.set_aside(i)) clean.push_back(ratio);
    }
    if (all.empty()) return 0;
    return summarize(clean.empty() ? all : clean).median;
}

const Figure* Results::find(const FigureKey& key) const {
    const auto found = std::find_if(figures.begin(), figures.end(), [&](const Figure& f) { return f.key == key; });
    return found == figures.end() ? nullptr : &*found;
}

const Figure* Results::reference(const FigureKey& key, const FigureKey& other) const {
    if (other.transport == limit_transport && other.mode == limit_mode) {
        FigureKey beside = key;
        beside.metric = beside_limit_metric(key.metric);
        if (const Figure* found = find(beside); found != nullptr && !found->repeats.empty()) return found;
    }
    const Figure* found = find(other);
    return found == nullptr || found->repeats.empty() ? nullptr : found;
}

std::optional<double> Results::median(const FigureKey& key) const {
    const Figure* figure = find(key);
    if (figure == nullptr || figure->repeats.empty()) return std::nullopt;
    return figure->summary().median;
}

}  // namespace shmq::bench
