// Sends a message to a queue of the installed broker and receives it back,
// through the C++ API: exit status 0 only when the payload comes back intact.
// Usage: round_trip QUEUE PAYLOAD
#include <chrono>
#include <iostream>
#include <memory>
#include <string>

#include <shmq/client.hpp>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: round_trip QUEUE PAYLOAD\n";
        return 2;
    }
    const std::string payload = argv[2];
    std::unique_ptr<shmq::Client> client;
    std::string error;
    if (shmq::Client::attach({}, client, &error) != shmq::Status::ok) {
        std::cerr << "attach: " << error << "\n";
        return 1;
    }
    shmq::Queue queue;
    shmq::Status status = client->open_queue(argv[1], queue);
    if (status == shmq::Status::ok) status = queue.send(payload, std::chrono::seconds(10));
    std::string received;
    if (status == shmq::Status::ok) status = queue.receive(received, std::chrono::seconds(10));
    if (status != shmq::Status::ok) {
        std::cerr << "queue " << argv[1] << ": " << shmq::describe(status) << "\n";
        return 1;
    }
    if (received != payload) {
        std::cerr << "sent '" << payload << "', received '" << received << "'\n";
        return 1;
    }
    std::cout << "round trip through " << argv[1] << ": " << received << "\n";
    return 0;
}
