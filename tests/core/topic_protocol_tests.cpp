// Issue 9, for topics: the claim, publish, subscribe, read, release and
// unsubscribe take no lock, so a process killed between any two of their
// atomic steps leaves a state the others and the broker's reaper resolve.
// Each test kills a real process, the `shmq` tool exec'd with the test-only
// crash point SHMQ_TEST_CRASH_AT (common/test_crash_point.hpp), at one step,
// then checks that nothing is wedged and that what is counted is right. The
// last test scribbles over every shared word of a topic while real clients
// use it and are killed, under a real shmqd that must neither crash nor hang.
#define BOOST_TEST_MODULE topic_protocol_tests
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <memory>
#include <random>
#include <string>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "common/client_registry.hpp"
#include "common/segment_view.hpp"
#include "shmq/client.hpp"
#include "tests/support/test_support.hpp"

using namespace shmq;
using namespace std::chrono_literals;
using config::SlowSubscriberPolicy;

namespace {

// Generous: the reaper runs every 50 ms (test::make_config); the machine is shared.
constexpr auto within_liveness = 5s;

// The `shmq` tool, killed at `crash_at`: returns its exit code. Its stdout
// goes nowhere.
int shmq_killed_at(const std::string& crash_at, std::vector<std::string> arguments) {
    arguments.insert(arguments.begin(), SHMQ_BINARY_DIR "/cli/shmq");
    return test::wait_child(test::spawn_program(arguments, {"/dev/null", "/dev/null", ""}, test::crash_at(crash_at)),
                            30s);
}

// Whether every subscriber record of topic 0 is free but `except` (a
// record index; max_subscribers for none).
bool records_free_but(const std::string& broker, std::uint32_t except) {
    test::RawSegment raw(broker);
    auto& control = raw.view.topic(0).control();
    const auto* records = reinterpret_cast<const layout::SubscriberRecord*>(raw.base() + control.subscribers_offset);
    for (std::uint32_t index = 0; index < raw.view.topic(0).geometry().max_subscribers; ++index) {
        if (index != except && records[index].word.load() != 0) return false;
    }
    return true;
}

// Publishes m<from>..m<to - 1>, each received by `subscription` in order:
// with a capacity of 4, a few laps over every slot.
void publish_and_receive(Topic& topic, Subscription& subscription, int from, int to) {
    for (int i = from; i < to; ++i) {
        BOOST_TEST_REQUIRE(topic.publish("m" + std::to_string(i), within_liveness) == Status::ok);
        std::string message;
        BOOST_TEST_REQUIRE(subscription.receive(message, within_liveness) == Status::ok);
        BOOST_TEST(message == "m" + std::to_string(i));
    }
}

}  // namespace

// A publisher killed after each step of its claim: the others carry on at
// once (they complete its claim and take the next position), subscribers
// skip its position once the reaper abandoned it, and it counts as exactly
// one abandoned message, nobody's loss.
BOOST_AUTO_TEST_CASE(a_publisher_killed_at_each_step_of_its_claim_wedges_nothing) {
    for (const char* step : {"topic_claim_word", "topic_claim_position", "topic_claim_tail"}) {
        BOOST_TEST_CONTEXT("killed at " << step) {
            auto config = test::make_config("tclaimstep");
            test::add_topic(config, "t", 4, 64, SlowSubscriberPolicy::block);
            test::InProcessBroker broker(config);
            auto client = test::attach(broker.name());
            Topic topic;
            Subscription subscription;
            BOOST_TEST_REQUIRE(client->open_topic("t", topic) == Status::ok);
            BOOST_TEST_REQUIRE(client->subscribe("t", subscription) == Status::ok);
            publish_and_receive(topic, subscription, 0, 1);
            BOOST_TEST(shmq_killed_at(step, {"--broker", broker.name(), "publish", "--topic", "t", "doomed"}) ==
                       128 + SIGKILL);
            publish_and_receive(topic, subscription, 1, 10);
            const auto stats = test::topic_stats(*client, "t");
            BOOST_TEST(stats.abandoned == 1u);
            BOOST_TEST(stats.published == 10u);
            BOOST_TEST(!stats.quarantined);
            BOOST_TEST_REQUIRE(stats.subscribers.size() == 1u);
            BOOST_TEST(stats.subscribers[0].received == 10u);
            BOOST_TEST(stats.subscribers[0].lost == 0u);
        }
    }
}

