#include "bridge/in_route.hpp"

#include <thread>

#include "bridge/logging.hpp"

namespace shmq::bridge {
namespace {

constexpr auto send_wait = std::chrono::milliseconds(500);
constexpr std::int64_t fetch_wait_ms = 500;
constexpr auto lag_interval = std::chrono::seconds(1);
// Well within any ack wait (at least 1 s).
constexpr auto hold_keep_alive = std::chrono::milliseconds(300);
// Far more than the consumer's MaxAckPending: a redelivery is always of a
// message among the last ones sent.
constexpr std::size_t remembered_sequences = 1 << 20;

}  // namespace

InRoute::InRoute(const RouteSettings& settings, const BridgeConfig& config, NatsLink& nats, RouteCounters& counters)
    : settings_(settings), nats_(nats), counters_(counters), broker_(config.broker, config.broker_owner, settings.name) {}

InRoute::~InRoute() {
    if (subscription_ != nullptr) natsSubscription_Destroy(subscription_);  // the durable consumer stays
    if (js_ != nullptr) jsCtx_Destroy(js_);
}

bool InRoute::prepare(std::string& error) {
    if (js_ == nullptr) {
        js_ = nats_.jetstream(error);
        if (js_ == nullptr) return false;
    }
    if (!ensure_stream(js_, settings_, error)) return false;
    if (subscription_ != nullptr) return true;
    jsSubOptions options;
    jsSubOptions_Init(&options);
    options.Stream = settings_.stream.name.c_str();
    options.Config.Durable = settings_.consumer.c_str();
    options.Config.AckPolicy = js_AckExplicit;
    options.Config.DeliverPolicy = js_DeliverAll;
    options.Config.AckWait = static_cast<std::int64_t>(settings_.ack_wait_s) * 1'000'000'000;
    // One fetch's worth: it bounds what is held while older messages are
    // out (a lost fetch, a dead predecessor's), waiting for their redelivery.
    options.Config.MaxAckPending = static_cast<std::int64_t>(settings_.batch);
    if (!settings_.subject.empty()) options.Config.FilterSubject = settings_.subject.c_str();
    jsErrCode code = static_cast<jsErrCode>(0);
    const natsStatus status = js_PullSubscribe(&subscription_, js_, settings_.subject.empty() ? nullptr : settings_.subject.c_str(),
                                               settings_.consumer.c_str(), nullptr, &options, &code);
    if (status != NATS_OK) {
        subscription_ = nullptr;
        error = "route " + settings_.name + ": cannot bind durable consumer " + settings_.consumer + " of stream " +
                settings_.stream.name + ": " + nats_error(status) +
                (code != 0 ? " (JetStream error " + std::to_string(code) + ")" : "");
        return false;
    }
    return true;
}

bool InRoute::open_destination(Client& client) {
    const Status status = settings_.queue.empty() ? client.open_topic(settings_.topic, topic_)
                                                  : client.open_queue(settings_.queue, queue_);
    if (status == Status::ok) return true;
    BRIDGE_LOG(error) << "route " << settings_.name << ": cannot open "
                      << (settings_.queue.empty() ? "topic " + settings_.topic : "queue " + settings_.queue)
                      << " of broker " << client.broker_name() << ": " << to_string(status) << " (" << describe(status)
                      << ")";
    return false;
}

void InRoute::run(const std::atomic<bool>& stop) {
    bool fetch_failing = false;
    while (!stop.load()) {
        Client* client = broker_.attach(stop);
        if (client == nullptr) break;
        if (!queue_.is_open() && !topic_.is_open() && !open_destination(*client)) {
            broker_.detach();
            std::this_thread::sleep_for(std::chrono::seconds(1));
            continue;
        }
        refresh_lag();
        natsMsgList list{};
        jsErrCode code = static_cast<jsErrCode>(0);
        const natsStatus status =
            natsSubscription_Fetch(&list, subscription_, static_cast<int>(settings_.batch), fetch_wait_ms, &code);
        if (status == NATS_OK) {
            if (fetch_failing) BRIDGE_LOG(info) << "route " << settings_.name << ": fetching again";
            fetch_failing = false;
            for (int i = 0; i < list.Count; ++i) {
                take(list.Msgs[i], stop);
                list.Msgs[i] = nullptr;  // now owned by take()
            }
            natsMsgList_Destroy(&list);
        } else if (status != NATS_TIMEOUT) {
            counters_.errors.fetch_add(1, std::memory_order_relaxed);
            if (!fetch_failing) {
                BRIDGE_LOG(warning) << "route " << settings_.name << ": fetching from consumer " << settings_.consumer
                                    << " failed: " << nats_error(status)
                                    << (code != 0 ? " (JetStream error " + std::to_string(code) + ")" : "")
                                    << "; retrying";
            }
            fetch_failing = true;
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
        // Also after a fetch that brought nothing: held messages wait for
        // older ones, which may be due to be redelivered by now.
        release(stop);
    }
}

void InRoute::take(natsMsg* message, const std::atomic<bool>& stop) {
    counters_.received.fetch_add(1, std::memory_order_relaxed);
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, message) != NATS_OK) {
        // Not from a JetStream consumer (it has no place in the stream):
        // nothing to order it by.
        counters_.errors.fetch_add(1, std::memory_order_relaxed);
        deliver(message, 0, stop);
        natsMsg_Destroy(message);
        return;
    }
    const std::uint64_t sequence = meta->Sequence.Stream;
    const std::uint64_t delivery = meta->Sequence.Consumer;
    jsMsgMetaData_Destroy(meta);
    // JetStream numbers every delivery of the consumer, redeliveries too: a
    // gap means deliveries went to someone else (a fetch lost in transit, a
    // predecessor), whose messages come back only after their ack wait.
    if (!last_delivery_ || delivery != *last_delivery_ + 1) order_unsure_ = true;
    last_delivery_ = delivery;
    if (already_sent(sequence)) {
        counters_.duplicates.fetch_add(1, std::memory_order_relaxed);
        natsMsg_Ack(message, nullptr);
        natsMsg_Destroy(message);
        return;
    }
    held_.add(sequence, message);
}

