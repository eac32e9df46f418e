// A broker with persist_path keeps its segment in a file: messages survive a
// clean stop, a crash, and a reboot (simulated: another boot id and a lock
// held by a thread of the old boot). A power loss leaves the file's pages of
// different ages (msync writes them in no particular order): the tests below
// build such images by splicing regions of an earlier copy of the file into
// a later one, then reboot.
#define BOOST_TEST_MODULE persistence_tests
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sys/stat.h>
#include <unistd.h>

#include "common/payload_checksum.hpp"
#include "common/segment_view.hpp"
#include "shmq/client.hpp"
#include "tests/support/test_support.hpp"

using namespace shmq;
using namespace std::chrono_literals;

namespace {

config::BrokerConfig persistent_config(const test::TempDir& dir, const std::string& tag) {
    auto config = test::make_config(tag);
    config.persist_path = dir.path() + "/" + tag + ".segment";
    config.flush_interval_ms = 50;
    test::add_queue(config, "orders", 16, 64);
    return config;
}

Queue open(std::unique_ptr<Client>& client, const std::string& address, const std::string& queue_name) {
    AttachOptions options;
    options.broker = address;
    std::string error;
    BOOST_TEST_REQUIRE(Client::attach(options, client, &error) == Status::ok, error);
    Queue queue;
    BOOST_TEST_REQUIRE(client->open_queue(queue_name, queue) == Status::ok);
    return queue;
}

std::string file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    BOOST_TEST_REQUIRE(in.good(), "cannot read " << path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    BOOST_TEST_REQUIRE(out.good(), "cannot write " << path);
}

// Where a queue lies in the file.
struct QueueRegions {
    std::size_t control_offset = 0;
    std::size_t slots_offset = 0;
    std::size_t slot_stride = 0;
    std::size_t capacity = 0;
    std::size_t payload_offset(std::uint64_t position) const {
        return slots_offset + (position % capacity) * slot_stride + layout::slot_header_size;
    }
};

QueueRegions regions_of(const std::string& path, std::uint32_t queue_index) {
    test::RawSegment raw(path);
    auto& ring = raw.view.ring(queue_index);
    QueueRegions regions;
    regions.control_offset = static_cast<std::size_t>(reinterpret_cast<std::byte*>(&ring.control()) - raw.base());
    regions.slots_offset = static_cast<std::size_t>(reinterpret_cast<std::byte*>(&ring.slot_at(0)) - raw.base());
    regions.slot_stride = ring.geometry().slot_stride;
    regions.capacity = ring.geometry().capacity;
    return regions;
}

// Replaces bytes [offset, offset + length) of the file with those of `older`,
// as if the pages holding them had not been written since `older` was.
void restore_older(const std::string& path, const std::string& older, std::size_t offset, std::size_t length) {
    auto bytes = file_bytes(path);
    BOOST_TEST_REQUIRE(bytes.size() == older.size());
    BOOST_TEST_REQUIRE(offset + length <= bytes.size());
    std::memcpy(&bytes[offset], &older[offset], length);
    write_bytes(path, bytes);
}

void reboot(const std::string& persist_path) { test::simulate_reboot(persist_path); }

void send_numbered(Queue& queue, int from, int to) {
    for (int i = from; i < to; ++i) BOOST_TEST_REQUIRE(queue.send("m" + std::to_string(i), 1s) == Status::ok);
}

void expect_numbered(Queue& queue, int from, int to) {
    for (int i = from; i < to; ++i) {
        std::string out;
        BOOST_TEST_REQUIRE(queue.receive(out, 5s) == Status::ok, "expecting m" << i);
        BOOST_TEST(out == "m" + std::to_string(i));
    }
}

void expect_empty(Queue& queue) {
    std::string out;
    const Status status = queue.receive(out, 200ms);
    BOOST_TEST(status == Status::timeout, "unexpected message '" << out << "'");
}


// Which region a power loss left as an earlier flush wrote it.
enum class Older { slots, control_page };

// A first broker's life on the file, then a power loss: `before(orders)`, a
// flush that reached the disk (a copy of the file), `after(orders)`; then
// `older` is put back as that flush wrote it, and the machine reboots.
template <typename Before, typename After>
void lose_power_with_older(const config::BrokerConfig& config, Older older, Before before, After after) {
    std::string flushed;
    {
        test::InProcessBroker broker(config);
        std::unique_ptr<Client> client;
        auto orders = open(client, config.persist_path, "orders");
        before(orders);
        flushed = file_bytes(config.persist_path);
        after(orders);
    }
    const auto regions = regions_of(config.persist_path, 0);
    if (older == Older::slots) {
        restore_older(config.persist_path, flushed, regions.slots_offset, regions.capacity * regions.slot_stride);
    } else {
        restore_older(config.persist_path, flushed, regions.control_offset, sizeof(layout::QueueControl));
    }
    reboot(config.persist_path);
}

}  // namespace