// A subscriber killed after each step of subscribing: its record (claimed,
// joining, or joining with its cursor settled) is freed by the reaper, the
// publishers it held up under block carry on, and it never counted as a
// subscription.
BOOST_AUTO_TEST_CASE(a_subscriber_killed_at_each_step_of_subscribing_leaves_no_record_behind) {
    for (const char* step : {"topic_subscribe_claimed", "topic_subscribe_joining", "topic_subscribe_settled"}) {
        BOOST_TEST_CONTEXT("killed at " << step) {
            auto config = test::make_config("tsubstep");
            // Two records: the test's subscription and the one the victim takes.
            test::add_topic(config, "t", 4, 64, SlowSubscriberPolicy::block, 2).max_subscribers = 2;
            test::InProcessBroker broker(config);
            auto client = test::attach(broker.name());
            Topic topic;
            Subscription subscription;
            BOOST_TEST_REQUIRE(client->open_topic("t", topic) == Status::ok);
            BOOST_TEST_REQUIRE(client->subscribe("t", subscription) == Status::ok);
            publish_and_receive(topic, subscription, 0, 3);
            BOOST_TEST(shmq_killed_at(step, {"--broker", broker.name(), "subscribe", "t", "--from-history", "2"}) ==
                       128 + SIGKILL);
            publish_and_receive(topic, subscription, 3, 12);
            const auto mine = test::topic_stats(*client, "t").subscribers.at(0).record;
            BOOST_TEST(test::eventually([&] { return records_free_but(broker.name(), mine); }, within_liveness));
            BOOST_TEST(test::topic_stats(*client, "t").subscriptions == 1u);
            // The record is usable again, by a subscription that works.
            Subscription late;
            SubscribeOptions options;
            options.from_history = 2;
            BOOST_TEST_REQUIRE(client->subscribe("t", late, options) == Status::ok);
            std::string message;
            BOOST_TEST(late.receive(message, 1s) == Status::ok);
            BOOST_TEST(message == "m10");
            BOOST_TEST(!test::topic_stats(*client, "t").quarantined);
        }
    }
}

// A subscriber killed at each step of reading in place, of releasing its
// view and of unsubscribing: its pin and its record are released, so
// publishers lap the ring again, and the live subscriber loses nothing.
BOOST_AUTO_TEST_CASE(a_subscriber_killed_at_each_step_of_reading_and_releasing_leaves_no_pin_behind) {
    for (const char* step : {"topic_read_entry", "topic_read_pinned", "topic_read_advanced", "topic_release_unpinned",
                             "topic_unsubscribe_released"}) {
        BOOST_TEST_CONTEXT("killed at " << step) {
            auto config = test::make_config("treadstep");
            test::add_topic(config, "t", 4, 64, SlowSubscriberPolicy::block, 1);
            test::InProcessBroker broker(config);
            auto client = test::attach(broker.name());
            Topic topic;
            Subscription subscription;
            BOOST_TEST_REQUIRE(client->open_topic("t", topic) == Status::ok);
            BOOST_TEST_REQUIRE(client->subscribe("t", subscription) == Status::ok);
            publish_and_receive(topic, subscription, 0, 1);
            BOOST_TEST(shmq_killed_at(step, {"--broker", broker.name(), "subscribe", "t", "--from-history", "1",
                                             "--count", "1", "--timeout", "10000"}) == 128 + SIGKILL);
            publish_and_receive(topic, subscription, 1, 12);
            const auto mine = test::topic_stats(*client, "t").subscribers.at(0).record;
            BOOST_TEST(test::eventually([&] { return records_free_but(broker.name(), mine); }, within_liveness));
            const auto stats = test::topic_stats(*client, "t");
            BOOST_TEST(!stats.quarantined);
            BOOST_TEST(stats.subscriptions == 2u);
            BOOST_TEST_REQUIRE(stats.subscribers.size() == 1u);
            BOOST_TEST(stats.subscribers[0].lost == 0u);
            BOOST_TEST(stats.subscribers[0].views == 0u);
        }
    }
}