void InRoute::release(const std::atomic<bool>& stop) {
    if (held_.empty()) return;
    if (order_unsure_) {
        const auto now = std::chrono::steady_clock::now();
        if (!holding_since_) holding_since_ = now;
        if (!nothing_older_elsewhere() && !held_too_long(now - *holding_since_)) {
            // Held unacked meanwhile, they bound what JetStream hands out
            // (MaxAckPending), and kept in progress they stay with us.
            held_.keep_alive(hold_keep_alive);
            return;
        }
        if (holding_reported_) BRIDGE_LOG(info) << "route " << settings_.name << ": sending in stream order again";
        holding_reported_ = false;
        holding_since_.reset();
        order_unsure_ = false;
    }
    std::uint64_t sequence = 0;
    while (natsMsg* message = held_.take_oldest(sequence)) {
        const Outcome outcome = deliver(message, sequence, stop);
        natsMsg_Destroy(message);
        if (outcome == Outcome::stopped) return;  // the rest is redelivered to the next run
    }
}

bool InRoute::nothing_older_elsewhere() {
    const auto unacked = unacked_messages();
    if (!unacked) return false;
    // Every message JetStream counts as delivered and unacked is one we
    // hold (our acks not yet counted only make this wait a little longer).
    // New messages are handed out in stream order, so nothing older than
    // ours is left to come.
    if (*unacked <= held_.size()) return true;
    if (!holding_reported_) {
        BRIDGE_LOG(info) << "route " << settings_.name << ": " << *unacked - held_.size()
                         << " older message(s) of consumer " << settings_.consumer
                         << " are out unacknowledged (a lost fetch or an earlier run); holding " << held_.size()
                         << " newer one(s) until they are redelivered (up to ack_wait_s = " << settings_.ack_wait_s
                         << " s), to keep stream order";
    }
    holding_reported_ = true;
    return false;
}

bool InRoute::held_too_long(std::chrono::steady_clock::duration held) const {
    // Older messages come back within one ack wait (and the server's check
    // of it). Still out long after, they are with another live client of
    // the consumer, which keeps them: waiting longer would wedge the route.
    const auto limit = std::chrono::seconds(3 * settings_.ack_wait_s + 2);
    if (held < limit) return false;
    BRIDGE_LOG(warning) << "route " << settings_.name << ": older messages of consumer " << settings_.consumer
                        << " are still unacknowledged after " << limit.count()
                        << " s: another client holds them (does a second bridge read this consumer?); sending "
                        << held_.size() << " held message(s) out of stream order";
    return true;
}

