// Issue 9: a real client process (queue_step_client) killed with SIGKILL at
// each step of the lock-free queue protocol, between every pair of atomic
// operations that matter (the crash points are listed in
// docs/crash-safety.md, "Queues"). After each death nothing queued or
// acknowledged is lost, no consumer or producer waits for ever, and the ring
// works for whole laps again.
#define BOOST_TEST_MODULE queue_step_crash_tests
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <time.h>
#include <unistd.h>
#include <vector>

#include "common/monotonic_clock.hpp"
#include "shmq/client.hpp"
#include "tests/support/test_support.hpp"

using namespace shmq;
using namespace std::chrono_literals;

namespace {

constexpr int killed = 128 + SIGKILL;

// Starts queue_step_client BROKER QUEUE `arguments` with the test-only
// variable `variable` (SHMQ_TEST_CRASH_AT or SHMQ_TEST_PAUSE_AT) set to
// `step`; returns its pid.
pid_t start_step_client(const std::string& broker, const std::string& queue, const std::vector<std::string>& arguments,
                        const std::string& variable, const std::string& step) {
    // Everything the child needs is built before fork.
    std::vector<std::string> environment;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        if (std::strncmp(*entry, "SHMQ_TEST_", 10) != 0) environment.emplace_back(*entry);
    }
    environment.push_back(variable + "=" + step);
    std::vector<char*> envp;
    for (auto& entry : environment) envp.push_back(entry.data());
    envp.push_back(nullptr);
    std::vector<std::string> words = {SHMQ_BINARY_DIR "/tests/core/queue_step_client", broker, queue};
    words.insert(words.end(), arguments.begin(), arguments.end());
    std::vector<char*> argv;
    for (auto& word : words) argv.push_back(word.data());
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    BOOST_TEST_REQUIRE(pid > 0);
    return pid;
}

// Whether process `pid` is stopped (state T in /proc/PID/stat).
bool stopped(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto end_of_name = text.rfind(')');
    return end_of_name != std::string::npos && end_of_name + 2 < text.size() && text[end_of_name + 2] == 'T';
}

// Lets go a client stopped at a pause point (SHMQ_TEST_PAUSE_AT): it looks
// again, which stops it at the same step once more (the pause acts at every
// pass), so it is let go again until it ends. Its exit code.
std::optional<int> let_go_until_it_ends(test::BackgroundProgram& stalled) {
    std::optional<int> exit_code;
    for (int pass = 0; pass < 6000 && !exit_code; ++pass) {
        if (stopped(stalled.pid())) ::kill(stalled.pid(), SIGCONT);
        exit_code = stalled.wait_exit(10ms);
    }
    return exit_code;
}

// Sends and receives three laps of the ring, one message at a time, so that
// every slot's words change three times under a client stopped meanwhile.
void lap_three_times(Queue& queue) {
    for (std::uint32_t i = 0; i < 3 * queue.capacity(); ++i) {
        const auto text = "lap " + std::to_string(i);
        BOOST_TEST_REQUIRE(queue.send(text, 1s) == Status::ok);
        std::string out;
        BOOST_TEST_REQUIRE(queue.receive(out, 1s) == Status::ok);
        BOOST_TEST_REQUIRE(out == text);
    }
}

