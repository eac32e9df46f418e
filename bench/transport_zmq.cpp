// ZeroMQ PUSH/PULL over ipc:// (a Unix domain socket underneath, with
// ZeroMQ's own batching in its I/O thread). The receiver binds, the sender
// connects; each child process makes its own context after fork, as ZeroMQ
// requires. The high-water marks are set to the channel depth.
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <vector>
#include <zmq.h>

#include "bench/transport.hpp"

namespace shmq::bench {

namespace {

[[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error("zmq: " + what + ": " + zmq_strerror(zmq_errno()));
}

void set_option(void* socket, int option, int value, const char* name) {
    if (zmq_setsockopt(socket, option, &value, sizeof value) != 0) fail(std::string("setsockopt ") + name);
}

// One context and one socket, closed in the right order. Closing a PUSH
// socket with the default infinite linger and terminating the context waits
// until every queued message reached the peer, so nothing sent is lost.
class Endpoint {
public:
    Endpoint(int type, std::size_t depth) : context_(zmq_ctx_new()) {
        if (context_ == nullptr) fail("zmq_ctx_new");
        socket_ = zmq_socket(context_, type);
        if (socket_ == nullptr) fail("zmq_socket");
        const int hwm = static_cast<int>(depth);
        set_option(socket_, type == ZMQ_PUSH ? ZMQ_SNDHWM : ZMQ_RCVHWM, hwm, "high-water mark");
    }
    ~Endpoint() {
        zmq_close(socket_);
        zmq_ctx_term(context_);
    }
    Endpoint(const Endpoint&) = delete;
    Endpoint& operator=(const Endpoint&) = delete;
    void* socket() const { return socket_; }

private:
    void* context_;
    void* socket_ = nullptr;
};

// A connect to an ipc:// address nobody has bound yet fails and is retried
// in the background, and the first messages wait for that: measured, it cost
// over 100 ms. So the sender connects once the receiver's socket file exists.
void wait_for_bind(const std::string& path) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!std::filesystem::exists(path)) {
        if (std::chrono::steady_clock::now() >= end) throw std::runtime_error("zmq: nobody bound " + path);
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
}

class ZmqSender : public SingleSender {
public:
    ZmqSender(const std::string& path, std::size_t depth) : endpoint_(ZMQ_PUSH, depth) {
        wait_for_bind(path);
        if (zmq_connect(endpoint_.socket(), ("ipc://" + path).c_str()) != 0) fail("connect " + path);
    }

private:
    void send_one(const void* data, std::size_t size) override {
        while (zmq_send(endpoint_.socket(), data, size, 0) < 0) {
            if (zmq_errno() != EINTR) fail("send");
        }
    }
    Endpoint endpoint_;
};

class ZmqReceiver : public SingleReceiver {
public:
    ZmqReceiver(const std::string& path, std::size_t depth) : endpoint_(ZMQ_PULL, depth) {
        if (zmq_bind(endpoint_.socket(), ("ipc://" + path).c_str()) != 0) fail("bind " + path);
    }

private:
    std::size_t receive_one(void* data, std::size_t capacity) override {
        for (;;) {
            const int received = zmq_recv(endpoint_.socket(), data, capacity, 0);
            if (received >= 0) {
                if (static_cast<std::size_t>(received) > capacity) {
                    throw std::runtime_error("zmq: message larger than the buffer");
                }
                return static_cast<std::size_t>(received);
            }
            if (zmq_errno() != EINTR) fail("recv");
        }
    }
    Endpoint endpoint_;
};

class ZmqTransport : public Transport {
public:
    ~ZmqTransport() override { teardown(); }
    std::string name() const override { return "zmq"; }
    std::string mode() const override { return "ipc push/pull"; }

    void setup(const ChannelSpec& spec) override {
        depth_ = spec.depth;
        std::string pattern = (std::filesystem::temp_directory_path() / "shmq-bench-zmq-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::system_error(errno, std::generic_category(), "mkdtemp");
        directory_ = pattern;
        for (std::size_t channel = 0; channel < spec.channels; ++channel) {
            paths_.push_back(directory_ + "/channel" + std::to_string(channel));
        }
    }
    std::size_t depth() const override { return depth_; }
    std::unique_ptr<Sender> sender(std::size_t channel) override {
        return std::make_unique<ZmqSender>(paths_.at(channel), depth_);
    }
    std::unique_ptr<Receiver> receiver(std::size_t channel) override {
        return std::make_unique<ZmqReceiver>(paths_.at(channel), depth_);
    }
    void teardown() override {
        if (!directory_.empty()) {
            std::error_code ignored;
            std::filesystem::remove_all(directory_, ignored);
        }
        directory_.clear();
        paths_.clear();
    }

private:
    std::size_t depth_ = 0;
    std::string directory_;
    std::vector<std::string> paths_;
};

}  // namespace

std::unique_ptr<Transport> make_zmq() { return std::make_unique<ZmqTransport>(); }

}  // namespace shmq::bench
