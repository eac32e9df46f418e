// shmq topics: each run starts the real shmqd with one topic per channel
// (slow_subscriber: block, so nothing is lost), and every receiver is a
// subscription of its own client. send/receive copy like every transport;
// the zero-copy ends fill a loaned slot (Topic::loan) and read through a
// View, touching only what the caller writes or reads.
#include "bench/broker_process.hpp"
#include "bench/shmq_attach.hpp"

namespace shmq::bench {

namespace {

class Publisher {
public:
    Publisher(const std::string& broker, const std::string& topic, ShmqWait wait)
        : client_(attach_client(broker, wait)) {
        const Status opened = client_->open_topic(topic, topic_);
        if (opened != Status::ok) fail("open_topic", opened);
    }
    Topic& topic() { return topic_; }

private:
    std::unique_ptr<Client> client_;  // outlives topic_, which points into it
    Topic topic_;
};

class Subscriber {
public:
    Subscriber(const std::string& broker, const std::string& topic, ShmqWait wait)
        : client_(attach_client(broker, wait)) {
        const Status subscribed = client_->subscribe(topic, subscription_);
        if (subscribed != Status::ok) fail("subscribe", subscribed);
    }
    Subscription& subscription() { return subscription_; }

private:
    std::unique_ptr<Client> client_;  // outlives subscription_
    Subscription subscription_;
};

class TopicSender : public SingleSender {
public:
    TopicSender(const std::string& broker, const std::string& topic, ShmqWait wait) : end_(broker, topic, wait) {}

private:
    void send_one(const void* data, std::size_t size) override {
        const Status status = end_.topic().publish(data, size);
        if (status != Status::ok) fail("publish", status);
    }
    Publisher end_;
};

class TopicReceiver : public SingleReceiver {
public:
    TopicReceiver(const std::string& broker, const std::string& topic, ShmqWait wait) : end_(broker, topic, wait) {}

private:
    std::size_t receive_one(void* data, std::size_t capacity) override {
        std::size_t size = 0;
        const Status status = end_.subscription().receive(data, capacity, size);
        if (status != Status::ok) fail("receive", status);
        return size;
    }
    Subscriber end_;
};

class TopicLoanSender : public LoanSender {
public:
    TopicLoanSender(const std::string& broker, const std::string& topic, ShmqWait wait) : end_(broker, topic, wait) {}

    std::byte* loan(std::size_t size) override {
        const Status status = end_.topic().loan(size, loan_);
        if (status != Status::ok) fail("loan", status);
        return static_cast<std::byte*>(loan_.data());
    }
    void publish() override {
        const Status status = end_.topic().publish(loan_);
        if (status != Status::ok) fail("publish(loan)", status);
    }

private:
    Publisher end_;
    Loan loan_;  // declared after end_: cancelled before its client detaches
};

class TopicViewReceiver : public ViewReceiver {
public:
    TopicViewReceiver(const std::string& broker, const std::string& topic, ShmqWait wait)
        : end_(broker, topic, wait) {}

    Message read() override {
        const Status status = end_.subscription().read(view_);
        if (status != Status::ok) fail("read", status);
        return {static_cast<const std::byte*>(view_.data()), view_.size()};
    }
    void release() override { view_.release(); }

private:
    Subscriber end_;
    View view_;  // declared after end_: released before its subscription ends
};

class ShmqTopicTransport : public Transport {
public:
    ShmqTopicTransport(std::string shmqd, ShmqWait wait) : shmqd_(std::move(shmqd)), wait_(wait) {}
    std::string name() const override { return "shmq"; }
    std::string mode() const override { return std::string("topic/") + wait_name(wait_); }
    bool multi_producer() const override { return true; }
    bool fan_out() const override { return true; }
    bool zero_copy() const override { return true; }

    void setup(const ChannelSpec& spec) override {
        depth_ = spec.depth;
        std::vector<BrokerTopic> topics;
        for (std::size_t channel = 0; channel < spec.channels; ++channel) {
            topics.push_back({topic_name(channel), spec.depth, spec.message_size});
        }
        broker_ = std::make_unique<BrokerProcess>(shmqd_, std::vector<BrokerQueue>{}, topics);
    }
    std::size_t depth() const override { return depth_; }
    std::unique_ptr<Sender> sender(std::size_t channel) override {
        return std::make_unique<TopicSender>(broker_->name(), topic_name(channel), wait_);
    }
    std::unique_ptr<Receiver> receiver(std::size_t channel) override {
        return std::make_unique<TopicReceiver>(broker_->name(), topic_name(channel), wait_);
    }
    std::unique_ptr<LoanSender> loan_sender(std::size_t channel) override {
        return std::make_unique<TopicLoanSender>(broker_->name(), topic_name(channel), wait_);
    }
    std::unique_ptr<ViewReceiver> view_receiver(std::size_t channel) override {
        return std::make_unique<TopicViewReceiver>(broker_->name(), topic_name(channel), wait_);
    }
    void teardown() override { broker_.reset(); }

private:
    static std::string topic_name(std::size_t channel) { return "channel" + std::to_string(channel); }

    std::string shmqd_;
    ShmqWait wait_;
    std::size_t depth_ = 0;
    std::unique_ptr<BrokerProcess> broker_;
};

}  // namespace

std::unique_ptr<Transport> make_shmq_topic(const std::string& shmqd, ShmqWait wait) {
    return std::make_unique<ShmqTopicTransport>(shmqd, wait);
}

}  // namespace shmq::bench
