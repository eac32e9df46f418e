// An out route whose publishes get a bad answer, or none: the route reads
// JetStream's PubAcks itself, and whatever is not a positive ack must be a
// failed publish, published again and never acknowledged to shmq. A fake
// JetStream (a core NATS subscriber of the test on the route's subject,
// which no stream holds) gives the answers the test wants.
#define BOOST_TEST_MODULE bridge_pub_ack_failure_tests
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <mutex>
#include <thread>
#include <vector>

#include <nats/nats.h>

#include "bridge_process.hpp"
#include "tests/support/test_support.hpp"

using namespace shmq;
using namespace std::chrono_literals;

namespace {

// Answers the publishes to `subject` in turn from `answers`; an empty answer
// is none at all (a lost ack); the ones past the list get `otherwise`.
class FakeJetStream {
public:
    FakeJetStream(const std::string& url, const std::string& subject, std::vector<std::string> answers,
                  std::string otherwise)
        : answers_(std::move(answers)), otherwise_(std::move(otherwise)) {
        BOOST_TEST_REQUIRE(natsConnection_ConnectTo(&connection_, url.c_str()) == NATS_OK);
        BOOST_TEST_REQUIRE(natsConnection_Subscribe(&subscription_, connection_, subject.c_str(), on_message, this) ==
                           NATS_OK);
        BOOST_TEST_REQUIRE(natsConnection_Flush(connection_) == NATS_OK);
    }
    ~FakeJetStream() {
        natsSubscription_Unsubscribe(subscription_);
        natsSubscription_Destroy(subscription_);
        natsConnection_Close(connection_);
        natsConnection_Destroy(connection_);
    }
    std::size_t requests() {
        std::lock_guard<std::mutex> lock(mutex_);
        return requests_;
    }
private:
    static void on_message(natsConnection* connection, natsSubscription*, natsMsg* message, void* self) {
        auto& fake = *static_cast<FakeJetStream*>(self);
        std::string answer;
        {
            std::lock_guard<std::mutex> lock(fake.mutex_);
            const std::size_t index = fake.requests_++;
            answer = index < fake.answers_.size() ? fake.answers_[index] : fake.otherwise_;
        }
        const char* reply = natsMsg_GetReply(message);
        if (!answer.empty() && reply != nullptr) natsConnection_PublishString(connection, reply, answer.c_str());
        natsMsg_Destroy(message);
    }

    std::mutex mutex_;
    std::vector<std::string> answers_;
    std::string otherwise_;
    std::size_t requests_ = 0;
    natsConnection* connection_ = nullptr;
    natsSubscription* subscription_ = nullptr;
};

const std::string stored = R"({"stream":"FAKE","seq":1})";
const std::string refused = R"({"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"}})";

bool log_says(const std::string& log, const std::string& text) {
    return test::eventually([&] { return test::read_text_file(log).find(text) != std::string::npos; }, 30s);
}

// A broker with an at_least_once queue `src`, one NATS node, and a bridge
// whose route publishes `src` to fake.s: the stream it creates (REAL) holds
// other subjects, so the test's FakeJetStream alone answers.
struct Route {
    test::TempDir dir;
    config::BrokerConfig config = make_broker_config();
    test::InProcessBroker broker{config};
    std::vector<test::NatsNode> nodes = test::start_nats_cluster(dir.path(), 1);
    std::string stats = dir.path() + "/stats.prom";
    std::string log = dir.path() + "/bridge.log";
    pid_t bridge = -1;

