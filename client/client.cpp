#include "shmq/client.hpp"

#include <cstdlib>
#include <cstring>
#include <thread>

#include "client/broker_trust.hpp"
#include "client_impl.hpp"
#include "common/client_registry.hpp"
#include "common/monotonic_clock.hpp"
#include "common/names.hpp"
#include "common/process_identity.hpp"
#include "common/quarantine_reason.hpp"
#include "common/layout.hpp"
#include "platform/process.hpp"
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

namespace {

// The part of attaching that is the same for the main segment and an access
// group's: wait for the broker to mark it ready, validate it, read the
// restricted queues it lists, take a client record. `why` says what failed.
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
    const Status claimed = claim_client_record(impl.view, program, impl.stamp);
    if (claimed == Status::too_many_clients) why = full_table(impl.view);
    if (claimed != Status::ok && claimed != Status::too_many_clients) why = describe(claimed);
    return claimed;
}

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
    const std::string program = options.program.empty() ? platform::current_program_name() : options.program;
    const Status joined = join_segment(*impl, program, why);
    if (joined != Status::ok) return fail(error, joined, segment_label + ": " + why);
    // A group this process is not in costs it only the queues of that group.
    for (const auto& group : impl->access.groups) {
        Impl::AccessPart part;
        part.group = group;
        auto joined_part = open_access_segment(*impl, group, program, part);
        if (joined_part) part.client.reset(new Client(std::move(joined_part)));
        impl->parts.push_back(std::move(part));
    }
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

// A restricted queue or topic is opened in its group's segment, or refused
// with the reason that segment could not be joined (permission_denied for a
// process outside the group).
Client* Client::restricted_part(std::string_view name, bool topic, Status& refused) const {
    const auto* entry = impl_->access.find(name, topic);
    if (entry == nullptr) {
        refused = topic ? Status::topic_not_found : Status::queue_not_found;
        return nullptr;
    }
    const auto& part = impl_->parts[entry->group];
    refused = part.status;
    return part.client.get();
}

