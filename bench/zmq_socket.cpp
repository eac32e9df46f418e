#include "bench/zmq_socket.hpp"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <zmq.h>

namespace shmq::bench {

void zmq_fail(const std::string& what) {
    throw std::runtime_error("zmq: " + what + ": " + zmq_strerror(zmq_errno()));
}

void zmq_set(void* socket, int option, int value, const char* name) {
    if (zmq_setsockopt(socket, option, &value, sizeof value) != 0) zmq_fail(std::string("setsockopt ") + name);
}

ZmqEndpoint::ZmqEndpoint(int type) : context_(zmq_ctx_new()) {
    if (context_ == nullptr) zmq_fail("zmq_ctx_new");
    socket_ = zmq_socket(context_, type);
    if (socket_ == nullptr) {
        zmq_ctx_term(context_);
        zmq_fail("zmq_socket");
    }
}

ZmqEndpoint::~ZmqEndpoint() {
    zmq_close(socket_);
    zmq_ctx_term(context_);
}

std::size_t zmq_receive(void* socket, void* data, std::size_t capacity) {
    for (;;) {
        const int received = zmq_recv(socket, data, capacity, 0);
        if (received >= 0) {
            if (static_cast<std::size_t>(received) > capacity) {
                throw std::runtime_error("zmq: message larger than the buffer");
            }
            return static_cast<std::size_t>(received);
        }
        if (zmq_errno() != EINTR) zmq_fail("recv");
    }
}

void wait_for_bind(const std::string& path) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!std::filesystem::exists(path)) {
        if (std::chrono::steady_clock::now() >= end) throw std::runtime_error("zmq: nobody bound " + path);
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
}

void IpcPaths::create(std::size_t channels) {
    std::string pattern = (std::filesystem::temp_directory_path() / "shmq-bench-zmq-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::system_error(errno, std::generic_category(), "mkdtemp");
    directory_ = pattern;
    for (std::size_t channel = 0; channel < channels; ++channel) {
        paths_.push_back(directory_ + "/channel" + std::to_string(channel));
    }
}

void IpcPaths::clear() {
    if (!directory_.empty()) {
        std::error_code ignored;
        std::filesystem::remove_all(directory_, ignored);
    }
    directory_.clear();
    paths_.clear();
}

}  // namespace shmq::bench