    static config::BrokerConfig make_broker_config() {
        auto config = test::make_config("bridge-puback");
        auto& src = test::add_queue(config, "src", 64, 64);
        src.delivery = config::DeliveryMode::at_least_once;
        return config;
    }
    void start_bridge() {
        const auto file = test::write_bridge_config(dir, broker.name(), stats, nodes[0],
                                                    "  - {name: up, direction: out, queue: src, subject: fake.s,"
                                                    " publish_ack_timeout_ms: 1000,"
                                                    " stream: {name: REAL, create: true, subjects: [real.s]}}\n");
        bridge = test::spawn({test::bridge_binary(), "--config", file}, log);
    }
    long long metric(const std::string& name) { return test::metric_of(stats, name, "up"); }
    bool delivered(long long count) {
        return test::eventually(
            [&] {
                std::this_thread::sleep_for(50ms);
                return metric("shmq_bridge_delivered_total") == count;
            },
            30s);
    }
    ~Route() {
        if (bridge > 0) test::stop_process(bridge);
        for (const auto& node : nodes) test::stop_process(node.pid);
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_malformed_or_refused_ack_is_a_failure_never_acknowledged_to_shmq) {
    Route route;
    // The first publish's answer is cut short (the route's own parser), the
    // second (its republishing) an error; then none.
    FakeJetStream fake(route.nodes[0].url(), "fake.s", {R"({"stream":"FAKE","seq")", refused}, "");
    route.start_bridge();
    auto client = test::attach(route.broker.name());
    auto source = test::open_queue(*client, "src");
    BOOST_TEST_REQUIRE(source.send("m0", 5s) == Status::ok);

    BOOST_TEST_REQUIRE(log_says(route.log, "an unreadable PubAck"), test::tail_of(route.log));
    BOOST_TEST_REQUIRE(test::eventually([&] { return fake.requests() >= 3; }, 30s), test::tail_of(route.log));
    std::this_thread::sleep_for(300ms);  // a stats interval or more
    BOOST_TEST(route.metric("shmq_bridge_delivered_total") == 0);
    BOOST_TEST(route.metric("shmq_bridge_errors_total") >= 2);
    BOOST_TEST(route.metric("shmq_bridge_retries_total") >= 2);

    // Killed now, the bridge leaves the message to the broker, which gives
    // it out again: it was never acknowledged.
    test::kill_process(route.bridge);
    route.bridge = -1;
    std::string message;
    BOOST_TEST_REQUIRE(source.receive(message, 30s) == Status::ok);
    BOOST_TEST(message == "m0");
}

BOOST_AUTO_TEST_CASE(an_ack_not_back_in_time_is_a_failure_and_the_message_goes_again) {
    Route route;
    // No answer to the first publish; then positive acks.
    FakeJetStream fake(route.nodes[0].url(), "fake.s", {""}, stored);
    route.start_bridge();
    auto client = test::attach(route.broker.name());
    auto source = test::open_queue(*client, "src");
    BOOST_TEST_REQUIRE(source.send("m0", 5s) == Status::ok);

    BOOST_TEST_REQUIRE(route.delivered(1), test::tail_of(route.log));
    BOOST_TEST(log_says(route.log, "no PubAck within publish_ack_timeout_ms"), test::tail_of(route.log));
    BOOST_TEST(fake.requests() == 2u);
    BOOST_TEST(route.metric("shmq_bridge_errors_total") == 1);
    BOOST_TEST(route.metric("shmq_bridge_retries_total") == 1);
    // Acknowledged once JetStream's ack came: nothing comes back.
    BOOST_TEST(test::queue_stats(*client, "src").depth == 0u);
    std::string message;
    BOOST_TEST(source.receive(message, 500ms) == Status::timeout);

    // And the route goes on with the next ones.
    for (int i = 1; i <= 10; ++i) BOOST_TEST_REQUIRE(source.send("m" + std::to_string(i), 5s) == Status::ok);
    BOOST_TEST(route.delivered(11), test::tail_of(route.log));
}

BOOST_AUTO_TEST_CASE(a_producer_on_the_full_queue_gets_its_room_from_runs_of_acks_and_a_stop_ends_at_once) {
    Route route;
    FakeJetStream fake(route.nodes[0].url(), "fake.s", {}, stored);
    route.start_bridge();
    auto client = test::attach(route.broker.name());
    auto source = test::open_queue(*client, "src");
    // Ten times the queue's 64 slots: the producer keeps finding it full and
    // gets its room only from the route's acknowledgements, which come in
    // runs of acks (Queue::acknowledge_batch).
    constexpr int count = 640;
    for (int i = 0; i < count; ++i) BOOST_TEST_REQUIRE(source.send("m" + std::to_string(i), 30s) == Status::ok);
    BOOST_TEST_REQUIRE(route.delivered(count), test::tail_of(route.log));
    BOOST_TEST(fake.requests() >= static_cast<std::size_t>(count));
    std::string message;
    BOOST_TEST(source.receive(message, 500ms) == Status::timeout);  // every delivery acknowledged
    BOOST_TEST(test::queue_stats(*client, "src").depth == 0u);

    // The acks are read on the route's own thread: a stop has no nats.c
    // handler to wait for, and the bridge ends by itself, cleanly.
    ::kill(route.bridge, SIGTERM);
    const auto code = test::wait_for_exit(route.bridge, 20s);
    BOOST_TEST_REQUIRE(code.has_value(), test::tail_of(route.log));
    route.bridge = -1;
    BOOST_TEST(*code == 0, test::tail_of(route.log));
}
