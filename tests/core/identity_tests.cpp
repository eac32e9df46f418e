// Who may attach, and what a client the broker wrongly took for dead can
// still do. A process identity (pid + start time) means something only in
// the broker's PID namespace and boot, so a client from another namespace
// (a container sharing /dev/shm) or on a segment of an earlier boot is
// refused at attach; and a producer reaped while alive cannot re-mark the
// slot it lost.
#define BOOST_TEST_MODULE identity_tests
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "common/layout.hpp"
#include "common/segment_view.hpp"
#include "common/slot_word.hpp"
#include "shmq/client.hpp"
#include "tests/support/test_support.hpp"

using namespace shmq;
using namespace std::chrono_literals;

namespace {

const std::string shmq_cli = SHMQ_BINARY_DIR "/cli/shmq";

}  // namespace

// `unshare --pid --fork --mount-proc` runs the CLI as pid 1 of a new PID
// namespace, as a container sharing the host's /dev/shm does. The broker
// cannot see that pid, so it would reap the subscriber within a tick while
// it lives; instead the client is refused at attach and told why.
BOOST_AUTO_TEST_CASE(a_client_in_another_pid_namespace_is_refused_at_attach) {
    test::TempDir dir;
    // A probe that hangs is a refusal too: the test is skipped, not failed.
    const auto said = dir.path() + "/probe";
    const auto probe = test::spawn_program({"unshare", "--pid", "--fork", "--mount-proc", "true"},
                                           {"/dev/null", said, said});
    if (test::wait_child(probe, 10s) != 0) {
        BOOST_TEST_MESSAGE("skipped: this kernel or user may not create PID namespaces (unshare said: "
                           << test::read_file(said) << ")");
        return;
    }
    auto config = test::make_config("pidns");
    test::add_topic(config, "t", 4, 64);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    Topic topic;
    BOOST_TEST_REQUIRE(client->open_topic("t", topic) == Status::ok);
    test::RunOptions options;
    options.errors_into_output = true;
    options.limit = 30s;
    const auto outcome = test::run_program({"unshare", "--pid", "--fork", "--mount-proc", shmq_cli, "--broker",
                                            broker.name(), "subscribe", "t", "--count", "1", "--timeout", "3000"},
                                           options);
    BOOST_TEST(outcome.exit_code == 1, outcome.out);
    BOOST_TEST(outcome.out.find("PID namespace") != std::string::npos, outcome.out);
    BOOST_TEST(test::topic_stats(*client, "t").subscribers.empty());
    BOOST_TEST(client->stats().clients.size() == 1u);  // only this test's client
}

// After a reboot a persistent segment a broker left `ready` still says
// ready, but every pid and lock in it belongs to the old boot: a client that
// attached now would be reaped by the broker's reset when it starts. Clients
// are refused until a broker has adopted the segment.
BOOST_AUTO_TEST_CASE(a_segment_of_an_earlier_boot_refuses_clients_until_a_broker_adopts_it) {
    test::TempDir dir;
    auto config = test::make_config("bootid");
    config.persist_path = dir.path() + "/bootid.segment";
    config.flush_interval_ms = 50;
    test::add_queue(config, "q", 4, 64);
    const pid_t first_broker = test::start_broker_process(config);
    {
        auto client = test::attach(config.persist_path);
        auto queue = test::open_queue(*client, "q");
        BOOST_TEST_REQUIRE(queue.send("from the old boot", 1s) == Status::ok);
    }
    ::kill(first_broker, SIGKILL);  // the power cut: the segment stays `ready`
    BOOST_TEST_REQUIRE(test::wait_child(first_broker, 5s) == 128 + SIGKILL);
    test::simulate_reboot_mid_claim(config.persist_path, 0);
    std::unique_ptr<Client> early;
    AttachOptions options;
    options.broker = config.persist_path;
    std::string error;
    BOOST_TEST(Client::attach(options, early, &error) == Status::segment_from_earlier_boot);
    BOOST_TEST(error.find("earlier boot") != std::string::npos, error);
    BOOST_TEST(!early);

    test::InProcessBroker successor(config);
    auto client = test::attach(config.persist_path);
    auto queue = test::open_queue(*client, "q");
    std::string message;
    BOOST_TEST(queue.receive(message, 1s) == Status::ok);
    BOOST_TEST(message == "from the old boot");
}

