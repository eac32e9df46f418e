#include "bench/broker_process.hpp"

#include <boost/interprocess/shared_memory_object.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <poll.h>
#include <sstream>
#include <stddef.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/un.h>
#include <system_error>
#include <unistd.h>

#include "bench/daemon_process.hpp"

namespace shmq::bench {

namespace {

std::string unique_suffix() {
    static int counter = 0;
    return std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

std::string config_yaml(const std::string& name, const std::vector<BrokerQueue>& queues,
                        const std::vector<BrokerTopic>& topics) {
    std::ostringstream yaml;
    yaml << "broker:\n  name: " << name << "\n  permissions: 0600\n  max_clients: 64\n"
         << "  liveness_interval_ms: 100\n";
    if (!queues.empty()) yaml << "queues:\n";
    for (const auto& queue : queues) {
        yaml << "  - name: " << queue.name << "\n    capacity: " << queue.capacity
             << "\n    max_message_size: " << queue.max_message_size << "\n    overflow: block\n    delivery: "
             << (queue.at_least_once ? "at_least_once" : "at_most_once") << "\n";
        if (queue.single) yaml << "    producers: single\n    consumers: single\n";
    }
    if (!topics.empty()) yaml << "topics:\n";
    for (const auto& topic : topics) {
        yaml << "  - name: " << topic.name << "\n    capacity: " << topic.capacity
             << "\n    max_message_size: " << topic.max_message_size << "\n    slow_subscriber: block\n";
    }
    return yaml.str();
}

// The datagram socket shmqd reports readiness to (as it would to systemd).
class NotifySocket {
public:
    NotifySocket() : path_("@shmq-bench-notify-" + unique_suffix()) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "notify socket");
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::memcpy(address.sun_path, path_.data(), path_.size());
        address.sun_path[0] = '\0';  // abstract: nothing to clean up in the file system
        const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_.size());
        if (::bind(fd_, reinterpret_cast<const sockaddr*>(&address), length) != 0) {
            ::close(fd_);
            throw std::system_error(errno, std::generic_category(), "notify socket: bind");
        }
    }
    ~NotifySocket() { ::close(fd_); }
    NotifySocket(const NotifySocket&) = delete;
    NotifySocket& operator=(const NotifySocket&) = delete;

    const std::string& path() const { return path_; }

    // Waits for READY=1 while `pid` lives, up to `timeout`.
    void wait_ready(pid_t pid, std::chrono::milliseconds timeout) const {
        const auto end = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < end) {
            pollfd waiting{fd_, POLLIN, 0};
            if (::poll(&waiting, 1, 50) > 0) {
                char message[512];
                const ssize_t got = ::recv(fd_, message, sizeof message - 1, 0);
                if (got > 0) {
                    message[got] = '\0';
                    if (std::strstr(message, "READY=1") != nullptr) return;
                }
            }
            int status = 0;
            if (has_exited(pid, status)) {
                throw std::runtime_error("shmqd exited during start-up (status " + std::to_string(status) +
                                         "); see its messages above");
            }
        }
        throw std::runtime_error("shmqd did not report ready within " + std::to_string(timeout.count()) + " ms");
    }

private:
    std::string path_;
    int fd_ = -1;
};

}  // namespace

BrokerProcess::BrokerProcess(const std::string& shmqd, const std::vector<BrokerQueue>& queues,
                             const std::vector<BrokerTopic>& topics)
    : name_("shmq-bench-" + unique_suffix()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "shmq-bench-broker-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::system_error(errno, std::generic_category(), "mkdtemp");
    directory_ = pattern;
    const std::string config = directory_ + "/shmqd.yaml";
    std::ofstream(config) << config_yaml(name_, queues, topics);

    NotifySocket notify;
    pid_ = start_daemon({shmqd, "--config", config, "--log-level", "warning"}, {"NOTIFY_SOCKET=" + notify.path()},
                        "");
    try {
        notify.wait_ready(pid_, std::chrono::seconds(10));
    } catch (...) {
        stop();
        throw;
    }
}

BrokerProcess::~BrokerProcess() { stop(); }

void BrokerProcess::stop() {
    if (pid_ > 0) {
        terminate_and_reap(pid_, std::chrono::seconds(5));
        pid_ = -1;
    }
    // Normally already gone (shmqd removes it); not after a SIGKILL or a failed start.
    boost::interprocess::shared_memory_object::remove(name_.c_str());
    if (!directory_.empty()) {
        std::error_code ignored;
        std::filesystem::remove_all(directory_, ignored);
        directory_.clear();
    }
}

CpuTime BrokerProcess::cpu_time() const {
    CpuTime time;
    const std::string proc = "/proc/" + std::to_string(pid_);
    std::ifstream stat_file(proc + "/stat");
    std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
    // The command name (field 2) may hold spaces: count fields after its ')'.
    const auto close = stat.rfind(')');
    if (close == std::string::npos) throw std::runtime_error("cannot read " + proc + "/stat");
    std::istringstream fields(stat.substr(close + 1));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int index = 3; index <= 15 && fields >> field; ++index) {
        if (index == 14) utime = std::stoull(field);
        if (index == 15) stime = std::stoull(field);
    }
    time.stat_seconds = static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
    for (const auto& task : std::filesystem::directory_iterator(proc + "/task")) {
        std::ifstream schedstat(task.path() / "schedstat");
        unsigned long long on_cpu_ns = 0, waiting_ns = 0, runs = 0;
        if (schedstat >> on_cpu_ns >> waiting_ns >> runs) {
            time.precise_seconds += static_cast<double>(on_cpu_ns) * 1e-9;
            time.runs += runs;
        }
    }
    return time;
}

}  // namespace shmq::bench
