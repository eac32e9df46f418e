// shmq_torture: producers and consumers on an at_least_once queue while a
// killer SIGKILLs random clients and the broker itself, restarting each. At
// the end it checks that every message whose send succeeded was delivered at
// least once, that no process hung, and that every duplicate is a counted
// redelivery. Run it longer and harder with --duration, --client-kills,
// --broker-kills, --producers, --consumers (see --help).
#include <boost/program_options.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <random>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "shmq/client.hpp"
#include "tests/support/test_support.hpp"

using namespace shmq;
using namespace std::chrono_literals;
namespace po = boost::program_options;

namespace {

struct Options {
    int duration_s = 60;
    int client_kills = 200;
    int broker_kills = 5;
    int producers = 3;
    int consumers = 3;
    std::string shmqd;
};

constexpr std::uint64_t max_messages = 1ull << 25;
// Producers pause briefly after each burst, so a long run does not exhaust
// the ledger's message ids; the point is crashes under load, not throughput.
constexpr std::uint64_t burst = 64;

// Shared by the torture driver and every child.
struct Ledger {
    std::atomic<std::uint64_t> next_id{0};
    std::atomic<int> stop_producing{0};
    std::atomic<int> stop_consuming{0};
    std::atomic<std::uint64_t> receptions{0};
    std::atomic<std::uint64_t> repeated_attempt{0};  // a delivery number seen twice for one message
    std::atomic<std::uint8_t> sent[max_messages];     // send returned ok
    std::atomic<std::uint8_t> seen[max_messages];     // receptions
    std::atomic<std::uint16_t> attempts[max_messages];  // bit n-1: delivery number n was received
};

Ledger* make_ledger() {
    void* memory = ::mmap(nullptr, sizeof(Ledger), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE,
                          -1, 0);
    if (memory == MAP_FAILED) throw std::runtime_error("cannot map the ledger");
    return new (memory) Ledger();
}

// A client that leaves on its own says why, on stderr (which the test
// shows): the torture must tell a lost broker from a refused call.
int leave(const char* who, const char* call, Status status, int code) {
    std::fprintf(stderr, "shmq_torture: %s %d: %s returned %s\n", who, static_cast<int>(::getpid()), call,
                 to_string(status));
    return code;
}

std::unique_ptr<Client> attach_with_retry(const std::string& broker) {
    AttachOptions options;
    options.broker = broker;
    Status last = Status::ok;
    for (int attempt = 0; attempt < 500; ++attempt) {
        std::unique_ptr<Client> client;
        last = Client::attach(options, client);
        if (last == Status::ok) return client;
        std::this_thread::sleep_for(10ms);
    }
    ::_exit(leave("client", "attach (500 tries)", last, 70));
}

int run_producer(const std::string& broker, Ledger* ledger) {
    auto client = attach_with_retry(broker);
    Queue queue;
    if (const Status opened = client->open_queue("torture", queue); opened != Status::ok) {
        return leave("producer", "open_queue", opened, 71);
    }
    for (std::uint64_t sent = 1; ledger->stop_producing.load() == 0; ++sent) {
        const auto id = ledger->next_id.fetch_add(1);
        if (id >= max_messages) {
            std::this_thread::sleep_for(10ms);  // out of ids: idle until told to stop
            continue;
        }
        const Status status = queue.send(&id, sizeof id, 200ms);
        if (status == Status::ok) ledger->sent[id].store(1);
        else if (status != Status::timeout) return leave("producer", "send", status, 72);
        if (sent % burst == 0) std::this_thread::sleep_for(200us);
    }
    return 0;
}

int run_consumer(const std::string& broker, Ledger* ledger) {
    auto client = attach_with_retry(broker);
    Queue queue;
    if (const Status opened = client->open_queue("torture", queue); opened != Status::ok) {
        return leave("consumer", "open_queue", opened, 73);
    }
    while (ledger->stop_consuming.load() == 0) {
        std::uint64_t id = 0;
        std::size_t size = 0;
        std::uint64_t delivery = 0;
        const Status status = queue.receive(&id, sizeof id, size, 100ms, &delivery);
        if (status == Status::timeout) continue;
        if (status != Status::ok) return leave("consumer", "receive", status, 74);
        if (size != sizeof id || id >= max_messages) {
            std::fprintf(stderr, "shmq_torture: consumer %d: received %zu bytes, id %llu: not a producer's message\n",
                         static_cast<int>(::getpid()), size, static_cast<unsigned long long>(id));
            return 75;
        }
        const auto attempt = delivery_attempt(delivery);
        if (attempt >= 1 && attempt <= 16) {
            const std::uint16_t bit = static_cast<std::uint16_t>(1u << (attempt - 1));
            if (ledger->attempts[id].fetch_or(bit) & bit) ledger->repeated_attempt.fetch_add(1);
        }
        ledger->seen[id].fetch_add(1);
        ledger->receptions.fetch_add(1);
        // Some work between receive and ack, where a kill forces a redelivery.
        if (id % 8 == 0) std::this_thread::sleep_for(100us);
        if (queue.acknowledge(delivery) != Status::ok) {
            // Only possible if the broker redelivered it meanwhile: counted there.
        }
    }
    return 0;
}

pid_t start_broker(const Options& options, const std::string& config) {
    return test::spawn_program({options.shmqd, "--config", config, "--log-level", "error"});
}

bool wait_for_broker(const std::string& broker) {
    AttachOptions attach;
    attach.broker = broker;
    for (int attempt = 0; attempt < 500; ++attempt) {
        std::unique_ptr<Client> client;
        if (Client::attach(attach, client) == Status::ok && client->stats().broker_alive) return true;
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

int torture(const Options& options) {
    test::TempDir dir;
    const auto broker = test::unique_broker_name("torture");
    const auto config = dir.write("torture.yaml", "broker:\n  name: " + broker +
                                                      "\n  permissions: 0600\n  liveness_interval_ms: 50\n"
                                                      "queues:\n  - name: torture\n    capacity: 256\n"
                                                      "    max_message_size: 64\n    delivery: at_least_once\n"
                                                      "    max_deliveries: 1000\n    ack_timeout_ms: 5000\n");
    Ledger* ledger = make_ledger();
    pid_t broker_pid = start_broker(options, config);
    if (!wait_for_broker(broker)) {
        std::cerr << "shmq_torture: the broker did not start\n";
        return 1;
    }
    // A child that throws exits 98 and says what on stderr (fork_child).
    auto spawn = [&](bool producer) {
        return test::fork_child([&, producer] {
            return producer ? run_producer(broker, ledger) : run_consumer(broker, ledger);
        });
    };
    std::vector<pid_t> producers, consumers;
    for (int i = 0; i < options.producers; ++i) producers.push_back(spawn(true));
    for (int i = 0; i < options.consumers; ++i) consumers.push_back(spawn(false));

    // Spread the kills over the run: client kills evenly, broker kills among them.
    std::mt19937 random(20261125);
    const auto total_kills = options.client_kills + options.broker_kills;
    const auto pause = std::chrono::milliseconds(options.duration_s * 1000 / std::max(1, total_kills + 1));
    int client_kills = 0, broker_kills = 0, failures = 0;
    for (int kill = 0; kill < total_kills; ++kill) {
        std::this_thread::sleep_for(pause);
        const bool kill_broker = broker_kills < options.broker_kills &&
                                 (kill + 1) % std::max(1, total_kills / std::max(1, options.broker_kills)) == 0;
        if (kill_broker || client_kills >= options.client_kills) {
            test::kill_and_reap(broker_pid);
            broker_pid = start_broker(options, config);
            ++broker_kills;
            continue;
        }
        const bool producer = random() % 2 == 0;
        auto& group = producer ? producers : consumers;
        auto& victim = group[random() % group.size()];
        ::kill(victim, SIGKILL);
        if (const int code = test::wait_child(victim, 5s); code != 128 + SIGKILL) {  // it had exited on its own
            std::cerr << "shmq_torture: a " << (producer ? "producer" : "consumer") << " had exited with code " << code
                      << " before its kill\n";
            ++failures;
        }
        victim = spawn(producer);
        ++client_kills;
    }
    if (!wait_for_broker(broker)) {
        std::cerr << "shmq_torture: the broker did not come back after the last restart\n";
        return 1;
    }
    // Wind down: producers stop and must exit promptly (none hung); the
    // consumers drain until nothing has arrived for a while.
    ledger->stop_producing.store(1);
    int hung = 0;
    for (const pid_t pid : producers) hung += test::wait_child(pid, 10s) != 0;
    auto last = ledger->receptions.load();
    for (int quiet = 0; quiet < 30;) {  // 3 s without a reception
        std::this_thread::sleep_for(100ms);
        const auto now = ledger->receptions.load();
        quiet = now == last ? quiet + 1 : 0;
        last = now;
    }
    ledger->stop_consuming.store(1);
    for (const pid_t pid : consumers) hung += test::wait_child(pid, 10s) != 0;

    auto client = attach_with_retry(broker);
    const auto stats = client->stats().queues.at(0);
    std::uint64_t sent = 0, lost = 0, duplicates = 0;
    const auto issued = std::min(ledger->next_id.load(), max_messages);
    for (std::uint64_t id = 0; id < issued; ++id) {
        const auto seen = ledger->seen[id].load();
        if (ledger->sent[id].load()) {
            ++sent;
            lost += seen == 0;
        }
        duplicates += seen > 1 ? seen - 1 : 0;
    }
    ::kill(broker_pid, SIGTERM);
    const int broker_exit = test::wait_child(broker_pid, 10s);

    std::cout << "client kills " << client_kills << ", broker kills " << broker_kills << ", messages sent " << sent
              << ", receptions " << ledger->receptions.load() << ", lost " << lost << ", duplicates " << duplicates
              << ", broker-counted redeliveries " << stats.redelivered << ", repeated delivery numbers "
              << ledger->repeated_attempt.load() << ", left in queue " << stats.depth << ", hung processes " << hung
              << ", clients that had exited on their own " << failures << ", broker exit " << broker_exit << "\n";
    const bool passed = lost == 0 && duplicates <= stats.redelivered && ledger->repeated_attempt.load() == 0 &&
                        hung == 0 && failures == 0 && stats.depth == 0 && broker_exit == 0 &&
                        client_kills == options.client_kills && broker_kills == options.broker_kills && sent > 0;
    std::cout << (passed ? "PASSED" : "FAILED") << "\n";
    return passed ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    po::options_description description(
        "shmq_torture: SIGKILL clients and the broker at random under load, then verify that no acknowledged\n"
        "message was lost, no process hung, and every duplicate is a counted redelivery.\n\nOptions");
    description.add_options()
        ("help,h", "print this help and exit")
        ("duration", po::value(&options.duration_s)->default_value(options.duration_s), "seconds of load and killing")
        ("client-kills", po::value(&options.client_kills)->default_value(options.client_kills),
         "producers and consumers to SIGKILL (each is replaced at once)")
        ("broker-kills", po::value(&options.broker_kills)->default_value(options.broker_kills),
         "times to SIGKILL the broker (it is restarted at once and adopts the segment)")
        ("producers", po::value(&options.producers)->default_value(options.producers), "producer processes")
        ("consumers", po::value(&options.consumers)->default_value(options.consumers), "consumer processes")
        ("shmqd", po::value(&options.shmqd)->default_value(SHMQ_BINARY_DIR "/daemon/shmqd"), "the broker binary");
    po::variables_map arguments;
    try {
        po::store(po::parse_command_line(argc, argv, description), arguments);
        po::notify(arguments);
    } catch (const po::error& failure) {
        std::cerr << "shmq_torture: " << failure.what() << "\n";
        return 2;
    }
    if (arguments.count("help")) {
        std::cout << description;
        return 0;
    }
    if (options.duration_s < 1 || options.producers < 1 || options.consumers < 1 || options.client_kills < 0 ||
        options.broker_kills < 0) {
        std::cerr << "shmq_torture: duration, producers and consumers must be at least 1, kills at least 0\n";
        return 2;
    }
    try {
        return torture(options);
    } catch (const std::exception& failure) {
        std::cerr << "shmq_torture: " << failure.what() << "\n";
        return 1;
    }
}
