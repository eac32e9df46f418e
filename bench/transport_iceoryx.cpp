// iceoryx 2.0 (Debian's), the closest peer: a central daemon (RouDi) plus
// zero-copy publish/subscribe over shared memory. Each run starts its own
// RouDi with memory pools sized for the run's messages, and every child
// registers a runtime of its own. Publishers wait for full subscriber queues
// (WAIT_FOR_CONSUMER / BLOCK_PRODUCER), so nothing is lost, as in the other
// transports. send/receive copy the message into and out of the chunk, like
// everyone's copying calls; the zero-copy ends loan and take chunks.
// Receivers either busy-poll take() (iceoryx's own benchmark, iceperf, does
// so) or sleep in a WaitSet until a chunk arrives.
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <system_error>
#include <thread>
#include <unistd.h>

#include "bench/daemon_process.hpp"
#include "bench/transport.hpp"
#include "iceoryx_hoofs/log/logmanager.hpp"
#include "iceoryx_posh/internal/runtime/ipc_interface_base.hpp"
#include "iceoryx_posh/internal/runtime/ipc_message.hpp"
#include "iceoryx_posh/mepoo/chunk_header.hpp"
#include "iceoryx_posh/popo/untyped_publisher.hpp"
#include "iceoryx_posh/popo/untyped_subscriber.hpp"
#include "iceoryx_posh/popo/wait_set.hpp"
#include "iceoryx_posh/runtime/posh_runtime.hpp"

namespace shmq::bench {

namespace {

constexpr auto roudi_start_timeout = std::chrono::seconds(10);
constexpr auto subscribe_timeout = std::chrono::seconds(10);
// A chunk carries iceoryx's header before the payload; pools leave room.
constexpr std::size_t chunk_overhead = 4096;

// One runtime per child process, registered with RouDi while the child has
// iceoryx ends. iceoryx unregisters a process when its runtime is destroyed,
// at exit(), but benchmark children end with _exit, and iceoryx 2.0.3's RouDi
// aborts at shutdown on a registered process that is gone (a SEVERE error on
// kill's ESRCH), leaving its shared memory in /dev/shm. So a child's last end
// tells RouDi itself, as the runtime's destructor would.
class RuntimeLease {
public:
    RuntimeLease() {
        if (name().empty()) {
            // Its loggers take this level when created, so before the runtime.
            iox::log::LogManager::GetLogManager().SetDefaultLogLevel(iox::log::LogLevel::kWarn,
                                                                     iox::log::LogLevelOutput::kHideLogLevel);
            name() = "shmq_bench_" + std::to_string(::getpid());
            iox::runtime::PoshRuntime::initRuntime(iox::RuntimeName_t(iox::cxx::TruncateToCapacity, name().c_str()));
        }
        ++holders();
    }
    ~RuntimeLease() {
        if (--holders() != 0) return;
        iox::runtime::IpcMessage request;
        request << iox::runtime::IpcMessageTypeToString(iox::runtime::IpcMessageType::TERMINATION) << name();
        iox::runtime::IpcMessage answer;
        iox::runtime::PoshRuntime::getInstance().sendRequestToRouDi(request, answer);
    }
    RuntimeLease(const RuntimeLease&) = delete;
    RuntimeLease& operator=(const RuntimeLease&) = delete;

private:
    static std::string& name() {
        static std::string registered;
        return registered;
    }
    static int& holders() {
        static int count = 0;
        return count;
    }
};

iox::capro::ServiceDescription service(std::size_t channel) {
    const std::string instance = "channel" + std::to_string(channel);
    return {"shmq_bench", iox::capro::IdString_t(iox::cxx::TruncateToCapacity, instance.c_str()), "message"};
}

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("iceoryx: " + what); }

class Publisher {
public:
    explicit Publisher(std::size_t channel) : publisher_(service(channel), options()) {}