std::string Client::access_error(std::string_view name) const {
    for (const bool topic : {false, true}) {
        const auto* entry = impl_->access.find(name, topic);
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
    queue = Queue(this, index);
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
    topic = Topic(this, index);
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
    // The role first: should the client detach with the subscription still
    // active, its destructor looks for it by this mark.
    mark_role(view.topic_role(impl_->stamp.client_index, index), layout::role_consumer);
    SubscriberHandle handle;
    const Status status = view.topic(index).subscribe(impl_->stamp, options.from_history, handle);
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
    for (const auto& part : impl_->parts) {
        if (!part.client) continue;
        const auto more = part.client->topic_names();
        names.insert(names.end(), more.begin(), more.end());
    }
    return names;
}

std::vector<std::string> Client::queue_names() const {
    std::vector<std::string> names;
    for (std::uint32_t index = 0; index < impl_->view.queue_count(); ++index) {
        if (impl_->view.queue_usable(index)) names.push_back(impl_->view.queue_name(index));
    }
    for (const auto& part : impl_->parts) {
        if (!part.client) continue;
        const auto more = part.client->queue_names();
        names.insert(names.end(), more.begin(), more.end());
    }
    return names;
}

namespace {

const char* overflow_name(std::uint8_t overflow) {
    static const char* const names[] = {"block", "reject", "drop_oldest"};
    return overflow < 3 ? names[overflow] : "unknown";
}

const char* delivery_name(std::uint8_t delivery) {
    static const char* const names[] = {"at_most_once", "at_least_once"};
    return delivery < 2 ? names[delivery] : "unknown";
}

QueueStats stats_of_queue(const SegmentView& view, std::uint32_t index) {
    QueueStats stats;
    const auto& ring = view.ring(index);
    const auto& geometry = ring.geometry();
    auto& control = ring.control();
    stats.name = view.queue_name(index);
    stats.capacity = geometry.capacity;
    stats.max_message_size = geometry.max_message_size;
    stats.overflow = overflow_name(geometry.overflow);
    stats.delivery = delivery_name(geometry.delivery);
    const auto quarantine = control.quarantined.load(std::memory_order_relaxed);
    stats.quarantined = quarantine != 0;
    if (stats.quarantined) stats.quarantine_reason = quarantine_reason_name(quarantine);
    const auto head = control.head.load(std::memory_order_acquire);
    const auto tail = control.tail.load(std::memory_order_acquire);
    stats.depth = (tail > head ? tail - head : 0) + control.redeliver_pending.load(std::memory_order_relaxed);
    stats.abandoned = control.abandoned.load(std::memory_order_relaxed);
    stats.dropped = control.dropped.load(std::memory_order_relaxed);
    stats.enqueued = tail - stats.abandoned;
    stats.dequeued = head > stats.abandoned + stats.dropped ? head - stats.abandoned - stats.dropped : 0;
    stats.rejected = control.rejected.load(std::memory_order_relaxed);
    stats.lost_in_read = control.lost_in_read.load(std::memory_order_relaxed);
    stats.redelivered = control.redelivered.load(std::memory_order_relaxed);
    stats.dead_lettered = control.dead_lettered.load(std::memory_order_relaxed);
    for (std::uint32_t client = 0; client < view.client_capacity(); ++client) {
        const auto word = view.client(client).word.load(std::memory_order_acquire);
        if (layout::ClientWord::state(word) != layout::ClientState::active) continue;
        const auto role = view.role(client, index).load(std::memory_order_relaxed);
        if (role & layout::role_producer) ++stats.producers;
        if (role & layout::role_consumer) ++stats.consumers;
    }
    return stats;
}

const char* slow_subscriber_name(std::uint8_t policy) {
    static const char* const names[] = {"block", "drop"};
    return policy < 2 ? names[policy] : "unknown";
}

TopicStats stats_of_topic(const SegmentView& view, std::uint32_t index) {
    TopicStats stats;
    const auto& ring = view.topic(index);
    const auto& geometry = ring.geometry();
    auto& control = ring.control();
    stats.name = view.topic_name(index);
    stats.capacity = geometry.capacity;
    stats.max_message_size = geometry.max_message_size;
    stats.history = geometry.history;
    stats.max_subscribers = geometry.max_subscribers;
    stats.slow_subscriber = slow_subscriber_name(geometry.slow_subscriber);
    const auto quarantine = control.quarantined.load(std::memory_order_relaxed);
    stats.quarantined = quarantine != 0;
    if (stats.quarantined) stats.quarantine_reason = quarantine_reason_name(quarantine);
    stats.abandoned = control.abandoned.load(std::memory_order_relaxed);
    const auto tail = control.tail.load(std::memory_order_acquire);
    stats.published = tail > stats.abandoned ? tail - stats.abandoned : 0;
    stats.dropped = control.dropped.load(std::memory_order_relaxed);
    stats.subscriptions = control.subscriptions.load(std::memory_order_relaxed);
    for (std::uint32_t client = 0; client < view.client_capacity(); ++client) {
        const auto word = view.client(client).word.load(std::memory_order_acquire);
        if (layout::ClientWord::state(word) != layout::ClientState::active) continue;
        if (view.topic_role(client, index).load(std::memory_order_relaxed) & layout::role_producer) ++stats.publishers;
    }
    for (std::uint32_t record = 0; record < geometry.max_subscribers; ++record) {
        const auto owner = ring.subscriber_owner(record);
        if (owner.is_none()) continue;
        const auto counters = ring.counters(record);
        SubscriberStats subscriber;
        subscriber.record = record;
        subscriber.client_record = owner.client_index;
        if (owner.client_index < view.client_capacity()) {
            const auto& client = view.client(owner.client_index);
            const auto word = client.word.load(std::memory_order_acquire);
            if (layout::ClientWord::generation(word) == owner.generation) {
                subscriber.pid = layout::ClientWord::pid(word);
                subscriber.program.assign(client.program, strnlen(client.program, sizeof client.program));
            }
        }
        // The cursor was read after tail: a message published in between
        // must not make the lag negative.
        subscriber.lag = tail > counters.cursor ? tail - counters.cursor : 0;
        subscriber.received = counters.received;
        subscriber.lost = counters.lost;
        subscriber.views = counters.views;
        stats.subscribers.push_back(std::move(subscriber));
    }
    return stats;
}

}  // namespace

BrokerStats Client::stats() const {
    const auto& view = impl_->view;
    BrokerStats stats;
    stats.broker = impl_->broker_name;
    stats.broker_pid = view.root().broker.pid;
    stats.broker_alive = is_alive(view.root().broker);
    stats.broker_epoch = view.root().broker_epoch.load(std::memory_order_relaxed);
    stats.segment_size = view.root().segment_size;
    for (std::uint32_t index = 0; index < view.queue_count(); ++index) {
        if (view.queue_usable(index)) stats.queues.push_back(stats_of_queue(view, index));
    }
    for (std::uint32_t index = 0; index < view.topic_count(); ++index) {
        if (view.topic_usable(index)) stats.topics.push_back(stats_of_topic(view, index));
    }
    const auto now = monotonic_now_ns();
    const auto broker_record = view.root().broker_record.load(std::memory_order_relaxed);
    for (std::uint32_t index = 0; index < view.client_capacity(); ++index) {
        if (index == broker_record) continue;  // the broker's own record is not a client
        auto& record = view.client(index);
        const auto word = record.word.load(std::memory_order_acquire);
        if (layout::ClientWord::state(word) != layout::ClientState::active) continue;
        ClientInfo info;
        info.record = index;
        info.pid = layout::ClientWord::pid(word);
        info.program.assign(record.program, strnlen(record.program, sizeof record.program));
        const auto attached = record.attached_at_ns.load(std::memory_order_relaxed);
        info.attached_ms = now > attached ? (now - attached) / 1'000'000 : 0;
        stats.clients.push_back(std::move(info));
    }
    add_restricted_stats(stats);
    return stats;
}

// Every client attaches to the main segment, so its client table lists them
// all; a group's segment adds only its queues and topics. Those of a group
// this process may not open are listed as such, with nothing else known.
void Client::add_restricted_stats(BrokerStats& stats) const {
    std::vector<BrokerStats> parts;
    for (const auto& part : impl_->parts) parts.push_back(part.client ? part.client->stats() : BrokerStats{});
    for (const auto& entry : impl_->access.entries) {
        const auto& part = impl_->parts[entry.group];
        const auto& found = parts[entry.group];
        if (entry.topic) {
            TopicStats topic;
            for (const auto& candidate : found.topics) {
                if (candidate.name == entry.name) topic = candidate;
            }
            topic.name = entry.name;
            topic.access_group = part.group;
            topic.accessible = part.client != nullptr;
            topic.read_only = part.client && part.client->impl_->read_only;
            stats.topics.push_back(std::move(topic));
        } else {
            QueueStats queue;
            for (const auto& candidate : found.queues) {
                if (candidate.name == entry.name) queue = candidate;
            }
            queue.name = entry.name;
            queue.access_group = part.group;
            queue.accessible = part.client != nullptr;
            queue.read_only = part.client && part.client->impl_->read_only;
            stats.queues.push_back(std::move(queue));
        }
    }
}

}  // namespace shmq
