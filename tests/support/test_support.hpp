// Helpers for the suites that run the broker (in this process or forked) and
// reach its segment directly; the files, processes and real programs of a
// test are in files.hpp, processes.hpp, programs.hpp and shmqd.hpp.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <ostream>
#include <memory>
#include <string>
#include <sys/types.h>
#include <thread>

#include "common/segment_mapping.hpp"
#include "common/segment_view.hpp"
#include "shmq/status.hpp"
#include "shmq/client.hpp"
#include "config/broker_config.hpp"
#include "daemon/broker.hpp"
#include "tests/support/files.hpp"
#include "tests/support/processes.hpp"
#include "tests/support/shmqd.hpp"

namespace shmq {
// So Boost.Test can print a Status in a failed assertion.
inline std::ostream& operator<<(std::ostream& out, Status status) { return out << to_string(status); }
}  // namespace shmq

namespace shmq::test {

// A configuration with one queue per call to add_queue and one topic per call
// to add_topic, ready to run.
config::BrokerConfig make_config(const std::string& tag);
config::QueueConfig& add_queue(config::BrokerConfig& config, const std::string& name, std::uint32_t capacity,
                               std::uint32_t max_message_size,
                               config::OverflowPolicy overflow = config::OverflowPolicy::block);
config::TopicConfig& add_topic(config::BrokerConfig& config, const std::string& name, std::uint32_t capacity,
                               std::uint32_t max_message_size,
                               config::SlowSubscriberPolicy slow_subscriber = config::SlowSubscriberPolicy::block,
                               std::uint32_t history = 0);

// The real broker, running on a thread of this process: fast to start, and
// its reaper sees the test's forked children like any other client.
class InProcessBroker {
public:
    explicit InProcessBroker(config::BrokerConfig config);
    ~InProcessBroker();  // stops it (clients wake with broker_stopped) and removes the segment
    void stop();
    const std::string& name() const { return broker_->config().name; }
    daemon::Broker& broker() { return *broker_; }

private:
    std::unique_ptr<daemon::Broker> broker_;
    std::thread runner_;
};

// The real broker in a process of its own (forked, not exec'd), so that a
// test can kill -9 it: returns once the broker's segment accepts clients.
pid_t start_broker_process(const config::BrokerConfig& config);

bool segment_exists(const std::string& broker_name);

// A counter in memory shared with forked children, zero at first. Never
// freed: a test makes a handful.
std::atomic<int>& shared_counter();

// A broker's segment mapped directly, below the client library, and validated
// into `view`, so that a test can reach any word of it. Throws
// std::runtime_error saying why when it cannot (usable in forked children).
struct RawSegment {
    explicit RawSegment(const std::string& address);
    std::byte* base() const { return mapping->base(); }
    std::unique_ptr<SegmentMapping> mapping;
    SegmentView view;
};

// A message of `length` bytes whose every byte depends on its offset and on
// the length, so that a byte copied short, shifted or from another message
// shows in a comparison.
std::string patterned_message(std::size_t length);

// Waits until the broker has run a whole tick that started at or after the
// monotonic instant `after_ns`: its heartbeat is stamped first in each tick,
// so a later heartbeat than the first one past `after_ns` means that tick
// finished.
void wait_for_a_broker_tick_after(const layout::SegmentRoot& root, std::uint64_t after_ns);

// kill -9 at an exact step of the protocol: a child maps `broker`'s segment
// below the client library, runs `stage` on it, says it is in place and
// waits; the test then kills it with SIGKILL.
void die_in_place(const std::string& broker, const std::function<void(RawSegment&)>& stage);
// A child attaches to `broker` and runs `stage` (false: it failed, and so does
// the test), then waits in place to be killed. Returns its pid.
pid_t start_in_place(const std::string& broker, const std::function<bool(Client&)>& stage);

// On a queue configured `producers: single` (`consumers: single`), a killed
// client's lease stays until the broker's reaper has released what it held
// and the tick after frees the lease: `operation` is retried while it
// answers exclusive_held (up to 10 s), and its first other answer returned.
template <typename Operation>
Status once_the_lease_is_free(Operation operation) {
    using namespace std::chrono_literals;
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    Status status = operation();
    while (status == Status::exclusive_held && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(10ms);
        status = operation();
    }
    return status;
}

// Attaches to `broker`; the test fails (and stops) if it cannot.
std::unique_ptr<Client> attach(const std::string& broker);
// Attaches once a broker serves `address` (its segment may not exist yet,
// or be a dead broker's); the test fails and stops if none does within 30 s.
std::unique_ptr<Client> attach_when_served(const std::string& address);
// For forked children, outside the test framework: exits with 40 on failure.
std::unique_ptr<Client> attach_or_exit(const std::string& broker);
// Opens queue `name`; the test fails (and stops) if it cannot.
Queue open_queue(Client& client, const std::string& name);
// The stats of one queue or topic; the test fails if there is none.
QueueStats queue_stats(Client& client, const std::string& name);
TopicStats topic_stats(Client& client, const std::string& name);

// Makes the persistent segment at `persist_path` look as a reboot leaves a
// segment whose queues were idle: another boot id.
void simulate_reboot(const std::string& persist_path);
// Writes into the claim word of `position` what a producer's claim of it
// writes (QueueRing::claim_by_word): `claimer` and the lap tag of position.
// For tests that stand for a claim in flight, or scribble one.
void write_claim(QueueRing& ring, std::uint64_t position, OwnerStamp claimer);
// The same for a queue, which has no lock: another boot id, and the slot at
// queue `queue`'s tail claimed (its claim word written, tail not moved yet) by a client
// record of the old boot, as a producer the power cut stopped mid-claim
// leaves it.
void simulate_reboot_mid_claim(const std::string& persist_path, std::uint32_t queue);

}  // namespace shmq::test
