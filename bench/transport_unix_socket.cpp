// A Unix domain stream socket per channel (socketpair), each message framed
// by a 4-byte length. The receiver reads in large chunks and splits frames in
// user space, the usual way to read a stream; the sender writes header and
// payload with one writev. One sender and one receiver per channel: a stream
// carries no message boundaries between concurrent writers.
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/uio.h>
#include <system_error>
#include <unistd.h>
#include <vector>

#include "bench/transport.hpp"

namespace shmq::bench {

namespace {

using FrameLength = std::uint32_t;

class SocketSender : public SingleSender {
public:
    explicit SocketSender(int fd) : fd_(fd) {}

private:
    void send_one(const void* data, std::size_t size) override {
        const FrameLength length = static_cast<FrameLength>(size);
        iovec parts[2] = {{const_cast<FrameLength*>(&length), sizeof length}, {const_cast<void*>(data), size}};
        std::size_t left = sizeof length + size;
        iovec* part = parts;
        int part_count = 2;
        while (left > 0) {
            const ssize_t written = ::writev(fd_, part, part_count);
            if (written < 0) {
                if (errno == EINTR) continue;
                throw std::system_error(errno, std::generic_category(), "unix socket: writev");
            }
            left -= static_cast<std::size_t>(written);
            // Skip what went out: whole parts, then into the part it stopped in.
            auto done = static_cast<std::size_t>(written);
            while (part_count > 0 && done >= part->iov_len) {
                done -= part->iov_len;
                ++part;
                --part_count;
            }
            if (part_count > 0) {
                part->iov_base = static_cast<char*>(part->iov_base) + done;
                part->iov_len -= done;
            }
        }
    }
    int fd_;
};

class SocketReceiver : public SingleReceiver {
public:
    explicit SocketReceiver(int fd) : fd_(fd), buffer_(256 * 1024) {}

private:
    std::size_t receive_one(void* data, std::size_t capacity) override {
        fill_at_least(sizeof(FrameLength));
        FrameLength length = 0;
        std::memcpy(&length, buffer_.data() + begin_, sizeof length);
        begin_ += sizeof length;
        if (length > capacity) throw std::runtime_error("unix socket: message larger than the buffer");
        auto* out = static_cast<std::byte*>(data);
        // Whatever is buffered first, then (large messages) straight into the caller's buffer.
        const std::size_t buffered = std::min<std::size_t>(length, end_ - begin_);
        std::memcpy(out, buffer_.data() + begin_, buffered);
        begin_ += buffered;
        std::size_t have = buffered;
        if (length - have >= buffer_.size() / 2) {
            while (have < length) have += read_some(out + have, length - have);
        } else if (have < length) {
            fill_at_least(length - have);
            std::memcpy(out + have, buffer_.data() + begin_, length - have);
            begin_ += length - have;
        }
        return length;
    }

    void fill_at_least(std::size_t bytes) {
        if (end_ - begin_ >= bytes) return;
        std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
        while (end_ < bytes) end_ += read_some(buffer_.data() + end_, buffer_.size() - end_);
    }

    std::size_t read_some(std::byte* into, std::size_t size) {
        for (;;) {
            const ssize_t got = ::read(fd_, into, size);
            if (got > 0) return static_cast<std::size_t>(got);
            if (got == 0) throw std::runtime_error("unix socket: the sender closed the stream");
            if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "unix socket: read");
        }
    }

    int fd_;
    std::vector<std::byte> buffer_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
};

class UnixSocketTransport : public Transport {
public:
    ~UnixSocketTransport() override { teardown(); }
    std::string name() const override { return "unix_socket"; }
    std::string mode() const override { return "stream"; }

    void setup(const ChannelSpec& spec) override {
        for (std::size_t channel = 0; channel < spec.channels; ++channel) {
            int pair[2];
            if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
                throw std::system_error(errno, std::generic_category(), "socketpair");
            }
            pairs_.push_back({pair[0], pair[1]});
        }
    }
    // A stream has no depth in messages: the kernel's default socket buffers
    // (net.core.wmem_default) bound what is in flight.
    std::size_t depth() const override { return 0; }
    std::unique_ptr<Sender> sender(std::size_t channel) override {
        return std::make_unique<SocketSender>(pairs_.at(channel)[0]);
    }
    std::unique_ptr<Receiver> receiver(std::size_t channel) override {
        return std::make_unique<SocketReceiver>(pairs_.at(channel)[1]);
    }
    void teardown() override {
        for (const auto& pair : pairs_) {
            ::close(pair[0]);
            ::close(pair[1]);
        }
        pairs_.clear();
    }

private:
    std::vector<std::array<int, 2>> pairs_;
};

}  // namespace

std::unique_ptr<Transport> make_unix_socket() { return std::make_unique<UnixSocketTransport>(); }

}  // namespace shmq::bench