std::optional<std::uint64_t> InRoute::unacked_messages() {
    // By name: the subscription's own consumer lookup fails once the
    // subscription bound an existing durable consumer ("Invalid Subscription").
    jsConsumerInfo* info = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    const natsStatus status =
        js_GetConsumerInfo(&info, js_, settings_.stream.name.c_str(), settings_.consumer.c_str(), nullptr, &code);
    if (status != NATS_OK) {
        if (!consumer_info_failing_) {
            BRIDGE_LOG(warning) << "route " << settings_.name << ": cannot read the state of consumer "
                                << settings_.consumer << ": " << nats_error(status)
                                << (code != 0 ? " (JetStream error " + std::to_string(code) + ")" : "")
                                << "; retrying";
        }
        consumer_info_failing_ = true;
        return std::nullopt;
    }
    consumer_info_failing_ = false;
    const auto unacked = static_cast<std::uint64_t>(info->NumAckPending);
    counters_.lag.store(info->NumPending + unacked, std::memory_order_relaxed);
    jsConsumerInfo_Destroy(info);
    return unacked;
}

InRoute::Outcome InRoute::deliver(natsMsg* message, std::uint64_t sequence, const std::atomic<bool>& stop) {
    const auto* data = natsMsg_GetData(message);
    const auto size = static_cast<std::size_t>(natsMsg_GetDataLength(message));
    // While the queue is full: since when the pause was last counted.
    auto paused_since = std::chrono::steady_clock::time_point();
    bool first = true;
    while (!stop.load()) {
        if (!first) counters_.retries.fetch_add(1, std::memory_order_relaxed);
        first = false;
        if (broker_.attach(stop) == nullptr) break;
        if (!queue_.is_open() && !topic_.is_open() && !open_destination(*broker_.client())) {
            std::this_thread::sleep_for(std::chrono::seconds(1));
            continue;
        }
        const Status status = send_once(data, size);
        if (status == Status::ok) {
            if (sequence != 0) remember(sequence);
            // Acked after shmq took it; lost with a dying NATS node, the ack
            // is made good by skipping the redelivery above.
            natsMsg_Ack(message, nullptr);
            counters_.delivered.fetch_add(1, std::memory_order_relaxed);
            return Outcome::sent;
        }
        if (status == Status::timeout || status == Status::queue_full) {
            // Full: wait, and keep JetStream from redelivering meanwhile.
            const auto now = std::chrono::steady_clock::now();
            if (paused_since != std::chrono::steady_clock::time_point()) {
                counters_.paused_ms.fetch_add(
                    std::chrono::duration_cast<std::chrono::milliseconds>(now - paused_since).count(),
                    std::memory_order_relaxed);
            }
            paused_since = now;
            natsMsg_InProgress(message, nullptr);
            continue;
        }
        if (needs_reattach(status)) {
            BRIDGE_LOG(warning) << "route " << settings_.name << ": the broker went away (" << to_string(status)
                                << "); reattaching";
            queue_ = Queue();
            topic_ = Topic();
            broker_.detach();
            counters_.reconnects.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        counters_.errors.fetch_add(1, std::memory_order_relaxed);
        if (status == Status::message_too_large) {
            // It can never fit: terminated, so that JetStream does not
            // redeliver it forever and hold the route up.
            BRIDGE_LOG(error) << "route " << settings_.name << ": a " << size << "-byte message of stream "
                              << settings_.stream.name << " (sequence " << sequence << ") exceeds "
                              << (settings_.queue.empty() ? "topic " + settings_.topic : "queue " + settings_.queue)
                              << "'s max_message_size; terminated in JetStream";
            natsMsg_Term(message, nullptr);
            counters_.rejected.fetch_add(1, std::memory_order_relaxed);
            return Outcome::rejected;
        }
        BRIDGE_LOG(error) << "route " << settings_.name << ": sending to shmq failed: " << to_string(status) << " ("
                          << describe(status) << "); retrying";
        std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    return Outcome::stopped;
}

Status InRoute::send_once(const char* data, std::size_t size) {
    return settings_.queue.empty() ? topic_.publish(data, size, send_wait) : queue_.send(data, size, send_wait);
}

bool InRoute::already_sent(std::uint64_t stream_sequence) const { return sent_.count(stream_sequence) != 0; }

void InRoute::remember(std::uint64_t stream_sequence) {
    sent_.insert(stream_sequence);
    sent_order_.push_back(stream_sequence);
    if (sent_order_.size() > remembered_sequences) {
        sent_.erase(sent_order_.front());
        sent_order_.pop_front();
    }
}

void InRoute::refresh_lag() {
    const auto now = std::chrono::steady_clock::now();
    if (now - lag_checked_ < lag_interval) return;
    lag_checked_ = now;
    unacked_messages();
}

}  // namespace shmq::bridge