    void* loan(std::size_t size) {
        auto chunk = publisher_.loan(static_cast<std::uint32_t>(size));
        if (chunk.has_error()) {
            fail("loan of " + std::to_string(size) + " B failed (allocation error " +
                 std::to_string(static_cast<int>(chunk.get_error())) + ")");
        }
        return chunk.value();
    }
    void publish(void* payload) { publisher_.publish(payload); }

private:
    static iox::popo::PublisherOptions options() {
        iox::popo::PublisherOptions options;
        options.subscriberTooSlowPolicy = iox::popo::ConsumerTooSlowPolicy::WAIT_FOR_CONSUMER;
        return options;
    }
    RuntimeLease lease_;  // first: the runtime outlives the port
    iox::popo::UntypedPublisher publisher_;
};

class Subscriber {
public:
    Subscriber(std::size_t channel, std::size_t depth, IceoryxWait wait)
        : subscriber_(service(channel), options(depth)), wait_(wait) {
        const auto end = std::chrono::steady_clock::now() + subscribe_timeout;
        while (subscriber_.getSubscriptionState() != iox::SubscribeState::SUBSCRIBED) {
            if (std::chrono::steady_clock::now() >= end) fail("no publisher connected within 10 s");
            std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
        if (wait_ == IceoryxWait::waitset) {
            waitset_.emplace();
            if (waitset_->attachState(subscriber_, iox::popo::SubscriberState::HAS_DATA).has_error()) {
                fail("attaching the subscriber to a WaitSet");
            }
        }
    }

    // The next chunk's payload, waiting for it.
    const void* take() {
        for (;;) {
            auto chunk = subscriber_.take();
            if (!chunk.has_error()) return chunk.value();
            if (chunk.get_error() != iox::popo::ChunkReceiveResult::NO_CHUNK_AVAILABLE) {
                fail("take failed (too many chunks held)");
            }
            if (waitset_) waitset_->wait();
        }
    }
    void release(const void* payload) { subscriber_.release(payload); }

private:
    static iox::popo::SubscriberOptions options(std::size_t depth) {
        iox::popo::SubscriberOptions options;
        options.queueCapacity = depth;
        options.queueFullPolicy = iox::popo::QueueFullPolicy::BLOCK_PRODUCER;
        return options;
    }
    RuntimeLease lease_;  // first: the runtime outlives the port
    iox::popo::UntypedSubscriber subscriber_;
    IceoryxWait wait_;
    std::optional<iox::popo::WaitSet<>> waitset_;  // declared after subscriber_: detached first
};

std::size_t payload_size(const void* payload) {
    return iox::mepoo::ChunkHeader::fromUserPayload(payload)->userPayloadSize();
}

class IceoryxSender : public SingleSender {
public:
    explicit IceoryxSender(std::size_t channel) : publisher_(channel) {}

private:
    void send_one(const void* data, std::size_t size) override {
        void* chunk = publisher_.loan(size);
        std::memcpy(chunk, data, size);
        publisher_.publish(chunk);
    }
    Publisher publisher_;
};

class IceoryxReceiver : public SingleReceiver {
public:
    IceoryxReceiver(std::size_t channel, std::size_t depth, IceoryxWait wait) : subscriber_(channel, depth, wait) {}

private:
    std::size_t receive_one(void* data, std::size_t capacity) override {
        const void* chunk = subscriber_.take();
        const std::size_t size = payload_size(chunk);
        if (size > capacity) throw std::runtime_error("iceoryx: message larger than the buffer");
        std::memcpy(data, chunk, size);
        subscriber_.release(chunk);
        return size;
    }
    Subscriber subscriber_;
};

class IceoryxLoanSender : public LoanSender {
public:
    explicit IceoryxLoanSender(std::size_t channel) : publisher_(channel) {}
    std::byte* loan(std::size_t size) override {
        chunk_ = publisher_.loan(size);
        return static_cast<std::byte*>(chunk_);
    }
    void publish() override { publisher_.publish(chunk_); }

private:
    Publisher publisher_;
    void* chunk_ = nullptr;
};

class IceoryxViewReceiver : public ViewReceiver {
public:
    IceoryxViewReceiver(std::size_t channel, std::size_t depth, IceoryxWait wait) : subscriber_(channel, depth, wait) {}
    Message read() override {
        chunk_ = subscriber_.take();
        return {static_cast<const std::byte*>(chunk_), payload_size(chunk_)};
    }
    void release() override { subscriber_.release(chunk_); }

private:
    Subscriber subscriber_;
    const void* chunk_ = nullptr;
};

// RouDi's memory pools: chunks for the run's message size, enough for every
// subscriber queue to be full at once plus the loans in flight.
std::string roudi_config(std::size_t message_size, std::size_t depth, std::size_t channels) {
    const std::size_t chunk = (message_size + chunk_overhead + 63) / 64 * 64;
    const std::size_t chunks = channels * (depth + 16) + 16;
    std::ostringstream toml;
    toml << "[general]\nversion = 1\n\n[[segment]]\n\n[[segment.mempool]]\nsize = " << chunk
         << "\ncount = " << chunks << "\n";
    return toml.str();
}

class IceoryxTransport : public Transport {
public:
    IceoryxTransport(std::string roudi, IceoryxWait wait) : roudi_(std::move(roudi)), wait_(wait) {}
    ~IceoryxTransport() override { teardown(); }
    std::string name() const override { return "iceoryx"; }
    std::string mode() const override { return wait_ == IceoryxWait::busy_poll ? "busy_poll" : "waitset"; }
    bool fan_out() const override { return true; }
    bool zero_copy() const override { return true; }

