// The targets of issues #4 (queues) and #5 (topics), checked against one run's figures. Every target is
// a ratio within the run, so it holds on any machine the run was made on.
#pragma once

#include <string>
#include <vector>

#include "bench/results.hpp"

namespace shmq::bench {

struct TargetCheck {
    std::string target;    // what is required
    std::string measured;  // what this run gives, and by how much it misses
    bool available = false;  // false: a figure it needs is missing (--only, a failure)
    bool met = false;
};

std::vector<TargetCheck> check_targets(const Results& results);

}  // namespace shmq::bench
