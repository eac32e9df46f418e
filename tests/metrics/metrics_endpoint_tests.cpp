// shmqd's metrics endpoint (metrics_listen) as Prometheus meets it: the real
// shmqd binary started with a configuration file, scraped over loopback
// HTTP (Boost.Beast as the client), its text checked by promtool, and a real
// Prometheus server scraping it and answering a query about a queue's depth.
// Every wait is a wait for a condition with a generous limit: the machine is
// shared and noisy.
#define BOOST_TEST_MODULE metrics_endpoint_tests
#include <boost/test/unit_test.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <csignal>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "shmq/client.hpp"
#include "tests/support/files.hpp"
#include "tests/support/processes.hpp"
#include "tests/support/programs.hpp"
#include "tests/support/shmqd.hpp"

namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

const std::string broker_binary = SHMQ_BINARY_DIR "/daemon/shmqd";
constexpr auto broker_limit = 20s;

using shmq::test::contains;
using shmq::test::read_file;
using shmq::test::write_file;

// Scraping and reading logs are heavier than a flag: poll them less often.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
    return shmq::test::eventually(condition, limit, 50ms);
}

// A TCP port of `host` nobody listens on now (the kernel's choice).
std::uint16_t free_port(const std::string& host = "127.0.0.1") {
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address(host), 0));
    return acceptor.local_endpoint().port();
}

struct Answer {
    unsigned status = 0;
    std::string content_type;
    std::string allow;
    std::string body;
};

// One HTTP/1.1 request on a connection of its own; throws when the server
// cannot be reached or breaks the protocol.
Answer request(const std::string& host, std::uint16_t port, http::verb verb, const std::string& target) {
    asio::io_context io;
    tcp::socket socket(io);
    socket.connect(tcp::endpoint(asio::ip::make_address(host), port));
    http::request<http::empty_body> request{verb, target, 11};
    request.set(http::field::host, host);
    request.keep_alive(false);
    http::write(socket, request);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(socket, buffer, response);
    return {response.result_int(), std::string(response[http::field::content_type]),
            std::string(response[http::field::allow]), response.body()};
}

// A running shmqd with metrics_listen and queue `jobs`, stopped with SIGTERM
// (the clean stop) by the test or killed when it fails.
class Broker {
public:
    explicit Broker(const std::string& listen, std::uint16_t port)
        : name_(shmq::test::unique_broker_name("metrics")),
          port_(port),
          process_(write_config(directory_, name_, listen),
                   {"/dev/null", directory_ / "out", directory_ / "err"}) {
        process_.wait_until_logged("serving metrics on", broker_limit);
    }
    const std::string& name() const { return name_; }
    std::uint16_t port() const { return port_; }
    const fs::path& directory() const { return directory_; }
    std::string log() const { return process_.log(); }
    bool running() { return process_.running(); }
    // The exit code after SIGTERM; -1 when it did not stop.
    int stop() { return process_.stop(broker_limit).value_or(-1); }

    void publish(int count) {
        std::unique_ptr<shmq::Client> client;
        shmq::AttachOptions options;
        options.broker = name_;
        BOOST_REQUIRE(shmq::Client::attach(options, client) == shmq::Status::ok);
        shmq::Queue queue;
        BOOST_REQUIRE(client->open_queue("jobs", queue) == shmq::Status::ok);
        for (int i = 0; i < count; ++i) BOOST_REQUIRE(queue.send("message " + std::to_string(i)) == shmq::Status::ok);
    }

private:
    static fs::path write_config(const fs::path& directory, const std::string& name, const std::string& listen) {
        const auto config = directory / "shmqd.yaml";
        write_file(config, "broker:\n  name: " + name + "\n  metrics_listen: \"" + listen +
                               "\"\nqueues:\n  - name: jobs\n    capacity: 64\n    max_message_size: 128\n"
                               "  - name: ticks\n    capacity: 4\n    max_message_size: 16\n"
                               "    producers: single\n    consumers: single\n");
        return config;
    }

    shmq::test::TempDir temporary_;
    fs::path directory_ = temporary_.path();
    std::string name_;
    std::uint16_t port_;
    shmq::test::ShmqdProcess process_;
};

