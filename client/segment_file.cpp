#include "shmq/segment_file.hpp"

#include <memory>

#include "common/queue_contents.hpp"
#include "common/segment_mapping.hpp"
#include "common/segment_view.hpp"

namespace shmq {

namespace {

Status file_status(platform::FileError error) {
    switch (error) {
    case platform::FileError::none: return Status::ok;
    case platform::FileError::not_found: return Status::broker_not_found;
    case platform::FileError::permission_denied: return Status::permission_denied;
    default: return Status::corrupt_segment;
    }
}

}  // namespace

Status read_segment_file(const std::string& path, std::vector<SavedQueue>& queues, std::string* error) {
    queues.clear();
    std::string why;
    std::unique_ptr<SegmentMapping> mapping;
    Status status = file_status(
        SegmentMapping::open_path(path, /*file_backed=*/true, mapping, why, platform::Mapping::read_only));
    SegmentView view;
    if (status == Status::ok) {
        status = SegmentView::validate(mapping->base(), mapping->size(), view, why, /*writable=*/false);
    }
    if (status != Status::ok) {
        if (error != nullptr) *error = path + ": " + why;
        return status;
    }
    for (std::uint32_t index = 0; index < view.queue_count(); ++index) {
        SavedQueue saved;
        saved.name = view.queue_name(index);
        if (!view.queue_usable(index)) {
            saved.damage = "its metadata is damaged";
        } else {
            auto contents = read_queue_contents(view.ring(index));
            saved.messages = std::move(contents.messages);
            saved.damage = std::move(contents.damage);
        }
        queues.push_back(std::move(saved));
    }
    return Status::ok;
}

}  // namespace shmq
