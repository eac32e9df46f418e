// The C API (shmq/shmq.h) over the public C++ API only: each handle wraps the
// C++ object it names, and every entry point catches whatever C++ throws
// (std::bad_alloc above all) so that nothing unwinds into C or an FFI.
#include "shmq/shmq.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "shmq/client.hpp"

struct shmq_client {
    std::unique_ptr<shmq::Client> client;
};
struct shmq_queue {
    shmq::Queue queue;
};
struct shmq_topic {
    shmq::Topic topic;
};
struct shmq_loan {
    shmq::Loan loan;
};
struct shmq_subscription {
    shmq::Subscription subscription;
    std::uint32_t max_message_size = 0;
};
struct shmq_view {
    shmq::View view;
};
struct shmq_stats {
    shmq::BrokerStats stats;
};

namespace {

using shmq::Status;

// The C enumerators must stay equal to the C++ ones: the switch below has no
// default, so -Wswitch (an error under SHMQ_WERROR) names any C++ status
// added without a C twin, and each case checks the value matches.
#define SHMQ_SAME(cpp, c)                                                                       \
    case Status::cpp:                                                                           \
        static_assert(static_cast<int>(Status::cpp) == c, "shmq_status " #c " != Status::" #cpp); \
        return c
shmq_status to_c(Status status) {
    switch (status) {
        SHMQ_SAME(ok, SHMQ_OK);
        SHMQ_SAME(empty, SHMQ_EMPTY);
        SHMQ_SAME(queue_full, SHMQ_QUEUE_FULL);
        SHMQ_SAME(timeout, SHMQ_TIMEOUT);
        SHMQ_SAME(message_too_large, SHMQ_MESSAGE_TOO_LARGE);
        SHMQ_SAME(buffer_too_small, SHMQ_BUFFER_TOO_SMALL);
        SHMQ_SAME(queue_not_found, SHMQ_QUEUE_NOT_FOUND);
        SHMQ_SAME(broker_not_found, SHMQ_BROKER_NOT_FOUND);
        SHMQ_SAME(broker_stopped, SHMQ_BROKER_STOPPED);
        SHMQ_SAME(version_mismatch, SHMQ_VERSION_MISMATCH);
        SHMQ_SAME(permission_denied, SHMQ_PERMISSION_DENIED);
        SHMQ_SAME(too_many_clients, SHMQ_TOO_MANY_CLIENTS);
        SHMQ_SAME(corrupt_segment, SHMQ_CORRUPT_SEGMENT);
        SHMQ_SAME(queue_quarantined, SHMQ_QUEUE_QUARANTINED);
        SHMQ_SAME(invalid_argument, SHMQ_INVALID_ARGUMENT);
        SHMQ_SAME(not_acknowledgeable, SHMQ_NOT_ACKNOWLEDGEABLE);
        SHMQ_SAME(system_error, SHMQ_SYSTEM_ERROR);
        SHMQ_SAME(topic_not_found, SHMQ_TOPIC_NOT_FOUND);
        SHMQ_SAME(too_many_subscribers, SHMQ_TOO_MANY_SUBSCRIBERS);
        SHMQ_SAME(too_many_views, SHMQ_TOO_MANY_VIEWS);
        SHMQ_SAME(untrusted_segment, SHMQ_UNTRUSTED_SEGMENT);
        SHMQ_SAME(foreign_pid_namespace, SHMQ_FOREIGN_PID_NAMESPACE);
        SHMQ_SAME(segment_from_earlier_boot, SHMQ_SEGMENT_FROM_EARLIER_BOOT);
        SHMQ_SAME(client_reclaimed, SHMQ_CLIENT_RECLAIMED);
        SHMQ_SAME(queue_removed, SHMQ_QUEUE_REMOVED);
        SHMQ_SAME(exclusive_held, SHMQ_EXCLUSIVE_HELD);
    }
    return SHMQ_SYSTEM_ERROR;  // unreachable for a valid Status
}
#undef SHMQ_SAME

bool known(int status) { return status >= SHMQ_OK && status <= SHMQ_EXCLUSIVE_HELD; }

static_assert(static_cast<int>(shmq::WaitStrategy::block) == SHMQ_WAIT_BLOCK &&
                  static_cast<int>(shmq::WaitStrategy::spin_then_block) == SHMQ_WAIT_SPIN_THEN_BLOCK &&
                  static_cast<int>(shmq::WaitStrategy::busy_poll) == SHMQ_WAIT_BUSY_POLL,
              "shmq_wait_strategy must match shmq::WaitStrategy");

shmq::Timeout timeout_of(std::int64_t nanoseconds) {
    return nanoseconds < 0 ? shmq::wait_forever : shmq::Timeout(nanoseconds);
}

// Runs `body` (returning a Status) so that no exception leaves it.
template <typename Body>
shmq_status guarded(Body&& body) noexcept {
    try {
        return to_c(body());
    } catch (...) {
        return SHMQ_SYSTEM_ERROR;
    }
}

void copy_text(const std::string& text, char* out, std::size_t capacity) {
    if (out == nullptr || capacity == 0) return;
    const auto length = std::min(text.size(), capacity - 1);
    std::memcpy(out, text.data(), length);
    out[length] = '\0';
}

const char* or_empty(const char* text) { return text == nullptr ? "" : text; }

}  // namespace

extern "C" {

const char* shmq_version(void) { return SHMQ_VERSION; }

const char* shmq_status_name(int status) {
    return known(status) ? shmq::to_string(static_cast<Status>(status)) : "unknown status";
}

const char* shmq_status_text(int status) {
    return known(status) ? shmq::describe(static_cast<Status>(status)) : "unknown status";
}

void shmq_attach_options_init(shmq_attach_options* options) {
    if (options == nullptr) return;
    const shmq::AttachOptions defaults;
    *options = shmq_attach_options{};
    options->wait = static_cast<int>(defaults.wait);
    options->spin_us = defaults.spin.count();
}

shmq_status shmq_attach(const shmq_attach_options* options, shmq_client** client, char* error,
                        std::size_t error_capacity) {
    if (client == nullptr) return SHMQ_INVALID_ARGUMENT;
    const auto status = guarded([&] {
        shmq::AttachOptions cpp;
        if (options != nullptr) {
            if (options->wait < SHMQ_WAIT_BLOCK || options->wait > SHMQ_WAIT_BUSY_POLL || options->spin_us < 0) {
                copy_text("shmq_attach: wait must be a shmq_wait_strategy and spin_us not negative", error,
                          error_capacity);
                return Status::invalid_argument;
            }
            cpp.broker = or_empty(options->broker);
            cpp.broker_owner = or_empty(options->broker_owner);
            cpp.program = or_empty(options->program);
            cpp.wait = static_cast<shmq::WaitStrategy>(options->wait);
            cpp.spin = std::chrono::microseconds(options->spin_us);
        }
        auto handle = std::make_unique<shmq_client>();
        std::string why;
        const auto attached = shmq::Client::attach(cpp, handle->client, &why);
        if (attached != Status::ok) {
            copy_text(why.empty() ? shmq::describe(attached) : why, error, error_capacity);
            return attached;
        }
        *client = handle.release();
        return Status::ok;
    });
    if (status == SHMQ_SYSTEM_ERROR) copy_text("shmq_attach: out of memory or an unexpected failure", error, error_capacity);
    return status;
}

void shmq_detach(shmq_client* client) { delete client; }

const char* shmq_client_broker_name(const shmq_client* client) {
    return client == nullptr ? "" : client->client->broker_name().c_str();
}

shmq_status shmq_queue_open(shmq_client* client, const char* name, shmq_queue** queue) {
    if (client == nullptr || name == nullptr || queue == nullptr) return SHMQ_INVALID_ARGUMENT;
    return guarded([&] {
        auto handle = std::make_unique<shmq_queue>();
        const auto status = client->client->open_queue(name, handle->queue);
        if (status == Status::ok) *queue = handle.release();
        return status;
    });
}

void shmq_queue_close(shmq_queue* queue) { delete queue; }

const char* shmq_queue_name(const shmq_queue* queue) { return queue == nullptr ? "" : queue->queue.name().c_str(); }
std::uint32_t shmq_queue_max_message_size(const shmq_queue* queue) {
    return queue == nullptr ? 0 : queue->queue.max_message_size();
}
std::uint32_t shmq_queue_capacity(const shmq_queue* queue) { return queue == nullptr ? 0 : queue->queue.capacity(); }

shmq_status shmq_queue_send(shmq_queue* queue, const void* data, std::size_t size, std::int64_t timeout_ns) {
    if (queue == nullptr) return SHMQ_INVALID_ARGUMENT;
    return guarded([&] { return queue->queue.send(data, size, timeout_of(timeout_ns)); });
}

shmq_status shmq_queue_try_send(shmq_queue* queue, const void* data, std::size_t size) {
    return shmq_queue_send(queue, data, size, SHMQ_NO_WAIT);
}

shmq_status shmq_queue_receive(shmq_queue* queue, void* buffer, std::size_t capacity, std::size_t* size,
                               std::uint64_t* delivery, std::int64_t timeout_ns) {
    if (queue == nullptr || size == nullptr) return SHMQ_INVALID_ARGUMENT;
    return guarded([&] { return queue->queue.receive(buffer, capacity, *size, timeout_of(timeout_ns), delivery); });
}

shmq_status shmq_queue_try_receive(shmq_queue* queue, void* buffer, std::size_t capacity, std::size_t* size,
                                   std::uint64_t* delivery) {
    return shmq_queue_receive(queue, buffer, capacity, size, delivery, SHMQ_NO_WAIT);
}

shmq_status shmq_queue_acknowledge(shmq_queue* queue, std::uint64_t delivery) {
    if (queue == nullptr) return SHMQ_INVALID_ARGUMENT;
    return guarded([&] { return queue->queue.acknowledge(delivery); });
}

shmq_status shmq_queue_acknowledge_batch(shmq_queue* queue, const std::uint64_t* deliveries, std::size_t count,
                                         std::size_t* acknowledged) {
    if (acknowledged != nullptr) *acknowledged = 0;
    if (queue == nullptr || acknowledged == nullptr || (deliveries == nullptr && count != 0)) {
        return SHMQ_INVALID_ARGUMENT;
    }
    return guarded([&] { return queue->queue.acknowledge_batch(deliveries, count, *acknowledged); });
}

shmq_status shmq_queue_send_batch(shmq_queue* queue, const shmq_outgoing* messages, std::size_t count,
                                  std::size_t* sent, std::int64_t timeout_ns) {
    if (sent != nullptr) *sent = 0;
    if (queue == nullptr || sent == nullptr || (messages == nullptr && count != 0)) return SHMQ_INVALID_ARGUMENT;
    return guarded([&] {
        std::vector<shmq::OutgoingMessage> batch(count);
        for (std::size_t i = 0; i < count; ++i) batch[i] = {messages[i].data, messages[i].size};
        return queue->queue.send_batch(batch.data(), count, *sent, timeout_of(timeout_ns));
    });
}

shmq_status shmq_queue_receive_batch(shmq_queue* queue, shmq_incoming* messages, std::size_t count,
                                     std::size_t* received, std::int64_t timeout_ns) {
    if (received != nullptr) *received = 0;
    if (queue == nullptr || received == nullptr || (messages == nullptr && count != 0)) return SHMQ_INVALID_ARGUMENT;
    return guarded([&] {
        std::vector<shmq::IncomingMessage> batch(count);
        for (std::size_t i = 0; i < count; ++i) batch[i] = {messages[i].buffer, messages[i].capacity, 0, 0};
        const auto status = queue->queue.receive_batch(batch.data(), count, *received, timeout_of(timeout_ns));
        for (std::size_t i = 0; i < *received && i < count; ++i) {
            messages[i].size = batch[i].size;
            messages[i].delivery = batch[i].delivery;
        }
        return status;
    });
}

shmq_status shmq_queue_send_packed(shmq_queue* queue, const void* data, const std::size_t* sizes, std::size_t count,
                                   std::size_t* sent, std::int64_t timeout_ns) {
    if (sent != nullptr) *sent = 0;
    if (queue == nullptr || sent == nullptr || (count != 0 && (data == nullptr || sizes == nullptr))) {
        return SHMQ_INVALID_ARGUMENT;
    }
    return guarded([&] {
        std::vector<shmq::OutgoingMessage> batch(count);
        const auto* next = static_cast<const unsigned char*>(data);
        for (std::size_t i = 0; i < count; ++i) {
            batch[i] = {next, sizes[i]};
            next += sizes[i];
        }
        return queue->queue.send_batch(batch.data(), count, *sent, timeout_of(timeout_ns));
    });
}

shmq_status shmq_queue_send_packed_checked(shmq_queue* queue, const void* data, std::size_t data_size,
                                           const std::size_t* sizes, std::size_t count, std::size_t* sent,
                                           std::int64_t timeout_ns) {
    if (sent != nullptr) *sent = 0;
    if (count != 0 && sizes == nullptr) return SHMQ_INVALID_ARGUMENT;
    // Added up with a check at each step: sizes that wrap around to
    // data_size would have the send read past the end of data.
    std::size_t total = 0;
    for (std::size_t i = 0; i < count; ++i) {
        if (sizes[i] > data_size - total) return SHMQ_INVALID_ARGUMENT;
        total += sizes[i];
    }
    if (total != data_size) return SHMQ_INVALID_ARGUMENT;
    return shmq_queue_send_packed(queue, data, sizes, count, sent, timeout_ns);
}

namespace {

// shmq_queue_receive_packed when the buffer holds `count` messages of the
// largest size: the batch is taken at once (each message into a part of the
// buffer of its own, then packed down), so that the ring's batch path takes
// the messages first and copies them after, with one wake-up for all,
// rather than one whole receive per message.
Status receive_packed_in_one_batch(shmq_queue& queue, void* buffer, std::size_t* sizes, std::uint64_t* deliveries,
                                   std::size_t count, std::size_t& received, shmq::Timeout timeout) {
    const std::size_t largest = queue.queue.max_message_size();
    auto* base = static_cast<unsigned char*>(buffer);
    std::vector<shmq::IncomingMessage> batch(count);
    for (std::size_t i = 0; i < count; ++i) batch[i] = {base + i * largest, largest, 0, 0};
    const Status status = queue.queue.receive_batch(batch.data(), count, received, timeout);
    std::size_t packed = 0;
    for (std::size_t i = 0; i < received; ++i) {
        // Down, never up: message i starts at i * largest or later.
        if (batch[i].size > 0) std::memmove(base + packed, batch[i].buffer, batch[i].size);
        packed += batch[i].size;
        sizes[i] = batch[i].size;
        if (deliveries != nullptr) deliveries[i] = batch[i].delivery;
    }
    return status;
}

}  // namespace

shmq_status shmq_queue_receive_packed(shmq_queue* queue, void* buffer, std::size_t capacity, std::size_t* sizes,
                                      std::uint64_t* deliveries, std::size_t count, std::size_t* received,
                                      std::int64_t timeout_ns) {
    if (received != nullptr) *received = 0;
    if (queue == nullptr || received == nullptr || sizes == nullptr || count == 0 ||
        (buffer == nullptr && capacity != 0)) {
        return SHMQ_INVALID_ARGUMENT;
    }
    return guarded([&] {
        const std::size_t largest = queue->queue.max_message_size();
        if (largest != 0 && capacity / largest >= count) {
            return receive_packed_in_one_batch(*queue, buffer, sizes, deliveries, count, *received,
                                               timeout_of(timeout_ns));
        }
        // One message at a time, each into the rest of the buffer: where the
        // next one goes depends on the length of the one before. Only the
        // first waits; the others are taken while they are ready.
        auto* next = static_cast<unsigned char*>(buffer);
        std::size_t left = capacity;
        auto timeout = timeout_of(timeout_ns);
        while (*received < count) {
            std::uint64_t delivery = 0;
            const auto status = queue->queue.receive(next, left, sizes[*received], timeout, &delivery);
            if (status != Status::ok) return *received == 0 ? status : Status::ok;
            if (deliveries != nullptr) deliveries[*received] = delivery;
            next += sizes[*received];
            left -= sizes[*received];
            ++*received;
            timeout = shmq::no_wait;
        }
        return Status::ok;
    });
}

shmq_status shmq_queue_receive_packed_total(shmq_queue* queue, void* buffer, std::size_t capacity,
                                            std::size_t* sizes, std::uint64_t* deliveries, std::size_t count,
                                            std::size_t* received, std::size_t* total, std::int64_t timeout_ns) {
    if (total != nullptr) *total = 0;
    if (total == nullptr) {
        if (received != nullptr) *received = 0;
        return SHMQ_INVALID_ARGUMENT;
    }
    const auto status =
        shmq_queue_receive_packed(queue, buffer, capacity, sizes, deliveries, count, received, timeout_ns);
    if (received != nullptr) {
        for (std::size_t i = 0; i < *received; ++i) *total += sizes[i];
    }
    return status;
}

shmq_status shmq_topic_open(shmq_client* client, const char* name, shmq_topic** topic) {
    if (client == nullptr || name == nullptr || topic == nullptr) return SHMQ_INVALID_ARGUMENT;
    return guarded([&] {
        auto handle = std::make_unique<shmq_topic>();
        const auto status = client->client->open_topic(name, handle->topic);
        if (status == Status::ok) *topic = handle.release();
        return status;
    });
}

void shmq_topic_close(shmq_topic* topic) { delete topic; }

const char* shmq_topic_name(const shmq_topic* topic) { return topic == nullptr ? "" : topic->topic.name().c_str(); }
std::uint32_t shmq_topic_max_message_size(const shmq_topic* topic) {
    return topic == nullptr ? 0 : topic->topic.max_message_size();
}
std::uint32_t shmq_topic_capacity(const shmq_topic* topic) { return topic == nullptr ? 0 : topic->topic.capacity(); }
std::uint32_t shmq_topic_history(const shmq_topic* topic) { return topic == nullptr ? 0 : topic->topic.history(); }

shmq_status shmq_topic_publish(shmq_topic* topic, const void* data, std::size_t size, std::int64_t timeout_ns) {
    if (topic == nullptr) return SHMQ_INVALID_ARGUMENT;
    return guarded([&] { return topic->topic.publish(data, size, timeout_of(timeout_ns)); });
}

shmq_status shmq_topic_loan(shmq_topic* topic, std::size_t size, shmq_loan** loan, std::int64_t timeout_ns) {
    if (topic == nullptr || loan == nullptr) return SHMQ_INVALID_ARGUMENT;
    return guarded([&] {
        auto handle = std::make_unique<shmq_loan>();
        const auto status = topic->topic.loan(size, handle->loan, timeout_of(timeout_ns));
        if (status == Status::ok) *loan = handle.release();
        return status;
    });
}

void* shmq_loan_data(shmq_loan* loan) { return loan == nullptr ? nullptr : loan->loan.data(); }
std::size_t shmq_loan_size(const shmq_loan* loan) { return loan == nullptr ? 0 : loan->loan.size(); }
std::size_t shmq_loan_capacity(const shmq_loan* loan) { return loan == nullptr ? 0 : loan->loan.capacity(); }

shmq_status shmq_loan_resize(shmq_loan* loan, std::size_t size) {
    if (loan == nullptr) return SHMQ_INVALID_ARGUMENT;
    return guarded([&] { return loan->loan.resize(size); });
}

shmq_status shmq_topic_publish_loan(shmq_topic* topic, shmq_loan* loan) {
    const std::unique_ptr<shmq_loan> owned(loan);  // freed whatever the outcome, as documented
    if (topic == nullptr || loan == nullptr) return SHMQ_INVALID_ARGUMENT;
    return guarded([&] { return topic->topic.publish(loan->loan); });
}

void shmq_loan_cancel(shmq_loan* loan) { delete loan; }

shmq_status shmq_subscribe(shmq_client* client, const char* name, std::uint32_t from_history,
                           std::int64_t timeout_ns, shmq_subscription** subscription) {
    if (client == nullptr || name == nullptr || subscription == nullptr) return SHMQ_INVALID_ARGUMENT;
    return guarded([&] {
        auto handle = std::make_unique<shmq_subscription>();
        // The subscription does not tell its topic's size limit; the
        // publishing handle does, and costs nothing to open.
        shmq::Topic topic;
        auto status = client->client->open_topic(name, topic);
        if (status != Status::ok) return status;
        handle->max_message_size = topic.max_message_size();
        shmq::SubscribeOptions options;
        options.from_history = from_history;
        options.timeout = timeout_of(timeout_ns);
        status = client->client->subscribe(name, handle->subscription, options);
        if (status == Status::ok) *subscription = handle.release();
        return status;
    });
}

void shmq_unsubscribe(shmq_subscription* subscription) { delete subscription; }

shmq_status shmq_subscription_receive(shmq_subscription* subscription, void* buffer, std::size_t capacity,
                                      std::size_t* size, std::int64_t timeout_ns) {
    if (subscription == nullptr || size == nullptr) return SHMQ_INVALID_ARGUMENT;
    return guarded(
        [&] { return subscription->subscription.receive(buffer, capacity, *size, timeout_of(timeout_ns)); });
}

shmq_status shmq_subscription_read(shmq_subscription* subscription, shmq_view** view, std::int64_t timeout_ns) {
    if (subscription == nullptr || view == nullptr) return SHMQ_INVALID_ARGUMENT;
    return guarded([&] {
        auto handle = std::make_unique<shmq_view>();
        const auto status = subscription->subscription.read(handle->view, timeout_of(timeout_ns));
        if (status == Status::ok) *view = handle.release();
        return status;
    });
}

const char* shmq_subscription_topic(const shmq_subscription* subscription) {
    return subscription == nullptr ? "" : subscription->subscription.topic().c_str();
}
std::uint32_t shmq_subscription_max_message_size(const shmq_subscription* subscription) {
    return subscription == nullptr ? 0 : subscription->max_message_size;
}
std::uint64_t shmq_subscription_received(const shmq_subscription* subscription) {
    return subscription == nullptr ? 0 : subscription->subscription.received();
}
std::uint64_t shmq_subscription_lost(const shmq_subscription* subscription) {
    return subscription == nullptr ? 0 : subscription->subscription.lost();
}

const void* shmq_view_data(const shmq_view* view) { return view == nullptr ? nullptr : view->view.data(); }
std::size_t shmq_view_size(const shmq_view* view) { return view == nullptr ? 0 : view->view.size(); }
void shmq_view_release(shmq_view* view) { delete view; }

shmq_status shmq_stats_take(shmq_client* client, shmq_stats** stats) {
    if (client == nullptr || stats == nullptr) return SHMQ_INVALID_ARGUMENT;
    return guarded([&] {
        *stats = new shmq_stats{client->client->stats()};
        return Status::ok;
    });
}

void shmq_stats_free(shmq_stats* stats) { delete stats; }

shmq_status shmq_stats_broker(const shmq_stats* stats, shmq_broker_stats* out) {
    if (stats == nullptr || out == nullptr) return SHMQ_INVALID_ARGUMENT;
    const auto& s = stats->stats;
    *out = shmq_broker_stats{s.broker.c_str(), s.broker_pid,      s.broker_alive ? 1 : 0, s.broker_epoch,
                             s.segment_size,   s.queues.size(), s.topics.size(),        s.clients.size()};
    return SHMQ_OK;
}

shmq_status shmq_stats_queue(const shmq_stats* stats, std::size_t index, shmq_queue_stats* out) {
    if (stats == nullptr || out == nullptr || index >= stats->stats.queues.size()) return SHMQ_INVALID_ARGUMENT;
    const auto& q = stats->stats.queues[index];
    *out = shmq_queue_stats{q.name.c_str(), q.capacity,     q.max_message_size, q.overflow.c_str(),
                            q.delivery.c_str(), q.quarantined ? 1 : 0, q.depth, q.enqueued,
                            q.dequeued,      q.rejected,     q.dropped,          q.abandoned,
                            q.lost_in_read,  q.redelivered,  q.dead_lettered,    q.producers,
                            q.consumers,     q.quarantine_reason.c_str(), q.read_only ? 1 : 0,
                            q.removed ? 1 : 0};
    return SHMQ_OK;
}

shmq_status shmq_stats_queue_sides(const shmq_stats* stats, std::size_t index, shmq_queue_sides* out) {
    if (stats == nullptr || out == nullptr || index >= stats->stats.queues.size()) return SHMQ_INVALID_ARGUMENT;
    const auto& q = stats->stats.queues[index];
    *out = shmq_queue_sides{q.producers_sharing.c_str(), q.consumers_sharing.c_str(), q.producer_lease_pid,
                            q.consumer_lease_pid};
    return SHMQ_OK;
}

shmq_status shmq_stats_topic(const shmq_stats* stats, std::size_t index, shmq_topic_stats* out) {
    if (stats == nullptr || out == nullptr || index >= stats->stats.topics.size()) return SHMQ_INVALID_ARGUMENT;
    const auto& t = stats->stats.topics[index];
    *out = shmq_topic_stats{t.name.c_str(), t.capacity,  t.max_message_size,      t.history,
                            t.max_subscribers, t.slow_subscriber.c_str(), t.quarantined ? 1 : 0,
                            t.published,     t.abandoned, t.dropped,               t.subscriptions,
                            t.publishers,    t.subscribers.size(), t.quarantine_reason.c_str(),
                            t.read_only ? 1 : 0, t.removed ? 1 : 0};
    return SHMQ_OK;
}

shmq_status shmq_stats_subscriber(const shmq_stats* stats, std::size_t topic, std::size_t index,
                                  shmq_subscriber_stats* out) {
    if (stats == nullptr || out == nullptr || topic >= stats->stats.topics.size() ||
        index >= stats->stats.topics[topic].subscribers.size()) {
        return SHMQ_INVALID_ARGUMENT;
    }
    const auto& s = stats->stats.topics[topic].subscribers[index];
    *out = shmq_subscriber_stats{s.record, s.client_record, s.pid,  s.program.c_str(),
                                 s.lag,    s.received,      s.lost, s.views};
    return SHMQ_OK;
}

shmq_status shmq_stats_client(const shmq_stats* stats, std::size_t index, shmq_client_info* out) {
    if (stats == nullptr || out == nullptr || index >= stats->stats.clients.size()) return SHMQ_INVALID_ARGUMENT;
    const auto& c = stats->stats.clients[index];
    *out = shmq_client_info{c.record, c.pid, c.program.c_str(), c.attached_ms};
    return SHMQ_OK;
}

}  // extern "C"