std::string depth_sample(const Broker& broker, int depth) {
    return "shmq_queue_depth{broker=\"" + broker.name() + "\",queue=\"jobs\"} " + std::to_string(depth) + "\n";
}

}  // namespace

BOOST_AUTO_TEST_CASE(get_metrics_serves_prometheus_text_that_promtool_accepts) {
    const auto port = free_port();
    Broker broker("127.0.0.1:" + std::to_string(port), port);
    broker.publish(3);
    // A client that sent to `ticks` holds its single producer side.
    std::unique_ptr<shmq::Client> ticker;
    shmq::AttachOptions options;
    options.broker = broker.name();
    BOOST_REQUIRE(shmq::Client::attach(options, ticker) == shmq::Status::ok);
    shmq::Queue ticks;
    BOOST_REQUIRE(ticker->open_queue("ticks", ticks) == shmq::Status::ok);
    BOOST_REQUIRE(ticks.send("tick") == shmq::Status::ok);
    const auto answer = request("127.0.0.1", port, http::verb::get, "/metrics");
    BOOST_TEST(answer.status == 200u);
    const auto side = [&](const char* which) {
        return "shmq_queue_single_side_held{broker=\"" + broker.name() + "\",queue=\"ticks\",side=\"" + which + "\"} ";
    };
    BOOST_TEST(contains(answer.body, side("producer") + "1\n"), answer.body);
    BOOST_TEST(contains(answer.body, side("consumer") + "0\n"), answer.body);
    BOOST_TEST(!contains(answer.body, "queue=\"jobs\",side="));  // shared sides have no lease
    BOOST_TEST(answer.content_type == "text/plain; version=0.0.4; charset=utf-8");
    BOOST_TEST(contains(answer.body, depth_sample(broker, 3)), answer.body);
    BOOST_TEST(contains(answer.body, "shmq_queue_enqueued_total{broker=\"" + broker.name() + "\",queue=\"jobs\"} 3\n"));
    for (const char* family : {"shmq_broker_up", "shmq_broker_uptime_seconds", "shmq_clients_attached",
                               "shmq_clients_reclaimed_total", "shmq_queues_quarantined", "shmq_segment_bytes"}) {
        BOOST_TEST(contains(answer.body, std::string("# TYPE ") + family + " "), family);
    }
    // Prometheus' own linter, on the exact body served.
    shmq::test::RunOptions promtool_input;
    promtool_input.input = answer.body;
    promtool_input.limit = broker_limit;
    const auto promtool = shmq::test::run_program({"/usr/bin/promtool", "check", "metrics"}, promtool_input);
    BOOST_TEST(promtool.exit_code == 0, "promtool check metrics: " << promtool.out << promtool.err);
    ticker.reset();
    BOOST_TEST(broker.stop() == 0, broker.log());
}

// The broker-level figures move with the broker: a client killed with -9 is
// reclaimed and counted, and the uptime grows.
BOOST_AUTO_TEST_CASE(reclaimed_clients_and_uptime_are_counted) {
    const auto port = free_port();
    Broker broker("127.0.0.1:" + std::to_string(port), port);
    const auto sample = [&](const std::string& family) {
        return family + "{broker=\"" + broker.name() + "\"} ";
    };
    const auto scrape = [&] { return request("127.0.0.1", port, http::verb::get, "/metrics").body; };
    BOOST_TEST(contains(scrape(), sample("shmq_clients_reclaimed_total") + "0\n"));
    const pid_t child = ::fork();
    BOOST_REQUIRE(child >= 0);
    if (child == 0) {
        std::unique_ptr<shmq::Client> client;
        shmq::AttachOptions options;
        options.broker = broker.name();
        if (shmq::Client::attach(options, client) != shmq::Status::ok) ::_exit(1);
        for (;;) ::pause();
    }
    const bool attached =
        eventually([&] { return contains(scrape(), sample("shmq_clients_attached") + "1\n"); }, broker_limit);
    shmq::test::kill_and_reap(child);
    BOOST_TEST_REQUIRE(attached, scrape());
    BOOST_TEST(eventually([&] { return contains(scrape(), sample("shmq_clients_reclaimed_total") + "1\n"); },
                          broker_limit),
               scrape());
    BOOST_TEST(contains(scrape(), sample("shmq_clients_attached") + "0\n"));
    BOOST_TEST(eventually([&] { return !contains(scrape(), sample("shmq_broker_uptime_seconds") + "0\n"); },
                          broker_limit));
    BOOST_TEST(broker.stop() == 0, broker.log());
}

