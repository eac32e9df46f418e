#include "common/broker_stats.hpp"

#include <cstring>

#include "common/layout.hpp"
#include "common/monotonic_clock.hpp"
#include "common/process_identity.hpp"
#include "common/quarantine_reason.hpp"

namespace shmq {

namespace {

const char* overflow_name(std::uint8_t overflow) {
    static const char* const names[] = {"block", "reject", "drop_oldest"};
    return overflow < 3 ? names[overflow] : "unknown";
}

const char* delivery_name(std::uint8_t delivery) {
    static const char* const names[] = {"at_most_once", "at_least_once"};
    return delivery < 2 ? names[delivery] : "unknown";
}

// The pid of the client a lease word names, read once and trusted only as
// far as the client table this process validated says: 0 when it names no
// active tenant.
std::int32_t lease_holder_pid(const SegmentView& view, std::uint64_t lease) {
    if (lease == 0 || layout::lease_client_index(lease) >= view.client_capacity()) return 0;
    const auto word = view.client(layout::lease_client_index(lease)).word.load(std::memory_order_acquire);
    if (layout::ClientWord::state(word) != layout::ClientState::active ||
        layout::ClientWord::generation(word) != layout::lease_generation(lease)) {
        return 0;
    }
    return layout::ClientWord::pid(word);
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
    if (geometry.single_producer()) {
        stats.producers_sharing = "single";
        stats.producer_lease_pid = lease_holder_pid(view, control.producer_lease.load(std::memory_order_acquire));
    }
    if (geometry.single_consumer()) {
        stats.consumers_sharing = "single";
        stats.consumer_lease_pid = lease_holder_pid(view, control.consumer_lease.load(std::memory_order_acquire));
    }
    const auto quarantine = control.quarantined.load(std::memory_order_relaxed);
    stats.quarantined = quarantine != 0;
    if (stats.quarantined) stats.quarantine_reason = quarantine_reason_name(quarantine);
    stats.removed = control.retired.load(std::memory_order_relaxed) != 0;
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
    stats.removed = control.retired.load(std::memory_order_relaxed) != 0;
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

BrokerStats gather_stats(const SegmentView& view, const std::string& broker_name) {
    BrokerStats stats;
    stats.broker = broker_name;
    stats.broker_pid = view.root().broker.pid;
    stats.broker_alive = is_alive(view.root().broker);
    stats.broker_epoch = view.root().broker_epoch.load(std::memory_order_relaxed);
    stats.segment_size = view.root().segment_size;
    const auto now = monotonic_now_ns();
    const auto started = view.root().broker_started_ns.load(std::memory_order_relaxed);
    if (stats.broker_alive && now > started) stats.uptime_ms = (now - started) / 1'000'000;
    stats.reclaimed_clients = view.root().reclaimed_clients.load(std::memory_order_relaxed);
    for (std::uint32_t index = 0; index < view.queue_count(); ++index) {
        if (view.queue_usable(index)) stats.queues.push_back(stats_of_queue(view, index));
    }
    for (std::uint32_t index = 0; index < view.topic_count(); ++index) {
        if (view.topic_usable(index)) stats.topics.push_back(stats_of_topic(view, index));
    }
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
    return stats;
}


}  // namespace shmq