// The CPU time the calling thread has used, in seconds.
double thread_cpu_seconds() {
    timespec now{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

// Runs queue_step_client killed at `step`: returns its exit code, 128+signal
// if it was killed.
int run_step_client(const std::string& broker, const std::string& queue, const std::vector<std::string>& arguments,
                    const std::string& step) {
    return test::wait_child(start_step_client(broker, queue, arguments, "SHMQ_TEST_CRASH_AT", step), 60s);
}

config::QueueConfig& add_reliable_queue(config::BrokerConfig& config, const std::string& name,
                                        std::uint32_t ack_timeout_ms) {
    auto& queue = test::add_queue(config, name, 4, 32);
    queue.delivery = config::DeliveryMode::at_least_once;
    queue.ack_timeout_ms = ack_timeout_ms;
    queue.max_deliveries = 5;
    return queue;
}

constexpr config::Sharing both_sharings[] = {config::Sharing::many, config::Sharing::single};

// Two whole laps of the ring, message by message: every slot works again.
void expect_laps(Queue& queue, bool acknowledge = false) {
    for (std::uint32_t i = 0; i < 2 * queue.capacity(); ++i) {
        const auto text = "lap " + std::to_string(i);
        BOOST_TEST_REQUIRE(queue.send(text, 1s) == Status::ok);
        std::string out;
        std::uint64_t delivery = 0;
        BOOST_TEST_REQUIRE(queue.receive(out, 1s, acknowledge ? &delivery : nullptr) == Status::ok);
        BOOST_TEST(out == text);
        if (acknowledge) BOOST_TEST_REQUIRE(queue.acknowledge(delivery) == Status::ok);
    }
}

}  // namespace

// A send killed at each of its steps. A batch claims a run of slots and
// moves tail past them once: one killed before that move
// (queue_run_claimed) leaves tail behind slots it claimed. A spinning
// producer then copies the batch in before it marks any of it ready
// (docs/crash-safety.md, "Handing a batch over"): one killed in between
// (queue_group_copied) leaves a run of copied slots that nobody may deliver.
// On a queue with `producers: single` the lease holder's claim is its move
// of tail alone (nothing is written to the slot before the publish), so a
// kill before that move leaves nothing to abandon; another producer gets
// the side once the broker freed the dead one's lease.
BOOST_AUTO_TEST_CASE(a_producer_killed_at_each_step_of_a_send_stops_nobody_and_loses_nothing_queued) {
    struct Case {
        std::vector<std::string> operation;
        const char* step;
        std::uint64_t claims;         // abandoned afterwards, many producers
        std::uint64_t single_claims;  // and with a single producer
    };
    const std::vector<std::string> send = {"send", "doomed"}, batch = {"send_batch", "d1", "d2", "d3"};
    const Case cases[] = {{send, "queue_claimed", 1, 0},         {send, "queue_tail_moved", 1, 1},
                          {send, "queue_copied", 1, 1},          {batch, "queue_run_claimed", 3, 1},
                          {batch, "queue_group_copied", 3, 3}};
    for (const auto producers : both_sharings)
    for (const auto& [operation, step, many_claims, single_claims] : cases) {
        const auto claims = producers == config::Sharing::single ? single_claims : many_claims;
        BOOST_TEST_CONTEXT(operation[0] << " killed at " << step << ", producers " << config::to_string(producers)) {
            auto config = test::make_config("stepsend");
            test::add_queue(config, "q", 8, 32).producers = producers;
            test::InProcessBroker broker(config);
            auto client = test::attach(broker.name());
            auto queue = test::open_queue(*client, "q");
            {
                // Sent by a client that detaches, giving a single
                // producer's lease back to the one killed below.
                auto early = test::attach(broker.name());
                BOOST_TEST_REQUIRE(test::open_queue(*early, "q").send("before", 1s) == Status::ok);
            }
            BOOST_TEST_REQUIRE(run_step_client(broker.name(), "q", operation, step) == killed);
            if (producers == config::Sharing::single) {
                BOOST_TEST(test::once_the_lease_is_free([&] { return queue.send("after", 1s); }) == Status::ok);
            } else {
                // Other producers move tail past the dead claims (if need
                // be) and claim the following slots at once.
                const auto start = std::chrono::steady_clock::now();
                BOOST_TEST(queue.send("after", 1s) == Status::ok);
                BOOST_TEST((std::chrono::steady_clock::now() - start < 1s));
            }
            std::string out;
            BOOST_TEST_REQUIRE(queue.receive(out, 1s) == Status::ok);
            BOOST_TEST(out == "before");
            // The dead claims are abandoned by the reaper and skipped:
            // nothing of them is delivered.
            BOOST_TEST_REQUIRE(queue.receive(out, 5s) == Status::ok);
            BOOST_TEST(out == "after");
            BOOST_TEST(test::queue_stats(*client, "q").abandoned == claims);
            expect_laps(queue);
            BOOST_TEST(test::queue_stats(*client, "q").depth == 0u);
            BOOST_TEST(!test::queue_stats(*client, "q").quarantined);
        }
    }
}

// A producer killed right after its publish's store, before its look at its
// own client record (queue_published), has sent the message: it is
// delivered, and nothing is abandoned.
BOOST_AUTO_TEST_CASE(a_producer_killed_right_after_its_publish_has_sent_the_message) {
    auto config = test::make_config("steppublished");
    test::add_queue(config, "q", 8, 32);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    BOOST_TEST_REQUIRE(run_step_client(broker.name(), "q", {"send", "sent"}, "queue_published") == killed);
    std::string out;
    BOOST_TEST_REQUIRE(queue.receive(out, 5s) == Status::ok);
    BOOST_TEST(out == "sent");
    BOOST_TEST(queue.send("after", 1s) == Status::ok);
    BOOST_TEST_REQUIRE(queue.receive(out, 5s) == Status::ok);
    BOOST_TEST(out == "after");
    BOOST_TEST(test::queue_stats(*client, "q").abandoned == 0u);
    BOOST_TEST(!test::queue_stats(*client, "q").quarantined);
}

// On a queue with a single producer or consumer, a client killed right
// after its compare-and-swap took the side's lease (queue_lease_taken),
// before it claimed or took anything: the broker frees the lease, the next
// client gets the side, and every message is delivered once.
BOOST_AUTO_TEST_CASE(a_client_killed_right_after_taking_a_lease_stops_nobody_and_loses_nothing) {
    for (const bool producer_side : {true, false}) {
        BOOST_TEST_CONTEXT((producer_side ? "producers" : "consumers") << ": single") {
            auto config = test::make_config("steplease");
            auto& declared = test::add_queue(config, "q", 8, 32);
            (producer_side ? declared.producers : declared.consumers) = config::Sharing::single;
            test::InProcessBroker broker(config);
            auto client = test::attach(broker.name());
            auto queue = test::open_queue(*client, "q");
            {
                // Sent by a client that detaches, so that the killed one
                // takes the producer lease afresh.
                auto early = test::attach(broker.name());
                BOOST_TEST_REQUIRE(test::open_queue(*early, "q").send("before", 1s) == Status::ok);
            }
            const std::vector<std::string> operation =
                producer_side ? std::vector<std::string>{"send", "doomed"} : std::vector<std::string>{"receive"};
            BOOST_TEST_REQUIRE(run_step_client(broker.name(), "q", operation, "queue_lease_taken") == killed);
            std::string out;
            if (producer_side) {
                BOOST_TEST_REQUIRE(test::once_the_lease_is_free([&] { return queue.send("after", 1s); }) ==
                                   Status::ok);
                BOOST_TEST_REQUIRE(queue.receive(out, 1s) == Status::ok);
                BOOST_TEST(out == "before");
            } else {
                BOOST_TEST_REQUIRE(test::once_the_lease_is_free([&] { return queue.receive(out, 1s); }) ==
                                   Status::ok);
                BOOST_TEST(out == "before");
                BOOST_TEST_REQUIRE(queue.send("after", 1s) == Status::ok);
            }
            BOOST_TEST_REQUIRE(queue.receive(out, 1s) == Status::ok);
            BOOST_TEST(out == "after");
            BOOST_TEST(queue.receive(out, no_wait) == Status::empty);
            const auto stats = test::queue_stats(*client, "q");
            BOOST_TEST(stats.abandoned == 0u);
            BOOST_TEST(stats.lost_in_read == 0u);
            BOOST_TEST(stats.depth == 0u);
            BOOST_TEST(!stats.quarantined);
            expect_laps(queue);
        }
    }
}

// at_most_once messages up to QueueRing::copy_first_limit are copied out
// before they are taken ("Copy, then take"): a consumer killed before its
// take loses nothing, and one killed after it took the message whole. Longer
// ones are taken first: a consumer killed after it decided the take but
// before it marked the slot `reading` had copied nothing, and the reaper
// queues the message again ("Take words"); one killed after that loses the
// message, which the reaper counts. On a queue with
// `consumers: single` the take is a plain store by the lease holder, and
// the next consumer gets the side once the broker freed the dead one's lease.
BOOST_AUTO_TEST_CASE(a_consumer_killed_at_each_step_of_a_receive_stops_nobody) {
    struct Case {
        std::size_t size;
        std::string step;
        bool message_kept;  // the dead consumer's message goes to the next one
        std::uint64_t lost_in_read;
    };
    const Case cases[] = {{32, "queue_copied_out", true, 0},    {32, "queue_taken", false, 0},
                          {32, "queue_head_moved", false, 0},   {1500, "queue_take_decided", true, 0},
                          {1500, "queue_taken", false, 1},      {1500, "queue_head_moved", false, 1},
                          {1500, "queue_read", false, 1}};
    for (const auto consumers : both_sharings)
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("a message of " << c.size << " bytes, killed at " << c.step << ", consumers "
                                           << config::to_string(consumers)) {
            auto config = test::make_config("steprecv");
            test::add_queue(config, "q", 4, 1500).consumers = consumers;
            test::InProcessBroker broker(config);
            auto client = test::attach(broker.name());
            auto queue = test::open_queue(*client, "q");
            const std::string m0 = "m0" + std::string(c.size - 2, '0');
            const std::string m1 = "m1" + std::string(c.size - 2, '1');
            BOOST_TEST_REQUIRE(queue.send(m0, 1s) == Status::ok);
            BOOST_TEST_REQUIRE(queue.send(m1, 1s) == Status::ok);
            BOOST_TEST_REQUIRE(run_step_client(broker.name(), "q", {"receive"}, c.step) == killed);
            // The next consumer takes the next message at once (a single
            // consumer's, once the dead one's lease is freed).
            std::string out;
            BOOST_TEST_REQUIRE(test::once_the_lease_is_free([&] { return queue.receive(out, 1s); }) == Status::ok);
            BOOST_TEST((out == (c.message_kept ? m0 : m1)));
            if (c.message_kept) {
                BOOST_TEST_REQUIRE(queue.receive(out, 1s) == Status::ok);
                BOOST_TEST((out == m1));
            }
            // at_most_once: a message taken first is lost with its consumer,
            // its slot freed by the reaper.
            BOOST_TEST(test::eventually(
                [&] { return test::queue_stats(*client, "q").lost_in_read == c.lost_in_read; }, 5s));
            expect_laps(queue);
            BOOST_TEST(test::queue_stats(*client, "q").lost_in_read == c.lost_in_read);
            BOOST_TEST(!test::queue_stats(*client, "q").quarantined);
        }
    }
}

