// Timeouts measure the monotonic clock: with the wall clock jumping an hour
// back and forth on every read (an LD_PRELOAD shim), a receive and a send
// with a timeout still take their timeout, neither returning at once nor
// hanging.
#define BOOST_TEST_MODULE clock_tests
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <vector>

#include "tests/support/test_support.hpp"

using namespace shmq;
using namespace std::chrono_literals;

extern char** environ;

namespace {

struct Outcome {
    int exit_code = -1;
    std::chrono::milliseconds took{0};
};

// Runs the real shmq CLI with the wall-clock shim preloaded.
Outcome run_cli_with_jumping_wall_clock(const std::vector<std::string>& arguments) {
    // In the sanitizer build the preloaded shim comes before ASan's runtime,
    // which ASan refuses unless told that this order is intended.
    std::vector<std::string> environment{"LD_PRELOAD=" SHMQ_REALTIME_JUMP_SHIM, "ASAN_OPTIONS=verify_asan_link_order=0"};
    for (char** variable = environ; *variable != nullptr; ++variable) {
        const std::string text(*variable);
        if (text.rfind("LD_PRELOAD=", 0) != 0 && text.rfind("ASAN_OPTIONS=", 0) != 0) environment.push_back(text);
    }
    std::vector<char*> env_pointers, argv_pointers;
    for (auto& variable : environment) env_pointers.push_back(variable.data());
    env_pointers.push_back(nullptr);
    std::string program = SHMQ_BINARY_DIR "/cli/shmq";
    std::vector<std::string> argv{program};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    for (auto& argument : argv) argv_pointers.push_back(argument.data());
    argv_pointers.push_back(nullptr);
    const auto start = std::chrono::steady_clock::now();
    pid_t pid = 0;
    Outcome outcome;
    if (::posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv_pointers.data(), env_pointers.data()) != 0) {
        return outcome;
    }
    outcome.exit_code = test::wait_child(pid, 30s);
    outcome.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    return outcome;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_receive_timeout_ignores_wall_clock_jumps) {
    auto config = test::make_config("clockrecv");
    test::add_queue(config, "empty", 4, 64);
    test::InProcessBroker broker(config);
    const auto outcome = run_cli_with_jumping_wall_clock({"--broker", broker.name(), "consume", "empty", "--timeout", "400"});
    BOOST_TEST(outcome.exit_code == 3);  // consume's "timed out"
    BOOST_TEST(outcome.took.count() >= 400);
    BOOST_TEST(outcome.took.count() < 5000);
}

BOOST_AUTO_TEST_CASE(a_send_timeout_on_a_full_queue_ignores_wall_clock_jumps) {
    auto config = test::make_config("clocksend");
    test::add_queue(config, "full", 1, 64);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "full");
    BOOST_TEST_REQUIRE(queue.send("fills it", 1s) == Status::ok);
    const auto outcome =
        run_cli_with_jumping_wall_clock({"--broker", broker.name(), "publish", "full", "blocked", "--timeout", "400"});
    BOOST_TEST(outcome.exit_code == 1);  // publish failed: timeout
    BOOST_TEST(outcome.took.count() >= 400);
    BOOST_TEST(outcome.took.count() < 5000);
}
