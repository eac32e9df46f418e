// shmq-bridge on its own, against one real nats-server on loopback and a real
// broker: configuration errors, clear errors for a wrong URL and a missing
// stream, and flow control of an in route into a full queue.
#define BOOST_TEST_MODULE bridge_tests
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <functional>
#include <memory>
#include <set>
#include <sys/wait.h>
#include <thread>

#include "bridge_process.hpp"
#include "tests/support/test_support.hpp"

using namespace shmq;
using namespace std::chrono_literals;

namespace {

// Exit status and output (stdout and stderr) of `command`.
int run(const std::string& command, std::string& output) {
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen((command + " 2>&1").c_str(), "r"), ::pclose);
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe.get())) > 0;) output.append(buffer, n);
    const int status = ::pclose(pipe.release());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool log_says(const std::string& log, const std::string& text) {
    return test::eventually(
        [&] {
            if (test::read_text_file(log).find(text) != std::string::npos) return true;
            std::this_thread::sleep_for(50ms);
            return false;
        },
        60s);
}

struct Stopped {
    pid_t pid;
    ~Stopped() { test::stop_process(pid); }
};

}  // namespace

BOOST_AUTO_TEST_CASE(check_config_names_every_problem_with_its_line) {
    test::TempDir dir;
    const auto file = dir.write("bad.yaml",
                                "nats:\n  urls: [http://example]\nroutes:\n"
                                "  - direction: sideways\n    queue: q\n    topic: t\n"
                                "  - direction: in\n    queue: q\n    stream: S\n    windw: 3\n");
    std::string output;
    BOOST_TEST(run(test::bridge_binary() + " --check-config --config " + file, output) == 1);
    for (const char* expected : {"bad.yaml:2: nats.urls: 'http://example' is not a nats:// or tls:// URL",
                                 "routes[0].direction: must be out", "routes[0].queue: give exactly one of queue and topic",
                                 "routes[0].stream: the JetStream stream's name is required",
                                 "routes[1].consumer: an in route needs its durable consumer's name",
                                 ":10: routes[1].windw: unknown key"}) {
        BOOST_TEST(output.find(expected) != std::string::npos, "missing '" << expected << "' in:\n" << output);
    }
    output.clear();
    BOOST_TEST(run(test::bridge_binary() + " --check-config --config " + SHMQ_SOURCE_DIR + "/examples/shmq-bridge.yaml",
                   output) == 0);
    BOOST_TEST(output.find("route orders-out: out: queue orders -> subject orders.host-a") != std::string::npos, output);
}

BOOST_AUTO_TEST_CASE(an_ini_file_configures_the_same_routes_and_its_mistakes_are_named) {
    // The INI example says what the YAML one says: the same routes, line for
    // line after the "FILE: valid" line.
    std::string output, yaml_output;
    const std::string examples = std::string(SHMQ_SOURCE_DIR) + "/examples/shmq-bridge.";
    BOOST_TEST(run(test::bridge_binary() + " --check-config --config " + examples + "ini", output) == 0, output);
    BOOST_TEST(run(test::bridge_binary() + " --check-config --config " + examples + "yaml", yaml_output) == 0);
    const auto routes_of = [](const std::string& text) { return text.substr(text.find('\n') + 1); };
    BOOST_TEST(routes_of(output) == routes_of(yaml_output));
    BOOST_TEST(output.find("route orders-in: in: stream ORDERS consumer host-a-orders (orders.>) -> queue orders-in")
                   != std::string::npos, output);
    test::TempDir dir;
    const auto bad = dir.write("bad.ini",
                               "[nats]\nurls = nats://a:4222, http://b\n"
                               "[route.x]\ndirection = sideways\nqueue = q\nstream.replicas = many\nwindw = 3\n"
                               "[routes]\nqueue = q\n");
    output.clear();
    BOOST_TEST(run(test::bridge_binary() + " --check-config --config " + bad, output) == 1);
    BOOST_TEST(output.find("[routes]: unknown section") != std::string::npos, output);
    const auto fixed = dir.write("fixed.ini",
                                 "[nats]\nurls = nats://a:4222, http://b\n"
                                 "[route.x]\ndirection = sideways\nqueue = q\nstream.replicas = many\nwindw = 3\n");
    output.clear();
    BOOST_TEST(run(test::bridge_binary() + " --check-config --config " + fixed, output) == 1);
    for (const char* expected : {"nats.urls: 'http://b' is not a nats:// or tls:// URL", "route.x.direction: must be out",
                                 "route.x.stream.replicas: not a valid value", "route.x.windw: unknown key",
                                 "route.x.stream: the JetStream stream's name is required"}) {
        BOOST_TEST(output.find(expected) != std::string::npos, "missing '" << expected << "' in:\n" << output);
    }
    const auto twice = dir.write("twice.ini", "[nats]\nurls = nats://a:4222\n[route.x]\nqueue = q\n[route.x]\n");
    output.clear();
    BOOST_TEST(run(test::bridge_binary() + " --check-config --config " + twice, output) == 1);
    BOOST_TEST(output.find("twice.ini:5: not valid INI: duplicate section name") != std::string::npos, output);
}

