#include "bench/bridge/nats_server.hpp"

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "bench/daemon_process.hpp"

namespace shmq::bench {
namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

NatsServer::NatsServer(const std::string& program, const std::string& directory) {
    const auto config = directory + "/nats.conf";
    // Port -1: the server picks a free one and writes it to its ports file.
    std::ofstream(config) << "listen: 127.0.0.1:-1\nports_file_dir: \"" << directory
                          << "\"\njetstream { store_dir: \"" << directory << "/store\" }\n";
    pid_ = start_daemon({program, "-c", config}, {}, directory + "/nats.log");
    const auto ports_file = directory + "/nats-server_" + std::to_string(pid_) + ".ports";
    const std::regex client_url(R"re("nats"\s*:\s*\[\s*"(nats://[^"]+)")re");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (has_exited(pid_, status)) {
            pid_ = -1;
            throw std::runtime_error(program + " exited at start:\n" + read_file(directory + "/nats.log"));
        }
        std::smatch match;
        const auto ports = read_file(ports_file);
        if (std::regex_search(ports, match, client_url)) {
            url_ = match[1];
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    terminate_and_reap(pid_, std::chrono::seconds(5));
    pid_ = -1;
    throw std::runtime_error(program + " wrote no ports file within 30 s:\n" + read_file(directory + "/nats.log"));
}

NatsServer::~NatsServer() {
    if (pid_ > 0) terminate_and_reap(pid_, std::chrono::seconds(10));
}

}  // namespace shmq::bench
