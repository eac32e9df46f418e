// What a Client holds: the mapping, the validated view of the segment, and
// the client record it took. Private to libshmq.
#pragma once

#include <memory>
#include <string>

#include "common/segment_mapping.hpp"
#include "common/segment_view.hpp"
#include "common/slot_word.hpp"
#include "shmq/client.hpp"

namespace shmq {

struct Client::Impl {
    std::string broker_name;
    AttachOptions options;
    std::unique_ptr<SegmentMapping> segment;
    SegmentView view;
    OwnerStamp stamp;
};

}  // namespace shmq
