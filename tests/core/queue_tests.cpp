// The client library's queue semantics against a real broker segment: FIFO,
// every overflow policy, size limits, timeouts, batches, and the statuses.
#define BOOST_TEST_MODULE queue_tests
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/payload_copy.hpp"
#include "shmq/client.hpp"
#include "tests/support/test_support.hpp"

using namespace shmq;
using namespace std::chrono_literals;
using config::OverflowPolicy;

BOOST_AUTO_TEST_CASE(messages_come_out_in_the_order_they_went_in) {
    auto config = test::make_config("fifo");
    test::add_queue(config, "q", 16, 64);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    for (int i = 0; i < 100; ++i) {
        BOOST_TEST_REQUIRE(queue.send("message " + std::to_string(i), 1s) == Status::ok);
        std::string out;
        if (i % 3 == 2) {
            for (int j = i - 2; j <= i; ++j) {
                BOOST_TEST_REQUIRE(queue.receive(out, 1s) == Status::ok);
                BOOST_TEST(out == "message " + std::to_string(j));
            }
        }
    }
    std::string out;
    BOOST_TEST(queue.receive(out, 1s) == Status::ok);
    BOOST_TEST(out == "message 99");
    std::size_t size = 0;
    BOOST_TEST(queue.try_receive(out.data(), out.size(), size) == Status::empty);
}

BOOST_AUTO_TEST_CASE(empty_and_maximum_size_messages_round_trip) {
    auto config = test::make_config("sizes");
    test::add_queue(config, "q", 4, 1000);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    const std::string largest(1000, 'x');
    BOOST_TEST(queue.send("", 1s) == Status::ok);
    BOOST_TEST(queue.send(largest, 1s) == Status::ok);
    std::string out = "not empty";
    BOOST_TEST(queue.receive(out, 1s) == Status::ok);
    BOOST_TEST(out.empty());
    BOOST_TEST(queue.receive(out, 1s) == Status::ok);
    BOOST_TEST(out == largest);
}

// A short message is copied in two parts (the part past the slot's first
// line, then the first 32 bytes) and out word by word; a longer one by
// memcpy. Every length across both boundaries, longest first and then
// shortest first through the same four slots, must come out byte for byte.
BOOST_AUTO_TEST_CASE(every_length_round_trips_byte_for_byte) {
    constexpr std::size_t longest = 600;  // past the copy-first limit (512)
    auto config = test::make_config("lengths");
    test::add_queue(config, "q", 4, longest);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    std::vector<std::size_t> lengths;
    for (std::size_t length = longest + 1; length-- > 0;) lengths.push_back(length);
    for (std::size_t length = 0; length <= longest; ++length) lengths.push_back(length);
    std::string out;
    for (const auto length : lengths) {
        const auto message = test::patterned_message(length);
        BOOST_TEST_REQUIRE(queue.send(message, 1s) == Status::ok);
        BOOST_TEST_REQUIRE(queue.receive(out, 1s) == Status::ok);
        BOOST_TEST_REQUIRE(out == message, "length " << length);
    }
}

// Past common/payload_copy.hpp's threshold (64 KiB) payloads move by
// `rep movsb` where the CPU copies strings fast: either side of it, and at
// odd lengths, every byte still arrives.
BOOST_AUTO_TEST_CASE(large_messages_round_trip_byte_for_byte) {
    constexpr std::size_t longest = (std::size_t{1} << 20) + 13;
    auto config = test::make_config("large");
    test::add_queue(config, "q", 2, longest);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    std::string out;
    for (const std::size_t length :
         {string_copy_threshold - 1, string_copy_threshold, string_copy_threshold + 1, std::size_t{1} << 20, longest}) {
        const auto message = test::patterned_message(length);
        BOOST_TEST_REQUIRE(queue.send(message, 1s) == Status::ok);
        BOOST_TEST_REQUIRE(queue.receive(out, 1s) == Status::ok);
        BOOST_TEST_REQUIRE(out == message, "length " << length);
    }
}

