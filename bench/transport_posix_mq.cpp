// POSIX message queues (mq_open): kernel queues, any number of senders and
// receivers. Without CAP_SYS_RESOURCE a queue holds at most
// /proc/sys/fs/mqueue/msg_max messages of at most msgsize_max bytes, and all
// of a user's queues share RLIMIT_MSGQUEUE bytes; the depth is capped to what
// the system allows and the run is skipped when the messages cannot fit.
#include <cerrno>
#include <fcntl.h>
#include <fstream>
#include <mqueue.h>
#include <system_error>
#include <unistd.h>
#include <vector>

#include "bench/transport.hpp"

namespace shmq::bench {

namespace {

std::size_t read_limit(const char* path, std::size_t fallback) {
    std::ifstream in(path);
    std::size_t value = 0;
    return in >> value ? value : fallback;
}

mqd_t open_queue(const std::string& name, int flags) {
    const mqd_t queue = ::mq_open(name.c_str(), flags | O_CLOEXEC);
    if (queue == static_cast<mqd_t>(-1)) throw std::system_error(errno, std::generic_category(), "mq_open " + name);
    return queue;
}

class PosixSender : public SingleSender {
public:
    explicit PosixSender(const std::string& name) : queue_(open_queue(name, O_WRONLY)) {}
    ~PosixSender() override { ::mq_close(queue_); }

private:
    void send_one(const void* data, std::size_t size) override {
        while (::mq_send(queue_, static_cast<const char*>(data), size, 0) != 0) {
            if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "mq_send");
        }
    }
    mqd_t queue_;
};

class PosixReceiver : public SingleReceiver {
public:
    explicit PosixReceiver(const std::string& name) : queue_(open_queue(name, O_RDONLY)) {}
    ~PosixReceiver() override { ::mq_close(queue_); }

private:
    std::size_t receive_one(void* data, std::size_t capacity) override {
        for (;;) {
            const ssize_t received = ::mq_receive(queue_, static_cast<char*>(data), capacity, nullptr);
            if (received >= 0) return static_cast<std::size_t>(received);
            if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "mq_receive");
        }
    }
    mqd_t queue_;
};

class PosixMqTransport : public Transport {
public:
    ~PosixMqTransport() override { teardown(); }
    std::string name() const override { return "posix_mq"; }
    std::string mode() const override { return "blocking"; }
    bool multi_producer() const override { return true; }

    void setup(const ChannelSpec& spec) override {
        const std::size_t max_size = read_limit("/proc/sys/fs/mqueue/msgsize_max", 8192);
        if (spec.message_size > max_size) {
            throw Unsupported("messages of " + std::to_string(spec.message_size) + " B exceed msgsize_max " +
                              std::to_string(max_size) + " B");
        }
        depth_ = std::min(spec.depth, read_limit("/proc/sys/fs/mqueue/msg_max", 10));
        for (std::size_t channel = 0; channel < spec.channels; ++channel) {
            const auto name = "/shmq-bench-" + std::to_string(::getpid()) + "-" + std::to_string(channel);
            ::mq_unlink(name.c_str());
            mq_attr attributes{};
            attributes.mq_maxmsg = static_cast<long>(depth_);
            attributes.mq_msgsize = static_cast<long>(spec.message_size);
            const mqd_t queue = ::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, &attributes);
            if (queue == static_cast<mqd_t>(-1)) {
                if (errno == EMFILE || errno == ENOMEM) {
                    throw Unsupported("RLIMIT_MSGQUEUE cannot hold " + std::to_string(depth_) + " x " +
                                      std::to_string(spec.message_size) + " B");
                }
                throw std::system_error(errno, std::generic_category(), "mq_open " + name);
            }
            ::mq_close(queue);  // the children open it by name
            names_.push_back(name);
        }
    }
    std::size_t depth() const override { return depth_; }
    std::unique_ptr<Sender> sender(std::size_t channel) override {
        return std::make_unique<PosixSender>(names_.at(channel));
    }
    std::unique_ptr<Receiver> receiver(std::size_t channel) override {
        return std::make_unique<PosixReceiver>(names_.at(channel));
    }
    void teardown() override {
        for (const auto& name : names_) ::mq_unlink(name.c_str());
        names_.clear();
    }

private:
    std::size_t depth_ = 0;
    std::vector<std::string> names_;
};

}  // namespace

std::unique_ptr<Transport> make_posix_mq() { return std::make_unique<PosixMqTransport>(); }

}  // namespace shmq::bench
