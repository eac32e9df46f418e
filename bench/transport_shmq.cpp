// shmq itself: each run starts the real shmqd with one queue per channel,
// sized for the run's messages, and every child attaches through libshmq with
// the wait strategy under test. Batched modes use send_batch/receive_batch,
// the fair "best use" of shmq for streaming; at_least_once acknowledges every
// message right after copying it out.
#include <vector>

#include "bench/broker_process.hpp"
#include "bench/shmq_attach.hpp"

namespace shmq::bench {

namespace {

// shmq's batches are claimed 64 slots per lock acquisition (queue_ring.cpp).
constexpr std::size_t shmq_batch = 64;

// An attached client and one of its queues.
class Attachment {
public:
    Attachment(const std::string& broker, const std::string& queue, ShmqWait wait)
        : client_(attach_client(broker, wait)) {
        const Status opened = client_->open_queue(queue, queue_);
        if (opened != Status::ok) fail("open_queue", opened);
    }
    Queue& queue() { return queue_; }

private:
    std::unique_ptr<Client> client_;  // outlives queue_, which points into it
    Queue queue_;
};

class ShmqSender : public Sender {
public:
    ShmqSender(const std::string& broker, const std::string& queue, ShmqWait wait) : end_(broker, queue, wait) {}

    void send(const Outgoing* messages, std::size_t count) override {
        if (count == 1) {
            const Status status = end_.queue().send(messages[0].data, messages[0].size);
            if (status != Status::ok) fail("send", status);
            return;
        }
        batch_.resize(count);
        for (std::size_t i = 0; i < count; ++i) batch_[i] = OutgoingMessage{messages[i].data, messages[i].size};
        std::size_t sent = 0;
        const Status status = end_.queue().send_batch(batch_.data(), count, sent);
        if (status != Status::ok) fail("send_batch", status);
    }

private:
    Attachment end_;
    std::vector<OutgoingMessage> batch_;
};

class ShmqReceiver : public Receiver {
public:
    ShmqReceiver(const std::string& broker, const std::string& queue, ShmqWait wait, bool at_least_once)
        : end_(broker, queue, wait), at_least_once_(at_least_once) {}

    std::size_t receive(Incoming* messages, std::size_t count) override {
        auto& queue = end_.queue();
        if (count == 1) {
            std::uint64_t delivery = 0;
            const Status status = queue.receive(messages[0].data, messages[0].capacity, messages[0].size,
                                                wait_forever, at_least_once_ ? &delivery : nullptr);
            if (status != Status::ok) fail("receive", status);
            if (at_least_once_) acknowledge(delivery);
            return 1;
        }
        batch_.resize(count);
        for (std::size_t i = 0; i < count; ++i) {
            batch_[i] = IncomingMessage{messages[i].data, messages[i].capacity, 0, 0};
        }
        std::size_t received = 0;
        const Status status = queue.receive_batch(batch_.data(), count, received);
        if (status != Status::ok) fail("receive_batch", status);
        for (std::size_t i = 0; i < received; ++i) {
            messages[i].size = batch_[i].size;
            if (at_least_once_) acknowledge(batch_[i].delivery);
        }
        return received;
    }

private:
    void acknowledge(std::uint64_t delivery) {
        const Status status = end_.queue().acknowledge(delivery);
        if (status != Status::ok) fail("acknowledge", status);
    }

    Attachment end_;
    bool at_least_once_;
    std::vector<IncomingMessage> batch_;
};

class ShmqTransport : public Transport {
public:
    ShmqTransport(std::string shmqd, const ShmqMode& mode) : shmqd_(std::move(shmqd)), mode_(mode) {}
    std::string name() const override { return "shmq"; }
    std::string mode() const override {
        return std::string(mode_.at_least_once ? "at_least_once/" : "") + wait_name(mode_.wait) +
               (mode_.batch ? "+batch" : "") + (mode_.single ? "+single" : "");
    }
    bool multi_producer() const override { return !mode_.single; }
    std::size_t batch_limit() const override { return mode_.batch ? shmq_batch : 1; }

    void setup(const ChannelSpec& spec) override {
        depth_ = spec.depth;
        std::vector<BrokerQueue> queues;
        for (std::size_t channel = 0; channel < spec.channels; ++channel) {
            queues.push_back({queue_name(channel), spec.depth, spec.message_size, mode_.at_least_once, mode_.single});
        }
        broker_ = std::make_unique<BrokerProcess>(shmqd_, queues);
    }
    std::size_t depth() const override { return depth_; }
    std::unique_ptr<Sender> sender(std::size_t channel) override {
        return std::make_unique<ShmqSender>(broker_->name(), queue_name(channel), mode_.wait);
    }
    std::unique_ptr<Receiver> receiver(std::size_t channel) override {
        return std::make_unique<ShmqReceiver>(broker_->name(), queue_name(channel), mode_.wait, mode_.at_least_once);
    }
    void teardown() override { broker_.reset(); }

private:
    static std::string queue_name(std::size_t channel) { return "channel" + std::to_string(channel); }

    std::string shmqd_;
    ShmqMode mode_;
    std::size_t depth_ = 0;
    std::unique_ptr<BrokerProcess> broker_;
};

}  // namespace

std::unique_ptr<Transport> make_shmq(const std::string& shmqd, const ShmqMode& mode) {
    return std::make_unique<ShmqTransport>(shmqd, mode);
}

}  // namespace shmq::bench