BOOST_AUTO_TEST_CASE(an_oversized_message_is_refused_and_nothing_is_queued) {
    auto config = test::make_config("toolarge");
    test::add_queue(config, "q", 4, 100);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    BOOST_TEST(queue.send(std::string(101, 'x'), 1s) == Status::message_too_large);
    BOOST_TEST(test::queue_stats(*client, "q").depth == 0u);
    BOOST_TEST(queue.send(std::string(100, 'x'), 1s) == Status::ok);
}

BOOST_AUTO_TEST_CASE(a_too_small_buffer_leaves_the_message_queued) {
    auto config = test::make_config("smallbuf");
    test::add_queue(config, "q", 4, 100);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    BOOST_TEST(queue.send("twenty bytes exactly", 1s) == Status::ok);
    char small[10];
    std::size_t size = 0;
    BOOST_TEST(queue.receive(small, sizeof small, size, 1s) == Status::buffer_too_small);
    std::string out;
    BOOST_TEST(queue.receive(out, 1s) == Status::ok);
    BOOST_TEST(out == "twenty bytes exactly");
}

BOOST_AUTO_TEST_CASE(reject_policy_refuses_at_once_when_full_and_counts_it) {
    auto config = test::make_config("reject");
    test::add_queue(config, "q", 3, 16, OverflowPolicy::reject);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    for (int i = 0; i < 3; ++i) BOOST_TEST(queue.send("m" + std::to_string(i)) == Status::ok);
    const auto start = std::chrono::steady_clock::now();
    BOOST_TEST(queue.send("m3") == Status::queue_full);  // even with wait_forever
    BOOST_TEST((std::chrono::steady_clock::now() - start < 500ms));
    BOOST_TEST(queue.send("m4", 10s) == Status::queue_full);
    const auto stats = test::queue_stats(*client, "q");
    BOOST_TEST(stats.rejected == 2u);
    BOOST_TEST(stats.depth == 3u);
    std::string out;
    BOOST_TEST(queue.receive(out, 1s) == Status::ok);
    BOOST_TEST(out == "m0");
    BOOST_TEST(queue.send("m5") == Status::ok);
}

BOOST_AUTO_TEST_CASE(drop_oldest_policy_keeps_the_newest_messages) {
    auto config = test::make_config("dropoldest");
    test::add_queue(config, "q", 4, 16, OverflowPolicy::drop_oldest);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    for (int i = 0; i < 10; ++i) BOOST_TEST(queue.send("m" + std::to_string(i), 1s) == Status::ok);
    const auto stats = test::queue_stats(*client, "q");
    BOOST_TEST(stats.dropped == 6u);
    BOOST_TEST(stats.depth == 4u);
    for (int i = 6; i < 10; ++i) {
        std::string out;
        BOOST_TEST(queue.receive(out, 1s) == Status::ok);
        BOOST_TEST(out == "m" + std::to_string(i));
    }
}

BOOST_AUTO_TEST_CASE(block_policy_waits_for_room_until_the_timeout) {
    auto config = test::make_config("block");
    test::add_queue(config, "q", 2, 16, OverflowPolicy::block);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    BOOST_TEST(queue.send("a") == Status::ok);
    BOOST_TEST(queue.send("b") == Status::ok);
    BOOST_TEST(queue.try_send("c", 1) == Status::queue_full);
    const auto start = std::chrono::steady_clock::now();
    BOOST_TEST(queue.send("c", 200ms) == Status::timeout);
    const auto waited = std::chrono::steady_clock::now() - start;
    BOOST_TEST((waited >= 200ms));
    BOOST_TEST((waited < 2s));

    // A consumer freeing a slot lets a blocked producer through. The thread
    // only records its status: Boost.Test's assertions are not thread-safe.
    Status received = Status::system_error;
    std::thread consumer([&] {
        std::this_thread::sleep_for(100ms);
        std::string out;
        received = queue.receive(out, 1s);
    });
    BOOST_TEST(queue.send("c", 5s) == Status::ok);
    consumer.join();
    BOOST_TEST(received == Status::ok);
}

