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

const Figure* Results::find(const FigureKey& key) const {
    const auto found = std::find_if(figures.begin(), figures.end(), [&](const Figure& f) { return f.key == key; });
    return found == figures.end() ? nullptr : &*found;
}

}  // namespace shmq::bench
