#include "testing/nats_cluster.hpp"

#include <arpa/inet.h>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace shmq::nats_testing {
namespace {

sockaddr_in loopback(int port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    return address;
}

std::string read_text_file(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address = loopback(0);
    socklen_t length = sizeof address;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        throw std::runtime_error("cannot find a free port");
    }
    ::close(fd);
    return ntohs(address.sin_port);
}

bool port_accepts(int port, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        const sockaddr_in address = loopback(port);
        const bool connected = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
        ::close(fd);
        if (connected) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            ::dup2(fd, 1);
            ::dup2(fd, 2);
        }
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    return pid;
}

void NatsNode::start() { pid = spawn({program, "-c", config_file}, log_file); }

std::vector<NatsNode> start_nats_cluster(const std::string& program, const std::string& dir, int count) {
    std::vector<NatsNode> nodes(count);
    std::string routes;
    for (int i = 0; i < count; ++i) {
        nodes[i].program = program;
        nodes[i].name = "n" + std::to_string(i + 1);
        nodes[i].client_port = free_port();
        nodes[i].cluster_port = free_port();
        routes += (routes.empty() ? "" : ", ") + std::string("nats://127.0.0.1:") +
                  std::to_string(nodes[i].cluster_port);
    }
    for (auto& node : nodes) {
        std::ostringstream config;
        config << "server_name: " << node.name << "\nlisten: 127.0.0.1:" << node.client_port
               << "\njetstream { store_dir: \"" << dir << "/" << node.name << "\" }\n";
        if (count > 1) {
            config << "cluster { name: shmq-test\n  listen: 127.0.0.1:" << node.cluster_port << "\n  routes: ["
                   << routes << "]\n}\n";
        }
        node.config_file = dir + "/" + node.name + ".conf";
        node.log_file = dir + "/" + node.name + ".log";
        std::ofstream(node.config_file) << config.str();
        node.start();
    }
    for (const auto& node : nodes) {
        if (!port_accepts(node.client_port, std::chrono::seconds(30))) {
            // No node outlives a start that failed.
            for (const auto& started : nodes) {
                ::kill(started.pid, SIGKILL);
                ::waitpid(started.pid, nullptr, 0);
            }
            throw std::runtime_error("nats-server " + node.name + " does not listen:\n" +
                                     read_text_file(node.log_file));
        }
    }
    return nodes;
}

}  // namespace shmq::nats_testing
