// The segments whose queues a segment's migration carries with its own
// (docs/crash-safety.md, "Migration at start-up"): the live segments it
// lists (queues and topics reloads added or changed, in the main segment or
// an access group's), and, the main segment's, the segments of the access
// groups it lists that the configuration no longer has. The new main
// segment lists neither, so nothing else would ever read them again; an
// access group the configuration still has is its own broker's to migrate.
#pragma once

#include <string>
#include <vector>

#include "common/access_listing.hpp"
#include "common/segment_view.hpp"

namespace shmq::daemon {

struct CompanionSegment {
    std::string path;  // the file, beside the main segment's
    std::string what;  // for the log: "live segment 2", "the segment of access group 'ops', ..."
    // An access group's segment, which may list live segments of its own
    // (the successors of its queues and topics whose settings changed).
    bool lists_live = false;
};

// The companions the validated segment `old_main` lists (its file's place
// being `main_path`), given the access groups the configuration has
// (`configured`; null for an access group's segment, which lists live
// segments only: its own access table is never read, its group's members
// may write it). Whether each file exists is not checked.
std::vector<CompanionSegment> companions_of(const SegmentView& old_main, const std::string& main_path,
                                            const AccessListing* configured);

}  // namespace shmq::daemon