BOOST_AUTO_TEST_CASE(messages_survive_a_clean_stop_in_the_file) {
    test::TempDir dir;
    const auto config = persistent_config(dir, "cleanstop");
    {
        test::InProcessBroker broker(config);
        std::unique_ptr<Client> client;
        auto orders = open(client, config.persist_path, "orders");
        for (int i = 0; i < 5; ++i) BOOST_TEST(orders.send("kept " + std::to_string(i), 1s) == Status::ok);
    }
    BOOST_TEST(std::filesystem::exists(config.persist_path));
    BOOST_TEST(!test::segment_exists(config.name));  // nothing in /dev/shm
    struct stat info {};
    BOOST_TEST_REQUIRE(::stat(config.persist_path.c_str(), &info) == 0);
    BOOST_TEST((info.st_mode & 0777) == 0600u);

    test::InProcessBroker successor(config);
    BOOST_TEST(successor.broker().adopted());
    std::unique_ptr<Client> client;
    auto orders = open(client, config.persist_path, "orders");
    for (int i = 0; i < 5; ++i) {
        std::string out;
        BOOST_TEST(orders.receive(out, 1s) == Status::ok);
        BOOST_TEST(out == "kept " + std::to_string(i));
    }
}

BOOST_AUTO_TEST_CASE(messages_survive_a_broker_crash_in_the_file) {
    test::TempDir dir;
    const auto config = persistent_config(dir, "crash");
    const pid_t doomed = test::fork_child([&] {
        daemon::Broker broker(config);
        broker.start();
        std::unique_ptr<Client> client;
        AttachOptions options;
        options.broker = config.persist_path;
        if (Client::attach(options, client) != Status::ok) return 1;
        Queue orders;
        client->open_queue("orders", orders);
        orders.send("written before the crash", 1s);
        ::kill(::getpid(), SIGKILL);
        return 2;
    });
    BOOST_TEST(test::wait_child(doomed, 10s) == 128 + SIGKILL);
    test::InProcessBroker successor(config);
    std::unique_ptr<Client> client;
    auto orders = open(client, config.persist_path, "orders");
    std::string out;
    BOOST_TEST(orders.receive(out, 1s) == Status::ok);
    BOOST_TEST(out == "written before the crash");
}

BOOST_AUTO_TEST_CASE(after_a_reboot_stale_locks_and_clients_of_the_old_boot_are_reset) {
    test::TempDir dir;
    const auto config = persistent_config(dir, "reboot");
    {
        test::InProcessBroker broker(config);
        // A client of the old boot that never detaches: its record stays
        // active, as after a power cut.
        const pid_t old_client = test::fork_child([&] {
            std::unique_ptr<Client> client;
            AttachOptions options;
            options.broker = config.persist_path;
            if (Client::attach(options, client) != Status::ok) return 1;
            Queue orders;
            client->open_queue("orders", orders);
            if (orders.send("from the old boot", 1s) != Status::ok) return 2;
            ::_exit(0);  // no detach
        });
        BOOST_TEST(test::wait_child(old_client, 10s) == 0);
    }
    test::simulate_reboot_mid_claim(config.persist_path, 0);
    test::InProcessBroker successor(config);
    std::unique_ptr<Client> client;
    auto orders = open(client, config.persist_path, "orders");
    BOOST_TEST(orders.send("after the reboot", 1s) == Status::ok);
    std::string out;
    BOOST_TEST(orders.receive(out, 1s) == Status::ok);
    BOOST_TEST(out == "from the old boot");
    BOOST_TEST(orders.receive(out, 1s) == Status::ok);
    BOOST_TEST(out == "after the reboot");
    BOOST_TEST(client->stats().clients.size() == 1u);  // the old boot's client was reclaimed
}