// A batch takes a run of messages and moves head past them once: a consumer
// stopped before that move leaves head behind slots it took, which the
// broker's check of the ring (run when it adopts a segment) must accept,
// and killed there, stops nobody. Short messages were copied out and their
// slots freed as they were taken; long ones are held `reading` until the
// reaper frees them.
BOOST_AUTO_TEST_CASE(a_consumer_stopped_or_killed_while_taking_a_run_stops_nobody) {
    for (const std::size_t size : {std::size_t{32}, std::size_t{1500}}) {
        BOOST_TEST_CONTEXT("messages of " << size << " bytes") {
            auto config = test::make_config("steprunrecv");
            test::add_queue(config, "q", 8, 1500);
            test::InProcessBroker broker(config);
            test::RawSegment raw(broker.name());
            auto client = test::attach(broker.name());
            auto queue = test::open_queue(*client, "q");
            std::vector<std::string> sent;
            for (const char* name : {"m0", "m1", "m2", "m3"}) {
                sent.push_back(name + std::string(size - 2, name[1]));
                BOOST_TEST_REQUIRE(queue.send(sent.back(), 1s) == Status::ok);
            }
            // Killed however the test ends: a stopped child would outlive it.
            test::BackgroundProgram stalled(start_step_client(broker.name(), "q", {"receive_batch", "3"},
                                                              "SHMQ_TEST_PAUSE_AT", "queue_run_taken"));
            int status = 0;
            BOOST_TEST_REQUIRE(::waitpid(stalled.pid(), &status, WUNTRACED) == stalled.pid());
            BOOST_TEST_REQUIRE(WIFSTOPPED(status));
            std::string problem;
            raw.view.ring(0).verify(problem);
            BOOST_TEST(problem.empty(), problem);
            // The next consumer moves head past the stalled run and takes m3 at once.
            std::string out;
            BOOST_TEST_REQUIRE(queue.receive(out, no_wait) == Status::ok);
            BOOST_TEST((out == sent[3]));
            BOOST_TEST(stalled.kill() == killed);
            // at_most_once: the three it took are gone.
            const std::uint64_t lost = size <= 512 ? 0 : 3;  // QueueRing::copy_first_limit
            BOOST_TEST(test::eventually([&] { return test::queue_stats(*client, "q").lost_in_read == lost; }, 5s));
            expect_laps(queue);
            BOOST_TEST(test::queue_stats(*client, "q").lost_in_read == lost);
            BOOST_TEST(!test::queue_stats(*client, "q").quarantined);
        }
    }
}