BOOST_AUTO_TEST_CASE(a_wrong_url_is_reported_and_a_stop_request_still_ends_the_bridge) {
    test::TempDir dir;
    const auto url = "nats://127.0.0.1:" + std::to_string(test::free_port());
    const auto file = dir.write("bridge.yaml", "nats:\n  urls: [" + url +
                                                   "]\n  connect_timeout_ms: 200\n  reconnect_wait_ms: 100\n"
                                                   "routes:\n  - {direction: out, queue: q, subject: s, stream: S}\n");
    const auto log = dir.path() + "/bridge.log";
    const pid_t bridge = test::spawn({test::bridge_binary(), "--config", file}, log);
    BOOST_TEST(log_says(log, "no NATS server reachable at " + url), test::tail_of(log));
    ::kill(bridge, SIGTERM);
    BOOST_TEST(test::wait_child(bridge, 30s) == 0);
}

BOOST_AUTO_TEST_CASE(a_missing_stream_is_an_error_naming_it_unless_the_route_may_create_it) {
    test::TempDir dir;
    auto config = test::make_config("bridge-nostream");
    test::add_queue(config, "q", 64, 64);
    test::InProcessBroker broker(config);
    auto nodes = test::start_nats_cluster(dir.path(), 1);
    Stopped nats{nodes[0].pid};
    const auto file =
        dir.write("bridge.yaml", "broker: " + broker.name() + "\nnats:\n  urls: [" + nodes[0].url() +
                                     "]\nroutes:\n  - {name: r, direction: out, queue: q, subject: s, stream: ABSENT}\n");
    const auto log = dir.path() + "/bridge.log";
    Stopped bridge{test::spawn({test::bridge_binary(), "--config", file}, log)};
    BOOST_TEST(log_says(log, "route r: JetStream has no stream ABSENT (create it, or set stream.create: true"),
               test::tail_of(log));
}

BOOST_AUTO_TEST_CASE(a_full_queue_pauses_the_in_route_and_nothing_is_dropped) {
    // One broker, one bridge: queue src -> stream -> queue dst, which holds
    // only 8 messages and is read only once the bridge has had to wait.
    test::TempDir dir;
    auto config = test::make_config("bridge-full");
    auto& src = test::add_queue(config, "src", 1024, 64);
    src.delivery = config::DeliveryMode::at_least_once;
    test::add_queue(config, "dst", 8, 64);
    test::InProcessBroker broker(config);
    auto nodes = test::start_nats_cluster(dir.path(), 1);
    Stopped nats{nodes[0].pid};
    const auto stats = dir.path() + "/stats.prom";
    const auto file = test::write_bridge_config(
        dir, broker.name(), stats, nodes[0],
        "  - {name: up, direction: out, queue: src, subject: loop.a, stream: {name: LOOP, create: true}}\n"
        "  - {name: down, direction: in, queue: dst, subject: loop.a, stream: LOOP, consumer: down, batch: 16}\n");
    const auto log = dir.path() + "/bridge.log";
    Stopped bridge{test::spawn({test::bridge_binary(), "--config", file}, log)};

    auto client = test::attach(broker.name());
    auto source = test::open_queue(*client, "src");
    constexpr int count = 300;
    for (int i = 0; i < count; ++i) BOOST_TEST_REQUIRE(source.send("m" + std::to_string(i), 5s) == Status::ok);
    BOOST_TEST(test::eventually(
                   [&] {
                       std::this_thread::sleep_for(50ms);
                       return test::metric_of(stats, "shmq_bridge_paused_milliseconds_total", "down") > 0 &&
                              test::metric_of(stats, "shmq_bridge_delivered_total", "up") == count;
                   },
                   60s),
               test::tail_of(log));
    BOOST_TEST(test::queue_stats(*client, "dst").depth == 8u);
    BOOST_TEST(test::queue_stats(*client, "dst").rejected + test::queue_stats(*client, "dst").dropped == 0u);

    auto destination = test::open_queue(*client, "dst");
    for (int i = 0; i < count; ++i) {
        std::string message;
        BOOST_TEST_REQUIRE(destination.receive(message, 30s) == Status::ok, "message " << i << "\n" << test::tail_of(log));
        BOOST_TEST(message == "m" + std::to_string(i));
    }
    std::string extra;
    BOOST_TEST(destination.receive(extra, 500ms) == Status::timeout);
    BOOST_TEST(test::metric_of(stats, "shmq_bridge_lag", "up") >= 0);
}