namespace {

// Shared between the test and a producer child stopped inside its copy.
struct Stuck {
    std::atomic<int> broker_up{0};  // the test's broker accepts clients
    std::atomic<int> in_copy{0};  // the child's send claimed its slot and is copying
    std::atomic<int> go{0};       // the test lets the copy finish
    std::atomic<int> status{-1};  // what the child's send returned
};

// The producer child's state for its SIGSEGV handler (one child, one page).
Stuck* stuck_in_child = nullptr;
void* source_page = nullptr;
long page_size = 0;

// The first read of the inaccessible source page lands here, inside the
// send's copy: report it, wait for the test, make the page readable and
// return, and the copy resumes where it stopped. Only async-signal-safe
// calls: atomics, nanosleep, mprotect.
void hold_the_copy(int) {
    stuck_in_child->in_copy.store(1);
    const timespec tick{0, 1'000'000};
    while (stuck_in_child->go.load() == 0) ::nanosleep(&tick, nullptr);
    ::mprotect(source_page, static_cast<std::size_t>(page_size), PROT_READ);
}

// The producer child: sends a message whose source page it may not read yet,
// so its copy into the claimed slot stops at the fault until the test says
// so (a fault, not a delay: no timing involved, and no kernel feature that a
// sandbox may lack, as userfaultfd would be).
int send_stopped_in_copy(const std::string& broker, Stuck* stuck) {
    auto client = test::attach_or_exit(broker);
    Queue queue;
    if (client->open_queue("q", queue) != Status::ok) return 2;
    page_size = ::sysconf(_SC_PAGESIZE);
    source_page = ::mmap(nullptr, static_cast<std::size_t>(page_size), PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (source_page == MAP_FAILED) return 3;
    std::memset(source_page, 'x', static_cast<std::size_t>(page_size));
    if (::mprotect(source_page, static_cast<std::size_t>(page_size), PROT_NONE) != 0) return 4;
    stuck_in_child = stuck;
    struct sigaction action {};
    action.sa_handler = hold_the_copy;
    sigemptyset(&action.sa_mask);
    if (::sigaction(SIGSEGV, &action, nullptr) != 0) return 5;
    stuck->status.store(static_cast<int>(queue.send(source_page, 32, 5s)));
    ::_exit(0);  // its record was reclaimed: nothing of it to detach
}

// Kills a child the test left running when a check failed: a producer held
// in its copy would otherwise outlive the test and keep ctest waiting on its
// output.
struct KillOnExit {
    pid_t pid;
    ~KillOnExit() {
        if (::kill(pid, 0) == 0) test::wait_child(pid, std::chrono::milliseconds(0));
    }
};

}  // namespace

// A producer the broker reaps while it is alive (its identity looks dead:
// here its recorded start time is made wrong, as a foreign PID namespace or
// a scribble would) finishes its copy afterwards. Its slot was abandoned,
// skipped and freed meanwhile; the producer's publish must not make it
// `ready` again, or the freed slot wedges the ring when it comes round.
BOOST_AUTO_TEST_CASE(a_producer_reaped_while_alive_cannot_remark_its_freed_slot) {
    auto config = test::make_config("falsereap");
    test::add_queue(config, "q", 2, 64);
    void* memory = ::mmap(nullptr, sizeof(Stuck), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    BOOST_TEST_REQUIRE(memory != MAP_FAILED);
    auto* stuck = new (memory) Stuck();
    const auto name = config.name;
    // Forked before the broker's threads exist: a child forked while one of
    // them held a lock (its logger's, say) could wait for it forever.
    const pid_t producer = test::fork_child([&] {
        if (!test::eventually([&] { return stuck->broker_up.load() == 1; }, 30s)) return 6;
        return send_stopped_in_copy(name, stuck);
    });
    KillOnExit reap_if_failed{producer};
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    stuck->broker_up.store(1);
    BOOST_TEST_REQUIRE(test::eventually([&] { return stuck->in_copy.load() == 1; }, 10s));
    {
        test::RawSegment raw(name);
        for (std::uint32_t index = 0; index < raw.view.client_capacity(); ++index) {
            auto& record = raw.view.client(index);
            if (layout::ClientWord::pid(record.word.load()) == producer) record.start_time.fetch_add(1);
        }
    }
    BOOST_TEST_REQUIRE(test::eventually([&] { return test::queue_stats(*client, "q").abandoned == 1u; }, 5s));
    std::string message;
    BOOST_TEST(queue.receive(message, no_wait) == Status::empty);  // skips the abandoned slot, frees it
    stuck->go.store(1);
    BOOST_TEST(test::wait_child(producer, 10s) == 0);
    BOOST_TEST(static_cast<Status>(stuck->status.load()) == Status::client_reclaimed);
    // Round the ring, through the freed slot.
    for (const auto* text : {"a", "b", "c"}) {
        BOOST_TEST_REQUIRE(queue.send(text, 1s) == Status::ok);
        BOOST_TEST_REQUIRE(queue.receive(message, 1s) == Status::ok);
        BOOST_TEST(message == text);
    }
    ::munmap(memory, sizeof(Stuck));
}

// Such a producer whose publish landed after a consumer had skipped its
// abandoned slot, and that died before it could withdraw the message,
// leaves `ready` for a lap head has passed, its take word deciding it
// skipped (here written as it would be). No consumer takes it or counts it
// as a message to wait for; the producer coming round to that slot claims
// it for its own lap.
BOOST_AUTO_TEST_CASE(a_late_publish_left_below_head_is_freed_by_the_next_producer_to_come_round) {
    auto config = test::make_config("latepublish");
    test::add_queue(config, "q", 2, 64);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    std::string message;
    BOOST_TEST_REQUIRE(queue.send("first", 1s) == Status::ok);
    BOOST_TEST_REQUIRE(queue.receive(message, 1s) == Status::ok);  // head past position 0
    test::RawSegment raw(config.name);
    auto& ring = raw.view.ring(0);
    ring.slot_at(0).word.store(SlotWord::at_lap(SlotState::ready, 0));
    ring.take_word_at(0).store(TakeWord::make(TakeState::skipped, {}, 0));
    BOOST_TEST(!ring.may_have_message());
    BOOST_TEST(queue.receive(message, no_wait) == Status::empty);
    for (const auto* text : {"a", "b", "c"}) {  // "b" goes to position 2, the late publish's slot
        BOOST_TEST_REQUIRE(queue.send(text, 1s) == Status::ok);
        BOOST_TEST_REQUIRE(queue.receive(message, 1s) == Status::ok);
        BOOST_TEST(message == text);
    }
    BOOST_TEST(test::queue_stats(*client, "q").depth == 0u);
    BOOST_TEST(!test::queue_stats(*client, "q").quarantined);
}

// A withdrawal (QueueRing::withdraw) decides the producer's message wherever
// it is in the queue, here behind one still queued (written as a withdrawal
// would leave it). The ring's check accepts it there, and consumers pass it
// as they pass an abandoned write.
BOOST_AUTO_TEST_CASE(a_message_withdrawn_behind_a_queued_one_is_passed_not_quarantined) {
    auto config = test::make_config("withdrawnmid");
    test::add_queue(config, "q", 4, 64);
    test::InProcessBroker broker(config);
    auto client = test::attach(broker.name());
    auto queue = test::open_queue(*client, "q");
    for (const auto* text : {"a", "b", "c"}) BOOST_TEST_REQUIRE(queue.send(text, 1s) == Status::ok);
    test::RawSegment raw(config.name);
    auto& ring = raw.view.ring(0);
    ring.take_word_at(1).store(TakeWord::make(TakeState::withdrawn, {}, 0));
    std::string problem;
    ring.verify(problem);
    BOOST_TEST(problem.empty(), problem);
    std::string message;
    for (const auto* text : {"a", "c"}) {
        BOOST_TEST_REQUIRE(queue.receive(message, 1s) == Status::ok);
        BOOST_TEST(message == text);
    }
    BOOST_TEST(queue.receive(message, no_wait) == Status::empty);
    BOOST_TEST(!test::queue_stats(*client, "q").quarantined);
}

// A broker cannot see the processes of a segment made in another PID
// namespace (here its recorded namespace is made another one): adopting it
// would reap every live client. It refuses to start and says why.
BOOST_AUTO_TEST_CASE(a_broker_refuses_to_adopt_a_segment_of_another_pid_namespace) {
    auto config = test::make_config("pidnsadopt");
    test::add_queue(config, "q", 4, 64);
    const pid_t first_broker = test::start_broker_process(config);
    ::kill(first_broker, SIGKILL);
    BOOST_TEST_REQUIRE(test::wait_child(first_broker, 5s) == 128 + SIGKILL);
    {
        test::RawSegment raw(config.name);
        raw.view.root().pid_namespace += 1;
    }
    daemon::Broker successor(config);
    std::string error;
    try {
        successor.start();
    } catch (const daemon::StartError& refused) {
        error = refused.what();
    }
    BOOST_TEST(error.find("another PID namespace") != std::string::npos, error);
    BOOST_TEST(test::segment_exists(config.name));  // left for its own broker, not moved aside
    SegmentMapping::remove(config.name);
}