// A run of long messages: each is decided `holding`, then marked `reading`.
// A consumer killed between the two for the run's second message
// (queue_run_take_decided) had marked the first, which is lost with it
// (at_most_once), and copied nothing of the second: the reaper queues that
// one again, and the next consumer takes it and the rest, in order.
BOOST_AUTO_TEST_CASE(a_consumer_killed_deciding_a_run_loses_only_what_it_marked) {
    auto config = test::make_config("steprundecided");
    test::add_queue(config, "q", 8, 1500);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    std::vector<std::string> sent;
    for (const char* name : {"m0", "m1", "m2", "m3"}) {
        sent.push_back(name + std::string(1498, name[1]));
        BOOST_TEST_REQUIRE(queue.send(sent.back(), 1s) == Status::ok);
    }
    BOOST_TEST_REQUIRE(run_step_client(broker.name(), "q", {"receive_batch", "3"}, "queue_run_take_decided") == killed);
    for (std::size_t i = 1; i < sent.size(); ++i) {
        std::string out;
        BOOST_TEST_REQUIRE(queue.receive(out, 5s) == Status::ok);
        BOOST_TEST((out == sent[i]));
    }
    BOOST_TEST(test::eventually([&] { return test::queue_stats(*client, "q").lost_in_read == 1u; }, 5s));
    expect_laps(queue);
    BOOST_TEST(test::queue_stats(*client, "q").lost_in_read == 1u);
    BOOST_TEST(!test::queue_stats(*client, "q").quarantined);
}