namespace {

// A topic out route into stream TOPICS and, through a second bridge that is
// never killed, back into queue `dst` of the same broker, where the test
// reads what the stream received. The out bridge is the one killed.
struct TopicLoop {
    test::TempDir dir;
    std::unique_ptr<test::InProcessBroker> broker;
    std::vector<test::NatsNode> nodes;
    std::string out_config, out_log, out_stats, in_log;
    pid_t out_bridge = -1, in_bridge = -1;
    // The publisher, a process of its own, publishes "t<i>" for every i
    // below `allowed` (raised by the test) and counts them in `published`.
    std::atomic<int>& allowed = test::shared_counter();
    std::atomic<int>& published = test::shared_counter();
    pid_t publisher = -1;

    TopicLoop(const std::string& tag, std::uint32_t capacity, std::uint32_t history, int total) {
        auto config = test::make_config(tag);
        test::add_topic(config, "t", capacity, 64, config::SlowSubscriberPolicy::drop, history);
        test::add_queue(config, "dst", 8192, 64);
        broker = std::make_unique<test::InProcessBroker>(config);
        nodes = test::start_nats_cluster(dir.path(), 1);
        out_stats = dir.path() + "/out.prom";
        out_log = dir.path() + "/out.log";
        in_log = dir.path() + "/in.log";
        const auto head = "broker: " + broker->name() + "\nnats:\n  urls: [" + nodes[0].url() + "]\n";
        out_config = dir.write("out.yaml", head + "stats_file: " + out_stats +
                                               "\nstats_interval_ms: 100\nroutes:\n"
                                               "  - {name: up, direction: out, topic: t, subject: topics.t,"
                                               " stream: {name: TOPICS, create: true}}\n");
        const auto in_config =
            dir.write("in.yaml", head + "routes:\n  - {name: down, direction: in, queue: dst, subject: topics.t,"
                                        " stream: TOPICS, consumer: down}\n");
        out_bridge = test::spawn({test::bridge_binary(), "--config", out_config}, out_log);
        in_bridge = test::spawn({test::bridge_binary(), "--config", in_config}, in_log);
        // Subscribed before anything is published: the first run owes the
        // stream every message of the test.
        BOOST_TEST_REQUIRE(log_says(out_log, "route up: topics.t has no message of this broker run yet"),
                           test::tail_of(out_log));
        const std::string name = broker->name();
        publisher = test::fork_child([this, name, total] {
            auto client = test::attach_or_exit(name);
            Topic topic;
            if (client->open_topic("t", topic) != Status::ok) return 80;
            for (int i = 0; i < total; ++i) {
                while (i >= allowed.load()) std::this_thread::sleep_for(1ms);
                if (topic.publish("t" + std::to_string(i), 10s) != Status::ok) return 81;
                published.store(i + 1);
            }
            return 0;
        });
    }
    ~TopicLoop() {
        allowed.store(1 << 30);
        test::wait_child(publisher, 30s);
        test::stop_process(out_bridge);
        test::stop_process(in_bridge);
        for (const auto& node : nodes) test::stop_process(node.pid);
    }
    void publish_up_to(int count) {
        allowed.store(count);
        BOOST_TEST_REQUIRE(test::eventually([&] { return published.load() == count; }, 60s));
    }
    bool out_delivered(long long count) {
        return test::eventually(
            [&] {
                std::this_thread::sleep_for(50ms);
                return test::metric_of(out_stats, "shmq_bridge_delivered_total", "up") >= count;
            },
            60s);
    }
    void kill_and_restart_out_bridge_after(const std::function<void()>& while_down) {
        test::kill_process(out_bridge);
        while_down();
        ::unlink(out_stats.c_str());  // the new run's counters, not the old run's last ones
        out_bridge = test::spawn({test::bridge_binary(), "--config", out_config}, out_log);
    }
    // What reached `dst` through the stream: the number of each message, in
    // order of arrival, until `wanted` distinct ones arrived (or 30 s of
    // silence).
    std::vector<int> arrivals(std::size_t wanted) {
        auto client = test::attach(broker->name());
        auto queue = test::open_queue(*client, "dst");
        std::vector<int> numbers;
        std::set<int> distinct;
        std::string message;
        while (distinct.size() < wanted && queue.receive(message, 30s) == Status::ok) {
            numbers.push_back(std::stoi(message.substr(1)));
            distinct.insert(numbers.back());
        }
        return numbers;
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_topic_out_route_killed_and_restarted_forwards_what_was_published_meanwhile) {
    // The out bridge dies with publishes in flight while the publisher goes
    // on; its successor learns from the stream where it stopped and forwards
    // the rest from the topic's history: every message arrives, in order.
    constexpr int total = 3000;
    TopicLoop loop("bridge-topic-restart", 4096, 2048, total);
    loop.publish_up_to(1000);
    BOOST_TEST_REQUIRE(loop.out_delivered(300), test::tail_of(loop.out_log));
    loop.kill_and_restart_out_bridge_after([&] { loop.publish_up_to(2000); });
    // The rest once the new route subscribed: published before, it would
    // push the oldest unforwarded messages out of the history of 2048.
    BOOST_TEST_REQUIRE(log_says(loop.out_log, "route up: stream TOPICS holds topic t up to position"),
                       test::tail_of(loop.out_log));
    loop.publish_up_to(total);

    const auto numbers = loop.arrivals(total);
    std::set<int> distinct(numbers.begin(), numbers.end());
    BOOST_TEST(distinct.size() == std::size_t(total), test::tail_of(loop.out_log) << test::tail_of(loop.in_log));
    int next = 0;
    for (int number : numbers) {
        if (number == next) ++next;
        BOOST_TEST_REQUIRE(number < next, "message " << number << " arrived before " << next);
    }
    // The new run's stats file is written at its first stats tick, which
    // may come after the last arrival.
    long long lost = -1;
    BOOST_TEST_REQUIRE(test::eventually(
        [&] {
            std::this_thread::sleep_for(50ms);
            lost = test::metric_of(loop.out_stats, "shmq_bridge_lost_total", "up");
            return lost >= 0;
        },
        60s));
    BOOST_TEST(lost == 0);
    BOOST_TEST_MESSAGE(numbers.size() - distinct.size() << " duplicate(s) reached the stream");
}

BOOST_AUTO_TEST_CASE(a_topic_out_route_counts_what_its_restart_came_too_late_for) {
    // 100 more messages than the topic's history were published while no
    // bridge read it: the restarted route forwards the history and reports
    // exactly those 100 as lost.
    constexpr int before = 200, history = 256, beyond = 100;
    TopicLoop loop("bridge-topic-lapped", 512, history, before + history + beyond);
    loop.publish_up_to(before);
    BOOST_TEST_REQUIRE(loop.out_delivered(before), test::tail_of(loop.out_log));
    loop.kill_and_restart_out_bridge_after([&] { loop.publish_up_to(before + history + beyond); });
    BOOST_TEST(log_says(loop.out_log, "route up: up to 100 message(s) of topic t"), test::tail_of(loop.out_log));
    BOOST_TEST(test::eventually(
        [&] {
            std::this_thread::sleep_for(50ms);
            return test::metric_of(loop.out_stats, "shmq_bridge_lost_total", "up") == beyond;
        },
        60s));
    const auto numbers = loop.arrivals(before + history);
    std::set<int> distinct(numbers.begin(), numbers.end());
    BOOST_TEST(distinct.size() == std::size_t(before + history));
    for (int i = before; i < before + beyond; ++i) BOOST_TEST_REQUIRE(distinct.count(i) == 0u);
}

BOOST_AUTO_TEST_CASE(the_systemd_unit_verifies_cleanly) {
    // The unit as this build configured it, pointed at the built bridge and
    // the example configuration, which exist here.
    const std::string unit = test::read_text_file(std::string(SHMQ_BINARY_DIR) + "/systemd/shmq-bridge.service");
    const auto exec = unit.find("\nExecStart=");
    BOOST_TEST_REQUIRE(exec != std::string::npos);
    const auto end = unit.find('\n', exec + 1);
    BOOST_TEST(unit.find("Type=notify") != std::string::npos);
    test::TempDir dir;
    const auto copy = dir.write("shmq-bridge.service",
                                unit.substr(0, exec) + "\nExecStart=" + test::bridge_binary() + " --config " +
                                    SHMQ_SOURCE_DIR + "/examples/shmq-bridge.yaml" + unit.substr(end));
    std::string output;
    BOOST_TEST(run("systemd-analyze verify " + copy, output) == 0);
    BOOST_TEST(output.empty(), "systemd-analyze verify said:\n" << output);
}
