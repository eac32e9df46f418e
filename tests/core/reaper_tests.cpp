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

// How many different heartbeats the broker writes while `span` passes.
std::size_t heartbeats_during(test::RawSegment& raw, std::chrono::milliseconds span) {
    std::set<std::uint64_t> seen;
    const auto end = std::chrono::steady_clock::now() + span;
    while (std::chrono::steady_clock::now() < end) {
        seen.insert(raw.view.root().broker_heartbeat_ns.load());
        std::this_thread::sleep_for(5ms);
    }
    return seen.size();
}

}  // namespace

// Each of 30 dead clients would have the reaper wait for 8 held queue locks:
// at 50 ms a lock, 12 s of one tick before the fix. The tick is bounded, so
// the heartbeat keeps moving at the liveness interval.
BOOST_AUTO_TEST_CASE(dead_clients_behind_stuck_locks_do_not_stall_the_broker_tick) {
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
    // word written, tail not moved yet), as a stopped producer would be.
    const pid_t holder = test::fork_child([&] {
        auto client = test::attach_or_exit(name);
        test::RawSegment raw(name);
        OwnerStamp me;
        if (claim_client_record(raw.view, "stopped-producer", me) != Status::ok) return 41;
        for (std::uint32_t queue = 0; queue < queue_count; ++queue) {
            auto& slot = raw.view.ring(queue).slot_at(0);
            slot.word.store(SlotWord::make(SlotState::writing, me, 0));
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
    // Fifty ticks fit in 5 s at 50 ms; five leave room for a slow machine.
    const auto beats = heartbeats_during(raw, 5s);
    BOOST_TEST(beats >= 5u, beats << " heartbeats in 5 s");

    auto client = test::attach(name);
    ::kill(holder, SIGKILL);
    BOOST_TEST(test::wait_child(holder, 5s) == 128 + SIGKILL);
    // The locks come free (their dead owner's sections repaired) and every
    // dead client is reclaimed; only this test's client is left.
    BOOST_TEST(test::eventually([&] { return client->stats().clients.size() == 1u; }, 30s),
               client->stats().clients.size() << " clients left");
    for (std::uint32_t queue = 0; queue < queue_count; ++queue) {
        Queue handle = test::open_queue(*client, "q" + std::to_string(queue));
        BOOST_TEST(handle.send("after", 1s) == Status::ok);
    }
    ::munmap(memory, sizeof(std::atomic<int>));
}