// A producer reads the position's claim word, then its slot's word, and
// claims by a compare-and-swap of the claim word from what it read
// (QueueRing::claim_by_word). One stopped between the two reads
// (queue_claim_word_read) while others lap the ring three times, every
// slot's claim word and slot word changing under it, then let go: it must
// not claim the position it looked at, long used since. Its look is stale,
// it claims afresh, and every message arrives exactly once, in order.
BOOST_AUTO_TEST_CASE(a_producer_stopped_between_its_reads_of_a_claim_does_not_claim_a_used_position) {
    auto config = test::make_config("stepstale");
    test::add_queue(config, "q", 4, 32);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    // Killed however the test ends: a stopped child would outlive it.
    test::BackgroundProgram stalled(
        start_step_client(broker.name(), "q", {"send", "stale"}, "SHMQ_TEST_PAUSE_AT", "queue_claim_word_read"));
    int status = 0;
    BOOST_TEST_REQUIRE(::waitpid(stalled.pid(), &status, WUNTRACED) == stalled.pid());
    BOOST_TEST_REQUIRE(WIFSTOPPED(status));
    lap_three_times(queue);
    BOOST_TEST_REQUIRE(queue.send("before", 1s) == Status::ok);
    BOOST_TEST((let_go_until_it_ends(stalled) == 0));
    BOOST_TEST_REQUIRE(queue.send("after", 1s) == Status::ok);
    for (const char* expected : {"before", "stale", "after"}) {
        std::string out;
        BOOST_TEST_REQUIRE(queue.receive(out, 1s) == Status::ok);
        BOOST_TEST(out == expected);
    }
    std::string out;
    BOOST_TEST(queue.receive(out, no_wait) == Status::empty);
    const auto stats = test::queue_stats(*client, "q");
    BOOST_TEST(stats.abandoned == 0u);
    BOOST_TEST(!stats.quarantined);
    expect_laps(queue);
}

