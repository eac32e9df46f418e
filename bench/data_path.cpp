// shmq_data_path: the cost of libshmq's data path alone, for profiling. One
// process, one thread, one queue (or topic with one subscription) of 64 slots
// on a real shmqd: it sends 64 messages, then receives them, again and again,
// so no call ever waits and no cache line moves between CPUs. What remains is
// the instructions of send and receive, which callgrind counts exactly:
//
//   valgrind --tool=callgrind build-bench/bench/shmq_data_path --mode single
//   callgrind_annotate --inclusive=yes callgrind.out.<pid>
//
// Without valgrind it prints the time per message (send + receive).
#include <boost/program_options.hpp>
#include <chrono>
#include <iostream>
#include <vector>

#include "bench/broker_process.hpp"
#include "bench/shmq_attach.hpp"

namespace po = boost::program_options;
using shmq::bench::fail;

namespace {

constexpr std::size_t slots = 64;

}  // namespace

int main(int argc, char** argv) {
    po::options_description options(
        "shmq_data_path: time (or, under callgrind, count the instructions of) libshmq's send and receive, with no "
        "waiting and no cross-CPU traffic\n\nUsage: shmq_data_path [options]\n\nOptions");
    options.add_options()
        ("help,h", "print this help and exit")
        ("mode", po::value<std::string>()->default_value("single")->value_name("MODE"),
         "single: send() and receive() one message at a time; batch: send_batch() and receive_batch() 64 at a "
         "time; at_least_once: single, on an at_least_once queue, acknowledging each message; exclusive: "
         "single, on a queue with producers: single and consumers: single; topic: "
         "Topic::publish() and Subscription::receive(); zero_copy: Topic::loan() + publish(loan) and "
         "Subscription::read() + View::release(), touching no payload")
        ("size", po::value<std::size_t>()->default_value(64)->value_name("BYTES"), "payload size")
        ("rounds", po::value<unsigned>()->default_value(2000)->value_name("N"),
         "rounds of 64 messages (2000 suits callgrind; use more for timing)")
        ("shmqd", po::value<std::string>()->default_value(SHMQ_SHMQD_PATH)->value_name("PATH"),
         "the broker executable to start");
    po::variables_map arguments;
    try {
        po::store(po::parse_command_line(argc, argv, options), arguments);
        po::notify(arguments);
    } catch (const po::error& failure) {
        std::cerr << "shmq_data_path: " << failure.what() << "\n";
        return 2;
    }
    if (arguments.count("help")) {
        std::cout << options;
        return 0;
    }
    const std::string mode = arguments["mode"].as<std::string>();
    const bool batch = mode == "batch", acknowledged = mode == "at_least_once";
    const bool topic = mode == "topic", zero_copy = mode == "zero_copy", exclusive = mode == "exclusive";
    if (!batch && !acknowledged && !topic && !zero_copy && !exclusive && mode != "single") {
        std::cerr << "shmq_data_path: unknown --mode '" << mode << "'\n";
        return 2;
    }
    const std::size_t size = arguments["size"].as<std::size_t>();
    const unsigned rounds = arguments["rounds"].as<unsigned>();

    try {
        shmq::bench::BrokerProcess broker(arguments["shmqd"].as<std::string>(), {{"path", slots, size, acknowledged, exclusive}},
                                          {{"fan", slots, size}});
        const auto client = shmq::bench::attach_client(broker.name(), shmq::bench::ShmqWait::busy_poll);
        shmq::Queue queue;
        if (const auto status = client->open_queue("path", queue); status != shmq::Status::ok) fail("open", status);
        shmq::Topic publisher;
        if (const auto status = client->open_topic("fan", publisher); status != shmq::Status::ok) {
            fail("open_topic", status);
        }
        shmq::Subscription subscription;
        if (const auto status = client->subscribe("fan", subscription); status != shmq::Status::ok) {
            fail("subscribe", status);
        }
        shmq::Loan loan;
        shmq::View view;

        std::vector<std::byte> out(slots * size), in(slots * size);
        std::vector<shmq::OutgoingMessage> outgoing;
        std::vector<shmq::IncomingMessage> incoming;
        for (std::size_t i = 0; i < slots; ++i) {
            outgoing.push_back({out.data() + i * size, size});
            incoming.push_back({in.data() + i * size, size, 0, 0});
        }
        const auto start = std::chrono::steady_clock::now();
        for (unsigned round = 0; round < rounds; ++round) {
            if (topic || zero_copy) {
                for (std::size_t i = 0; i < slots; ++i) {
                    const auto status = zero_copy ? publisher.loan(size, loan) : publisher.publish(out.data(), size);
                    if (status != shmq::Status::ok) fail(zero_copy ? "loan" : "publish", status);
                    if (zero_copy) {
                        if (const auto published = publisher.publish(loan); published != shmq::Status::ok) {
                            fail("publish(loan)", published);
                        }
                    }
                }
                for (std::size_t i = 0; i < slots; ++i) {
                    std::size_t received = 0;
                    const auto status = zero_copy ? subscription.read(view) : subscription.receive(in.data(), size, received);
                    if (status != shmq::Status::ok) fail(zero_copy ? "read" : "receive", status);
                    view.release();
                }
                continue;
            }
            if (batch) {
                std::size_t sent = 0, received = 0;
                if (const auto status = queue.send_batch(outgoing.data(), slots, sent); status != shmq::Status::ok) {
                    fail("send_batch", status);
                }
                if (const auto status = queue.receive_batch(incoming.data(), slots, received);
                    status != shmq::Status::ok || received != slots) {
                    fail("receive_batch", status);
                }
                continue;
            }
            for (std::size_t i = 0; i < slots; ++i) {
                const auto status = queue.send(outgoing[i].data, size);
                if (status != shmq::Status::ok) fail("send", status);
            }
            for (std::size_t i = 0; i < slots; ++i) {
                std::size_t received = 0;
                std::uint64_t delivery = 0;
                const auto status = queue.receive(incoming[i].buffer, size, received, shmq::wait_forever,
                                                  acknowledged ? &delivery : nullptr);
                if (status != shmq::Status::ok) fail("receive", status);
                if (acknowledged) {
                    if (const auto acked = queue.acknowledge(delivery); acked != shmq::Status::ok) fail("ack", acked);
                }
            }
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const double messages = static_cast<double>(rounds) * slots;
        std::cout << mode << ", " << size << " B: " << messages << " messages, " << seconds * 1e9 / messages
                  << " ns per message (send + receive, one thread)\n";
    } catch (const std::exception& failure) {
        std::cerr << "shmq_data_path: " << failure.what() << "\n";
        return 1;
    }
    return 0;
}
