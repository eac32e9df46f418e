// ZeroMQ publish/subscribe over ipc://: the sender binds an XPUB socket, each
// receiver connects a SUB socket subscribed to everything. Two options make
// it comparable with a topic that blocks for slow subscribers: XPUB_NODROP
// (a full subscriber makes send fail with EAGAIN instead of dropping, so the
// sender retries) and XPUB_VERBOSE (every subscription reaches the sender,
// which waits for all of them before the run starts: ZeroMQ's "slow joiner"
// would otherwise lose the first messages).
#include <cerrno>
#include <thread>
#include <zmq.h>

#include "bench/transport.hpp"
#include "bench/zmq_socket.hpp"

namespace shmq::bench {

namespace {

constexpr int subscription_timeout_ms = 10'000;

class PubSender : public SingleSender {
public:
    PubSender(const std::string& path, std::size_t depth, std::size_t subscribers) : endpoint_(ZMQ_XPUB) {
        void* socket = endpoint_.socket();
        zmq_set(socket, ZMQ_SNDHWM, static_cast<int>(depth), "high-water mark");
        zmq_set(socket, ZMQ_XPUB_NODROP, 1, "XPUB_NODROP");
        zmq_set(socket, ZMQ_XPUB_VERBOSE, 1, "XPUB_VERBOSE");
        zmq_set(socket, ZMQ_RCVTIMEO, subscription_timeout_ms, "RCVTIMEO");
        if (zmq_bind(socket, ("ipc://" + path).c_str()) != 0) zmq_fail("bind " + path);
        // Each subscription arrives as a message whose first byte is 1.
        for (std::size_t seen = 0; seen < subscribers;) {
            unsigned char frame[64];
            const int got = zmq_recv(socket, frame, sizeof frame, 0);
            if (got < 0) {
                if (zmq_errno() == EINTR) continue;
                zmq_fail("waiting for " + std::to_string(subscribers) + " subscriptions (" + std::to_string(seen) +
                         " arrived)");
            }
            if (got >= 1 && frame[0] == 1) ++seen;
        }
    }

private:
    void send_one(const void* data, std::size_t size) override {
        while (zmq_send(endpoint_.socket(), data, size, 0) < 0) {
            const int error = zmq_errno();
            if (error == EAGAIN) {
                std::this_thread::yield();  // a subscriber's pipe is full
            } else if (error != EINTR) {
                zmq_fail("send");
            }
        }
    }
    ZmqEndpoint endpoint_;
};

class SubReceiver : public SingleReceiver {
public:
    SubReceiver(const std::string& path, std::size_t depth) : endpoint_(ZMQ_SUB) {
        void* socket = endpoint_.socket();
        zmq_set(socket, ZMQ_RCVHWM, static_cast<int>(depth), "high-water mark");
        if (zmq_setsockopt(socket, ZMQ_SUBSCRIBE, "", 0) != 0) zmq_fail("subscribe");
        wait_for_bind(path);
        if (zmq_connect(socket, ("ipc://" + path).c_str()) != 0) zmq_fail("connect " + path);
    }

private:
    std::size_t receive_one(void* data, std::size_t capacity) override {
        return zmq_receive(endpoint_.socket(), data, capacity);
    }
    ZmqEndpoint endpoint_;
};

class ZmqPubSubTransport : public Transport {
public:
    std::string name() const override { return "zmq"; }
    std::string mode() const override { return "ipc xpub/sub"; }
    bool fan_out() const override { return true; }

    void setup(const ChannelSpec& spec) override {
        depth_ = spec.depth;
        receivers_ = spec.receivers;
        paths_.create(spec.channels);
    }
    std::size_t depth() const override { return depth_; }
    std::unique_ptr<Sender> sender(std::size_t channel) override {
        return std::make_unique<PubSender>(paths_.at(channel), depth_, receivers_);
    }
    std::unique_ptr<Receiver> receiver(std::size_t channel) override {
        return std::make_unique<SubReceiver>(paths_.at(channel), depth_);
    }
    void teardown() override { paths_.clear(); }

private:
    std::size_t depth_ = 0;
    std::size_t receivers_ = 1;
    IpcPaths paths_;
};

}  // namespace

std::unique_ptr<Transport> make_zmq_pub_sub() { return std::make_unique<ZmqPubSubTransport>(); }

}  // namespace shmq::bench
