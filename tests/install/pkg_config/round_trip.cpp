// Sends a message to a queue of the installed broker and receives it back,
// through the C API (shmq/shmq.h): exit status 0 only when the payload comes
// back intact. Usage: round_trip QUEUE PAYLOAD
#include <cstdio>
#include <cstring>

#include <shmq/shmq.h>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: round_trip QUEUE PAYLOAD\n");
        return 2;
    }
    const char* payload = argv[2];
    const int64_t ten_seconds = 10000000000;
    shmq_client* client = nullptr;
    char error[256];
    shmq_status status = shmq_attach(nullptr, &client, error, sizeof error);
    if (status != SHMQ_OK) {
        std::fprintf(stderr, "attach: %s\n", error);
        return 1;
    }
    shmq_queue* queue = nullptr;
    char received[4096];
    size_t size = 0;
    status = shmq_queue_open(client, argv[1], &queue);
    if (status == SHMQ_OK) status = shmq_queue_send(queue, payload, std::strlen(payload), ten_seconds);
    if (status == SHMQ_OK) status = shmq_queue_receive(queue, received, sizeof received, &size, nullptr, ten_seconds);
    shmq_queue_close(queue);
    shmq_detach(client);
    if (status != SHMQ_OK) {
        std::fprintf(stderr, "queue %s: %s\n", argv[1], shmq_status_text(status));
        return 1;
    }
    if (size != std::strlen(payload) || std::memcmp(received, payload, size) != 0) {
        std::fprintf(stderr, "sent '%s', received '%.*s'\n", payload, static_cast<int>(size), received);
        return 1;
    }
    std::printf("round trip through %s: %.*s\n", argv[1], static_cast<int>(size), received);
    return 0;
}
