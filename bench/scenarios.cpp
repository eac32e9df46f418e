#include "bench/scenarios.hpp"

#include <algorithm>
#include <bitset>
#include <stdexcept>
#include <string>
#include <thread>

#include "bench/processes.hpp"
#include "bench/wire.hpp"

namespace shmq::bench {

namespace {

// CPU slots (see ProcessGroup::spawn): senders on one CPU, receivers on the other.
constexpr int sender_cpu = 0;
constexpr int receiver_cpu = 1;
constexpr auto ready_timeout = std::chrono::seconds(20);
// Past the run's duration, how long draining may take before the run is
// declared hung and its processes killed.
constexpr auto drain_timeout = std::chrono::seconds(60);

// Tears the transport down on every way out, after the processes are gone
// (declare it before the ProcessGroup).
class TransportScope {
public:
    TransportScope(Transport& transport, const ChannelSpec& spec) : transport_(transport) {
        try {
            transport_.setup(spec);
        } catch (...) {
            transport_.teardown();
            throw;
        }
    }
    ~TransportScope() { transport_.teardown(); }
    TransportScope(const TransportScope&) = delete;
    TransportScope& operator=(const TransportScope&) = delete;

private:
    Transport& transport_;
};

// `count` message buffers of `size` bytes, cache-line aligned, zero-filled.
class Buffers {
public:
    Buffers(std::size_t count, std::size_t size)
        : stride_((size + 63) / 64 * 64), storage_(count * stride_ + 64) {
        base_ = storage_.data() + (64 - reinterpret_cast<std::uintptr_t>(storage_.data()) % 64) % 64;
        for (std::size_t i = 0; i < count; ++i) {
            outgoing_.push_back(Outgoing{at(i), size});
            incoming_.push_back(Incoming{at(i), size, 0});
        }
    }
    std::byte* at(std::size_t index) { return base_ + index * stride_; }
    Outgoing* outgoing() { return outgoing_.data(); }
    Incoming* incoming() { return incoming_.data(); }

private:
    std::size_t stride_;
    std::vector<std::byte> storage_;
    std::byte* base_;
    std::vector<Outgoing> outgoing_;
    std::vector<Incoming> incoming_;
};

// Messages per call: what the transport takes, at most the queue's depth, and
// at most 256 KiB, past which batching saves nothing against the copies and
// the batch's own buffers would crowd the caches the queue needs.
std::size_t batch_for(const Transport& transport, std::size_t depth, std::size_t size) {
    constexpr std::size_t max_batch_bytes = 256 * 1024;
    return std::max<std::size_t>(1, std::min({transport.batch_limit(), depth, max_batch_bytes / size}));
}

// Messages received before the consumer starts its clock: long enough for
// page faults, connection set-up and the first wake-ups to be over.
std::uint64_t warm_up(std::size_t size, std::uint64_t limit) {
    const std::uint64_t by_size = std::clamp<std::uint64_t>((64ull << 20) / size, 32, 1000);
    return std::min(by_size, limit / 4);
}

[[noreturn]] void out_of_order(std::uint64_t expected, const Header& header) {
    throw std::runtime_error("lost or reordered: expected message " + std::to_string(expected) + ", got " +
                             std::to_string(header.sequence) + " from producer " + std::to_string(header.producer));
}

void check_size(std::size_t arrived, std::size_t sent) {
    if (arrived != sent) {
        throw std::runtime_error("a message of " + std::to_string(arrived) + " B arrived, " + std::to_string(sent) +
                                 " B were sent");
    }
}

// Sends data messages 0, 1, ... until the cap or the stop flag; returns how many.
// Sends until stopped or `cap` messages are out, and in any case at least
// `at_least` (never more than `cap`).
std::uint64_t send_until_stopped(ProcessGroup& group, Sender& sender, Buffers& buffers, std::size_t batch,
                                 std::uint32_t producer, std::uint64_t cap, std::uint64_t at_least = 0) {
    const auto& stop = group.control().stop;
    std::uint64_t sequence = 0;
    while (sequence < cap && (sequence < at_least || stop.load(std::memory_order_relaxed) == 0)) {
        const auto count = static_cast<std::size_t>(std::min<std::uint64_t>(batch, cap - sequence));
        for (std::size_t i = 0; i < count; ++i) {
            write_header(buffers.at(i), {producer, MessageKind::data, sequence + i});
        }
        sender.send(buffers.outgoing(), count);
        sequence += count;
    }
    return sequence;
}

void send_stop(Sender& sender, Buffers& buffers, std::uint64_t sent) {
    write_header(buffers.at(0), {0, MessageKind::stop, sent});
    sender.send(buffers.outgoing(), 1);
}

// A receiver that took its stop marker says so.
void confirm_stop(ProcessGroup& group) { group.control().consumers_done.fetch_add(1, std::memory_order_acq_rel); }

// Keeps a sender's end open until `receivers` confirmed their stop marker:
// libzmq drops the last messages of an ipc:// socket closed right after
// sending them, whatever ZMQ_LINGER says (zeromq/libzmq#4660, #1922), and a
// benchmark must not mistake that for the transport's steady-state behaviour.
void wait_for_receivers(ProcessGroup& group, std::uint32_t receivers) {
    const auto end = Clock::now() + drain_timeout;
    while (group.control().consumers_done.load(std::memory_order_acquire) < receivers) {
        if (Clock::now() >= end) throw std::runtime_error("the receiver never confirmed the stop marker");
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
}

// A receiver's stop marker carries how many data messages were sent.
void check_stop(const Header& marker, std::uint64_t received) {
    if (marker.sequence != received) {
        throw std::runtime_error("the producer sent " + std::to_string(marker.sequence) + " messages, " +
                                 std::to_string(received) + " arrived");
    }
}

// A receiver of one producer's stream: checks every message's size and
// sequence number up to the stop marker, and reports how many arrived and
// when the warm-up ended (begin_ns) and the stop marker came (end_ns).
void receive_in_order(ProcessGroup& group, Receiver& receiver, std::size_t batch, std::size_t size,
                      std::uint64_t warm, ChildReport& report) {
    Buffers buffers(batch, size);
    group.arrive_and_wait();
    std::uint64_t expected = 0;
    for (;;) {
        const std::size_t got = receiver.receive(buffers.incoming(), batch);
        for (std::size_t i = 0; i < got; ++i) {
            const auto& message = buffers.incoming()[i];
            check_size(message.size, size);
            const Header header = read_header(message.data);
            if (header.kind == MessageKind::stop) {
                check_stop(header, expected);
                report.end_ns = now_ns();
                report.count = expected;
                confirm_stop(group);
                return;
            }
            if (header.producer != 0 || header.sequence != expected) out_of_order(expected, header);
            if (expected == warm) report.begin_ns = now_ns();
            ++expected;
        }
    }
}

// The client's side of a round trip: sends a request, returns the reply's
// header.
class RequestEnd {
public:
    virtual ~RequestEnd() = default;
    virtual Header call(const Header& request) = 0;
    virtual void stop(std::uint64_t sent) = 0;
};

class CopiedRequests : public RequestEnd {
public:
    CopiedRequests(std::unique_ptr<Sender> requests, std::unique_ptr<Receiver> replies, std::size_t size)
        : requests_(std::move(requests)), replies_(std::move(replies)), buffers_(1, size), size_(size) {}
    Header call(const Header& request) override {
        write_header(buffers_.at(0), request);
        requests_->send(buffers_.outgoing(), 1);
        replies_->receive(buffers_.incoming(), 1);
        check_size(buffers_.incoming()[0].size, size_);
        return read_header(buffers_.at(0));
    }
    void stop(std::uint64_t sent) override { send_stop(*requests_, buffers_, sent); }

private:
    std::unique_ptr<Sender> requests_;
    std::unique_ptr<Receiver> replies_;
    Buffers buffers_;
    std::size_t size_;
};

class InPlaceRequests : public RequestEnd {
public:
    InPlaceRequests(std::unique_ptr<LoanSender> requests, std::unique_ptr<ViewReceiver> replies, std::size_t size)
        : requests_(std::move(requests)), replies_(std::move(replies)), size_(size) {}
    Header call(const Header& request) override {
        write_header(requests_->loan(size_), request);
        requests_->publish();
        const auto reply = replies_->read();
        check_size(reply.size, size_);
        const Header header = read_header(reply.data);
        replies_->release();
        return header;
    }
    void stop(std::uint64_t sent) override {
        write_header(requests_->loan(size_), {0, MessageKind::stop, sent});
        requests_->publish();
    }

private:
    std::unique_ptr<LoanSender> requests_;
    std::unique_ptr<ViewReceiver> replies_;
    std::size_t size_;
};

// The server's side: echoes every request until the stop marker, copying
// the whole message in and out ...
void serve_copies(ProcessGroup& group, Receiver& requests, Sender& replies, std::size_t size) {
    Buffers buffers(1, size);
    group.arrive_and_wait();
    for (;;) {
        requests.receive(buffers.incoming(), 1);
        check_size(buffers.incoming()[0].size, size);
        if (read_header(buffers.at(0)).kind == MessageKind::stop) {
            confirm_stop(group);
            return;
        }
        replies.send(buffers.outgoing(), 1);
    }
}

// ... or reading the request in place and writing the reply's header into a
// loaned buffer.
void serve_in_place(ProcessGroup& group, ViewReceiver& requests, LoanSender& replies, std::size_t size) {
    group.arrive_and_wait();
    for (;;) {
        const auto request = requests.read();
        check_size(request.size, size);
        const Header header = read_header(request.data);
        requests.release();
        if (header.kind == MessageKind::stop) {
            confirm_stop(group);
            return;
        }
        write_header(replies.loan(size), header);
        replies.publish();
    }
}

// Runs the started group until the senders are done (their own cap, or the
// duration, after which they are told to stop) and everything has drained.
void finish(ProcessGroup& group, const std::vector<std::size_t>& senders, const Limits& limits) {
    const auto duration = std::chrono::duration_cast<Clock::duration>(limits.duration);
    group.wait(senders, Clock::now() + duration);
    group.stop();
    if (!group.wait({}, Clock::now() + drain_timeout)) {
        group.check();
        throw std::runtime_error("the run hung: processes killed after the drain timeout");
    }
    group.check();
}

}  // namespace

Throughput measure_throughput(Transport& transport, std::size_t size, std::size_t depth, const Limits& limits) {
    TransportScope scope(transport, {1, size, depth});
    ProcessGroup group;
    const std::size_t batch = batch_for(transport, depth, size);
    const std::uint64_t warm = warm_up(size, limits.messages);

    const auto consumer = group.spawn(receiver_cpu, [&](ChildReport& report) {
        auto receiver = transport.receiver(0);
        receive_in_order(group, *receiver, batch, size, warm, report);
    });
    const auto producer = group.spawn(sender_cpu, [&](ChildReport& report) {
        auto sender = transport.sender(0);
        Buffers buffers(batch, size);
        group.arrive_and_wait();
        report.count = send_until_stopped(group, *sender, buffers, batch, 0, limits.messages,
                                          limits.smoke ? warm + 2 : 0);
        send_stop(*sender, buffers, report.count);
        wait_for_receivers(group, 1);
    });
    group.wait_ready(ready_timeout);
    group.start();
    finish(group, {producer}, limits);

    const auto& report = group.control().children[consumer];
    if (report.count <= warm + 1 || report.end_ns <= report.begin_ns) {
        throw std::runtime_error("too few messages to time (" + std::to_string(report.count) + ")");
    }
    // From the warm-up message to the stop marker: count - warm messages arrived.
    const double seconds = static_cast<double>(report.end_ns - report.begin_ns) * 1e-9;
    return Throughput{static_cast<double>(report.count - warm) / seconds, report.count, transport.depth()};
}

RoundTrips measure_round_trips(Transport& transport, std::size_t size, std::size_t depth, const Limits& limits,
                               Copying copying) {
    if (copying == Copying::zero_copy && !transport.zero_copy()) {
        throw std::logic_error(transport.name() + " " + transport.mode() + " cannot lend its memory");
    }
    const std::uint64_t warm = warm_up(size, limits.messages);
    const std::uint64_t capacity = limits.messages - warm;
    TransportScope scope(transport, {2, size, depth, 1});
    ProcessGroup group(capacity * sizeof(std::uint32_t));
    auto* samples = reinterpret_cast<std::uint32_t*>(group.scratch());

    group.spawn(receiver_cpu, [&](ChildReport&) {
        // Requests' end first, in the same order as the client, which opens
        // its requests' end first too: a transport whose ends wait for their
        // peer (ZeroMQ's connect, iceoryx's subscribe) cannot deadlock.
        if (copying == Copying::zero_copy) {
            auto requests = transport.view_receiver(0);
            auto replies = transport.loan_sender(1);
            serve_in_place(group, *requests, *replies, size);
        } else {
            auto requests = transport.receiver(0);
            auto replies = transport.sender(1);
            serve_copies(group, *requests, *replies, size);
        }
    });
    const auto client = group.spawn(sender_cpu, [&](ChildReport& report) {
        std::unique_ptr<RequestEnd> end;
        if (copying == Copying::zero_copy) {
            end = std::make_unique<InPlaceRequests>(transport.loan_sender(0), transport.view_receiver(1), size);
        } else {
            end = std::make_unique<CopiedRequests>(transport.sender(0), transport.receiver(1), size);
        }
        group.arrive_and_wait();
        const auto& stop = group.control().stop;
        std::uint64_t sequence = 0;
        // One clock read per round trip: each one ends where the next begins.
        auto before = now_ns();
        while (sequence < limits.messages &&
               ((limits.smoke && sequence <= warm) || stop.load(std::memory_order_relaxed) == 0)) {
            const Header reply = end->call({0, MessageKind::data, sequence});
            const auto after = now_ns();
            if (reply.kind != MessageKind::data || reply.sequence != sequence) out_of_order(sequence, reply);
            if (sequence >= warm) {
                const std::uint64_t elapsed = after - before;
                samples[sequence - warm] = static_cast<std::uint32_t>(std::min<std::uint64_t>(elapsed, UINT32_MAX));
            }
            before = after;
            ++sequence;
        }
        report.count = sequence > warm ? sequence - warm : 0;
        end->stop(sequence);
        wait_for_receivers(group, 1);
    });
    group.wait_ready(ready_timeout);
    group.start();
    finish(group, {client}, limits);

    const auto count = group.control().children[client].count;
    if (count == 0) throw std::runtime_error("no round trip past the warm-up");
    RoundTrips result{std::vector<std::uint32_t>(samples, samples + count), transport.depth()};
    std::sort(result.sorted_ns.begin(), result.sorted_ns.end());
    return result;
}

Throughput measure_fan_out(Transport& transport, std::size_t subscribers, std::size_t size, std::size_t depth,
                           const Limits& limits) {
    if (!transport.fan_out()) throw std::logic_error(transport.name() + " " + transport.mode() + " does not fan out");
    if (subscribers + 1 > max_children) throw std::invalid_argument("too many processes for one run");
    TransportScope scope(transport, {1, size, depth, subscribers});
    ProcessGroup group;
    const std::uint64_t warm = warm_up(size, limits.messages);

    std::vector<std::size_t> subscriber_ids;
    for (std::size_t s = 0; s < subscribers; ++s) {
        subscriber_ids.push_back(group.spawn(receiver_cpu, [&](ChildReport& report) {
            auto receiver = transport.receiver(0);
            receive_in_order(group, *receiver, 1, size, warm, report);
        }));
    }
    const auto publisher = group.spawn(sender_cpu, [&](ChildReport& report) {
        auto sender = transport.sender(0);
        Buffers buffers(1, size);
        group.arrive_and_wait();
        report.count = send_until_stopped(group, *sender, buffers, 1, 0, limits.messages, limits.smoke ? warm + 2 : 0);
        send_stop(*sender, buffers, report.count);
        wait_for_receivers(group, static_cast<std::uint32_t>(subscribers));
    });
    group.wait_ready(ready_timeout);
    group.start();
    finish(group, {publisher}, limits);

    const std::uint64_t published = group.control().children[publisher].count;
    double slowest = 0;
    for (const auto id : subscriber_ids) {
        const auto& report = group.control().children[id];
        if (report.count <= warm + 1 || report.end_ns <= report.begin_ns) {
            throw std::runtime_error("too few messages to time (" + std::to_string(report.count) + ")");
        }
        const double rate =
            static_cast<double>(report.count - warm) / (static_cast<double>(report.end_ns - report.begin_ns) * 1e-9);
        slowest = slowest == 0 ? rate : std::min(slowest, rate);
    }
    return Throughput{slowest, published, transport.depth()};
}

Throughput measure_many_to_many(Transport& transport, std::size_t producers, std::size_t consumers, std::size_t size,
                                std::size_t depth, const Limits& limits) {
    if (producers + consumers + 1 > max_children) throw std::invalid_argument("too many processes for one run");
    // Each consumer keeps, per producer, a bitmap of the sequence numbers it
    // received; together they must cover every message sent exactly once.
    const std::size_t words = static_cast<std::size_t>((limits.messages + 63) / 64);
    const std::size_t bitmap_bytes = consumers * producers * words * sizeof(std::uint64_t);
    TransportScope scope(transport, {1, size, depth});
    ProcessGroup group(bitmap_bytes);
    auto* bitmaps = reinterpret_cast<std::uint64_t*>(group.scratch());
    auto bitmap = [&](std::size_t consumer, std::size_t producer) {
        return bitmaps + (consumer * producers + producer) * words;
    };
    const std::size_t batch = batch_for(transport, depth, size);

    std::vector<std::size_t> consumer_ids, producer_ids;
    for (std::size_t c = 0; c < consumers; ++c) {
        consumer_ids.push_back(group.spawn(receiver_cpu, [&, c](ChildReport& report) {
            auto receiver = transport.receiver(0);
            Buffers buffers(batch, size);
            std::vector<std::int64_t> last(producers, -1);
            group.arrive_and_wait();
            std::uint64_t received = 0;
            for (;;) {
                const std::size_t got = receiver->receive(buffers.incoming(), batch);
                std::uint64_t markers = 0;
                for (std::size_t i = 0; i < got; ++i) {
                    const auto& message = buffers.incoming()[i];
                    check_size(message.size, size);
                    const Header header = read_header(message.data);
                    if (header.kind == MessageKind::stop) {
                        ++markers;
                        continue;
                    }
                    // Markers are sent only once every producer has exited.
                    if (markers > 0) throw std::runtime_error("a data message after a stop marker");
                    if (header.producer >= producers || header.sequence >= limits.messages) {
                        throw std::runtime_error("a message with an impossible producer or sequence number");
                    }
                    // One consumer sees each producer's messages in the order sent.
                    if (static_cast<std::int64_t>(header.sequence) <= last[header.producer]) {
                        out_of_order(static_cast<std::uint64_t>(last[header.producer] + 1), header);
                    }
                    last[header.producer] = static_cast<std::int64_t>(header.sequence);
                    bitmap(c, header.producer)[header.sequence / 64] |= 1ull << (header.sequence % 64);
                    ++received;
                }
                if (markers > 0) {
                    report.count = received;
                    group.control().markers_taken.fetch_add(markers, std::memory_order_acq_rel);
                    confirm_stop(group);
                    return;
                }
            }
        }));
    }
    // Producers exit once sent (the closer's markers must follow all their
    // messages); the queues run here keep what an exited sender queued, and
    // the bitmaps below would expose it if one did not.
    for (std::size_t p = 0; p < producers; ++p) {
        producer_ids.push_back(group.spawn(sender_cpu, [&, p](ChildReport& report) {
            auto sender = transport.sender(0);
            Buffers buffers(batch, size);
            group.arrive_and_wait();
            report.count = send_until_stopped(group, *sender, buffers, batch, static_cast<std::uint32_t>(p),
                                              limits.messages);
            report.end_ns = now_ns();
        }));
    }
    group.wait_ready(ready_timeout);
    group.start();
    const auto duration = std::chrono::duration_cast<Clock::duration>(limits.duration);
    group.wait(producer_ids, Clock::now() + duration);
    group.stop();
    if (!group.wait(producer_ids, Clock::now() + drain_timeout)) throw std::runtime_error("producers hung");
    group.check();

    // Every consumer must see a stop marker, and a batch may take several:
    // keep one in the queue for each consumer still running, no more (so the
    // closer never waits for room).
    group.spawn(-1, [&](ChildReport&) {
        auto sender = transport.sender(0);
        Buffers buffers(1, size);
        auto& control = group.control();
        std::uint64_t sent = 0;
        for (;;) {
            const auto done = control.consumers_done.load(std::memory_order_acquire);
            if (done >= consumers) return;
            if (sent - control.markers_taken.load(std::memory_order_acquire) < consumers - done) {
                send_stop(*sender, buffers, 0);
                ++sent;
            } else {
                std::this_thread::sleep_for(std::chrono::microseconds(100));
            }
        }
    });
    if (!group.wait({}, Clock::now() + drain_timeout)) throw std::runtime_error("consumers hung");
    group.check();

    std::uint64_t sent_total = 0, received_total = 0, last_end = 0;
    for (std::size_t p = 0; p < producers; ++p) {
        const auto& report = group.control().children[producer_ids[p]];
        const std::uint64_t sent = report.count;
        sent_total += sent;
        last_end = std::max(last_end, report.end_ns);
        std::uint64_t held = 0, covered = 0;
        for (std::size_t word = 0; word < words; ++word) {
            std::uint64_t any = 0;
            for (std::size_t c = 0; c < consumers; ++c) {
                held += std::bitset<64>(bitmap(c, p)[word]).count();
                any |= bitmap(c, p)[word];
            }
            if (word * 64 < sent) {
                const std::uint64_t in_range = sent - word * 64 >= 64 ? ~0ull : (1ull << (sent - word * 64)) - 1;
                covered += std::bitset<64>(any & in_range).count();
            }
        }
        if (covered != sent || held != sent) {
            throw std::runtime_error("producer " + std::to_string(p) + " sent " + std::to_string(sent) + ", " +
                                     std::to_string(covered) + " distinct arrived, " + std::to_string(held) +
                                     " deliveries");
        }
    }
    for (const auto id : consumer_ids) received_total += group.control().children[id].count;
    if (received_total != sent_total) throw std::runtime_error("consumers counted a different total than was sent");
    const auto go = group.control().go_ns;
    if (sent_total == 0 || last_end <= go) throw std::runtime_error("nothing was sent");
    return Throughput{static_cast<double>(sent_total) / (static_cast<double>(last_end - go) * 1e-9), sent_total,
                      transport.depth()};
}

}  // namespace shmq::bench
