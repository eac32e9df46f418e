// The attach/detach event ring (common/client_events.hpp): every event
// announced is read once, a burst larger than the ring is counted rather than
// misread, and entries any process may scribble on are checked, never
// trusted. The broker's side, logging them, is tested with a real shmqd in
// tests/daemon (operator_logs).
#define BOOST_TEST_MODULE client_event_tests
#include <boost/test/unit_test.hpp>

#include <memory>
#include <new>
#include <set>
#include <string>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/client_events.hpp"

using namespace shmq;

namespace {

constexpr std::uint32_t clients = 64;

// A ring in memory shared with forked children, as in a segment.
struct SharedRing {
    SharedRing() {
        memory = ::mmap(nullptr, sizeof(layout::ClientEventRing), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                        -1, 0);
        BOOST_REQUIRE(memory != MAP_FAILED);
        ring = new (memory) layout::ClientEventRing();
    }
    ~SharedRing() { ::munmap(memory, sizeof(layout::ClientEventRing)); }
    void* memory = nullptr;
    layout::ClientEventRing* ring = nullptr;
};

void announce(layout::ClientEventRing& ring, std::uint32_t kind, std::uint32_t record, const std::string& program) {
    announce_client_event(ring, kind, record, 1, 4242, 1000, program);
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_event_is_read_once_in_order) {
    SharedRing shared;
    ClientEventReader reader(*shared.ring);
    announce(*shared.ring, layout::client_event_attached, 3, "first");
    announce(*shared.ring, layout::client_event_detached, 3, "first");
    BOOST_TEST(reader.has_news(*shared.ring));
    auto drained = reader.drain(*shared.ring, clients);
    BOOST_TEST(drained.missed == 0u);
    BOOST_TEST(drained.unreadable == 0u);
    BOOST_REQUIRE(drained.events.size() == 2u);
    BOOST_TEST(drained.events[0].kind == layout::client_event_attached);
    BOOST_TEST(drained.events[1].kind == layout::client_event_detached);
    BOOST_TEST(drained.events[0].program == "first");
    BOOST_TEST(drained.events[0].pid == 4242);
    BOOST_TEST(drained.events[1].at_ns >= drained.events[1].attached_at_ns);
    BOOST_TEST(!reader.has_news(*shared.ring));
    BOOST_TEST(reader.drain(*shared.ring, clients).events.empty());
}

BOOST_AUTO_TEST_CASE(a_burst_larger_than_the_ring_is_counted_as_missed) {
    SharedRing shared;
    ClientEventReader reader(*shared.ring);
    const std::uint32_t burst = layout::client_event_capacity + 44;
    for (std::uint32_t index = 0; index < burst; ++index) {
        announce(*shared.ring, layout::client_event_attached, index % clients, "p" + std::to_string(index));
    }
    const auto drained = reader.drain(*shared.ring, clients);
    BOOST_TEST(drained.missed == 44u);
    BOOST_REQUIRE(drained.events.size() == layout::client_event_capacity);
    BOOST_TEST(drained.events.front().program == "p44");  // the oldest that was still there
    BOOST_TEST(drained.events.back().program == "p" + std::to_string(burst - 1));
}

// Forked processes announce at once: every event is read, none twice.
BOOST_AUTO_TEST_CASE(concurrent_processes_lose_no_event) {
    SharedRing shared;
    ClientEventReader reader(*shared.ring);
    constexpr int writers = 4;
    constexpr int each = 50;  // 200 events: fits the ring
    for (int writer = 0; writer < writers; ++writer) {
        const pid_t child = ::fork();
        BOOST_REQUIRE(child >= 0);
        if (child == 0) {
            for (int index = 0; index < each; ++index) {
                announce(*shared.ring, layout::client_event_attached, static_cast<std::uint32_t>(writer),
                         std::to_string(writer) + "-" + std::to_string(index));
            }
            ::_exit(0);
        }
    }
    for (int writer = 0; writer < writers; ++writer) {
        int status = 0;
        BOOST_REQUIRE(::wait(&status) > 0);
        BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    }
    const auto drained = reader.drain(*shared.ring, clients);
    BOOST_TEST(drained.missed == 0u);
    BOOST_TEST(drained.unreadable == 0u);
    std::set<std::string> seen;
    for (const auto& event : drained.events) seen.insert(event.program);
    BOOST_TEST(seen.size() == static_cast<std::size_t>(writers * each));
    BOOST_TEST(drained.events.size() == static_cast<std::size_t>(writers * each));
}

BOOST_AUTO_TEST_CASE(scribbled_entries_are_refused_not_trusted) {
    SharedRing shared;
    auto& ring = *shared.ring;
    ClientEventReader reader(ring);
    announce(ring, layout::client_event_attached, 1, "good");
    announce(ring, 99, 1, "bad kind");
    announce(ring, layout::client_event_attached, 0xFFFF'FFFF, "bad record");
    // A program name without a NUL in its 32 bytes is cut at 32.
    announce(ring, layout::client_event_detached, 2, std::string(40, 'x'));
    auto drained = reader.drain(ring, clients);
    BOOST_TEST(drained.unreadable == 2u);
    BOOST_REQUIRE(drained.events.size() == 2u);
    BOOST_TEST(drained.events[0].program == "good");
    BOOST_TEST(drained.events[1].program.size() < 32u);

    // The counter moved far ahead: the reader skips to what the ring can hold.
    ring.next.store(ring.next.load() + 1'000'000);
    drained = reader.drain(ring, clients);
    BOOST_TEST(drained.missed >= 1'000'000u - layout::client_event_capacity);
    BOOST_TEST(drained.events.empty());  // what is there belongs to earlier laps
    // Those entries look unpublished: after one wait they all go at once.
    ::usleep(static_cast<useconds_t>(ClientEventReader::stall_limit_ns / 1000 + 100'000));
    drained = reader.drain(ring, clients);
    BOOST_TEST(drained.unreadable == layout::client_event_capacity);
    announce(ring, layout::client_event_attached, 5, "after the scribble");
    drained = reader.drain(ring, clients);
    BOOST_REQUIRE(drained.events.size() == 1u);
    BOOST_TEST(drained.events[0].program == "after the scribble");
    // And backwards: reported, then reading resumes from there.
    ring.next.store(2);
    drained = reader.drain(ring, clients);
    BOOST_TEST(drained.counter_reset);
    announce(ring, layout::client_event_attached, 5, "after the reset");
    drained = reader.drain(ring, clients);
    BOOST_REQUIRE(drained.events.size() == 1u);
    BOOST_TEST(drained.events[0].program == "after the reset");
}

// A writer that took an entry and never published it (killed in between)
// holds the events behind it back only for a while.
BOOST_AUTO_TEST_CASE(an_entry_never_published_is_given_up) {
    SharedRing shared;
    auto& ring = *shared.ring;
    ClientEventReader reader(ring);
    ring.next.fetch_add(1);  // taken, never written
    announce(ring, layout::client_event_attached, 1, "behind it");
    BOOST_TEST(reader.drain(ring, clients).events.empty());
    BOOST_TEST(!reader.has_news(ring));
    ::usleep(static_cast<useconds_t>(ClientEventReader::stall_limit_ns / 1000 + 100'000));
    const auto drained = reader.drain(ring, clients);
    BOOST_TEST(drained.unreadable == 1u);
    BOOST_REQUIRE(drained.events.size() == 1u);
    BOOST_TEST(drained.events[0].program == "behind it");
}