BOOST_AUTO_TEST_CASE(other_paths_are_not_found_and_other_methods_not_allowed) {
    const auto port = free_port();
    Broker broker("127.0.0.1:" + std::to_string(port), port);
    BOOST_TEST(request("127.0.0.1", port, http::verb::get, "/").status == 404u);
    BOOST_TEST(request("127.0.0.1", port, http::verb::get, "/metricsx").status == 404u);
    const auto posted = request("127.0.0.1", port, http::verb::post, "/metrics");
    BOOST_TEST(posted.status == 405u);
    BOOST_TEST(posted.allow == "GET, HEAD");
    BOOST_TEST(request("127.0.0.1", port, http::verb::delete_, "/metrics").status == 405u);
    // A query string is not part of the path.
    BOOST_TEST(request("127.0.0.1", port, http::verb::get, "/metrics?x=1").status == 200u);
    BOOST_TEST(broker.stop() == 0, broker.log());
}

// A client that connects and never sends its request (or sends half of it)
// holds one connection until its deadline; scrapes go on meanwhile, and the
// broker still stops cleanly at once.
BOOST_AUTO_TEST_CASE(a_silent_client_blocks_neither_a_scrape_nor_the_stop) {
    const auto port = free_port();
    Broker broker("127.0.0.1:" + std::to_string(port), port);
    asio::io_context io;
    tcp::socket silent(io);
    silent.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    tcp::socket half(io);
    half.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    const std::string start = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    asio::write(half, asio::buffer(start));
    broker.publish(2);
    const auto answer = request("127.0.0.1", port, http::verb::get, "/metrics");
    BOOST_TEST(answer.status == 200u);
    BOOST_TEST(contains(answer.body, depth_sample(broker, 2)), answer.body);
    BOOST_TEST(broker.stop() == 0, broker.log());
}

// A request too large to be a scrape is refused: the connection is closed,
// and the server goes on serving.
BOOST_AUTO_TEST_CASE(an_oversized_request_is_dropped) {
    const auto port = free_port();
    Broker broker("127.0.0.1:" + std::to_string(port), port);
    asio::io_context io;
    tcp::socket socket(io);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    const std::string huge = "GET /metrics HTTP/1.1\r\nX-Padding: " + std::string(64 * 1024, 'x') + "\r\n\r\n";
    beast::error_code error;
    asio::write(socket, asio::buffer(huge), error);  // the server may close before it has read it all
    std::string reply(1, '\0');
    asio::read(socket, asio::buffer(reply), error);
    BOOST_TEST(error.failed(), "the connection should have been closed without an answer");
    BOOST_TEST(request("127.0.0.1", port, http::verb::get, "/metrics").status == 200u);
    BOOST_TEST(broker.stop() == 0, broker.log());
}

BOOST_AUTO_TEST_CASE(an_ipv6_loopback_address_is_served) {
    std::uint16_t port = 0;
    try {
        port = free_port("::1");
    } catch (const std::exception& failure) {
        BOOST_TEST_MESSAGE("skipped: this machine has no IPv6 loopback (" << failure.what() << ")");
        return;
    }
    Broker broker("[::1]:" + std::to_string(port), port);
    BOOST_TEST(contains(broker.log(), "serving metrics on http://[::1]:" + std::to_string(port) + "/metrics"));
    BOOST_TEST(request("::1", port, http::verb::get, "/metrics").status == 200u);
    BOOST_TEST(broker.stop() == 0, broker.log());
}