BOOST_AUTO_TEST_CASE(receive_times_out_on_an_empty_queue_and_wakes_for_a_message) {
    auto config = test::make_config("recvtimeout");
    test::add_queue(config, "q", 4, 16);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    std::string out;
    const auto start = std::chrono::steady_clock::now();
    BOOST_TEST(queue.receive(out, 150ms) == Status::timeout);
    BOOST_TEST((std::chrono::steady_clock::now() - start >= 150ms));
    std::size_t size = 0;
    BOOST_TEST(queue.try_receive(out.data(), 0, size) == Status::empty);

    Status sent = Status::system_error;  // checked after the join: Boost.Test is not thread-safe
    std::thread producer([&] {
        std::this_thread::sleep_for(100ms);
        sent = queue.send("late", 1s);
    });
    BOOST_TEST(queue.receive(out, 5s) == Status::ok);
    BOOST_TEST(out == "late");
    producer.join();
    BOOST_TEST(sent == Status::ok);
}

// spin_then_block spins tightly for 5 µs, then yields the CPU between polls
// for the rest of its budget. However long that budget, a waiter in it still
// returns at its timeout, takes a message the moment it comes, and wakes when
// the broker stops.
BOOST_AUTO_TEST_CASE(a_long_spin_still_honours_timeouts_messages_and_a_stopping_broker) {
    auto config = test::make_config("longspin");
    test::add_queue(config, "q", 4, 16);
    test::InProcessBroker broker(config);
    AttachOptions options;
    options.broker = broker.name();
    options.wait = WaitStrategy::spin_then_block;
    options.spin = std::chrono::seconds(30);  // every wait below stays in the yielding spin
    std::unique_ptr<Client> client;
    BOOST_TEST_REQUIRE(Client::attach(options, client) == Status::ok);
    auto queue = test::open_queue(*client, "q");
    std::string out;

    auto start = std::chrono::steady_clock::now();
    BOOST_TEST(queue.receive(out, 100ms) == Status::timeout);
    auto waited = std::chrono::steady_clock::now() - start;
    BOOST_TEST((waited >= 100ms && waited < 5s));

    Status sent = Status::system_error;  // checked after the join: Boost.Test is not thread-safe
    std::thread producer([&] {
        std::this_thread::sleep_for(50ms);
        sent = queue.send("while spinning", 1s);
    });
    BOOST_TEST(queue.receive(out, 10s) == Status::ok);
    producer.join();
    BOOST_TEST(sent == Status::ok);
    BOOST_TEST(out == "while spinning");

    Status stopped = Status::ok;
    std::thread consumer([&] {
        std::string never;
        stopped = queue.receive(never);  // wait_forever
    });
    std::this_thread::sleep_for(50ms);
    start = std::chrono::steady_clock::now();
    broker.stop();
    consumer.join();
    waited = std::chrono::steady_clock::now() - start;
    BOOST_TEST(stopped == Status::broker_stopped);
    BOOST_TEST((waited < 5s));
}

BOOST_AUTO_TEST_CASE(batches_send_and_receive_many_messages_in_order) {
    auto config = test::make_config("batch");
    test::add_queue(config, "q", 256, 32);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    std::vector<std::string> payloads;
    for (int i = 0; i < 200; ++i) payloads.push_back("batch message " + std::to_string(i));
    std::vector<OutgoingMessage> outgoing;
    for (const auto& payload : payloads) outgoing.push_back({payload.data(), payload.size()});
    std::size_t sent = 0;
    BOOST_TEST(queue.send_batch(outgoing.data(), outgoing.size(), sent, 1s) == Status::ok);
    BOOST_TEST(sent == 200u);

    std::vector<std::string> buffers(150, std::string(32, '\0'));
    std::vector<IncomingMessage> incoming;
    for (auto& buffer : buffers) incoming.push_back({buffer.data(), buffer.size(), 0, 0});
    std::size_t received = 0;
    BOOST_TEST(queue.receive_batch(incoming.data(), incoming.size(), received, 1s) == Status::ok);
    BOOST_TEST(received == 150u);
    for (std::size_t i = 0; i < received; ++i) {
        BOOST_TEST(std::string(static_cast<char*>(incoming[i].buffer), incoming[i].size) == payloads[i]);
    }
    BOOST_TEST(queue.receive_batch(incoming.data(), incoming.size(), received, 1s) == Status::ok);
    BOOST_TEST(received == 50u);
    BOOST_TEST(std::string(static_cast<char*>(incoming[49].buffer), incoming[49].size) == payloads[199]);
}