// The image of issue 16, item 9: the control page (head and tail) reached
// the disk after the slots holding the newest messages did not. It used to
// fail verification and quarantine the queue with every message in it.
BOOST_AUTO_TEST_CASE(a_control_page_newer_than_the_slots_is_recovered_not_quarantined) {
    test::TempDir dir;
    const auto config = persistent_config(dir, "newercontrol");
    lose_power_with_older(
        config, Older::slots, [](Queue& orders) { send_numbered(orders, 0, 10); },
        [](Queue& orders) {
            expect_numbered(orders, 0, 2);
            send_numbered(orders, 10, 13);
        });

    test::InProcessBroker successor(config);
    std::unique_ptr<Client> client;
    auto orders = open(client, config.persist_path, "orders");
    BOOST_TEST(!test::queue_stats(*client, "orders").quarantined);
    // m0 and m1 were consumed, as the newer head says: not delivered again.
    // m10..m12 never reached the disk: counted, skipped.
    expect_numbered(orders, 2, 10);
    expect_empty(orders);
    BOOST_TEST(test::queue_stats(*client, "orders").abandoned == 3u);
    // The queue works on.
    send_numbered(orders, 20, 22);
    expect_numbered(orders, 20, 22);
}

// The reverse: the slots are newer than the control page, which still counts
// messages consumed since and not the newest ones sent.
BOOST_AUTO_TEST_CASE(slots_newer_than_the_control_page_give_head_and_tail) {
    test::TempDir dir;
    const auto config = persistent_config(dir, "newerslots");
    lose_power_with_older(
        config, Older::control_page, [](Queue& orders) { send_numbered(orders, 0, 10); },
        [](Queue& orders) {
            expect_numbered(orders, 0, 3);
            send_numbered(orders, 10, 12);
        });

    test::InProcessBroker successor(config);
    std::unique_ptr<Client> client;
    auto orders = open(client, config.persist_path, "orders");
    const auto stats = test::queue_stats(*client, "orders");
    BOOST_TEST(!stats.quarantined);
    BOOST_TEST(stats.depth == 9u);
    expect_numbered(orders, 3, 12);
    expect_empty(orders);
    BOOST_TEST(test::queue_stats(*client, "orders").abandoned == 0u);
}

// A message taken leaves its slot `ready`, its take word saying so, and a
// message its producer withdrew (QueueRing::withdraw) is decided so in the
// middle of the queue. With a control page older than both (head still 0),
// the recovery judges by the take words: the taken message is not
// delivered again, and the withdrawn one stays a hole consumers pass.
BOOST_AUTO_TEST_CASE(taken_and_withdrawn_messages_stay_so_after_a_power_loss) {
    test::TempDir dir;
    const auto config = persistent_config(dir, "takewords");
    lose_power_with_older(
        config, Older::control_page, [](Queue& orders) { send_numbered(orders, 0, 5); },
        [&](Queue& orders) {
            expect_numbered(orders, 0, 1);
            test::RawSegment raw(config.persist_path);
            raw.view.ring(0).take_word_at(2).store(TakeWord::make(TakeState::withdrawn, {}, 0));
        });

    test::InProcessBroker successor(config);
    std::unique_ptr<Client> client;
    auto orders = open(client, config.persist_path, "orders");
    BOOST_TEST(!test::queue_stats(*client, "orders").quarantined);
    expect_numbered(orders, 1, 2);
    expect_numbered(orders, 3, 5);
    expect_empty(orders);
    // Not counted as a message the storage lost: a withdrawal was counted
    // when the reaper abandoned its claim (here it was written by hand).
    BOOST_TEST(test::queue_stats(*client, "orders").abandoned == 0u);
    send_numbered(orders, 10, 12);
    expect_numbered(orders, 10, 12);
}

// A message whose header page (ready, its length and checksum) reached the
// disk without one of its payload pages is never delivered torn.
BOOST_AUTO_TEST_CASE(a_torn_message_is_counted_and_not_delivered) {
    test::TempDir dir;
    auto config = persistent_config(dir, "torn");
    test::add_queue(config, "big", 4, 8192);
    const std::string first(8000, 'a');
    const std::string second(8000, 'b');
    const std::string third(8000, 'c');
    std::string older;
    {
        test::InProcessBroker broker(config);
        std::unique_ptr<Client> client;
        auto big = open(client, config.persist_path, "big");
        BOOST_TEST_REQUIRE(big.send(first, 1s) == Status::ok);
        older = file_bytes(config.persist_path);  // slot 1 still empty
        BOOST_TEST_REQUIRE(big.send(second, 1s) == Status::ok);
        BOOST_TEST_REQUIRE(big.send(third, 1s) == Status::ok);
    }
    // The page holding the middle of the second message's payload was not written.
    const auto regions = regions_of(config.persist_path, 1);
    const std::size_t payload = regions.payload_offset(1);
    const std::size_t page = 4096;
    const std::size_t page_start = (payload + second.size() / 2) / page * page;
    const std::size_t from = std::max(page_start, payload);
    const std::size_t to = std::min(page_start + page, payload + second.size());
    restore_older(config.persist_path, older, from, to - from);
    reboot(config.persist_path);

    test::InProcessBroker successor(config);
    std::unique_ptr<Client> client;
    auto big = open(client, config.persist_path, "big");
    BOOST_TEST(!test::queue_stats(*client, "big").quarantined);
    std::string out;
    BOOST_TEST_REQUIRE(big.receive(out, 5s) == Status::ok);
    BOOST_TEST((out == first));
    BOOST_TEST_REQUIRE(big.receive(out, 5s) == Status::ok);
    BOOST_TEST((out == third), "the torn message was delivered");
    BOOST_TEST(big.receive(out, 200ms) == Status::timeout);
    BOOST_TEST(test::queue_stats(*client, "big").abandoned == 1u);
}

