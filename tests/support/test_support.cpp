#include "tests/support/test_support.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

#include "common/client_registry.hpp"
#include "common/logging.hpp"
#include "common/monotonic_clock.hpp"
#include "common/segment_mapping.hpp"

namespace shmq::test {

config::BrokerConfig make_config(const std::string& tag) {
    config::BrokerConfig config;
    config.name = unique_broker_name(tag);
    config.permissions = 0600;
    config.max_clients = 64;
    config.liveness_interval_ms = 50;
    return config;
}

config::QueueConfig& add_queue(config::BrokerConfig& config, const std::string& name, std::uint32_t capacity,
                               std::uint32_t max_message_size, config::OverflowPolicy overflow) {
    config::QueueConfig queue;
    queue.name = name;
    queue.capacity = capacity;
    queue.max_message_size = max_message_size;
    queue.overflow = overflow;
    config.queues.push_back(queue);
    return config.queues.back();
}

config::TopicConfig& add_topic(config::BrokerConfig& config, const std::string& name, std::uint32_t capacity,
                               std::uint32_t max_message_size, config::SlowSubscriberPolicy slow_subscriber,
                               std::uint32_t history) {
    config::TopicConfig topic;
    topic.name = name;
    topic.capacity = capacity;
    topic.max_message_size = max_message_size;
    topic.slow_subscriber = slow_subscriber;
    topic.history = history;
    config.topics.push_back(topic);
    return config.topics.back();
}

InProcessBroker::InProcessBroker(config::BrokerConfig config)
    : broker_(std::make_unique<daemon::Broker>(std::move(config))) {
    // Warnings and errors only: the broker's start-up summary would drown the test report.
    static const bool logging_ready = (log::init(log::Level::warning, ""), true);
    (void)logging_ready;
    broker_->start();
    // Returns only once run() has started the thread of its own (the client
    // event logger) and finished a whole tick: tests fork right after, and a
    // thread still being created can hold its allocator's or the thread
    // registry's locks across the fork, which leaves the child locked for
    // good (GCC 12's AddressSanitizer takes no lock around fork: seen as a
    // child of access_tests hanging in CI).
    runner_ = std::thread([this] { broker_->run(); });
    const auto& configured = broker_->config();
    const RawSegment raw(configured.persist_path.empty() ? configured.name : configured.persist_path);
    wait_for_a_broker_tick_after(raw.view.root(), monotonic_now_ns());
}

InProcessBroker::~InProcessBroker() { stop(); }

void InProcessBroker::stop() {
    if (!runner_.joinable()) return;
    broker_->request_stop();
    runner_.join();
}

pid_t start_broker_process(const config::BrokerConfig& config) {
    const pid_t pid = fork_child([&] {
        log::init(log::Level::warning, "");
        daemon::Broker broker(config);
        broker.start();
        broker.run();
        return 0;
    });
    const std::string address = config.persist_path.empty() ? config.name : config.persist_path;
    const bool ready = eventually([&] {
        std::unique_ptr<Client> client;
        AttachOptions options;
        options.broker = address;
        return Client::attach(options, client) == Status::ok && client->stats().broker_pid == pid;
    }, std::chrono::seconds(10));
    BOOST_TEST_REQUIRE(ready, "the broker process did not become ready");
    return pid;
}

std::atomic<int>& shared_counter() {
    void* memory = ::mmap(nullptr, sizeof(std::atomic<int>), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    BOOST_TEST_REQUIRE(memory != MAP_FAILED);
    return *new (memory) std::atomic<int>(0);
}

namespace {

// Both run their stage in a child that keeps what it mapped and attached until
// it is killed: a robust lock or a client record held in a mapping the child
// had already dropped would not be the kill the test means.
[[noreturn]] void stay_in_place(std::atomic<int>& in_place) {
    in_place.store(1);
    for (;;) ::pause();
}

// A child that cannot get in place (its stage failed, or it hangs) is killed
// before the test fails: left alive, it would hold the test's output pipe open
// and turn a quick failure into a ctest timeout.
void wait_in_place(std::atomic<int>& in_place, pid_t child) {
    std::optional<int> ended;
    const bool placed = eventually(
        [&] {
            if (in_place.load() == 1) return true;
            ended = wait_for_exit(child, std::chrono::milliseconds(0));
            return ended.has_value();
        },
        std::chrono::seconds(30));
    if (placed && in_place.load() == 1) return;
    if (!ended) kill_and_reap(child);
    BOOST_TEST_REQUIRE(false, "the child never got in place ("
                                  << (ended ? "it ended with code " + std::to_string(*ended) : "killed after 30 s")
                                  << ")");
}

}  // namespace

void die_in_place(const std::string& broker, const std::function<void(RawSegment&)>& stage) {
    auto& in_place = shared_counter();
    const pid_t child = fork_child([&] {
        RawSegment raw(broker);
        stage(raw);
        stay_in_place(in_place);
        return 0;
    });
    wait_in_place(in_place, child);
    ::kill(child, SIGKILL);
    BOOST_TEST_REQUIRE(wait_child(child, std::chrono::seconds(5)) == 128 + SIGKILL);
}

std::string patterned_message(std::size_t length) {
    std::string message(length, '\0');
    for (std::size_t i = 0; i < length; ++i) message[i] = static_cast<char>((i * 131 + length) % 251);
    return message;
}

void wait_for_a_broker_tick_after(const layout::SegmentRoot& root, std::uint64_t after_ns) {
    while (root.broker_heartbeat_ns.load() < after_ns) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const auto stamped = root.broker_heartbeat_ns.load();
    while (root.broker_heartbeat_ns.load() == stamped) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

pid_t start_in_place(const std::string& broker, const std::function<bool(Client&)>& stage) {
    auto& in_place = shared_counter();
    const pid_t child = fork_child([&] {
        std::unique_ptr<Client> client;
        AttachOptions options;
        options.broker = broker;
        if (Client::attach(options, client) != Status::ok || !stage(*client)) return 1;
        stay_in_place(in_place);
        return 0;
    });
    wait_in_place(in_place, child);
    return child;
}

bool segment_exists(const std::string& broker_name) {
    return std::filesystem::exists(SegmentMapping::file_system_path(broker_name));
}

std::unique_ptr<Client> attach(const std::string& broker) {
    std::unique_ptr<Client> client;
    AttachOptions options;
    options.broker = broker;
    std::string error;
    BOOST_TEST_REQUIRE(Client::attach(options, client, &error) == Status::ok, error);
    return client;
}

std::unique_ptr<Client> attach_when_served(const std::string& address) {
    AttachOptions options;
    options.broker = address;
    std::unique_ptr<Client> client;
    const bool served = eventually(
        [&] {
            client.reset();
            return Client::attach(options, client) == Status::ok && client->stats().broker_alive;
        },
        std::chrono::seconds(30));
    BOOST_TEST_REQUIRE(served, "no broker came to serve " << address);
    return client;
}

std::unique_ptr<Client> attach_or_exit(const std::string& broker) {
    std::unique_ptr<Client> client;
    AttachOptions options;
    options.broker = broker;
    if (Client::attach(options, client) != Status::ok) ::_exit(40);
    return client;
}

Queue open_queue(Client& client, const std::string& name) {
    Queue queue;
    BOOST_TEST_REQUIRE(client.open_queue(name, queue) == Status::ok);
    return queue;
}

QueueStats queue_stats(Client& client, const std::string& name) {
    for (const auto& queue : client.stats().queues) {
        if (queue.name == name) return queue;
    }
    BOOST_FAIL("no stats for queue " + name);
    return {};
}

TopicStats topic_stats(Client& client, const std::string& name) {
    for (const auto& topic : client.stats().topics) {
        if (topic.name == name) return topic;
    }
    BOOST_FAIL("no stats for topic " + name);
    return {};
}

RawSegment::RawSegment(const std::string& address) {
    std::string why;
    if (SegmentMapping::open(address, mapping, why) != platform::FileError::none) {
        throw std::runtime_error("cannot map segment '" + address + "': " + why);
    }
    if (SegmentView::validate(mapping->base(), mapping->size(), view, why) != Status::ok) {
        throw std::runtime_error("segment '" + address + "' does not validate: " + why);
    }
}

void simulate_reboot(const std::string& persist_path) {
    RawSegment raw(persist_path);
    std::memcpy(raw.view.root().boot_id, "00000000-0000-0000-0000-000000000000", 37);
}

void write_claim(QueueRing& ring, std::uint64_t position, OwnerStamp claimer) {
    const auto lap = ring_lap(position, ring.geometry().capacity);
    ring.claim_word_at(position).store(SlotWord::make(SlotState::writing, claimer, SlotWord::lap_tag(lap)));
}

void simulate_reboot_mid_claim(const std::string& persist_path, std::uint32_t queue) {
    RawSegment raw(persist_path);
    OwnerStamp old_boot;
    BOOST_TEST_REQUIRE(claim_client_record(raw.view, "old-boot-producer", old_boot) == Status::ok);
    auto& ring = raw.view.ring(queue);
    const auto tail = ring.control().tail.load();
    const auto lap = ring_lap(tail, ring.geometry().capacity);
    BOOST_TEST_REQUIRE(QueueRing::vacant_for(ring.slot_at(tail).word.load(), lap));
    write_claim(ring, tail, old_boot);
    std::memcpy(raw.view.root().boot_id, "00000000-0000-0000-0000-000000000000", 37);
}

}  // namespace shmq::test
