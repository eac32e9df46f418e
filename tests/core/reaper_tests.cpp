// The broker's reaper against locks it cannot take: a live process holding
// queue locks, and many dead clients waiting to be reclaimed behind them. A
// broker tick must stay short whatever their number (its heartbeat and the
// systemd watchdog ping come from it), and the dead are reclaimed once the
// locks come free.
#define BOOST_TEST_MODULE reaper_tests
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <set>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "common/client_registry.hpp"
#include "shmq/client.hpp"
#include "tests/support/test_support.hpp"

using namespace shmq;
using namespace std::chrono_literals;

namespace {

constexpr std::uint32_t queue_count = 8;
constexpr int dead_clients = 30;

// Whether the broker writes `count` different heartbeats before `deadline`:
// its liveness tick keeps turning, however slowly the machine runs.
bool heartbeat_turns(test::RawSegment& raw, std::size_t count, std::chrono::milliseconds deadline) {
    std::set<std::uint64_t> seen;
    return test::eventually(
        [&] {
            seen.insert(raw.view.root().broker_heartbeat_ns.load());
            return seen.size() >= count;
        },
        deadline);
}

}  // namespace

// A live producer stopped in the middle of a claim on every queue, and 30
// dead clients: the broker's tick never waits for the stopped claim (before
// the lock-free rings it waited for every held lock of every dead client), so
// the dead clients are reclaimed while the stopped producer still lives, and
// the heartbeat keeps turning.
BOOST_AUTO_TEST_CASE(a_stopped_claim_does_not_stall_the_broker_tick) {
    auto config = test::make_config("reapstall");
    for (std::uint32_t queue = 0; queue < queue_count; ++queue) {
        test::add_queue(config, "q" + std::to_string(queue), 4, 32);
    }
    test::InProcessBroker broker(config);
    const auto name = broker.name();
    void* memory = ::mmap(nullptr, sizeof(std::atomic<int>), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    BOOST_TEST_REQUIRE(memory != MAP_FAILED);
    auto* holding = new (memory) std::atomic<int>(0);
    // A live process stopped in the middle of a claim on every queue (its
    // claim word written, tail not moved yet), as a stopped producer would be.
    const pid_t holder = test::fork_child([&] {
        auto client = test::attach_or_exit(name);
        test::RawSegment raw(name);
        OwnerStamp me;
        if (claim_client_record(raw.view, "stopped-producer", me) != Status::ok) return 41;
        for (std::uint32_t queue = 0; queue < queue_count; ++queue) {
            raw.view.ring(queue).claim_word_at(0).store(SlotWord::make(SlotState::writing, me, 0));
        }
        holding->store(1);
        for (;;) ::pause();
        return 0;
    });
    BOOST_TEST_REQUIRE(test::eventually([&] { return holding->load() == 1; }, 5s));
    for (int i = 0; i < dead_clients; ++i) {
        const pid_t dead = test::fork_child([&] {
            auto client = test::attach_or_exit(name);
            ::_exit(0);  // no detach: its record stays for the reaper
            return 0;
        });
        BOOST_TEST_REQUIRE(test::wait_child(dead, 5s) == 0);
    }
    test::RawSegment raw(name);
    BOOST_TEST(heartbeat_turns(raw, 5, 60s), "the broker's heartbeat stopped");

    // Only this test's client and the stopped producer's two records (its
    // library client and the raw record it claims with) are left.
    auto client = test::attach(name);
    BOOST_TEST(test::eventually([&] { return client->stats().clients.size() == 3u; }, 60s),
               client->stats().clients.size() << " clients left while the stopped producer lives");
    ::kill(holder, SIGKILL);
    BOOST_TEST(test::wait_child(holder, 5s) == 128 + SIGKILL);
    // Its claims are released with it, and every queue takes messages again.
    BOOST_TEST(test::eventually([&] { return client->stats().clients.size() == 1u; }, 30s),
               client->stats().clients.size() << " clients left");
    for (std::uint32_t queue = 0; queue < queue_count; ++queue) {
        Queue handle = test::open_queue(*client, "q" + std::to_string(queue));
        BOOST_TEST(handle.send("after", 1s) == Status::ok);
    }
    ::munmap(memory, sizeof(std::atomic<int>));
}
