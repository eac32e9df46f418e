// The whole chain, as two machines would run it, under failures: producers on
// broker A, shmq-bridge out of A into an R3 stream of a 3-node NATS JetStream
// cluster, shmq-bridge from the stream into broker B, a consumer on B. Mid-
// stream one NATS node is killed (SIGKILL) and brought back, and each bridge
// is killed (SIGKILL) once and restarted. Every message must arrive, each
// producer's in order once duplicates are removed; duplicates are counted and
// reported.
//
// SHMQ_BRIDGE_TEST_MESSAGES sets how many messages (default 100000, about a
// minute here; the 1000000 takes several minutes on 2 shared cores).
#define BOOST_TEST_MODULE bridge_cluster_tests
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <thread>
#include <vector>

#include "bridge_process.hpp"
#include "tests/support/test_support.hpp"

using namespace shmq;
using namespace std::chrono_literals;

namespace {

constexpr int producers = 4;
constexpr std::size_t payload_size = 64;

std::size_t message_count() {
    const char* text = std::getenv("SHMQ_BRIDGE_TEST_MESSAGES");
    return text != nullptr ? std::strtoull(text, nullptr, 10) : 100000;
}

// What the consumer on B saw, per producer.
struct Tally {
    std::vector<std::vector<bool>> seen;
    std::vector<std::uint64_t> highest;
    std::atomic<std::uint64_t> unique{0};
    std::atomic<std::uint64_t> duplicates{0};
    std::atomic<std::uint64_t> out_of_order{0};
    std::atomic<std::uint64_t> malformed{0};

    explicit Tally(std::size_t per_producer)
        : seen(producers, std::vector<bool>(per_producer)), highest(producers, 0) {}

