// shmqd's metrics endpoint (`metrics_listen`): a small HTTP/1.1 server on
// Boost.Beast that answers GET /metrics with the Prometheus text of the
// broker's statistics.
//
// It runs on a thread of its own and reads the segment the way `shmq stats`
// does (atomic loads, no lock), so a scrape never waits for the broker's loop
// nor delays a producer or consumer. It is bounded against a bad or slow
// client: every read and write has a deadline, a request's header has a size
// limit and may carry no body, and only a few connections are served at once
// (more are closed at once). Other paths get 404, other methods 405.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "config/listen_address.hpp"

namespace shmq::daemon {

class MetricsServer {
public:
    // The body of a 200 answer, computed afresh for each scrape.
    using Exposition = std::function<std::string()>;

    static constexpr std::size_t max_connections = 8;
    static constexpr std::size_t max_request_bytes = 8192;
    static constexpr std::chrono::seconds io_timeout{10};

    // Binds and listens at once, so that an address that cannot be used (a
    // port in use, an address not on this machine, a port the broker may not
    // bind) stops the start. Throws std::runtime_error saying which and why.
    explicit MetricsServer(const config::ListenAddress& address);
    ~MetricsServer();  // stops serving: closes the listener and every connection, joins the thread
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    // Starts the server's thread; `exposition` is called on it.
    void start(Exposition exposition);
    std::string url() const;

private:
    void accept();

    Exposition exposition_;
    std::atomic<std::size_t> connections_{0};
    // After what the connections use: destroying it destroys them.
    boost::asio::io_context io_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::thread thread_;
};

}  // namespace shmq::daemon
