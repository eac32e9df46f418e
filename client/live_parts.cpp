// The segments reloads added to a running broker (SEGMENT.live-GENERATION,
// listed in the LiveTable of the segment they were added beside: the main
// one, or an access group's): a client attached before a reload finds the
// new queues and topics, and the successors of those changed, there without
// attaching again. A group's part looks in its own table (its Queue and
// Topic handles point at it).
#include <algorithm>

#include "client_impl.hpp"
#include "common/client_registry.hpp"
#include "common/live_table.hpp"
#include "shmq/client.hpp"

namespace shmq {

namespace {

// Maps and joins live segment `generation` of the segment `lister` maps. Its
// file is checked as that one is and must belong to its owner (itself the
// main segment's): the table only says which name to try, never whom to
// trust. A part this process may only read (a group's readers) maps the live
// segment read-only too, and takes no client record in it: figures only.
// Null when it cannot be joined now (the next look tries again).
std::unique_ptr<Client::Impl> open_live_segment(const Client::Impl& lister, std::uint32_t generation) {
    auto impl = std::make_unique<Client::Impl>();
    impl->options = lister.options;
    impl->broker_name = lister.broker_name;
    impl->read_only = lister.read_only;
    const std::string path = live_segment_path(lister.segment->path(), generation);
    std::string why;
    const auto how = impl->read_only ? platform::Mapping::read_only : platform::Mapping::read_write;
    if (SegmentMapping::open_path(path, lister.segment->file_backed(), impl->segment, why, how) !=
            platform::FileError::none ||
        impl->segment->owner() != lister.segment->owner()) {
        return nullptr;
    }
    if (join_segment(*impl, lister.program(), why) != Status::ok) return nullptr;
    if (!impl->access.empty()) {
        // A live segment lists no restricted names (a reload adds those to a
        // live segment of their group's): such a segment is not the broker's.
        if (!impl->read_only) release_client_record(impl->view, impl->stamp);
        return nullptr;
    }
    return impl;
}

}  // namespace

Client* Client::live_part(std::string_view name, bool topic) const {
    for (auto* part : live_parts()) {
        const auto& view = part->impl_->view;
        if ((topic ? view.find_topic(name) : view.find_queue(name)) != layout::no_queue) return part;
    }
    return nullptr;
}

// Where a superseded queue's or topic's successor is (Queue::successor,
// Topic::successor): only a generation above this part's, so that a
// scribbled mark cannot make a loop, and among the live segments of the
// segment that lists this part, if it is a live one itself.
Client* Client::live_segment(std::uint32_t generation) const {
    if (generation <= impl_->live_generation) return nullptr;
    const Client* lister = impl_->main != nullptr ? impl_->main : this;
    for (auto* part : lister->live_parts()) {
        if (part->impl_->live_generation == generation) return part;
    }
    return nullptr;
}

// Joins, first, every live segment this part's segment (the main one, or a
// group's) lists that this process has not joined yet.
std::vector<Client*> Client::live_parts() const {
    std::lock_guard<std::mutex> lock(impl_->live_mutex);
    auto& live = impl_->live;
    for (const auto generation : read_live_generations(impl_->view.root().live)) {
        const bool known = std::any_of(live.begin(), live.end(),
                                       [&](const Impl::LivePart& part) { return part.generation == generation; });
        if (known) continue;
        auto joined = open_live_segment(*impl_, generation);
        if (!joined) continue;
        joined->main = this;
        joined->live_generation = generation;
        Impl::LivePart part;
        part.generation = generation;
        part.client.reset(new Client(std::move(joined)));
        live.push_back(std::move(part));
    }
    // Filled in place, not by push_back(Client*&&): that instantiates
    // vector::emplace_back<Client*>, whose name begins "shmq::Client*&" and
    // so is exported by libshmq.map's shmq::* in an unoptimised build.
    std::vector<Client*> parts(live.size());
    std::transform(live.begin(), live.end(), parts.begin(),
                   [](const Impl::LivePart& part) { return part.client.get(); });
    return parts;
}

}  // namespace shmq
