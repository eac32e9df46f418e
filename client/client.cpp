#include "shmq/client.hpp"

#include <cstdlib>
#include <cstring>
#include <thread>
#include <type_traits>

#include "client/broker_trust.hpp"
#include "client_impl.hpp"
#include "common/broker_stats.hpp"
#include "common/client_registry.hpp"
#include "common/monotonic_clock.hpp"
#include "common/names.hpp"
#include "common/process_identity.hpp"
#include "common/quarantine_reason.hpp"
#include "common/layout.hpp"
#include "platform/process.hpp"
#include "platform/store_visibility.hpp"
#include "platform/user_identity.hpp"

namespace shmq {

std::string default_broker_name() {
    const char* from_environment = std::getenv("SHMQ_BROKER");
    return from_environment != nullptr && *from_environment != '\0' ? from_environment : "shmq";
}

std::string broker_name_problem(std::string_view broker) { return broker_problem(broker); }

std::uint32_t segment_layout_version() { return layout::version; }

namespace {

Status fail(std::string* error, Status status, const std::string& message) {
    if (error != nullptr) *error = message;
    return status;
}

Status status_of_open_error(platform::FileError error) {
    switch (error) {
    case platform::FileError::not_found: return Status::broker_not_found;
    case platform::FileError::permission_denied: return Status::permission_denied;
    default: return Status::corrupt_segment;  // something is there, but not a segment this client can use
    }
}

// Raising max_clients is the cure only when the table is full of live
// clients: dead ones await the broker's reclaim, which a running broker does
// within a tick.
std::string full_table(const SegmentView& view) {
    const auto dead = count_dead_client_records(view);
    if (dead == 0) return describe(Status::too_many_clients);
    return "the broker's client table is full, and " + std::to_string(dead) + " of its " +
           std::to_string(view.client_capacity()) +
           " records belong to processes that have died and await reclaim by the broker; a running broker "
           "reclaims them within its liveness interval, so check that shmqd is running and not stopped";
}

}  // namespace

// The part of attaching that is the same for the main segment, an access
// group's and a live one: wait for the broker to mark it ready, validate it,
// read the restricted queues it lists, take a client record.
Status join_segment(Client::Impl& impl, const std::string& program, std::string& why) {
    // The file appears under its name only once the broker has built it; a
    // broker that has not yet marked it ready gets a moment to do so, and so
    // does one repairing a root that another process zeroed.
    auto& root = *impl.segment->root();
    const auto patience = Deadline::after(std::chrono::seconds(2));
    while ((root.magic == 0 || (root.magic == layout::magic && root.state.load(std::memory_order_acquire) ==
                                                                    static_cast<std::uint32_t>(layout::BrokerState::initializing))) &&
           !patience.expired()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const Status valid =
        SegmentView::validate(impl.segment->base(), impl.segment->size(), impl.view, why, !impl.read_only);
    if (valid != Status::ok) return valid;
    if (!impl.view.broker_ready()) {
        why = describe(Status::broker_stopped);
        return Status::broker_stopped;
    }
    if (!read_access_listing(impl.view.access_table(), impl.access, why)) return Status::corrupt_segment;
    // A reader holds nothing in the segment, so the broker has nothing to
    // reclaim should it die: its record in the main segment is enough.
    if (impl.read_only) return Status::ok;
    // The lease holder of a single side then needs no fence on its path
    // (QueueRing::stores_own_tail).
    if (platform::let_waiters_fence_for_this_process()) impl.view.let_waiters_fence_for_this_process();
    const Status claimed = claim_client_record(impl.view, program, impl.stamp);
    if (claimed == Status::too_many_clients) why = full_table(impl.view);
    if (claimed != Status::ok && claimed != Status::too_many_clients) why = describe(claimed);
    return claimed;
}

namespace {

// Maps group `group`'s segment, beside the main one, and joins it. Its file
// is checked as the main one is, and must belong to the main segment's owner:
// the main segment's list only says which name to try, never whom to trust.
std::unique_ptr<Client::Impl> open_access_segment(const Client::Impl& main, const std::string& group,
                                                  const std::string& program, Client::Impl::AccessPart& part) {
    auto impl = std::make_unique<Client::Impl>();
    impl->options = main.options;
    impl->broker_name = main.broker_name;
    const std::string path = access_segment_path(main.segment->path(), group);
    std::string why;
    auto opened = SegmentMapping::open_path(path, main.segment->file_backed(), impl->segment, why);
    if (opened == platform::FileError::permission_denied) {
        // The group's readers may open it for reading only (an ACL entry).
        std::string read_why;
        if (SegmentMapping::open_path(path, main.segment->file_backed(), impl->segment, read_why,
                                      platform::Mapping::read_only) == platform::FileError::none) {
            opened = platform::FileError::none;
            impl->read_only = true;
        }
    }
    if (opened != platform::FileError::none) {
        part.status = status_of_open_error(opened);
        part.why = "segment '" + path + "': " + why +
                   (opened == platform::FileError::permission_denied
                        ? " (only members of group '" + group + "' may open it)"
                        : "");
        return nullptr;
    }
    if (impl->segment->owner() != main.segment->owner()) {
        part.status = Status::untrusted_segment;
        part.why = "segment '" + path + "' belongs to " + platform::describe_user(impl->segment->owner()) +
                   ", not to the owner of the broker's main segment, " +
                   platform::describe_user(main.segment->owner());
        return nullptr;
    }
    part.status = join_segment(*impl, program, why);
    if (part.status == Status::ok && !impl->access.empty()) {
        release_client_record(impl->view, impl->stamp);
        part.status = Status::corrupt_segment;
        why = "an access group's segment lists restricted queues of its own";
    }
    if (part.status != Status::ok) {
        part.why = "segment '" + path + "': " + why;
        return nullptr;
    }
    if (impl->read_only) {
        part.why = "this user may only read segment '" + path + "' (a reader of group '" + group +
                   "'), so it sees the figures of the group's queues and topics but may not send or receive";
    }
    return impl;
}

}  // namespace

std::string Client::Impl::program() const {
    return options.program.empty() ? platform::current_program_name() : options.program;
}

// A group this process is not in costs it only the queues of that group.
void Client::Impl::join_access_parts(const std::string& program) {
    for (auto index = joined_parts(); index < access.groups.size(); ++index) {
        auto& part = parts[index];
        part.group = access.groups[index];
        auto joined = open_access_segment(*this, part.group, program, part);
        if (joined) part.client.reset(new Client(std::move(joined)));
        part_count.store(index + 1, std::memory_order_release);
    }
}

Status Client::attach(const AttachOptions& options, std::unique_ptr<Client>& client, std::string* error) {
    auto impl = std::make_unique<Impl>();
    impl->options = options;
    impl->broker_name = options.broker.empty() ? default_broker_name() : options.broker;
    // Checked before any system call sees it: a name the broker could never
    // have would otherwise come back as a misleading open error.
    const std::string bad_name = broker_problem(impl->broker_name);
    if (!bad_name.empty()) return fail(error, Status::invalid_argument, bad_name);
    std::string why;
    const auto opened = SegmentMapping::open(impl->broker_name, impl->segment, why);
    if (opened != platform::FileError::none) {
        const Status status = status_of_open_error(opened);
        return fail(error, status, "broker '" + impl->broker_name + "': " + describe(status) + " (" + why + ")");
    }
    const std::string segment_label = "broker segment '" + impl->segment->path() + "'";
    const Status trusted = check_broker_owner(options.broker_owner, impl->segment->owner(), why);
    if (trusted != Status::ok) return fail(error, trusted, segment_label + ": " + why);
    const std::string program = impl->program();
    const Status joined = join_segment(*impl, program, why);
    if (joined != Status::ok) return fail(error, joined, segment_label + ": " + why);
    impl->join_access_parts(program);
    client.reset(new Client(std::move(impl)));
    return Status::ok;
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

// Detaching hands back any at_least_once delivery still unacknowledged, so it
// is redelivered at once rather than after its ack timeout.
Client::~Client() {
    if (impl_->read_only) return;  // it took nothing, and may write nothing
    auto& view = impl_->view;
    for (std::uint32_t index = 0; index < view.queue_count(); ++index) {
        if (!view.queue_usable(index)) continue;
        auto& ring = view.ring(index);
        ring.release_leases(impl_->stamp);
        const bool consumed = (view.role(impl_->stamp.client_index, index).load(std::memory_order_relaxed) &
                               layout::role_consumer) != 0;
        if (!consumed || ring.geometry().delivery != layout::delivery_at_least_once) continue;
        ReclaimCounts released;
        ring.reclaim(impl_->stamp, released);
    }
    // Subscriptions, views and loans should end before their Client; any
    // left would name a client record that is about to be freed, where the
    // broker's reaper could never find them, and would hold publishers up for
    // ever. End them as the reaper would.
    for (std::uint32_t index = 0; index < view.topic_count(); ++index) {
        if (!view.topic_usable(index) ||
            view.topic_role(impl_->stamp.client_index, index).load(std::memory_order_relaxed) == 0) {
            continue;
        }
        TopicReclaimCounts released;
        view.topic(index).reclaim(impl_->stamp, released);
    }
    release_client_record(view, impl_->stamp);
}

const std::string& Client::broker_name() const { return impl_->broker_name; }

namespace {

// The restricted names this process knows, copied under the lock: those the
// main segment listed at attach and, with `reread`, those a reload appended
// to its table since. The table is read again as at attach (a checked copy:
// no count, index or name is trusted) and kept only if it extends what was
// known: the groups known keep their index, and so their part, and the
// segment of each group appended is joined before any name of it is known.
AccessListing known_access(Client::Impl& impl, bool reread) {
    const std::lock_guard<std::mutex> lock(impl.access_mutex);
    AccessListing now;
    AccessListing grown;
    std::string why;
    if (reread && read_access_listing(impl.view.access_table(), now, why) && extend_listing(impl.access, now, grown)) {
        impl.access = std::move(grown);
        impl.join_access_parts(impl.program());
    }
    return impl.access;
}

}  // namespace

// A restricted queue or topic is opened in its group's segment, or refused
// with the reason that segment could not be joined (permission_denied for a
// process outside the group). A name neither the main segment nor the
// access groups hold may be in a segment a reload added since this process
// attached: an open one in a live segment of the main one, a restricted one
// in its group's (the main segment's table lists it then, and the group's
// part finds it in its own live segments).
Client* Client::restricted_part(std::string_view name, bool topic, Status& refused) const {
    auto listing = known_access(*impl_, false);
    auto entry = listing.find(name, topic);
    if (entry == nullptr) {
        if (Client* live = live_part(name, topic)) {
            refused = Status::ok;
            return live;
        }
        listing = known_access(*impl_, true);
        entry = listing.find(name, topic);
    }
    if (entry == nullptr) {
        refused = topic ? Status::topic_not_found : Status::queue_not_found;
        return nullptr;
    }
    const auto& part = impl_->parts[entry->group];
    refused = part.status;
    return part.client.get();
}

std::string Client::access_error(std::string_view name) const {
    const auto listing = known_access(*impl_, true);
    for (const bool topic : {false, true}) {
        const auto* entry = listing.find(name, topic);
        if (entry == nullptr) continue;
        const auto& part = impl_->parts[entry->group];
        if (part.client && !part.client->impl_->read_only) return {};
        const Status status = part.client ? Status::permission_denied : part.status;
        return std::string(topic ? "topic '" : "queue '") + std::string(name) + "' is restricted to group '" +
               part.group + "': " + describe(status) + ": " + part.why;
    }
    return {};
}

Status Client::open_queue(std::string_view name, Queue& queue) {
    if (impl_->read_only) return Status::permission_denied;
    const auto index = impl_->view.find_queue(name);
    if (index == layout::no_queue) {
        Status refused = Status::queue_not_found;
        Client* part = restricted_part(name, false, refused);
        return part != nullptr ? part->open_queue(name, queue) : refused;
    }
    if (!impl_->view.queue_usable(index) ||
        impl_->view.ring(index).control().quarantined.load(std::memory_order_acquire) != 0) {
        return Status::queue_quarantined;
    }
    const Queue found(this, index);
    if (!impl_->view.ring(index).is_retired()) {
        queue = found;
        return Status::ok;
    }
    // Superseded (a reload changed its settings): a handle on it drains it
    // first, or, once nothing is left to drain, on its successor at once.
    const Queue next = found.successor();
    if (!next.is_open()) return Status::queue_removed;
    queue = impl_->view.ring(index).drained_after_retirement() ? next : found;
    return Status::ok;
}

Status Client::open_topic(std::string_view name, Topic& topic) {
    if (impl_->read_only) return Status::permission_denied;
    const auto index = impl_->view.find_topic(name);
    if (index == layout::no_queue) {
        Status refused = Status::topic_not_found;
        Client* part = restricted_part(name, true, refused);
        return part != nullptr ? part->open_topic(name, topic) : refused;
    }
    if (!impl_->view.topic_usable(index) || impl_->view.topic(index).quarantined()) return Status::queue_quarantined;
    const Topic found(this, index);
    if (!impl_->view.topic(index).retired()) {
        topic = found;
        return Status::ok;
    }
    // Superseded (a reload changed its settings): publishers have nothing to
    // drain, so the handle is on its successor.
    const Topic next = found.successor();
    if (!next.is_open()) return Status::queue_removed;
    topic = next;
    return Status::ok;
}

Status Client::subscribe(std::string_view name, Subscription& subscription) {
    return subscribe(name, subscription, SubscribeOptions{});
}

Status Client::subscribe(std::string_view name, Subscription& subscription, const SubscribeOptions& options) {
    subscription.unsubscribe();
    if (impl_->read_only) return Status::permission_denied;
    auto& view = impl_->view;
    if (view.broker_stopping()) return Status::broker_stopped;
    const auto index = view.find_topic(name);
    if (index == layout::no_queue) {
        Status refused = Status::topic_not_found;
        Client* part = restricted_part(name, true, refused);
        return part != nullptr ? part->subscribe(name, subscription, options) : refused;
    }
    if (!view.topic_usable(index)) return Status::queue_quarantined;
    // Superseded (a reload changed its settings): what the old ring holds
    // came before the subscription, so it subscribes to the successor, whose
    // history is all it may ask for.
    const auto on_successor = [&] {
        const Topic next = Topic(this, index).successor();
        return next.is_open() ? next.client_->subscribe(name, subscription, options) : Status::queue_removed;
    };
    if (view.topic(index).retired()) return on_successor();
    // The role first: should the client detach with the subscription still
    // active, its destructor looks for it by this mark.
    mark_role(view.topic_role(impl_->stamp.client_index, index), layout::role_consumer);
    SubscriberHandle handle;
    const Status status = view.topic(index).subscribe(impl_->stamp, options.from_history, handle);
    if (status == Status::queue_removed) return on_successor();
    if (status != Status::ok) return status;
    subscription.client_ = this;
    subscription.topic_ = index;
    subscription.subscriber_ = handle.index;
    subscription.subscriber_word_ = handle.word;
    return Status::ok;
}

std::vector<std::string> Client::topic_names() const {
    std::vector<std::string> names;
    for (std::uint32_t index = 0; index < impl_->view.topic_count(); ++index) {
        if (impl_->view.topic_usable(index)) names.push_back(impl_->view.topic_name(index));
    }
    for (std::uint32_t index = 0; index < impl_->joined_parts(); ++index) {
        const auto& part = impl_->parts[index];
        if (!part.client) continue;
        const auto more = part.client->topic_names();
        names.insert(names.end(), more.begin(), more.end());
    }
    for (const auto* part : live_parts()) {
        const auto more = part->topic_names();
        names.insert(names.end(), more.begin(), more.end());
    }
    return names;
}

std::vector<std::string> Client::queue_names() const {
    std::vector<std::string> names;
    for (std::uint32_t index = 0; index < impl_->view.queue_count(); ++index) {
        if (impl_->view.queue_usable(index)) names.push_back(impl_->view.queue_name(index));
    }
    for (std::uint32_t index = 0; index < impl_->joined_parts(); ++index) {
        const auto& part = impl_->parts[index];
        if (!part.client) continue;
        const auto more = part.client->queue_names();
        names.insert(names.end(), more.begin(), more.end());
    }
    for (const auto* part : live_parts()) {
        const auto more = part->queue_names();
        names.insert(names.end(), more.begin(), more.end());
    }
    return names;
}

BrokerStats Client::stats() const {
    auto stats = gather_stats(impl_->view, impl_->broker_name);
    add_restricted_stats(stats);
    // A live segment's clients are the main segment's, listed already.
    for (const auto* part : live_parts()) {
        auto more = part->stats();
        for (auto& queue : more.queues) stats.queues.push_back(std::move(queue));
        for (auto& topic : more.topics) stats.topics.push_back(std::move(topic));
    }
    return stats;
}

// Every client attaches to the main segment, so its client table lists them
// all; a group's segment adds only its queues and topics. Those of a group
// this process may not open are listed as such, with nothing else known.
void Client::add_restricted_stats(BrokerStats& stats) const {
    // The listing first: it joins the parts of the groups it names.
    const auto listing = known_access(*impl_, true);
    std::vector<BrokerStats> parts;
    for (std::uint32_t index = 0; index < impl_->joined_parts(); ++index) {
        const auto& part = impl_->parts[index];
        parts.push_back(part.client ? part.client->stats() : BrokerStats{});
    }
    // Every ring of the name the group's segments hold (one a reload
    // superseded, beside its successor, as for an open queue), or the name
    // alone where this process may not open the group's segment.
    const auto add = [](const auto& candidates, auto& into, const Impl::AccessPart& part, const std::string& name) {
        std::decay_t<decltype(into)> rings;
        for (const auto& candidate : candidates) {
            if (candidate.name == name) rings.push_back(candidate);
        }
        if (rings.empty()) rings.resize(1);
        for (auto& ring : rings) {
            ring.name = name;
            ring.access_group = part.group;
            ring.accessible = part.client != nullptr;
            ring.read_only = part.client && part.client->impl_->read_only;
            into.push_back(std::move(ring));
        }
    };
    for (const auto& entry : listing.entries) {
        const auto& part = impl_->parts[entry.group];
        if (entry.topic) {
            add(parts[entry.group].topics, stats.topics, part, entry.name);
        } else {
            add(parts[entry.group].queues, stats.queues, part, entry.name);
        }
    }
}

}  // namespace shmq
