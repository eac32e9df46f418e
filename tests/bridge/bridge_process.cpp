#include "bridge_process.hpp"

#include <csignal>
#include <fstream>
#include <sstream>
#include <sys/wait.h>

#include "tests/support/test_support.hpp"

namespace shmq::test {

void kill_process(pid_t pid) {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
}

void stop_process(pid_t pid, std::chrono::milliseconds grace) {
    if (pid <= 0) return;
    ::kill(pid, SIGTERM);
    if (wait_child(pid, grace) == -1) ::waitpid(pid, nullptr, 0);  // wait_child killed it
}

std::string read_text_file(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string tail_of(const std::string& path, std::size_t lines) {
    std::istringstream in(read_text_file(path));
    std::vector<std::string> all;
    for (std::string line; std::getline(in, line);) all.push_back(line);
    std::string tail = "--- " + path + " ---\n";
    for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) tail += all[i] + "\n";
    return tail;
}

long long metric_of(const std::string& stats_file, const std::string& name, const std::string& route) {
    std::istringstream lines(read_text_file(stats_file));
    const auto prefix = name + "{route=\"" + route + "\"";
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind(prefix, 0) == 0) return std::stoll(line.substr(line.rfind(' ') + 1));
    }
    return -1;
}

std::string bridge_binary() { return std::string(SHMQ_BINARY_DIR) + "/bridge/shmq-bridge"; }

std::string write_bridge_config(const TempDir& dir, const std::string& broker, const std::string& stats_file,
                                const NatsNode& node, const std::string& routes) {
    return dir.write("bridge.yaml", "broker: " + broker + "\nstats_file: " + stats_file +
                                        "\nstats_interval_ms: 100\nnats:\n  urls: [" + node.url() + "]\nroutes:\n" +
                                        routes);
}

}  // namespace shmq::test
