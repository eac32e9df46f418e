// The segments reloads added to a running broker (NAME.live-GENERATION, listed
// in the main segment's LiveTable): a client attached before a reload finds
// the new queues and topics there without attaching again.
#include <algorithm>

#include "client_impl.hpp"
#include "common/client_registry.hpp"
#include "common/live_table.hpp"
#include "platform/process.hpp"
#include "shmq/client.hpp"

namespace shmq {

namespace {

// Maps and joins live segment `generation`. Its file is checked as the main
// one is and must belong to the main segment's owner: the table only says
// which name to try, never whom to trust. Null when it cannot be joined now
// (the next look tries again).
std::unique_ptr<Client::Impl> open_live_segment(const Client::Impl& main, std::uint32_t generation) {
    auto impl = std::make_unique<Client::Impl>();
    impl->options = main.options;
    impl->broker_name = main.broker_name;
    const std::string path = live_segment_path(main.segment->path(), generation);
    std::string why;
    if (SegmentMapping::open_path(path, main.segment->file_backed(), impl->segment, why) != platform::FileError::none ||
        impl->segment->owner() != main.segment->owner()) {
        return nullptr;
    }
    const std::string program =
        main.options.program.empty() ? platform::current_program_name() : main.options.program;
    if (join_segment(*impl, program, why) != Status::ok) return nullptr;
    if (!impl->access.empty()) {
        // Restricted queues are never added live: such a segment is not the broker's.
        release_client_record(impl->view, impl->stamp);
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

Client* Client::live_segment(std::uint32_t generation) const {
    for (auto* part : live_parts()) {
        if (part->impl_->live_generation == generation) return part;
    }
    return nullptr;
}

// Joins, first, every segment the main segment lists that this process has
// not joined yet.
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