// An at_least_once delivery unacknowledged at the power loss is delivered
// again after it; an acknowledged one whose slot page is stale is not.
BOOST_AUTO_TEST_CASE(an_unacknowledged_delivery_is_redelivered_after_a_power_loss) {
    test::TempDir dir;
    auto config = persistent_config(dir, "redeliver");
    config.queues[0].delivery = config::DeliveryMode::at_least_once;
    {
        test::InProcessBroker broker(config);
        std::unique_ptr<Client> client;
        auto orders = open(client, config.persist_path, "orders");
        send_numbered(orders, 0, 3);
        std::string out;
        std::uint64_t delivery = 0;
        BOOST_TEST_REQUIRE(orders.receive(out, 1s, &delivery) == Status::ok);
        BOOST_TEST_REQUIRE(orders.acknowledge(delivery) == Status::ok);
        BOOST_TEST_REQUIRE(orders.receive(out, 1s, &delivery) == Status::ok);
        BOOST_TEST_REQUIRE(out == "m1");  // never acknowledged
    }
    reboot(config.persist_path);
    test::InProcessBroker successor(config);
    std::unique_ptr<Client> client;
    auto orders = open(client, config.persist_path, "orders");
    BOOST_TEST(!test::queue_stats(*client, "orders").quarantined);
    std::vector<std::string> got;
    for (int i = 0; i < 2; ++i) {
        std::string out;
        BOOST_TEST_REQUIRE(orders.receive(out, 5s) == Status::ok);
        got.push_back(out);
    }
    BOOST_TEST((got == std::vector<std::string>{"m1", "m2"}));
    expect_empty(orders);
}

// Only a persistent segment's producers checksum their messages: a segment in
// memory does not survive a power loss, and its data path pays nothing.
BOOST_AUTO_TEST_CASE(only_persistent_segments_checksum_their_messages) {
    test::TempDir dir;
    const auto persistent = persistent_config(dir, "checksummed");
    auto in_memory = test::make_config("unchecksummed");
    test::add_queue(in_memory, "orders", 16, 64);
    const config::BrokerConfig* configs[] = {&persistent, &in_memory};
    for (const auto* config : configs) {
        test::InProcessBroker broker(*config);
        const std::string address = config->persist_path.empty() ? config->name : config->persist_path;
        std::unique_ptr<Client> client;
        auto orders = open(client, address, "orders");
        const std::string message = "checked after a power loss";
        BOOST_TEST_REQUIRE(orders.send(message, 1s) == Status::ok);
        test::RawSegment raw(address);
        auto& ring = raw.view.ring(0);
        const auto& slot = ring.slot_at(0);
        BOOST_TEST_REQUIRE(slot.length == message.size());
        if (config == &persistent) {
            BOOST_TEST(ring.control().checksummed == 1u);
            BOOST_TEST(slot.checksum == payload_checksum(slot.length, message.data()));
        } else {
            BOOST_TEST(ring.control().checksummed == 0u);
            BOOST_TEST(slot.checksum == 0u);
        }
    }
}

// Messages sent after every queued one was consumed, whose slots never
// reached the disk though the control page did: counted as lost, not taken
// for consumed, and the queue carries on.
BOOST_AUTO_TEST_CASE(messages_lost_right_after_head_are_counted) {
    test::TempDir dir;
    const auto config = persistent_config(dir, "losthead");
    lose_power_with_older(
        config, Older::slots,
        [](Queue& orders) {
            send_numbered(orders, 0, 5);
            expect_numbered(orders, 0, 5);
        },
        [](Queue& orders) { send_numbered(orders, 5, 8); });

    test::InProcessBroker successor(config);
    std::unique_ptr<Client> client;
    auto orders = open(client, config.persist_path, "orders");
    BOOST_TEST(!test::queue_stats(*client, "orders").quarantined);
    expect_empty(orders);
    BOOST_TEST(test::queue_stats(*client, "orders").abandoned == 3u);
    send_numbered(orders, 8, 10);
    expect_numbered(orders, 8, 10);
}