namespace {

struct Scribbled {
    std::atomic<int> stop{0};
};

// Writes arbitrary values into every shared word of topic 0: its control
// words, every slot's word, position, length and pins, every subscriber
// record. The read-only geometry is left alone: attach refuses a topic whose
// geometry does not add up, and the words that change are what a client can
// get wrong while the broker is running.
void scribble(test::RawSegment& raw, std::mt19937_64& random) {
    auto& control = raw.view.topic(0).control();
    const auto& geometry = raw.view.topic(0).geometry();
    const auto any = [&] {
        // Small values and values near a real position are the dangerous
        // ones; all bits are not.
        switch (random() % 4) {
        case 0: return random();
        case 1: return random() % 16;
        case 2: return control.tail.load() + random() % 16 - 8;
        default: return UINT64_MAX - random() % 4;
        }
    };
    control.tail.store(random() % 8 == 0 ? any() : control.tail.load() + random() % 3);
    control.subscriber_serial.store(static_cast<std::uint32_t>(any()));
    control.quarantined.store(static_cast<std::uint32_t>(random() % 2));
    control.abandoned.store(any());
    control.dropped.store(any());
    control.subscriptions.store(any());
    for (auto* event : {&control.published, &control.room}) {
        for (std::size_t byte = 0; byte < sizeof(WaitEvent); ++byte) {
            reinterpret_cast<unsigned char*>(event)[byte] = static_cast<unsigned char>(random());
        }
    }
    for (std::uint32_t slot = 0; slot < geometry.capacity; ++slot) {
        auto* header = reinterpret_cast<layout::TopicSlotHeader*>(raw.base() + control.slots_offset +
                                                                  slot * geometry.slot_stride);
        header->word.store(any());
        header->position.store(any());
        header->length.store(static_cast<std::uint32_t>(any()));
        auto* pins = reinterpret_cast<std::atomic<std::uint64_t>*>(header + 1);
        for (std::uint32_t word = 0; word < geometry.pin_words; ++word) pins[word].store(any());
    }
    auto* records = reinterpret_cast<layout::SubscriberRecord*>(raw.base() + control.subscribers_offset);
    for (std::uint32_t index = 0; index < geometry.max_subscribers; ++index) {
        auto& record = records[index];
        record.word.store(any());
        record.cursor.store(any());
        record.joined_at.store(any());
        record.received.store(any());
        record.skipped.store(any());
        for (auto& view : record.views) view.store(any());
    }
}

// A client that publishes, subscribes and reads in a loop until told to stop
// or killed, ignoring what each call returns: on scribbled memory any status
// is fair. Exits 0 when stopped.
int busy_client(const std::string& broker, const Scribbled* scribbled, bool publishes) {
    std::unique_ptr<Client> client;
    AttachOptions options;
    options.broker = broker;
    if (Client::attach(options, client) != Status::ok) return 0;  // the table may be scribbled full
    Topic topic;
    Subscription subscription;
    View view;
    client->open_topic("victim", topic);
    for (std::uint64_t round = 0; !scribbled->stop.load(); ++round) {
        if (publishes) {
            topic.publish("scribbled over", 20ms);
            Loan loan;
            if (topic.loan(8, loan, 20ms) == Status::ok && round % 3 != 0) topic.publish(loan);
        } else {
            if (round % 16 == 0) client->subscribe("victim", subscription);
            std::string message;
            subscription.receive(message, 20ms);
            subscription.read(view, 20ms);
            if (round % 5 == 0) view.release();
        }
    }
    return 0;
}

using test::read_file;

// The real shmqd on `config`, its stdout and stderr added to `log`.
std::unique_ptr<test::ShmqdProcess> start_shmqd(const std::string& config, const std::string& log) {
    return std::make_unique<test::ShmqdProcess>(config, test::Redirections{"/dev/null", log, log, true});
}

// Attaches and gets the broker's stats: the broker answers (its heartbeat
// moves) within `timeout`.
bool broker_answers(const std::string& name, std::chrono::milliseconds timeout) {
    return test::eventually([&] {
        AttachOptions options;
        options.broker = name;
        std::unique_ptr<Client> client;
        return Client::attach(options, client) == Status::ok && client->stats().broker_alive;
    }, timeout);
}

}  // namespace