    void setup(const ChannelSpec& spec) override {
        depth_ = spec.depth;
        if (spec.depth > iox::MAX_SUBSCRIBER_QUEUE_CAPACITY) throw Unsupported("iceoryx queues hold at most 256");
        if (!std::filesystem::exists(roudi_)) throw Unsupported(roudi_ + " is not installed");
        std::string pattern = (std::filesystem::temp_directory_path() / "shmq-bench-roudi-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::system_error(errno, std::generic_category(), "mkdtemp");
        directory_ = pattern;
        const std::string config = directory_ + "/roudi.toml";
        const std::string log = directory_ + "/roudi.log";
        std::ofstream(config) << roudi_config(spec.message_size, spec.depth, spec.channels);
        pid_ = start_daemon({roudi_, "--config-file", config, "--log-level", "info", "--kill-delay", "1"}, {}, log);
        wait_ready(log);
    }
    std::size_t depth() const override { return depth_; }
    std::unique_ptr<Sender> sender(std::size_t channel) override {
        return std::make_unique<IceoryxSender>(channel);
    }
    std::unique_ptr<Receiver> receiver(std::size_t channel) override {
        return std::make_unique<IceoryxReceiver>(channel, depth_, wait_);
    }
    std::unique_ptr<LoanSender> loan_sender(std::size_t channel) override {
        return std::make_unique<IceoryxLoanSender>(channel);
    }
    std::unique_ptr<ViewReceiver> view_receiver(std::size_t channel) override {
        return std::make_unique<IceoryxViewReceiver>(channel, depth_, wait_);
    }
    void teardown() override {
        if (pid_ > 0) terminate_and_reap(pid_, std::chrono::seconds(10));
        pid_ = -1;
        if (!directory_.empty()) {
            std::error_code ignored;
            std::filesystem::remove_all(directory_, ignored);
        }
        directory_.clear();
    }

private:
    // RouDi says so on its output once clients may register.
    void wait_ready(const std::string& log) {
        const auto end = std::chrono::steady_clock::now() + roudi_start_timeout;
        while (std::chrono::steady_clock::now() < end) {
            std::ifstream in(log);
            const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            if (text.find("RouDi is ready for clients") != std::string::npos) return;
            int status = 0;
            if (has_exited(pid_, status)) {
                pid_ = -1;
                // iceoryx allows one RouDi per machine: somebody else's is no
                // failure of this benchmark, but leaves nothing to compare.
                if (text.find("is RouDi still running") != std::string::npos) {
                    throw Unsupported("another iox-roudi is running on this machine");
                }
                throw std::runtime_error("iox-roudi exited during start-up: " + text);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        throw std::runtime_error("iox-roudi did not report ready within 10 s");
    }

    std::string roudi_;
    IceoryxWait wait_;
    std::size_t depth_ = 0;
    std::string directory_;
    pid_t pid_ = -1;
};

}  // namespace

std::unique_ptr<Transport> make_iceoryx(const std::string& roudi, IceoryxWait wait) {
    return std::make_unique<IceoryxTransport>(roudi, wait);
}

}  // namespace shmq::bench
