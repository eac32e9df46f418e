// The one interface every benchmarked transport implements, so that the
// scenarios (scenarios.cpp) drive shmq and its peers with identical code.
//
// Life of a transport in one run:
//   parent:   setup(spec)                creates the channels (queues, sockets, rings)
//   children: sender(c) / receiver(c)    after fork, each process opens its ends
//   parent:   teardown()                 after every child has exited
// A channel is one-way; a round trip uses two. Every message of a run has the
// same size, and every send/receive call copies the message in or out, as a
// fair comparison of queues that hand the caller its own buffer. Transports
// that can also lend their own memory (zero_copy()) offer LoanSender and
// ViewReceiver ends besides, which the zero-copy round trip uses.
#pragma once

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>

namespace shmq::bench {

// setup() throws this when the machine cannot run a configuration at all
// (e.g. POSIX mq messages over msgsize_max): reported as skipped, not failed.
class Unsupported : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct ChannelSpec {
    std::size_t channels = 1;      // independent one-way channels
    std::size_t message_size = 0;  // bytes; every message of the run is this big
    std::size_t depth = 0;         // messages a channel holds before a sender waits
    // Receivers each channel will have. A fan-out transport's sender waits in
    // sender() until that many have subscribed, so none misses a message.
    std::size_t receivers = 1;
};

struct Outgoing {
    const void* data;
    std::size_t size;
};

struct Incoming {
    void* data;
    std::size_t capacity;
    std::size_t size;  // filled in by receive()
};

class Sender {
public:
    virtual ~Sender() = default;
    // Sends messages[0..count) in order, waiting for room; throws
    // std::runtime_error on any failure. `count` never exceeds batch_limit().
    virtual void send(const Outgoing* messages, std::size_t count) = 0;
};

class Receiver {
public:
    virtual ~Receiver() = default;
    // Waits for at least one message and fills up to `count` buffers with the
    // next messages in order; returns how many. Throws std::runtime_error.
    virtual std::size_t receive(Incoming* messages, std::size_t count) = 0;
};

// For transports with no batch call: one message per call.
class SingleSender : public Sender {
public:
    void send(const Outgoing* messages, std::size_t count) final {
        for (std::size_t i = 0; i < count; ++i) send_one(messages[i].data, messages[i].size);
    }

protected:
    virtual void send_one(const void* data, std::size_t size) = 0;
};

class SingleReceiver : public Receiver {
public:
    std::size_t receive(Incoming* messages, std::size_t /*count*/) final {
        messages[0].size = receive_one(messages[0].data, messages[0].capacity);
        return 1;
    }

protected:
    virtual std::size_t receive_one(void* data, std::size_t capacity) = 0;
};

// Zero-copy ends: the sender writes a message where the receiver will read
// it, inside the transport's memory, and the receiver reads it in place.
class LoanSender {
public:
    virtual ~LoanSender() = default;
    // A buffer of `size` bytes to fill, waiting for room; throws
    // std::runtime_error. Valid until publish().
    virtual std::byte* loan(std::size_t size) = 0;
    // Sends the loaned buffer.
    virtual void publish() = 0;
};

class ViewReceiver {
public:
    virtual ~ViewReceiver() = default;
    struct Message {
        const std::byte* data;
        std::size_t size;
    };
    // Waits for the next message and returns it in place, valid until
    // release(); throws std::runtime_error.
    virtual Message read() = 0;
    virtual void release() = 0;
};

class Transport {
public:
    virtual ~Transport() = default;
    virtual std::string name() const = 0;  // e.g. "boost_mq"
    virtual std::string mode() const = 0;  // e.g. "spin_then_block+batch"
    // Whether several senders and several receivers may share one channel.
    virtual bool multi_producer() const { return false; }
    // Messages per send()/receive() call the transport makes good use of.
    virtual std::size_t batch_limit() const { return 1; }
    // Whether every receiver of a channel gets every message (publish/
    // subscribe) rather than each message going to one receiver.
    virtual bool fan_out() const { return false; }
    // Whether loan_sender() and view_receiver() are available.
    virtual bool zero_copy() const { return false; }

    // In the parent, before any child is forked. Throws Unsupported or
    // std::runtime_error; teardown() is called in either case.
    virtual void setup(const ChannelSpec& spec) = 0;
    // The depth the channels really have (a system limit may cap the request).
    virtual std::size_t depth() const = 0;
    // In a child process, after fork.
    virtual std::unique_ptr<Sender> sender(std::size_t channel) = 0;
    virtual std::unique_ptr<Receiver> receiver(std::size_t channel) = 0;
    // In a child process, after fork; only when zero_copy().
    virtual std::unique_ptr<LoanSender> loan_sender(std::size_t /*channel*/) {
        throw std::logic_error(name() + " " + mode() + " has no zero-copy ends");
    }
    virtual std::unique_ptr<ViewReceiver> view_receiver(std::size_t /*channel*/) {
        throw std::logic_error(name() + " " + mode() + " has no zero-copy ends");
    }
    // In the parent, once every child has exited. Must not throw.
    virtual void teardown() = 0;
};

// The transports, one file each.
std::unique_ptr<Transport> make_spsc_ring();
std::unique_ptr<Transport> make_mpmc_ring();
std::unique_ptr<Transport> make_boost_mq();
std::unique_ptr<Transport> make_posix_mq();
std::unique_ptr<Transport> make_unix_socket();
std::unique_ptr<Transport> make_zmq();
// Fan-out peers: ZeroMQ XPUB/SUB over ipc://, and iceoryx (its RouDi daemon
// started per run from `roudi`). iceoryx busy-polls (as its own benchmark
// does) or sleeps in a WaitSet.
std::unique_ptr<Transport> make_zmq_pub_sub();
enum class IceoryxWait { busy_poll, waitset };
std::unique_ptr<Transport> make_iceoryx(const std::string& roudi, IceoryxWait wait);

enum class ShmqWait { block, spin_then_block, busy_poll };
struct ShmqMode {
    ShmqWait wait = ShmqWait::spin_then_block;
    bool batch = false;
    bool at_least_once = false;
    // Queues configured `producers: single` and `consumers: single`, whose
    // one producer and one consumer claim and take with plain stores: the
    // same contract as the limit ring's.
    bool single = false;
};
// `shmqd` is the broker executable each run starts.
std::unique_ptr<Transport> make_shmq(const std::string& shmqd, const ShmqMode& mode);
// shmq topics: each channel is a topic; receivers subscribe. Always
// zero_copy(); send/receive copy, the loan/view ends do not.
std::unique_ptr<Transport> make_shmq_topic(const std::string& shmqd, ShmqWait wait);

}  // namespace shmq::bench
