// WaitEvent's armed word: a notify makes its wake-up call only when a waiter
// armed the word since the last call, and a woken waiter that leaves others
// asleep re-arms it and hands the wake-up on, so that notifies which came
// while the word was disarmed still wake every sleeper they were meant for.
#define BOOST_TEST_MODULE wait_event_tests
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "common/wait_event.hpp"

using namespace shmq;
using namespace std::chrono_literals;

namespace {

// Long enough that a sleeper nobody wakes stays asleep for the whole test.
constexpr std::uint64_t an_hour_ns = 3'600'000'000'000;

bool take_token(std::atomic<int>& tokens) {
    int left = tokens.load();
    while (left > 0) {
        if (tokens.compare_exchange_weak(left, left - 1)) return true;
    }
    return false;
}

// Whether thread `tid` of this process is asleep (state S in /proc).
bool asleep(pid_t tid) {
    std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
    std::string line;
    std::getline(stat, line);
    const auto name_end = line.rfind(')');
    return name_end != std::string::npos && name_end + 2 < line.size() && line[name_end + 2] == 'S';
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_notify_finds_the_word_armed_only_after_a_waiter_armed_it) {
    WaitEvent event;
    BOOST_TEST(!event.armed());
    event.notify(1);
    BOOST_TEST(!event.armed());

    const auto ticket = event.prepare_wait();
    BOOST_TEST(event.armed());
    event.notify(1);
    BOOST_TEST(!event.armed());  // disarmed by the notify that made the call
    event.notify(1);
    BOOST_TEST(!event.armed());
    BOOST_TEST(!event.wait(ticket, 0));  // the only waiter: nobody to hand on to
    BOOST_TEST(!event.armed());

    // The last waiter to leave unwoken disarms the word: the next notify
    // would otherwise make a wake-up call for nobody.
    static_cast<void>(event.prepare_wait());
    event.cancel_wait();
    BOOST_TEST(!event.armed());
    const auto timed_out = event.prepare_wait();
    BOOST_TEST(!event.wait(timed_out, 1'000));
    BOOST_TEST(!event.armed());

    // One that leaves others waiting does not.
    const auto staying = event.prepare_wait();
    static_cast<void>(event.prepare_wait());
    event.cancel_wait();
    BOOST_TEST(event.armed());
    event.notify_all();
    BOOST_TEST(!event.armed());
    BOOST_TEST(!event.wait(staying, 0));
}

BOOST_AUTO_TEST_CASE(a_woken_waiter_that_leaves_others_waiting_rearms_the_word_and_says_so) {
    WaitEvent event;
    const auto first = event.prepare_wait();
    const auto second = event.prepare_wait();
    event.notify(1);
    BOOST_TEST(!event.armed());
    BOOST_TEST(event.wait(first, 0));  // the second still waits
    BOOST_TEST(event.armed());
    BOOST_TEST(!event.wait(second, 0));
}

// Four threads asleep on one event; four tokens posted, each followed by a
// notify(1), as producers do with messages. Only the first notify is sure to
// find the word armed: the others may come before the woken thread re-armed
// it, and wake nobody. Every thread must still get its token, through the
// hand-on, long before the sleep slice (an hour here) would end.
BOOST_AUTO_TEST_CASE(sleepers_the_notifies_missed_are_woken_by_the_hand_on) {
    constexpr int sleepers = 4;
    WaitEvent event;
    std::atomic<int> tokens{0};
    std::atomic<int> done{0};
    std::vector<std::atomic<pid_t>> tids(sleepers);
    std::vector<std::thread> threads;
    for (int i = 0; i < sleepers; ++i) {
        threads.emplace_back([&, i] {
            tids[i] = static_cast<pid_t>(syscall(SYS_gettid));
            for (;;) {
                const auto ticket = event.prepare_wait();
                if (take_token(tokens)) {
                    event.cancel_wait();
                    break;
                }
                if (event.wait(ticket, an_hour_ns) && tokens.load() > 0) event.notify(1);
            }
            ++done;
        });
    }
    // Asleep in the kernel, so that a wake-up the notifies fail to make is
    // one that nothing else makes.
    for (int i = 0; i < sleepers; ++i) {
        while (tids[i].load() == 0 || !asleep(tids[i].load())) std::this_thread::sleep_for(1ms);
    }
    for (int i = 0; i < sleepers; ++i) {
        ++tokens;
        event.notify(1);
    }
    // Only a lost wake-up comes near this bound.
    const auto give_up = std::chrono::steady_clock::now() + 120s;
    while (done.load() < sleepers && std::chrono::steady_clock::now() < give_up) std::this_thread::sleep_for(1ms);
    BOOST_TEST(done.load() == sleepers, "sleepers woken: " << done.load() << " of " << sleepers);
    if (done.load() < sleepers) {  // release them, so that the test ends
        tokens += sleepers;
        event.notify_all();
    }
    for (auto& thread : threads) thread.join();
}
