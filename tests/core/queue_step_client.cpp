// A client process for queue_step_crash_tests: one queue operation, run in a
// process of its own so that the test-only crash point SHMQ_TEST_CRASH_AT
// (common/test_crash_point.hpp) can kill it at an exact step of the
// lock-free protocol.
//
// Usage: queue_step_client BROKER QUEUE send MESSAGE
//        queue_step_client BROKER QUEUE send_batch MESSAGE...   (one batch)
//        queue_step_client BROKER QUEUE receive        (prints the message)
//        queue_step_client BROKER QUEUE receive_batch COUNT   (one batch; prints them)
//        queue_step_client BROKER QUEUE receive_ack [EXPECTED]
//                          (at_least_once: receive, then acknowledge; exit 3 when
//                          the message is not EXPECTED)
// Exit status: 0 done, 1 attach failed, 2 the operation failed, 3 wrong message.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "shmq/client.hpp"

int main(int argc, char** argv) {
    using namespace shmq;
    using namespace std::chrono_literals;
    if (argc < 4) return 64;
    AttachOptions options;
    options.broker = argv[1];
    std::unique_ptr<Client> client;
    if (Client::attach(options, client) != Status::ok) return 1;
    Queue queue;
    if (client->open_queue(argv[2], queue) != Status::ok) return 1;
    const std::string operation = argv[3];
    if (operation == "send" && argc == 5) return queue.send(argv[4], 5s) == Status::ok ? 0 : 2;
    if (operation == "send_batch" && argc > 4) {
        std::vector<OutgoingMessage> batch;
        for (int i = 4; i < argc; ++i) batch.push_back({argv[i], std::char_traits<char>::length(argv[i])});
        std::size_t sent = 0;
        return queue.send_batch(batch.data(), batch.size(), sent, 5s) == Status::ok ? 0 : 2;
    }
    std::string message;
    std::uint64_t delivery = 0;
    if (operation == "receive") {
        if (queue.receive(message, 5s) != Status::ok) return 2;
        std::printf("%s\n", message.c_str());
        return 0;
    }
    if (operation == "receive_batch" && argc == 5) {
        const auto count = std::stoul(argv[4]);
        std::vector<std::string> buffers(count, std::string(4096, '\0'));
        std::vector<IncomingMessage> batch;
        for (auto& buffer : buffers) batch.push_back({buffer.data(), buffer.size(), 0, 0});
        std::size_t received = 0;
        if (queue.receive_batch(batch.data(), batch.size(), received, 5s) != Status::ok) return 2;
        for (std::size_t i = 0; i < received; ++i) std::printf("%.*s\n", static_cast<int>(batch[i].size), buffers[i].data());
        return 0;
    }
    if (operation == "receive_ack") {
        if (queue.receive(message, 5s, &delivery) != Status::ok) return 2;
        if (queue.acknowledge(delivery) != Status::ok) return 2;
        return argc == 5 && message != argv[4] ? 3 : 0;
    }
    return 64;
}
