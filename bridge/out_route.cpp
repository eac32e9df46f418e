#include "bridge/out_route.hpp"

#include <algorithm>
#include <charconv>
#include <string_view>
#include <thread>

#include "bridge/logging.hpp"
#include "bridge/pub_ack.hpp"

namespace shmq::bridge {
namespace {

constexpr auto poll_interval = std::chrono::milliseconds(100);
// How long the route waits for new shmq messages while publishes await
// their acks: the acks wait in nats.c meanwhile, holding their shmq
// deliveries and their room in the window at most this much longer.
constexpr auto ack_check_interval = std::chrono::milliseconds(1);
constexpr auto lag_interval = std::chrono::seconds(1);
// Longer than the broker takes to reclaim a dead client (a few liveness ticks).
constexpr auto predecessor_wait = std::chrono::seconds(10);
constexpr const char* msg_id_header = "Nats-Msg-Id";
constexpr const char* expected_last_header = "Nats-Expected-Last-Msg-Id";

}  // namespace

OutRoute::OutRoute(const RouteSettings& settings, const BridgeConfig& config, NatsLink& nats, RouteCounters& counters)
    : settings_(settings),
      origin_(config.origin.empty() ? (config.broker.empty() ? default_broker_name() : config.broker) : config.origin),
      nats_(nats),
      counters_(counters),
      broker_(config.broker, config.broker_owner, settings.name),
      run_prefix_(origin_ + "/" + settings.name + "/run-" +
                  std::to_string(std::chrono::system_clock::now().time_since_epoch().count()) + "/"),
      // A quarter of the window: three quarters stay in flight meanwhile,
      // which keeps JetStream as busy, and the route takes from shmq and
      // publishes once per quarter window of acks instead of once per ack.
      refill_(std::max<std::size_t>(1, settings.window / 4)) {
    // Never rehashed while running: at 64 B the bookkeeping's cost shows.
    pending_.reserve(settings.window * std::size_t{2});
    spent_.reserve(settings.window * std::size_t{3});
    confirmed_.reserve(settings.window * std::size_t{2});
}

OutRoute::~OutRoute() {
    // Synchronous: no nats.c thread calls into the route, so nothing is
    // left to wait for.
    natsSubscription_Destroy(acks_);
    if (js_ != nullptr) jsCtx_Destroy(js_);
    release_spent();
    for (auto& [sequence, pending] : pending_) natsMsg_Destroy(pending.message);
    for (auto& [sequence, failed] : failed_) natsMsg_Destroy(failed.message);
    for (auto& built : batch_) natsMsg_Destroy(built.message);
}

bool OutRoute::prepare(std::string& error) {
    if (js_ == nullptr) {
        js_ = nats_.jetstream(error);
        if (js_ == nullptr) return false;
    }
    if (acks_ == nullptr && !subscribe_acks(error)) return false;
    return ensure_stream(js_, settings_, error);
}

bool OutRoute::subscribe_acks(std::string& error) {
    natsInbox* inbox = nullptr;
    natsStatus status = natsInbox_Create(&inbox);
    if (status == NATS_OK) {
        inbox_ = std::string(inbox) + ".";
        natsInbox_Destroy(inbox);
        status = natsConnection_SubscribeSync(&acks_, nats_.connection(), (inbox_ + "*").c_str());
    }
    // The route's window bounds the acks due; late ones of failed publishes
    // may add to them, never near these limits.
    if (status == NATS_OK) status = natsSubscription_SetPendingLimits(acks_, -1, -1);
    if (status == NATS_OK) return true;
    error = "route " + settings_.name + ": cannot subscribe to its PubAcks: " + nats_error(status);
    natsSubscription_Destroy(acks_);
    acks_ = nullptr;
    return false;
}

void OutRoute::release_spent() {
    for (natsMsg* message : spent_) natsMsg_Destroy(message);
    spent_.clear();
}

void OutRoute::collect_acks(std::chrono::milliseconds wait) {
    bool any = false;
    natsMsg* reply = nullptr;
    // The first read may wait; the rest take what is already there, so that
    // a run of acks is handled in one go.
    natsStatus status = natsSubscription_NextMsg(&reply, acks_, wait.count());
    while (status == NATS_OK) {
        acknowledged(reply);
        spent_.push_back(reply);
        any = true;
        status = natsSubscription_NextMsg(&reply, acks_, 0);
    }
    acknowledge_confirmed();
    // nats.c frees every message on its garbage collector's thread, which
    // each natsMsg_Destroy wakes when that thread's list was empty (and
    // contends for the list's lock with while it takes it): freed a window's
    // worth at a time, they wake it once per window rather than once per run
    // of acks. Once nothing is in flight, at once.
    if (spent_.size() >= settings_.window || pending_.empty()) release_spent();
    // NATS_TIMEOUT: none (left). Anything else (the connection closed at the
    // bridge's stop) returns at once: the wait is kept so that callers do
    // not spin.
    if (!any && status != NATS_TIMEOUT && wait.count() > 0) std::this_thread::sleep_for(wait);
}

void OutRoute::acknowledged(natsMsg* reply) {
    // The reply subject ends in the publish's sequence (the subscription
    // is to inbox_ and one more token, so the prefix is there).
    const std::string_view subject = natsMsg_GetSubject(reply);
    if (subject.size() <= inbox_.size()) return;
    const std::string_view token = subject.substr(inbox_.size());
    std::uint64_t sequence = 0;
    if (std::from_chars(token.data(), token.data() + token.size(), sequence).ptr != token.data() + token.size()) return;
    const bool no_responders = natsMsg_IsNoResponders(reply);
    const PubAck ack = no_responders ? PubAck{}
                                     : parse_pub_ack(std::string_view(
                                           natsMsg_GetData(reply), static_cast<std::size_t>(natsMsg_GetDataLength(reply))));
    // Not pending: the late ack of a publish already failed by its
    // deadline, which goes again (JetStream recognises its Msg-Id).
    const auto found = pending_.find(sequence);
    if (found == pending_.end()) return;
    const Built built = found->second;
    pending_.erase(found);
    counters_.in_flight.store(pending_.size(), std::memory_order_relaxed);
    if (ack.positive()) {
        if (ack.kind == PubAck::Kind::duplicate) counters_.duplicates.fetch_add(1, std::memory_order_relaxed);
        counters_.delivered.fetch_add(1, std::memory_order_relaxed);
        confirm(built.pending);
        spent_.push_back(built.message);
    } else {
        fail(sequence, built,
             no_responders ? "no responders (does a stream hold " + settings_.subject + "?)" : failure_text(ack));
    }
}

void OutRoute::fail(std::uint64_t sequence, Built built, std::string reason) {
    // Kept (with its delivery unacknowledged) for the route's thread to
    // republish in order.
    counters_.errors.fetch_add(1, std::memory_order_relaxed);
    last_failure_ = std::move(reason);
    failed_.emplace(sequence, built);
}

void OutRoute::expire_overdue() {
    const auto now = std::chrono::steady_clock::now();
    while (!deadlines_.empty()) {
        const auto [sequence, deadline] = deadlines_.front();
        const auto found = pending_.find(sequence);
        if (found != pending_.end()) {
            if (deadline > now) return;
            const Built built = found->second;
            pending_.erase(found);
            counters_.in_flight.store(pending_.size(), std::memory_order_relaxed);
            fail(sequence, built,
                 "no PubAck within publish_ack_timeout_ms (" + std::to_string(settings_.publish_ack_timeout_ms) + " ms)");
        }
        deadlines_.pop_front();
    }
}

void OutRoute::confirm(const Pending& pending) {
    if (pending.delivery == 0 || pending.attachment != attachment_ || !queue_.is_open()) return;
    confirmed_.push_back(pending.delivery);
}

void OutRoute::acknowledge_confirmed() {
    if (confirmed_.empty()) return;
    // Together: a producer asleep on the full queue wakes once for the run
    // of slots they free, not once per slot. not_acknowledgeable: shmq
    // already gave a message out again (its ack timeout passed); that
    // delivery is published again, and JetStream recognises its Msg-Id.
    std::size_t acknowledged = 0;
    if (queue_.acknowledge_batch(confirmed_.data(), confirmed_.size(), acknowledged) != Status::ok) {
        BRIDGE_LOG(debug) << "route " << settings_.name << ": " << confirmed_.size() - acknowledged
                          << " delivery(ies) expired before JetStream's ack";
    }
    confirmed_.clear();
}

bool OutRoute::open_source(Client& client, const std::atomic<bool>& stop) {
    Status status;
    if (!settings_.queue.empty()) {
        status = client.open_queue(settings_.queue, queue_);
        if (status == Status::ok) {
            queue_prefix_ = origin_ + "/" + settings_.queue + "/" + broker_.broker_run() + "/";
            identified_ = false;
            for (const auto& stats : client.stats().queues) {
                if (stats.name == settings_.queue) identified_ = stats.delivery == "at_least_once";
            }
            if (!identified_) {
                BRIDGE_LOG(warning) << "route " << settings_.name << ": queue " << settings_.queue
                                    << " is not at_least_once: a message taken by a bridge that dies before "
                                       "JetStream's ack is lost";
            }
        }
        message_capacity_ = queue_.max_message_size();
    } else if (!open_topic(client, stop, status)) {
        return false;
    }
    if (status != Status::ok) {
        BRIDGE_LOG(error) << "route " << settings_.name << ": cannot open "
                          << (settings_.queue.empty() ? "topic " + settings_.topic : "queue " + settings_.queue)
                          << " of broker " << client.broker_name() << ": " << to_string(status) << " ("
                          << describe(status) << ")";
        return false;
    }
    return true;
}

bool OutRoute::open_topic(Client& client, const std::atomic<bool>& stop, Status& status) {
    identified_ = false;
    Topic topic;
    status = client.open_topic(settings_.topic, topic);
    if (status != Status::ok) return true;
    message_capacity_ = topic.max_message_size();
    // Asked before subscribing: while JetStream cannot answer, the bridge
    // could not publish anyway, and an idle subscription would only hold up
    // the topic's publishers (block) or lose messages (drop). What is
    // published meanwhile is in the history read below.
    topic_prefix_ = topic_message_prefix(origin_, settings_.topic, broker_.broker_run());
    bool reported = false;
    std::string error;
    while (!find_resume_point(js_, settings_.stream.name, settings_.subject, topic_prefix_, resume_, error)) {
        if (!reported) {
            BRIDGE_LOG(warning) << "route " << settings_.name << ": " << error << "; retrying";
            reported = true;
        }
        if (stop.load()) return false;
        std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    SubscribeOptions options;
    options.from_history = topic.history();
    status = client.subscribe(settings_.topic, subscription_, options);
    resuming_ = true;
    skipped_ = 0;
    lost_by_drop_ = 0;
    if (resume_.known) {
        BRIDGE_LOG(info) << "route " << settings_.name << ": stream " << settings_.stream.name << " holds topic "
                         << settings_.topic << " up to position " << resume_.last_position
                         << "; forwarding what follows from the topic's history of " << topic.history();
    } else {
        BRIDGE_LOG(info) << "route " << settings_.name << ": " << settings_.subject
                         << " has no message of this broker run yet; forwarding the topic's history of "
                         << topic.history() << " (JetStream drops what it already holds by Msg-Id)";
    }
    return true;
}

void OutRoute::run(const std::atomic<bool>& stop) {
    while (!stop.load()) {
        Client* client = broker_.attach(stop);
        if (client == nullptr) break;
        ++attachment_;
        if (!open_source(*client, stop)) {
            broker_.detach();
            std::this_thread::sleep_for(std::chrono::seconds(1));
            continue;
        }
        wait_for_predecessor(stop);
        pump(stop);
        // Settle what is in flight while its deliveries can still be acked.
        wait_for_acks(stop, std::chrono::milliseconds(settings_.publish_ack_timeout_ms) * 2);
        republish_failed(stop);
        subscription_.unsubscribe();
        queue_ = Queue();
        if (!stop.load()) counters_.reconnects.fetch_add(1, std::memory_order_relaxed);
        broker_.detach();
    }
}

void OutRoute::pump(const std::atomic<bool>& stop) {
    // A batch of up to 256 messages, but at most 16 MiB of buffers however
    // large the queue's messages may be.
    // (A topic's messages are published from a view, without buffers.)
    const std::size_t capacity = std::max<std::size_t>(message_capacity_, 1);
    const std::size_t count = std::max<std::size_t>(
        1, std::min<std::size_t>({settings_.window, 256, (std::size_t{16} << 20) / capacity}));
    const bool from_queue = !settings_.queue.empty();
    std::vector<std::vector<char>> buffers(from_queue ? count : 0, std::vector<char>(capacity));
    std::vector<IncomingMessage> messages(buffers.size());
    while (!stop.load()) {
        collect_acks(std::chrono::milliseconds(0));
        // A full window: the route waits for acks alone, until a quarter of
        // it is free (or the oldest ack is overdue).
        while (!stop.load() && failed_.empty() && pending_.size() + refill_ > settings_.window) {
            collect_acks(poll_interval);
            expire_overdue();
        }
        expire_overdue();
        if (!failed_.empty()) {
            republish_failed(stop);
            continue;
        }
        refresh_lag();
        const std::size_t room = settings_.window > pending_.size() ? settings_.window - pending_.size() : 0;
        if (room == 0) continue;
        for (std::size_t i = 0; i < messages.size(); ++i) {
            messages[i] = IncomingMessage{buffers[i].data(), buffers[i].size(), 0, 0};
        }
        // With publishes in flight, their acks are due soon: the route waits
        // for new messages only briefly before it reads them.
        const Timeout wait = pending_.empty() ? Timeout(poll_interval) : Timeout(ack_check_interval);
        std::size_t taken = 0;
        Status status = Status::ok;
        const bool received = from_queue ? take(messages, std::min(room, messages.size()), wait, taken, status)
                                         : forward_topic(std::min(room, count), wait, taken, status);
        // What was taken goes out even when the receive then failed (a
        // topic's messages are already released).
        if (received && from_queue) prepare_in_order(messages, taken);
        publish_prepared();
        if (!received) {
            if (needs_reattach(status)) {
                BRIDGE_LOG(warning) << "route " << settings_.name << ": the broker went away (" << to_string(status)
                                    << "); reattaching";
                return;
            }
            BRIDGE_LOG(error) << "route " << settings_.name << ": receiving failed: " << to_string(status) << " ("
                              << describe(status) << ")";
            std::this_thread::sleep_for(std::chrono::seconds(1));
            return;
        }
    }
}

void OutRoute::wait_for_predecessor(const std::atomic<bool>& stop) {
    if (!identified_ || broker_.client() == nullptr) return;
    // A bridge killed a moment ago still counts among the queue's consumers
    // until the broker reclaims it and queues its deliveries again; taking
    // new messages before those would publish them out of order.
    auto consumers = [&] {
        for (const auto& stats : broker_.client()->stats().queues) {
            if (stats.name == settings_.queue) return stats.consumers;
        }
        return std::uint32_t{0};
    };
    const auto until = std::chrono::steady_clock::now() + predecessor_wait;
    if (consumers() == 0) return;
    BRIDGE_LOG(info) << "route " << settings_.name << ": queue " << settings_.queue
                     << " has another consumer (a bridge that died?); waiting up to "
                     << std::chrono::duration_cast<std::chrono::seconds>(predecessor_wait).count()
                     << " s for the broker to give its deliveries back";
    while (!stop.load() && std::chrono::steady_clock::now() < until && consumers() != 0) {
        std::this_thread::sleep_for(poll_interval);
    }
}

bool OutRoute::take(std::vector<IncomingMessage>& messages, std::size_t wanted, Timeout wait, std::size_t& taken,
                    Status& status) {
    taken = 0;
    status = queue_.receive_batch(messages.data(), wanted, taken, wait);
    counters_.received.fetch_add(taken, std::memory_order_relaxed);
    return status == Status::ok || status == Status::timeout || status == Status::empty;
}

bool OutRoute::forward_topic(std::size_t wanted, Timeout wait, std::size_t& taken, Status& status) {
    // Topics have no batch receive: the first message waits, the rest of the
    // batch is what is already there. Each is built from its view (nats.c
    // copies it) and released at once, so the route pins one slot at most.
    taken = 0;
    View view;
    status = subscription_.read(view, wait);
    while (status == Status::ok) {
        if (admit(view.position())) {
            prepare(view.data(), view.size(), 0, message_id(topic_prefix_, view.position()));
            ++taken;
        }
        view.release();
        if (taken >= wanted) break;
        status = subscription_.read(view, no_wait);
    }
    counters_.received.fetch_add(taken, std::memory_order_relaxed);
    return status == Status::ok || status == Status::timeout || status == Status::empty;
}

bool OutRoute::admit(std::uint64_t position) {
    if (!resuming_) return true;
    // Unordered, a failed publish may have gone again after up to `window`
    // newer ones: the stream's last message says the route got that far, not
    // that it holds everything before. Those `window` go again, and the
    // duplicate window drops what JetStream has.
    const std::uint64_t overlap = settings_.ordered ? 0 : settings_.window;
    if (resume_.known && position + overlap <= resume_.last_position) {
        ++skipped_;
        return false;
    }
    resuming_ = false;
    if (resume_.known && position > resume_.last_position + 1) {
        const std::uint64_t lost = position - resume_.last_position - 1;
        counters_.lost.fetch_add(lost, std::memory_order_relaxed);
        BRIDGE_LOG(error) << "route " << settings_.name << ": up to " << lost << " message(s) of topic "
                          << settings_.topic << " (positions " << resume_.last_position + 1 << " to " << position - 1
                          << ") were published while no bridge read it and are no longer in its history: lost "
                             "(raise the topic's history to cover the bridge's restarts)";
    }
    BRIDGE_LOG(info) << "route " << settings_.name << ": forwarding topic " << settings_.topic << " from position "
                     << position << " (" << skipped_ << " message(s) of its history already in the stream)";
    return true;
}

void OutRoute::count_lost_by_drop() {
    // Under the topic's `drop` policy, a route a whole ring behind (JetStream
    // slow or unreachable) loses its oldest unread messages: counted and
    // said, as they are gone for good.
    const std::uint64_t lost = subscription_.lost();
    if (lost <= lost_by_drop_) return;
    counters_.lost.fetch_add(lost - lost_by_drop_, std::memory_order_relaxed);
    BRIDGE_LOG(error) << "route " << settings_.name << ": " << lost - lost_by_drop_ << " message(s) of topic "
                      << settings_.topic << " were overwritten before the bridge could forward them "
                      << "(slow_subscriber: drop, and the bridge was a whole ring behind): lost";
    lost_by_drop_ = lost;
}

void OutRoute::prepare_in_order(std::vector<IncomingMessage>& messages, std::size_t taken) {
    // Redeliveries (of a bridge that died, say) come first but in slot order,
    // which wraps around the ring: sorted by ring position they are in the
    // order they were sent, and before the newer messages of the batch.
    order_.resize(taken);
    for (std::size_t i = 0; i < taken; ++i) {
        std::uint64_t position = i;
        const bool known = identified_ && queue_.delivery_position(messages[i].delivery, position) == Status::ok;
        order_[i] = {known ? position : i, known, i};
    }
    if (identified_) {
        std::sort(order_.begin(), order_.end(),
                  [](const Placed& a, const Placed& b) { return a.position < b.position; });
    }
    for (const auto& [position, known, i] : order_) {
        // A known position is the same for every delivery of this message
        // by this broker run: what JetStream's duplicate window recognises
        // after the bridge died between its publish and the shmq ack. An
        // at_most_once queue's id is unique to this bridge run, which
        // deduplicates the bridge's own republishing.
        const std::string& id = known ? message_id(queue_prefix_, position) : message_id(run_prefix_, next_sequence_);
        prepare(messages[i].buffer, messages[i].size, messages[i].delivery, id);
    }
}

const std::string& OutRoute::message_id(const std::string& prefix, std::uint64_t number) {
    // Built in one buffer kept for the purpose: nats.c copies the header.
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, number).ptr;
    id_.assign(prefix).append(digits, end);
    return id_;
}

void OutRoute::prepare(const void* data, std::size_t size, std::uint64_t delivery, const std::string& id) {
    char digits[24];
    reply_.assign(inbox_).append(digits, std::to_chars(digits, digits + sizeof digits, next_sequence_).ptr);
    natsMsg* message = nullptr;
    natsStatus status = natsMsg_Create(&message, settings_.subject.c_str(), reply_.c_str(),
                                       static_cast<const char*>(data), static_cast<int>(size));
    if (status == NATS_OK) status = natsMsgHeader_Set(message, msg_id_header, id.c_str());
    // The header jsPubOptions.ExpectLastMsgId would set, set here because
    // the publish comes later, with the rest of the batch.
    if (status == NATS_OK && settings_.ordered && !last_id_.empty()) {
        status = natsMsgHeader_Set(message, expected_last_header, last_id_.c_str());
    }
    if (status != NATS_OK) {
        // Out of memory, in effect: left unacknowledged, shmq redelivers it
        // (a topic's message goes again only from the history when the
        // bridge restarts: counted as lost).
        BRIDGE_LOG(error) << "route " << settings_.name << ": cannot build a NATS message: " << nats_error(status);
        counters_.errors.fetch_add(1, std::memory_order_relaxed);
        if (settings_.queue.empty()) counters_.lost.fetch_add(1, std::memory_order_relaxed);
        natsMsg_Destroy(message);
        return;
    }
    if (settings_.ordered) last_id_ = id;
    batch_.push_back({message, Pending{next_sequence_++, delivery, attachment_}});
}

void OutRoute::publish_prepared() {
    if (batch_.empty()) return;
    // Without a deadline, an ack lost with a dying NATS node would hold its
    // message (and the window) forever.
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(settings_.publish_ack_timeout_ms);
    for (const auto& built : batch_) {
        pending_.emplace(built.pending.sequence, built);
        deadlines_.emplace_back(built.pending.sequence, deadline);
    }
    counters_.in_flight.store(pending_.size(), std::memory_order_relaxed);
    for (const auto& built : batch_) {
        // The message stays the route's: kept until its ack for a second
        // chance. Refused at once (a closed connection): republished in
        // order with the failures their acks report.
        const natsStatus status = natsConnection_PublishMsg(nats_.connection(), built.message);
        if (status != NATS_OK) {
            pending_.erase(built.pending.sequence);
            counters_.in_flight.store(pending_.size(), std::memory_order_relaxed);
            fail(built.pending.sequence, built, nats_error(status));
        }
    }
    batch_.clear();
}

void OutRoute::wait_for_acks(const std::atomic<bool>& stop, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pending_.empty() && std::chrono::steady_clock::now() < deadline) {
        collect_acks(poll_interval);
        expire_overdue();
        // A stop request cuts the wait short only once nothing is owed to
        // JetStream for long: a clean stop still confirms what it can.
        if (stop.load() && std::chrono::steady_clock::now() + limit / 2 > deadline) break;
    }
}

