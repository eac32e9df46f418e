// What the two ZeroMQ transports (PUSH/PULL, XPUB/SUB) share: a socket with
// its own context, and the ipc:// addresses of a run.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace shmq::bench {

// Throws std::runtime_error naming `what` and ZeroMQ's last error.
[[noreturn]] void zmq_fail(const std::string& what);
void zmq_set(void* socket, int option, int value, const char* name);

// One context and one socket, closed in the right order. Each child process
// makes its own after fork, as ZeroMQ requires. Closing a socket with the
// default infinite linger and terminating the context waits until every
// queued message reached the peer.
class ZmqEndpoint {
public:
    explicit ZmqEndpoint(int type);
    ~ZmqEndpoint();
    ZmqEndpoint(const ZmqEndpoint&) = delete;
    ZmqEndpoint& operator=(const ZmqEndpoint&) = delete;
    void* socket() const { return socket_; }

private:
    void* context_;
    void* socket_ = nullptr;
};

// Receives one message into `data`, retrying after signals; throws
// std::runtime_error on failure or when the message exceeds `capacity`.
std::size_t zmq_receive(void* socket, void* data, std::size_t capacity);

// A connect to an ipc:// address nobody has bound yet fails and is retried
// in the background, and the first messages wait for that: measured, it cost
// over 100 ms. So connecting ends wait for the binding end's socket file.
void wait_for_bind(const std::string& path);

// A private directory holding one socket path per channel; removed by clear().
class IpcPaths {
public:
    ~IpcPaths() { clear(); }
    void create(std::size_t channels);
    const std::string& at(std::size_t channel) const { return paths_.at(channel); }
    void clear();

private:
    std::string directory_;
    std::vector<std::string> paths_;
};

}  // namespace shmq::bench