// A consumer reads the position's take word, then its slot's word, copies
// the message out, and decides it is its own by a compare-and-swap of the
// take word from what it read (QueueRing::decide). One stopped after its
// read of the take word (queue_take_word_read) or after its copy
// (queue_copied_out) while others take that message and lap the ring three
// times, every take word and slot word changing under it, then let go: its
// decision must fail, and it must take the one message waiting then, not
// hand out the message it copied, long taken by another.
BOOST_AUTO_TEST_CASE(a_consumer_stopped_before_its_decision_does_not_take_a_message_taken_since) {
    for (const std::string step : {"queue_take_word_read", "queue_copied_out"}) {
        BOOST_TEST_CONTEXT("stopped at " << step) {
            auto config = test::make_config("stepstaletake");
            test::add_queue(config, "q", 4, 32);
            test::InProcessBroker broker(config);
            auto client = test::attach(broker.name());
            auto queue = test::open_queue(*client, "q");
            BOOST_TEST_REQUIRE(queue.send("first", 1s) == Status::ok);
            const test::TempDir dir;
            const auto printed = dir.path() + "/received";
            test::Redirections files;
            files.output = printed;
            test::BackgroundProgram stalled({SHMQ_BINARY_DIR "/tests/core/queue_step_client", broker.name(), "q", "receive"},
                                            files, {{"SHMQ_TEST_PAUSE_AT", step}});
            BOOST_TEST_REQUIRE(test::eventually([&] { return stopped(stalled.pid()); }, 10s));
            std::string out;
            BOOST_TEST_REQUIRE(queue.receive(out, 1s) == Status::ok);
            BOOST_TEST_REQUIRE(out == "first");
            lap_three_times(queue);
            BOOST_TEST_REQUIRE(queue.send("waiting", 1s) == Status::ok);
            BOOST_TEST_REQUIRE((let_go_until_it_ends(stalled) == 0));
            BOOST_TEST(test::read_file(printed) == "waiting\n");
            BOOST_TEST(queue.receive(out, no_wait) == Status::empty);
            BOOST_TEST_REQUIRE(queue.send("after", 1s) == Status::ok);
            BOOST_TEST_REQUIRE(queue.receive(out, 1s) == Status::ok);
            BOOST_TEST(out == "after");
            const auto stats = test::queue_stats(*client, "q");
            BOOST_TEST(stats.depth == 0u);
            BOOST_TEST(!stats.quarantined);
        }
    }
}

// Under WaitStrategy::block, a receive that finds the message at head still
// being copied in polls for it only briefly (client/queue.cpp,
// claim_in_flight_poll_ns) and then sleeps. With its producer stopped
// mid-copy for a third of a second, it uses next to no CPU, and it takes
// the message once the producer goes on.
BOOST_AUTO_TEST_CASE(a_blocking_consumer_sleeps_while_its_producer_is_stopped_mid_copy) {
    auto config = test::make_config("stepmidcopy");
    test::add_queue(config, "q", 8, 32);
    test::InProcessBroker broker(config);
    // Killed however the test ends: a stopped child would outlive it.
    test::BackgroundProgram stalled(
        start_step_client(broker.name(), "q", {"send", "m0"}, "SHMQ_TEST_PAUSE_AT", "queue_copied"));
    int status = 0;
    BOOST_TEST_REQUIRE(::waitpid(stalled.pid(), &status, WUNTRACED) == stalled.pid());
    BOOST_TEST_REQUIRE(WIFSTOPPED(status));

    AttachOptions options;
    options.broker = broker.name();
    options.wait = WaitStrategy::block;
    std::unique_ptr<Client> client;
    BOOST_TEST_REQUIRE(Client::attach(options, client) == Status::ok);
    auto queue = test::open_queue(*client, "q");
    std::string out;
    Status received = Status::timeout;
    double cpu_seconds = 0;
    std::thread consumer([&] {
        const double before = thread_cpu_seconds();
        received = queue.receive(out, 30s);
        cpu_seconds = thread_cpu_seconds() - before;
    });
    std::this_thread::sleep_for(300ms);
    ::kill(stalled.pid(), SIGCONT);
    consumer.join();
    BOOST_TEST((received == Status::ok));
    BOOST_TEST(out == "m0");
    BOOST_TEST((stalled.wait_exit(60s) == 0));
    // A poll for the whole stall would have taken about 0.3 s of CPU.
    BOOST_TEST(cpu_seconds < 0.1, cpu_seconds << " s of CPU");
}

