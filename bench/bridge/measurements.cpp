#include "bench/bridge/measurements.hpp"

#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <unistd.h>

namespace shmq::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t send_batch_size = 64;
constexpr std::int64_t arrival_timeout_ms = 30000;
constexpr auto stream_timeout = std::chrono::seconds(120);

// Message `index`: its number in text, then filler to `size` bytes.
std::string payload(std::size_t index, std::size_t size) {
    std::string text = std::to_string(index) + " ";
    text.resize(size, 'x');
    return text;
}

double rate(std::size_t count, Clock::time_point start, Clock::time_point end) {
    return static_cast<double>(count) / std::chrono::duration<double>(end - start).count();
}

double microseconds(Clock::duration elapsed) { return std::chrono::duration<double, std::micro>(elapsed).count(); }

// Until the stream holds `count` messages: the time it did (polled; a
// poll every few milliseconds is a small part of runs of a second or more).
Clock::time_point stream_filled(JetStreamClient& nats, const std::string& stream, std::size_t count) {
    const auto deadline = Clock::now() + stream_timeout;
    for (;;) {
        const auto held = nats.stream_messages(stream);
        const auto now = Clock::now();
        if (held == count) return now;
        if (held > count) {
            throw std::runtime_error("stream " + stream + " holds " + std::to_string(held) + " messages, " +
                                     std::to_string(count) + " were sent: duplicates were stored");
        }
        if (now > deadline) {
            throw std::runtime_error("stream " + stream + " holds " + std::to_string(held) + " of " +
                                     std::to_string(count) + " messages after " +
                                     std::to_string(stream_timeout.count()) + " s");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

// User and system CPU time of process `pid` so far (/proc/PID/stat).
double cpu_seconds(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Fields after the command name (which may hold spaces), from field 3.
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string field;
    double ticks = 0;
    for (int number = 3; number <= 15 && fields >> field; ++number) {
        if (number == 14 || number == 15) ticks += std::stod(field);  // utime, stime
    }
    return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// One at a time: `send` message i, then wait for it at the subscriber and
// check it arrived unaltered.
std::vector<double> one_way(JetStreamClient& nats, const std::string& subject, std::size_t size, std::size_t samples,
                            const std::function<void(const std::string&)>& send) {
    natsSubscription* subscription = nats.subscribe(subject);
    std::vector<double> times;
    try {
        for (std::size_t i = 0; i < samples; ++i) {
            const auto text = payload(i, size);
            const auto start = Clock::now();
            send(text);
            natsMsg* message = nats.next_message(subscription, arrival_timeout_ms);
            const auto end = Clock::now();
            const bool intact = static_cast<std::size_t>(natsMsg_GetDataLength(message)) == text.size() &&
                                std::memcmp(natsMsg_GetData(message), text.data(), text.size()) == 0;
            natsMsg_Destroy(message);
            if (!intact) throw std::runtime_error("message " + std::to_string(i) + " on " + subject + " arrived altered");
            times.push_back(microseconds(end - start));
        }
    } catch (...) {
        natsSubscription_Destroy(subscription);
        throw;
    }
    natsSubscription_Destroy(subscription);
    return times;
}

}  // namespace

double direct_throughput(JetStreamClient& nats, const BridgeRoute& route, std::size_t size, std::size_t count,
                         bool with_ids) {
    nats.purge_stream(route.stream);
    const auto failed_before = nats.failed_publishes();
    const auto text = payload(0, size);
    // Unique across runs, as the stream's duplicate window outlives a purge.
    const auto id_prefix = "bench/" + std::to_string(Clock::now().time_since_epoch().count()) + "/";
    const auto start = Clock::now();
    for (std::size_t i = 0; i < count; ++i) {
        if (with_ids) {
            nats.publish_async_with_id(route.direct_subject, text.data(), text.size(), id_prefix + std::to_string(i));
        } else {
            nats.publish_async(route.direct_subject, text.data(), text.size());
        }
    }
    nats.wait_for_publish_acks();
    const auto end = Clock::now();
    if (nats.failed_publishes() != failed_before) {
        throw std::runtime_error(std::to_string(nats.failed_publishes() - failed_before) + " of " +
                                 std::to_string(count) + " direct publishes failed");
    }
    stream_filled(nats, route.stream, count);  // the check: every one stored
    return rate(count, start, end);
}

double bridged_throughput(JetStreamClient& nats, const BridgeRoute& route, std::size_t size, std::size_t count,
                          double& cpu_us) {
    nats.purge_stream(route.stream);
    const double cpu_before = cpu_seconds(route.bridge);
    const auto text = payload(0, size);
    std::vector<OutgoingMessage> batch(send_batch_size, OutgoingMessage{text.data(), text.size()});
    const auto start = Clock::now();
    // The producer runs beside the wait, as an application beside the bridge.
    std::string failure;
    std::thread producer([&] {
        for (std::size_t next = 0; next < count;) {
            const std::size_t wanted = std::min(send_batch_size, count - next);
            std::size_t sent = 0;
            const Status status = route.queue->send_batch(batch.data(), wanted, sent);
            if (status != Status::ok) {
                failure = "sending to the bridged shmq queue: " + std::string(to_string(status));
                return;
            }
            next += sent;
        }
    });
    Clock::time_point end;
    try {
        end = stream_filled(nats, route.stream, count);
    } catch (...) {
        producer.join();
        throw;
    }
    producer.join();
    if (!failure.empty()) throw std::runtime_error(failure);
    cpu_us = (cpu_seconds(route.bridge) - cpu_before) * 1e6 / static_cast<double>(count);
    return rate(count, start, end);
}

std::vector<double> publish_ack_round_trips(JetStreamClient& nats, const BridgeRoute& route, std::size_t size,
                                            std::size_t samples) {
    std::vector<double> times;
    for (std::size_t i = 0; i < samples; ++i) {
        const auto text = payload(i, size);
        const auto start = Clock::now();
        nats.publish(route.direct_subject, text.data(), text.size());
        times.push_back(microseconds(Clock::now() - start));
    }
    return times;
}

std::vector<double> direct_one_way(JetStreamClient& nats, const BridgeRoute& route, std::size_t size,
                                   std::size_t samples) {
    auto times = one_way(nats, route.direct_subject, size, samples, [&](const std::string& text) {
        nats.publish_async(route.direct_subject, text.data(), text.size());
    });
    nats.wait_for_publish_acks();
    return times;
}

std::vector<double> bridged_one_way(JetStreamClient& nats, const BridgeRoute& route, std::size_t size,
                                    std::size_t samples) {
    return one_way(nats, route.bridged_subject, size, samples, [&](const std::string& text) {
        const Status status = route.queue->send(text.data(), text.size());
        if (status != Status::ok) {
            throw std::runtime_error("sending to the bridged shmq queue: " + std::string(to_string(status)));
        }
    });
}

}  // namespace shmq::bench
