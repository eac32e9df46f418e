#include "daemon/companion_segments.hpp"

#include <algorithm>

#include "common/live_table.hpp"

namespace shmq::daemon {

std::vector<CompanionSegment> companions_of(const SegmentView& old_main, const std::string& main_path,
                                            const AccessListing* configured) {
    std::vector<CompanionSegment> companions;
    for (const auto generation : read_live_generations(old_main.root().live)) {
        companions.push_back({live_segment_path(main_path, generation), "live segment " + std::to_string(generation)});
    }
    if (configured == nullptr) return companions;
    // A table that does not read names no file: only checked group names become paths.
    AccessListing listed;
    std::string ignored;
    if (!read_access_listing(old_main.access_table(), listed, ignored)) return companions;
    for (const auto& group : listed.groups) {
        if (std::find(configured->groups.begin(), configured->groups.end(), group) != configured->groups.end()) {
            continue;
        }
        companions.push_back({access_segment_path(main_path, group),
                              "the segment of access group '" + group + "', which the configuration no longer has",
                              /*lists_live=*/true});
    }
    return companions;
}

}  // namespace shmq::daemon
