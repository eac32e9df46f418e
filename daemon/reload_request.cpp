#include "daemon/reload_request.hpp"

#include <memory>

#include "common/segment_mapping.hpp"
#include "common/segment_view.hpp"
#include "daemon/segment_builder.hpp"
#include "platform/file_owner.hpp"
#include "platform/user_identity.hpp"

namespace shmq::daemon {

namespace {
// A broker applies a reload within a tick; loading a large file takes longer
// than that, but never this long.
constexpr std::uint64_t answer_patience_ns = 30'000'000'000ull;
}  // namespace

Status ask_running_broker_to_reload(const config::BrokerConfig& config, ReloadAnswer& answer, std::string& error) {
    const auto address = segment_address(config);
    const auto path = SegmentMapping::file_system_path(address);
    // Only the broker's own user reloads it this way (the unit runs
    // ExecReload= as the broker's user): a segment of anyone else at the name
    // is not this broker's.
    std::uint32_t owner = 0;
    if (platform::file_owner(path, owner) && owner != platform::effective_user()) {
        error = "segment '" + path + "' belongs to " + platform::describe_user(owner) + ", not to " +
                platform::describe_user(platform::effective_user());
        return Status::untrusted_segment;
    }
    std::unique_ptr<SegmentMapping> segment;
    std::string why;
    if (SegmentMapping::open_path(path, SegmentMapping::is_file(address), segment, why) != platform::FileError::none) {
        error = "cannot open segment '" + path + "' (is broker '" + config.name + "' running?): " + why;
        return Status::broker_not_found;
    }
    SegmentView view;
    if (const Status status = SegmentView::validate(segment->base(), segment->size(), view, why); status != Status::ok) {
        error = "segment '" + path + "': " + why;
        return status;
    }
    const Status status = request_reload(view, answer_patience_ns, answer);
    if (status != Status::ok) error = "broker '" + config.name + "' did not answer: " + describe(status);
    return status;
}

}  // namespace shmq::daemon