    void note(const char* data, std::size_t size) {
        unsigned producer = 0;
        unsigned long long sequence = 0;
        if (std::sscanf(std::string(data, size).c_str(), "p%u s%llu", &producer, &sequence) != 2 ||
            producer >= seen.size() || sequence == 0 || sequence > seen[producer].size()) {
            malformed.fetch_add(1);
            return;
        }
        auto&& slot = seen[producer][sequence - 1];
        if (slot) {
            duplicates.fetch_add(1);
            return;
        }
        slot = true;
        // A first arrival below one already seen: the producer's order broke.
        if (sequence < highest[producer]) out_of_order.fetch_add(1);
        highest[producer] = std::max<std::uint64_t>(highest[producer], sequence);
        unique.fetch_add(1);
    }
};

std::string bridge_config(const std::string& broker, const std::vector<test::NatsNode>& nodes,
                          const std::string& stats, const std::string& route) {
    std::string urls;
    for (const auto& node : nodes) urls += (urls.empty() ? "" : ", ") + node.url();
    return "broker: " + broker + "\nstats_file: " + stats + "\nstats_interval_ms: 200\nnats:\n  urls: [" + urls +
           "]\n  reconnect_wait_ms: 200\n  connect_timeout_ms: 1000\n  request_timeout_ms: 3000\nroutes:\n" + route;
}

// Everything the test started, stopped however the test ends.
struct Processes {
    std::vector<pid_t> pids;  // bridges, then NATS nodes, then brokers: stopped in that order
    ~Processes() {
        for (const pid_t pid : pids) test::stop_process(pid);
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(every_message_crosses_two_bridges_and_a_nats_cluster_through_kills) {
    const std::size_t total = message_count();
    const std::size_t per_producer = total / producers;
    BOOST_TEST_REQUIRE(per_producer > 0u);
    test::TempDir dir;

    // Brokers A and B: separate processes, as on two machines.
    auto config_a = test::make_config("bridge-a");
    auto& out = test::add_queue(config_a, "out", 16384, 128);
    out.delivery = config::DeliveryMode::at_least_once;
    out.ack_timeout_ms = 30000;
    out.max_deliveries = 1000;
    auto config_b = test::make_config("bridge-b");
    test::add_queue(config_b, "in", 16384, 128);
    Processes brokers;
    brokers.pids = {test::start_broker_process(config_a), test::start_broker_process(config_b)};
    Processes nats;
    auto nodes = test::start_nats_cluster(dir.path(), 3);
    for (const auto& node : nodes) nats.pids.push_back(node.pid);
    const auto stats_a = dir.path() + "/bridge-a.prom";
    const auto stats_b = dir.path() + "/bridge-b.prom";
    const auto bridge_a_config = dir.write(
        "bridge-a.yaml",
        bridge_config(config_a.name, nodes, stats_a,
                      "  - name: a-out\n    direction: out\n    queue: out\n    subject: chain.a\n    ordered: true\n"
                      "    publish_ack_timeout_ms: 2000\n"
                      "    stream: {name: CHAIN, create: true, subjects: [\"chain.>\"], replicas: 3}\n"));
    const auto bridge_b_config = dir.write(
        "bridge-b.yaml",
        bridge_config(config_b.name, nodes, stats_b,
                      "  - name: b-in\n    direction: in\n    queue: in\n    stream: CHAIN\n    consumer: to-b\n"
                      "    subject: chain.a\n    ack_wait_s: 5\n"));
    const auto log_a = dir.path() + "/bridge-a.log";
    const auto log_b = dir.path() + "/bridge-b.log";
    Processes bridges;
    bridges.pids = {test::spawn({test::bridge_binary(), "--config", bridge_a_config}, log_a),
                    test::spawn({test::bridge_binary(), "--config", bridge_b_config}, log_b)};

    // The consumer on B.
    Tally tally(per_producer);
    std::atomic<bool> consuming{true};
    struct Joined {
        std::atomic<bool>& flag;
        std::thread thread;
        ~Joined() {
            flag.store(false);
            if (thread.joinable()) thread.join();
        }
    } consumer{consuming, std::thread([&] {
        auto client = test::attach(config_b.name);
        auto in = test::open_queue(*client, "in");
        std::vector<std::array<char, 128>> buffers(256);
        std::vector<IncomingMessage> batch(buffers.size());
        while (consuming.load()) {
            for (std::size_t i = 0; i < batch.size(); ++i) batch[i] = {buffers[i].data(), buffers[i].size(), 0, 0};
            std::size_t received = 0;
            if (in.receive_batch(batch.data(), batch.size(), received, 100ms) != Status::ok) continue;
            for (std::size_t i = 0; i < received; ++i) {
                tally.note(static_cast<const char*>(batch[i].buffer), batch[i].size);
            }
        }
    })};

    // The producers on A: forked processes, each its own sequence.
    const auto start = std::chrono::steady_clock::now();
    std::vector<pid_t> children;
    for (int p = 0; p < producers; ++p) {
        children.push_back(test::fork_child([&, p] {
            auto client = test::attach_or_exit(config_a.name);
            Queue queue;
            if (client->open_queue("out", queue) != Status::ok) return 41;
            std::vector<std::string> texts(64);
            std::vector<OutgoingMessage> batch(texts.size());
            for (std::size_t next = 1; next <= per_producer;) {
                std::size_t count = 0;
                for (; count < texts.size() && next + count <= per_producer; ++count) {
                    texts[count] = "p" + std::to_string(p) + " s" + std::to_string(next + count) + " ";
                    texts[count].resize(payload_size, 'x');
                    batch[count] = {texts[count].data(), texts[count].size()};
                }
                std::size_t sent = 0;
                if (queue.send_batch(batch.data(), count, sent) != Status::ok) return 42;
                next += count;
            }
            return 0;
        }));
    }

    // Waits until `fraction` of the messages arrived; a stall fails the test.
    auto progress_to = [&](double fraction, const char* before) {
        const auto wanted = static_cast<std::uint64_t>(fraction * static_cast<double>(per_producer * producers));
        const bool reached = test::eventually([&] { return tally.unique.load() >= wanted; }, 300s);
        BOOST_TEST_REQUIRE(reached, "stalled at " << tally.unique.load() << " of " << wanted << " messages before "
                                                  << before << "\n" << test::tail_of(log_a) << test::tail_of(log_b));
    };
    progress_to(0.15, "killing a NATS node");
    test::kill_process(nodes[1].pid);
    nats.pids[1] = -1;
    BOOST_TEST_MESSAGE("killed NATS node n2 at " << tally.unique.load());
    progress_to(0.30, "restarting the NATS node");
    nodes[1].start();
    nats.pids[1] = nodes[1].pid;
    BOOST_TEST_MESSAGE("restarted NATS node n2 at " << tally.unique.load());
    progress_to(0.45, "killing bridge A");
    test::kill_process(bridges.pids[0]);
    BOOST_TEST_MESSAGE("killed bridge A at " << tally.unique.load());
    std::this_thread::sleep_for(500ms);
    bridges.pids[0] = test::spawn({test::bridge_binary(), "--config", bridge_a_config}, log_a);
    progress_to(0.65, "killing bridge B");
    test::kill_process(bridges.pids[1]);
    BOOST_TEST_MESSAGE("killed bridge B at " << tally.unique.load());
    std::this_thread::sleep_for(500ms);
    bridges.pids[1] = test::spawn({test::bridge_binary(), "--config", bridge_b_config}, log_b);
    progress_to(1.0, "the end");
    const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    for (const pid_t child : children) BOOST_TEST(test::wait_child(child, 60s) == 0);
    // A moment for late duplicates to show up in the count.
    std::this_thread::sleep_for(1s);
    consuming.store(false);
    consumer.thread.join();

    const auto republished = test::metric_of(stats_a, "shmq_bridge_retries_total", "a-out");
    const auto absorbed = test::metric_of(stats_a, "shmq_bridge_duplicates_total", "a-out");
    const auto skipped = test::metric_of(stats_b, "shmq_bridge_duplicates_total", "b-in");
    std::cout << "bridge chain: " << tally.unique.load() << " messages in " << seconds << " s ("
              << static_cast<long long>(tally.unique.load() / seconds) << " msg/s) through 1 NATS node kill and 2 "
              << "bridge kills; duplicates at B: " << tally.duplicates.load()
              << ", out of order: " << tally.out_of_order.load() << "; since its restart bridge A republished "
              << republished << " (JetStream dropped " << absorbed << " as duplicates), bridge B skipped " << skipped
              << " redeliveries\n";
    BOOST_TEST(tally.unique.load() == per_producer * producers);
    BOOST_TEST(tally.malformed.load() == 0u);
    // Per-producer order: with duplicates removed, each producer's messages
    // arrive strictly increasing (docs/bridge.md, "Order").
    BOOST_TEST(tally.out_of_order.load() == 0u);
}
