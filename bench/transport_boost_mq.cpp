// boost::interprocess::message_queue: a mutex and two condition variables
// around a ring in shared memory. Any number of senders and receivers.
#include <boost/interprocess/ipc/message_queue.hpp>
#include <unistd.h>

#include "bench/transport.hpp"

namespace shmq::bench {

namespace {

namespace bip = boost::interprocess;

class BoostSender : public SingleSender {
public:
    explicit BoostSender(const std::string& name) : queue_(bip::open_only, name.c_str()) {}

private:
    void send_one(const void* data, std::size_t size) override { queue_.send(data, size, 0); }
    bip::message_queue queue_;
};

class BoostReceiver : public SingleReceiver {
public:
    explicit BoostReceiver(const std::string& name) : queue_(bip::open_only, name.c_str()) {}

private:
    std::size_t receive_one(void* data, std::size_t capacity) override {
        bip::message_queue::size_type received = 0;
        unsigned int priority = 0;
        queue_.receive(data, capacity, received, priority);
        return received;
    }
    bip::message_queue queue_;
};

class BoostMqTransport : public Transport {
public:
    ~BoostMqTransport() override { teardown(); }
    std::string name() const override { return "boost_mq"; }
    std::string mode() const override { return "blocking"; }
    bool multi_producer() const override { return true; }

    void setup(const ChannelSpec& spec) override {
        depth_ = spec.depth;
        for (std::size_t channel = 0; channel < spec.channels; ++channel) {
            const auto name = "shmq-bench-boost-" + std::to_string(::getpid()) + "-" + std::to_string(channel);
            bip::message_queue::remove(name.c_str());
            // Created here and only opened by the children; the parent's
            // object is dropped at once, the queue lives until remove().
            bip::message_queue(bip::create_only, name.c_str(), spec.depth, spec.message_size);
            names_.push_back(name);
        }
    }
    std::size_t depth() const override { return depth_; }
    std::unique_ptr<Sender> sender(std::size_t channel) override {
        return std::make_unique<BoostSender>(names_.at(channel));
    }
    std::unique_ptr<Receiver> receiver(std::size_t channel) override {
        return std::make_unique<BoostReceiver>(names_.at(channel));
    }
    void teardown() override {
        for (const auto& name : names_) bip::message_queue::remove(name.c_str());
        names_.clear();
    }

private:
    std::size_t depth_ = 0;
    std::vector<std::string> names_;
};

}  // namespace

std::unique_ptr<Transport> make_boost_mq() { return std::make_unique<BoostMqTransport>(); }

}  // namespace shmq::bench