// Issue 9: no word in the segment is ever used by the broker as a pointer,
// and none can make it crash or hang. While publishers and subscribers run
// and are killed at random, a client writes arbitrary values into every word
// of a topic, over and over; the real shmqd stays up and answering, logs the
// quarantine it decides, stops cleanly on SIGTERM, and a second shmqd
// adopting the scribbled segment verifies it without crashing or hanging.
BOOST_AUTO_TEST_CASE(scribbling_over_every_word_of_a_topic_never_crashes_or_hangs_the_broker) {
    test::TempDir dir;
    const auto name = test::unique_broker_name("tscribble");
    const auto config = dir.write("broker.yaml", "broker:\n  name: " + name +
                                                     "\n  permissions: 0600\n  liveness_interval_ms: 50\n"
                                                     "  max_clients: 16\n"
                                                     "queues:\n  - name: bystander\n    capacity: 4\n"
                                                     "    max_message_size: 32\n"
                                                     "topics:\n  - name: victim\n    capacity: 8\n"
                                                     "    max_message_size: 32\n    history: 2\n"
                                                     "    max_subscribers: 4\n");
    const auto first_log = dir.path() + "/first.log";
    auto broker = start_shmqd(config, first_log);
    BOOST_TEST_REQUIRE(broker_answers(name, 30s), read_file(first_log));

    void* memory = ::mmap(nullptr, sizeof(Scribbled), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    BOOST_TEST_REQUIRE(memory != MAP_FAILED);
    auto* scribbled = new (memory) Scribbled();
    const auto start_client = [&](bool publishes) {
        return test::fork_child([&, publishes] { return busy_client(name, scribbled, publishes); });
    };
    std::vector<std::pair<pid_t, bool>> clients;
    for (const bool publishes : {true, true, false, false}) clients.emplace_back(start_client(publishes), publishes);
    const pid_t scribbler = test::fork_child([&] {
        test::RawSegment raw(name);
        std::mt19937_64 random(::getpid());
        while (!scribbled->stop.load()) {
            scribble(raw, random);
            std::this_thread::sleep_for(2ms);
        }
        return 0;
    });
    std::mt19937 random(9);
    const auto end = std::chrono::steady_clock::now() + 3s;
    while (std::chrono::steady_clock::now() < end) {
        std::this_thread::sleep_for(50ms);
        auto& victim = clients[random() % clients.size()];
        ::kill(victim.first, SIGKILL);
        test::wait_child(victim.first, 10s);
        victim.first = start_client(victim.second);
        BOOST_TEST_REQUIRE(broker->running(), read_file(first_log));
    }
    scribbled->stop.store(1);
    BOOST_TEST(test::wait_child(scribbler, 10s) == 0);
    for (const auto& client : clients) BOOST_TEST(test::wait_child(client.first, 30s) == 0);

    // The broker is up, answers, and has logged the quarantine it decided.
    BOOST_TEST_REQUIRE(broker->running(), read_file(first_log));
    BOOST_TEST(broker_answers(name, 10s), read_file(first_log));
    BOOST_TEST(test::eventually([&] { return read_file(first_log).find("('victim') failed validation and is quarantined") !=
                                             std::string::npos; }, 10s),
               read_file(first_log));
    {
        auto client = test::attach(name);
        auto bystander = test::open_queue(*client, "bystander");
        BOOST_TEST(bystander.send("still fine", 1s) == Status::ok);
    }
    // A second broker adopts the scribbled segment: it verifies the topic
    // (no lock to wait for, every word read once) and serves.
    BOOST_TEST(broker->kill() == 128 + SIGKILL);
    const auto second_log = dir.path() + "/second.log";
    broker = start_shmqd(config, second_log);
    BOOST_TEST_REQUIRE(broker_answers(name, 30s), read_file(second_log));
    // It says what it found (failed verification, or quarantined at its first
    // tick; the log may lag behind).
    BOOST_TEST(test::eventually([&] { return read_file(second_log).find("victim'") != std::string::npos; }, 10s),
               read_file(second_log));
    BOOST_TEST(broker->stop(10s).value_or(-1) == 0, read_file(second_log));
    ::munmap(memory, sizeof(Scribbled));
}