BOOST_AUTO_TEST_CASE(a_batch_with_one_oversized_message_sends_nothing) {
    auto config = test::make_config("batchbad");
    test::add_queue(config, "q", 16, 8);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    const std::string good = "ok", bad = "far too long";
    OutgoingMessage messages[] = {{good.data(), good.size()}, {bad.data(), bad.size()}};
    std::size_t sent = 0;
    BOOST_TEST(queue.send_batch(messages, 2, sent, 1s) == Status::message_too_large);
    BOOST_TEST(sent == 0u);
    BOOST_TEST(test::queue_stats(*client, "q").depth == 0u);
}

BOOST_AUTO_TEST_CASE(unknown_queue_and_unknown_broker_have_their_own_status) {
    auto config = test::make_config("unknown");
    test::add_queue(config, "q", 4, 16);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    Queue queue;
    BOOST_TEST(client->open_queue("nope", queue) == Status::queue_not_found);

    std::unique_ptr<Client> other;
    AttachOptions options;
    options.broker = test::unique_broker_name("absent");
    std::string error;
    BOOST_TEST(Client::attach(options, other, &error) == Status::broker_not_found);
    BOOST_TEST(error.find(options.broker) != std::string::npos, error);
}

BOOST_AUTO_TEST_CASE(stats_count_traffic_and_attached_roles) {
    auto config = test::make_config("stats");
    test::add_queue(config, "q", 8, 16);
    test::add_queue(config, "other", 8, 16);
    test::InProcessBroker broker(config);
    auto producer = test::attach(broker.name());
    auto consumer = test::attach(broker.name());
    auto to = test::open_queue(*producer, "q");
    auto from = test::open_queue(*consumer, "q");
    for (int i = 0; i < 5; ++i) BOOST_TEST(to.send("x", 1s) == Status::ok);
    std::string out;
    for (int i = 0; i < 2; ++i) BOOST_TEST(from.receive(out, 1s) == Status::ok);
    const auto stats = test::queue_stats(*producer, "q");
    BOOST_TEST(stats.enqueued == 5u);
    BOOST_TEST(stats.dequeued == 2u);
    BOOST_TEST(stats.depth == 3u);
    BOOST_TEST(stats.producers == 1u);
    BOOST_TEST(stats.consumers == 1u);
    BOOST_TEST(test::queue_stats(*producer, "other").producers == 0u);
    BOOST_TEST(producer->stats().clients.size() == 2u);
    consumer.reset();
    BOOST_TEST(producer->stats().clients.size() == 1u);
    BOOST_TEST(test::queue_stats(*producer, "q").consumers == 0u);
}

BOOST_AUTO_TEST_CASE(the_broker_name_comes_from_the_environment_when_not_given) {
    auto config = test::make_config("env");
    test::add_queue(config, "q", 4, 16);
    test::InProcessBroker broker(config);
    ::setenv("SHMQ_BROKER", broker.name().c_str(), 1);
    std::unique_ptr<Client> client;
    BOOST_TEST(Client::attach({}, client) == Status::ok);
    BOOST_TEST(client->broker_name() == broker.name());
    ::unsetenv("SHMQ_BROKER");
}

BOOST_AUTO_TEST_CASE(the_client_table_has_a_limit_with_its_own_status) {
    auto config = test::make_config("toomany");
    config.max_clients = 2;
    test::add_queue(config, "q", 4, 16);
    test::InProcessBroker broker(config);
    auto first = test::attach(broker.name());
    auto second = test::attach(broker.name());
    std::unique_ptr<Client> third;
    AttachOptions options;
    options.broker = broker.name();
    BOOST_TEST(Client::attach(options, third) == Status::too_many_clients);
    second.reset();
    BOOST_TEST(Client::attach(options, third) == Status::ok);
}
