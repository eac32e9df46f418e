// ZeroMQ PUSH/PULL over ipc:// (a Unix domain socket underneath, with
// ZeroMQ's own batching in its I/O thread). The receiver binds, the sender
// connects. The high-water marks are set to the channel depth.
#include <cerrno>
#include <zmq.h>

#include "bench/transport.hpp"
#include "bench/zmq_socket.hpp"

namespace shmq::bench {

namespace {

class ZmqSender : public SingleSender {
public:
    ZmqSender(const std::string& path, std::size_t depth) : endpoint_(ZMQ_PUSH) {
        zmq_set(endpoint_.socket(), ZMQ_SNDHWM, static_cast<int>(depth), "high-water mark");
        wait_for_bind(path);
        if (zmq_connect(endpoint_.socket(), ("ipc://" + path).c_str()) != 0) zmq_fail("connect " + path);
    }

private:
    void send_one(const void* data, std::size_t size) override {
        while (zmq_send(endpoint_.socket(), data, size, 0) < 0) {
            if (zmq_errno() != EINTR) zmq_fail("send");
        }
    }
    ZmqEndpoint endpoint_;
};

class ZmqReceiver : public SingleReceiver {
public:
    ZmqReceiver(const std::string& path, std::size_t depth) : endpoint_(ZMQ_PULL) {
        zmq_set(endpoint_.socket(), ZMQ_RCVHWM, static_cast<int>(depth), "high-water mark");
        if (zmq_bind(endpoint_.socket(), ("ipc://" + path).c_str()) != 0) zmq_fail("bind " + path);
    }

private:
    std::size_t receive_one(void* data, std::size_t capacity) override {
        return zmq_receive(endpoint_.socket(), data, capacity);
    }
    ZmqEndpoint endpoint_;
};

class ZmqTransport : public Transport {
public:
    std::string name() const override { return "zmq"; }
    std::string mode() const override { return "ipc push/pull"; }

    void setup(const ChannelSpec& spec) override {
        depth_ = spec.depth;
        paths_.create(spec.channels);
    }
    std::size_t depth() const override { return depth_; }
    std::unique_ptr<Sender> sender(std::size_t channel) override {
        return std::make_unique<ZmqSender>(paths_.at(channel), depth_);
    }
    std::unique_ptr<Receiver> receiver(std::size_t channel) override {
        return std::make_unique<ZmqReceiver>(paths_.at(channel), depth_);
    }
    void teardown() override { paths_.clear(); }

private:
    std::size_t depth_ = 0;
    IpcPaths paths_;
};

}  // namespace

std::unique_ptr<Transport> make_zmq() { return std::make_unique<ZmqTransport>(); }

}  // namespace shmq::bench