void OutRoute::republish_failed(const std::atomic<bool>& stop) {
    // Whatever is still in flight settles first (acked, or failed by its
    // MaxWait), so that the failures go out again in the order they came.
    wait_for_acks(stop, std::chrono::milliseconds(settings_.publish_ack_timeout_ms) * 2);
    std::map<std::uint64_t, Built> failed;
    failed.swap(failed_);
    const std::string reason = last_failure_;
    if (failed.empty()) return;
    BRIDGE_LOG(warning) << "route " << settings_.name << ": " << failed.size() << " publish(es) to "
                        << settings_.subject << " failed (" << reason << "); publishing them again in order";
    // Without an expected last Msg-Id: they go one by one, in order, and one
    // already stored (its ack was lost) is recognised as a duplicate.
    jsPubOptions options;
    jsPubOptions_Init(&options);
    options.MaxWait = settings_.publish_ack_timeout_ms;
    bool reported = false;
    for (auto& [sequence, entry] : failed) {
        natsMsgHeader_Delete(entry.message, expected_last_header);
        while (!stop.load()) {
            counters_.retries.fetch_add(1, std::memory_order_relaxed);
            jsPubAck* ack = nullptr;
            jsErrCode code = static_cast<jsErrCode>(0);
            const natsStatus status = js_PublishMsg(&ack, js_, entry.message, &options, &code);
            if (status == NATS_OK) {
                if (ack->Duplicate) counters_.duplicates.fetch_add(1, std::memory_order_relaxed);
                counters_.delivered.fetch_add(1, std::memory_order_relaxed);
                jsPubAck_Destroy(ack);
                confirm(entry.pending);
                acknowledge_confirmed();
                break;
            }
            counters_.errors.fetch_add(1, std::memory_order_relaxed);
            if (!reported) {
                BRIDGE_LOG(warning) << "route " << settings_.name << ": JetStream still refuses the publish: "
                                    << nats_error(status)
                                    << (code != 0 ? " (JetStream error " + std::to_string(code) + ")" : "")
                                    << "; retrying";
                reported = true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
        // On a stop, the ones not republished stay unacknowledged in shmq,
        // which gives them to the next bridge.
        natsMsg_Destroy(entry.message);
    }
    if (reported && !stop.load()) BRIDGE_LOG(info) << "route " << settings_.name << ": publishing again";
}

void OutRoute::refresh_lag() {
    const auto now = std::chrono::steady_clock::now();
    if (now - lag_checked_ < lag_interval || broker_.client() == nullptr) return;
    lag_checked_ = now;
    if (settings_.queue.empty()) {
        count_lost_by_drop();
        return;
    }
    for (const auto& stats : broker_.client()->stats().queues) {
        if (stats.name == settings_.queue) counters_.lag.store(stats.depth, std::memory_order_relaxed);
    }
}

}  // namespace shmq::bridge
