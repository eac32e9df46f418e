#include "daemon/metrics_server.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <optional>
#include <stdexcept>

#include "common/logging.hpp"
#include "metrics/prometheus_text.hpp"

namespace shmq::daemon {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

using Response = http::response<http::string_body>;

// One client's connection: requests read and answered in turn (keep-alive,
// as Prometheus uses) until the client closes, breaks the protocol or stays
// silent past the deadline.
class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(tcp::socket socket, const MetricsServer::Exposition& exposition, std::atomic<std::size_t>& count)
        : stream_(std::move(socket)), exposition_(exposition), count_(count) {}
    ~Connection() { count_.fetch_sub(1, std::memory_order_relaxed); }

    void read() {
        parser_.emplace();
        parser_->header_limit(MetricsServer::max_request_bytes);
        parser_->body_limit(0);  // a scrape carries no body
        stream_.expires_after(MetricsServer::io_timeout);
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](beast::error_code error, std::size_t) { self->on_read(error); });
    }

private:
    void on_read(beast::error_code error) {
        // A closed, silent or malformed connection is dropped: a scraper
        // retries, and an answer would only feed a client that misbehaves.
        if (error) return close();
        answer(parser_->get());
    }

    void answer(const http::request<http::empty_body>& request) {
        response_ = {};
        response_.version(request.version());
        response_.keep_alive(request.keep_alive());
        response_.set(http::field::server, "shmqd");
        const auto target = request.target();
        const auto path = target.substr(0, target.find('?'));
        if (path != "/metrics") {
            reply(http::status::not_found, "not found: the metrics are at /metrics\n");
        } else if (request.method() != http::verb::get && request.method() != http::verb::head) {
            response_.set(http::field::allow, "GET, HEAD");
            reply(http::status::method_not_allowed, "method not allowed: use GET\n");
        } else {
            response_.set(http::field::content_type, metrics::prometheus_content_type);
            response_.result(http::status::ok);
            response_.body() = exposition_();
            response_.prepare_payload();
            if (request.method() == http::verb::head) response_.body().clear();
        }
        stream_.expires_after(MetricsServer::io_timeout);
        http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code error, std::size_t) {
            if (error || !self->response_.keep_alive()) return self->close();
            self->read();
        });
    }

    void reply(http::status status, const char* text) {
        response_.result(status);
        response_.set(http::field::content_type, "text/plain; charset=utf-8");
        response_.body() = text;
        response_.prepare_payload();
    }

    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.close();
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_{MetricsServer::max_request_bytes};
    std::optional<http::request_parser<http::empty_body>> parser_;
    Response response_;
    const MetricsServer::Exposition& exposition_;
    std::atomic<std::size_t>& count_;
};

std::string printable(const config::ListenAddress& address) {
    const bool v6 = address.host.find(':') != std::string::npos;
    return (v6 ? "[" + address.host + "]" : address.host) + ":" + std::to_string(address.port);
}

}  // namespace

MetricsServer::MetricsServer(const config::ListenAddress& address) : acceptor_(io_) {
    beast::error_code error;
    const tcp::endpoint endpoint(asio::ip::make_address(address.host, error), address.port);
    const auto fail = [&](const char* step) {
        throw std::runtime_error("cannot serve metrics on " + printable(address) + ": " + step + ": " +
                                 error.message());
    };
    if (error) fail("address");
    if (acceptor_.open(endpoint.protocol(), error)) fail("socket");
    // A restarted broker may bind again while the old connections linger in TIME_WAIT.
    if (acceptor_.set_option(tcp::acceptor::reuse_address(true), error)) fail("SO_REUSEADDR");
    if (endpoint.address().is_v6() && acceptor_.set_option(asio::ip::v6_only(true), error)) fail("IPV6_V6ONLY");
    if (acceptor_.bind(endpoint, error)) fail("bind");
    if (acceptor_.listen(asio::socket_base::max_listen_connections, error)) fail("listen");
}

MetricsServer::~MetricsServer() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
}

void MetricsServer::start(Exposition exposition) {
    exposition_ = std::move(exposition);
    accept();
    thread_ = std::thread([this] {
        try {
            io_.run();
        } catch (const std::exception& failure) {
            SHMQ_LOG(error) << "the metrics endpoint " << url() << " stopped: " << failure.what();
        }
    });
}

std::string MetricsServer::url() const {
    const auto endpoint = acceptor_.local_endpoint();
    const auto host = endpoint.address().to_string();
    return "http://" + (endpoint.address().is_v6() ? "[" + host + "]" : host) + ":" +
           std::to_string(endpoint.port()) + "/metrics";
}

void MetricsServer::accept() {
    acceptor_.async_accept([this](beast::error_code error, tcp::socket socket) {
        if (error == asio::error::operation_aborted) return;
        if (!error) {
            // Over the limit, the connection is closed at once (the socket
            // goes out of scope): a flood cannot starve the scrapes in hand.
            if (connections_.fetch_add(1, std::memory_order_relaxed) < max_connections) {
                std::make_shared<Connection>(std::move(socket), exposition_, connections_)->read();
            } else {
                connections_.fetch_sub(1, std::memory_order_relaxed);
            }
        } else {
            SHMQ_LOG(warning) << "the metrics endpoint could not accept a connection: " << error.message();
        }
        accept();
    });
}

}  // namespace shmq::daemon