BOOST_AUTO_TEST_CASE(a_port_in_use_stops_the_start_and_names_the_key) {
    asio::io_context io;
    tcp::acceptor taken(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const auto port = taken.local_endpoint().port();
    const shmq::test::TempDir temporary;
    const fs::path directory = temporary.path();
    const std::string name = shmq::test::unique_broker_name("inuse");
    write_file(directory / "shmqd.yaml", "broker:\n  name: " + name + "\n  metrics_listen: 127.0.0.1:" +
                                             std::to_string(port) + "\nqueues:\n  - name: jobs\n");
    shmq::test::ShmqdProcess shmqd(directory / "shmqd.yaml", {"/dev/null", directory / "out", directory / "err"});
    BOOST_TEST(shmqd.wait_exit(broker_limit).value_or(-1) == 1);
    const auto log = read_file(directory / "err");
    BOOST_TEST(contains(log, "shmqd.yaml:3: key 'metrics_listen': cannot serve metrics on 127.0.0.1:" +
                                 std::to_string(port) + ": bind: Address already in use"),
               log);
}

namespace {

// `query` as Prometheus' HTTP API answers it (/api/v1/query), or an empty
// object when the server is not answering yet.
nlohmann::json prometheus_query(std::uint16_t port, const std::string& query) {
    std::string encoded;
    for (const unsigned char c : query) {
        if (std::isalnum(c) || c == '_') {
            encoded += static_cast<char>(c);
        } else {
            char escaped[4];
            std::snprintf(escaped, sizeof escaped, "%%%02X", c);
            encoded += escaped;
        }
    }
    try {
        const auto answer = request("127.0.0.1", port, http::verb::get, "/api/v1/query?query=" + encoded);
        if (answer.status != 200) return nlohmann::json::object();
        return nlohmann::json::parse(answer.body);
    } catch (const std::exception&) {
        return nlohmann::json::object();
    }
}

// The value of the query's one sample, or nothing.
std::optional<std::string> single_value(const nlohmann::json& answer) {
    if (!answer.contains("data")) return std::nullopt;
    const auto& result = answer["data"]["result"];
    if (!result.is_array() || result.size() != 1) return std::nullopt;
    return result[0]["value"][1].get<std::string>();
}

}  // namespace

// The real thing: Debian's Prometheus server scrapes shmqd every second, and
// the depth of a queue published to is read back through its query API.
BOOST_AUTO_TEST_CASE(a_prometheus_server_scrapes_the_queue_depth) {
    const fs::path prometheus_binary = "/usr/bin/prometheus";
    if (!fs::exists(prometheus_binary)) {
        BOOST_TEST_MESSAGE("skipped: " << prometheus_binary << " is missing (Debian package prometheus)");
        return;
    }
    const auto port = free_port();
    Broker broker("127.0.0.1:" + std::to_string(port), port);
    constexpr int published = 7;
    broker.publish(published);

    const auto prometheus_port = free_port();
    const auto directory = broker.directory();
    write_file(directory / "prometheus.yml", "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                                             "scrape_configs:\n  - job_name: shmq\n    static_configs:\n"
                                             "      - targets: ['127.0.0.1:" + std::to_string(port) + "']\n");
    fs::create_directories(directory / "data");
    shmq::test::BackgroundProgram prometheus(
        {prometheus_binary.string(), "--config.file=" + (directory / "prometheus.yml").string(),
         "--storage.tsdb.path=" + (directory / "data").string(),
         "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port)},
        {"/dev/null", directory / "prometheus.out", directory / "prometheus.err"});
    const std::string query = "shmq_queue_depth{broker=\"" + broker.name() + "\",queue=\"jobs\"}";
    std::optional<std::string> depth;
    const bool scraped = eventually(
        [&] {
            depth = single_value(prometheus_query(prometheus_port, query));
            return depth.has_value();
        },
        90s);
    BOOST_TEST_REQUIRE(scraped, "Prometheus never had " << query << ":\n" << read_file(directory / "prometheus.err"));
    BOOST_TEST(*depth == std::to_string(published));
    // The scrape itself succeeded, as Prometheus judges it.
    const auto up = single_value(prometheus_query(prometheus_port, "up{job=\"shmq\"}"));
    BOOST_TEST(up.value_or("none") == "1");
    prometheus.stop(broker_limit);
    BOOST_TEST(broker.stop() == 0, broker.log());
}