// Killed after it decided the take but before it marked the slot in_flight,
// it had copied nothing: the reaper queues the message again, and its next
// delivery is its first.
BOOST_AUTO_TEST_CASE(an_at_least_once_consumer_killed_at_each_step_of_a_take_has_its_message_redelivered) {
    for (const std::string step : {"queue_take_decided", "queue_taken", "queue_head_moved", "queue_ack_clock_started"}) {
        BOOST_TEST_CONTEXT("killed at " << step) {
            auto config = test::make_config("stepalo");
            add_reliable_queue(config, "q", 60'000);  // only the reaper can hand it back
            test::InProcessBroker broker(config);
            auto client = test::attach(broker.name());
            auto queue = test::open_queue(*client, "q");
            BOOST_TEST_REQUIRE(queue.send("m0", 1s) == Status::ok);
            BOOST_TEST_REQUIRE(queue.send("m1", 1s) == Status::ok);
            BOOST_TEST_REQUIRE(run_step_client(broker.name(), "q", {"receive_ack"}, step) == killed);
            std::multiset<std::string> received;
            for (int i = 0; i < 2; ++i) {
                std::string out;
                std::uint64_t delivery = 0;
                BOOST_TEST_REQUIRE(queue.receive(out, 5s, &delivery) == Status::ok);
                BOOST_TEST(queue.acknowledge(delivery) == Status::ok);
                received.insert(out);
            }
            BOOST_TEST((received == std::multiset<std::string>{"m0", "m1"}));
            BOOST_TEST(test::queue_stats(*client, "q").redelivered == (step == "queue_take_decided" ? 0u : 1u));
            std::string out;
            BOOST_TEST(queue.receive(out, no_wait) == Status::empty);
            expect_laps(queue, true);
        }
    }
}

// A consumer preempted between its take and its copy for longer than the ack
// timeout keeps its delivery: the ack clock starts when the copy is done.
// (When it started at the take, the delivery expired under the stalled copy;
// redelivered, acknowledged and its slot refilled meanwhile, the copy came
// out torn.)
BOOST_AUTO_TEST_CASE(an_at_least_once_consumer_stalled_before_its_copy_keeps_its_delivery) {
    for (const std::string step : {"queue_head_moved", "queue_redelivery_taken"}) {
        BOOST_TEST_CONTEXT("stopped at " << step) {
            auto config = test::make_config("stepstall");
            add_reliable_queue(config, "q", 100);
            test::InProcessBroker broker(config);
            test::RawSegment raw(broker.name());
            auto client = test::attach(broker.name());
            auto queue = test::open_queue(*client, "q");
            BOOST_TEST_REQUIRE(queue.send("m0", 1s) == Status::ok);
            BOOST_TEST_REQUIRE(queue.send("m1", 1s) == Status::ok);
            if (step == "queue_redelivery_taken") {
                // m0 delivered once and never acknowledged: the stalled
                // consumer takes its redelivery.
                std::string out;
                std::uint64_t expired = 0;
                BOOST_TEST_REQUIRE(queue.receive(out, 1s, &expired) == Status::ok);
                BOOST_TEST_REQUIRE(out == "m0");
                // Expired: awaiting redelivery, it counts in the depth again.
                BOOST_TEST_REQUIRE(test::eventually([&] { return test::queue_stats(*client, "q").depth == 2u; }, 10s));
            }
            const pid_t stalled =
                start_step_client(broker.name(), "q", {"receive_ack", "m0"}, "SHMQ_TEST_PAUSE_AT", step);
            int status = 0;
            BOOST_TEST_REQUIRE(::waitpid(stalled, &status, WUNTRACED) == stalled);
            BOOST_TEST_REQUIRE(WIFSTOPPED(status));
            // Two broker ticks after the deadline a take-time clock would have set.
            const auto would_have_expired = monotonic_now_ns() + 100'000'000ull;
            test::wait_for_a_broker_tick_after(raw.view.root(), would_have_expired);
            test::wait_for_a_broker_tick_after(raw.view.root(), would_have_expired);
            // Nothing was handed out again: the next consumer gets m1.
            std::string out;
            std::uint64_t delivery = 0;
            BOOST_TEST(queue.receive(out, no_wait, &delivery) == Status::ok);
            BOOST_TEST(out == "m1");
            BOOST_TEST(queue.acknowledge(delivery) == Status::ok);
            BOOST_TEST(queue.receive(out, no_wait) == Status::empty);
            // Let go, it copies m0 whole and acknowledges it.
            ::kill(stalled, SIGCONT);
            BOOST_TEST(test::wait_child(stalled, 60s) == 0);
            BOOST_TEST(queue.receive(out, no_wait) == Status::empty);
            expect_laps(queue, true);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_consumer_killed_taking_a_redelivery_has_it_redelivered_again) {
    auto config = test::make_config("stepredo");
    add_reliable_queue(config, "q", 200);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    BOOST_TEST_REQUIRE(queue.send("m0", 1s) == Status::ok);
    std::string out;
    std::uint64_t expired = 0;
    BOOST_TEST_REQUIRE(queue.receive(out, 1s, &expired) == Status::ok);  // never acknowledged: it times out
    BOOST_TEST_REQUIRE(run_step_client(broker.name(), "q", {"receive_ack"}, "queue_redelivery_taken") == killed);
    std::uint64_t delivery = 0;
    BOOST_TEST_REQUIRE(queue.receive(out, 5s, &delivery) == Status::ok);
    BOOST_TEST(out == "m0");
    BOOST_TEST(queue.acknowledge(delivery) == Status::ok);
    BOOST_TEST(queue.acknowledge(expired) == Status::not_acknowledgeable);
    BOOST_TEST(queue.receive(out, no_wait) == Status::empty);
    expect_laps(queue, true);
}

BOOST_AUTO_TEST_CASE(a_consumer_killed_skipping_an_abandoned_slot_stops_nobody) {
    auto config = test::make_config("stepskip");
    test::add_queue(config, "q", 4, 32);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    BOOST_TEST_REQUIRE(run_step_client(broker.name(), "q", {"send", "doomed"}, "queue_copied") == killed);
    BOOST_TEST_REQUIRE(queue.send("after", 1s) == Status::ok);
    // This consumer waits for the reaper to abandon the dead write, skips it
    // and dies before it moves head.
    BOOST_TEST_REQUIRE(run_step_client(broker.name(), "q", {"receive"}, "queue_skipped") == killed);
    std::string out;
    BOOST_TEST_REQUIRE(queue.receive(out, 1s) == Status::ok);
    BOOST_TEST(out == "after");
    expect_laps(queue);
    BOOST_TEST(test::queue_stats(*client, "q").abandoned == 1u);
}

BOOST_AUTO_TEST_CASE(a_producer_killed_dropping_the_oldest_message_stops_nobody) {
    auto config = test::make_config("stepdrop");
    test::add_queue(config, "q", 2, 32, config::OverflowPolicy::drop_oldest);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    BOOST_TEST_REQUIRE(queue.send("m0", 1s) == Status::ok);
    BOOST_TEST_REQUIRE(queue.send("m1", 1s) == Status::ok);
    BOOST_TEST_REQUIRE(run_step_client(broker.name(), "q", {"send", "m2"}, "queue_dropped") == killed);
    BOOST_TEST(queue.send("m3", no_wait) == Status::ok);
    for (const char* expected : {"m1", "m3"}) {
        std::string out;
        BOOST_TEST_REQUIRE(queue.receive(out, 1s) == Status::ok);
        BOOST_TEST(out == expected);
    }
    BOOST_TEST(test::queue_stats(*client, "q").dropped == 1u);
    expect_laps(queue);
}
