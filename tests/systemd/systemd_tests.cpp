// Tests for running shmqd under systemd: the unit file as systemd itself
// reads it, the system user it names, and the sd_notify conversation of the
// real shmqd binary with a notification socket the test owns.
#define BOOST_TEST_MODULE systemd_tests
#include <boost/test/unit_test.hpp>

#include <shmq/client.hpp>

#include "tests/support/files.hpp"
#include "tests/support/programs.hpp"
#include "tests/support/shmqd.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <poll.h>
#include <sstream>
#include <string>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>
#include <vector>

// So that a failed comparison of statuses shows their names.
namespace shmq {
std::ostream& operator<<(std::ostream& out, Status status) { return out << to_string(status); }
}  // namespace shmq

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// The unit as this build configured it (systemd/shmqd.service.in).
const std::string unit_path = SHMQ_BINARY_DIR "/systemd/shmqd.service";
const std::string sysusers_path = SHMQ_SOURCE_DIR "/systemd/shmqd.sysusers.conf";
const std::string default_config_path = SHMQ_SOURCE_DIR "/config/shmqd.yaml";
const std::string shmqd_path = SHMQ_BINARY_DIR "/daemon/shmqd";
// Where `cmake --install` puts things, as the unit must say.
const std::string installed_shmqd = SHMQ_INSTALLED_SHMQD;
const std::string installed_config = SHMQ_INSTALLED_CONFIG;

// How long the broker may take to report readiness or stop.
constexpr auto notify_patience = 5s;

using shmq::test::lines_of;
using shmq::test::read_existing_file;
using shmq::test::Run;
using shmq::test::TempDir;
using shmq::test::write_file;

std::string trim(const std::string& text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string::npos) return "";
    return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// Runs a program found on $PATH; Run::out has everything it printed, stdout
// and stderr interleaved as written. A program that cannot be started is a
// test failure, never a skip: CI installs it.
Run run(const std::vector<std::string>& arguments) {
    shmq::test::RunOptions options;
    options.errors_into_output = true;
    options.limit = 90s;
    return shmq::test::run_program(arguments, options);
}

// ----- The unit file, read the way systemd reads it (for these settings) -----

struct Setting {
    std::string section;
    std::string key;
    std::string value;
};

std::vector<Setting> parse_unit(const std::string& text) {
    std::vector<Setting> settings;
    std::string section;
    for (const auto& raw : lines_of(text)) {
        const auto line = trim(raw);
        if (line.empty() || line[0] == '#' || line[0] == ';') continue;
        // This reader knows no continuation lines; the unit must not need any.
        BOOST_REQUIRE_MESSAGE(line.back() != '\\', "continuation line in the unit: " << line);
        if (line.front() == '[' && line.back() == ']') {
            section = line.substr(1, line.size() - 2);
            continue;
        }
        const auto equals = line.find('=');
        BOOST_REQUIRE_MESSAGE(equals != std::string::npos, "not a setting: " << line);
        settings.push_back({section, trim(line.substr(0, equals)), trim(line.substr(equals + 1))});
    }
    return settings;
}

// Every value the unit assigns to [section] key, in order.
std::vector<std::string> values_of(const std::vector<Setting>& settings, const std::string& section,
                                   const std::string& key) {
    std::vector<std::string> values;
    for (const auto& setting : settings) {
        if (setting.section == section && setting.key == key) values.push_back(setting.value);
    }
    return values;
}

// The value in force: systemd lets the last assignment of a setting win.
// Empty when unset, which for the settings checked here means the same as an
// empty assignment: the default.
std::string value_of(const std::vector<Setting>& settings, const std::string& section, const std::string& key) {
    const auto values = values_of(settings, section, key);
    return values.empty() ? std::string() : values.back();
}

// systemd's spellings of a true boolean.
bool is_true(const std::string& value) {
    static const std::vector<std::string> truths{"1", "yes", "y", "true", "t", "on"};
    return std::find(truths.begin(), truths.end(), value) != truths.end();
}

// The ':'-separated fields of the line for `name` in a passwd or group file;
// empty if there is none.
std::vector<std::string> database_entry(const fs::path& file, const std::string& name) {
    for (const auto& line : lines_of(read_existing_file(file))) {
        std::vector<std::string> fields;
        std::istringstream in(line);
        for (std::string field; std::getline(in, field, ':');) fields.push_back(field);
        // getline drops a trailing empty field, such as a group's empty member list.
        if (!line.empty() && line.back() == ':') fields.emplace_back();
        if (!fields.empty() && fields[0] == name) return fields;
    }
    return {};
}

// ----- sd_notify: the receiving end systemd would own -----

struct Datagram {
    std::vector<std::string> lines;  // "KEY=VALUE", as sd_notify sends them
    pid_t sender = 0;                // from SCM_CREDENTIALS

    bool has(const std::string& line) const { return std::find(lines.begin(), lines.end(), line) != lines.end(); }
    // The value of KEY=VALUE, empty if the datagram has no such line.
    std::string field(const std::string& key) const {
        for (const auto& line : lines) {
            if (line.compare(0, key.size() + 1, key + "=") == 0) return line.substr(key.size() + 1);
        }
        return {};
    }
};

// An AF_UNIX datagram socket named like $NOTIFY_SOCKET: a path, or "@name"
// for an abstract socket. It asks for each sender's credentials, as systemd
// does to apply NotifyAccess=main.
class NotifySocket {
public:
    explicit NotifySocket(std::string name) : name_(std::move(name)) {
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        BOOST_REQUIRE(!name_.empty() && name_.size() < sizeof address.sun_path);
        std::memcpy(address.sun_path, name_.data(), name_.size());
        if (name_[0] == '@') address.sun_path[0] = '\0';
        const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size());
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        BOOST_REQUIRE_MESSAGE(fd_ >= 0, "socket: " << std::strerror(errno));
        const int on = 1;
        const bool ready = ::bind(fd_, reinterpret_cast<const sockaddr*>(&address), length) == 0 &&
                           ::setsockopt(fd_, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) == 0;
        if (!ready) {
            const int error = errno;
            ::close(fd_);
            BOOST_FAIL("cannot set up notification socket " << name_ << ": " << std::strerror(error));
        }
    }
    ~NotifySocket() { ::close(fd_); }
    NotifySocket(const NotifySocket&) = delete;
    NotifySocket& operator=(const NotifySocket&) = delete;

    const std::string& name() const { return name_; }

    // The next datagram, or nothing if none comes within `timeout`.
    std::optional<Datagram> receive(Clock::duration timeout) {
        const auto deadline = Clock::now() + timeout;
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            pollfd ready{fd_, POLLIN, 0};
            const int polled = ::poll(&ready, 1, static_cast<int>(std::max<long long>(left.count(), 0)));
            if (polled < 0 && errno == EINTR) continue;
            BOOST_REQUIRE_MESSAGE(polled >= 0, "poll: " << std::strerror(errno));
            if (polled == 0) return std::nullopt;
            return read_one();
        }
    }

    // Reads datagrams until one holds `line`; all of them are kept in
    // `seen`. Nothing if `line` does not come within `timeout`.
    std::optional<Datagram> wait_for(const std::string& line, Clock::duration timeout, std::vector<Datagram>& seen) {
        const auto deadline = Clock::now() + timeout;
        while (Clock::now() < deadline) {
            auto datagram = receive(deadline - Clock::now());
            if (!datagram) break;
            seen.push_back(*datagram);
            if (datagram->has(line)) return datagram;
        }
        return std::nullopt;
    }

private:
    Datagram read_one() {
        char text[4096];
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
        iovec vector{text, sizeof text};
        msghdr message{};
        message.msg_iov = &vector;
        message.msg_iovlen = 1;
        message.msg_control = control;
        message.msg_controllen = sizeof control;
        const ssize_t n = ::recvmsg(fd_, &message, MSG_CMSG_CLOEXEC);
        BOOST_REQUIRE_MESSAGE(n >= 0, "recvmsg: " << std::strerror(errno));
        BOOST_REQUIRE_MESSAGE((message.msg_flags & MSG_TRUNC) == 0, "notification longer than " << sizeof text);
        Datagram datagram;
        datagram.lines = lines_of(std::string(text, static_cast<std::size_t>(n)));
        for (auto* header = CMSG_FIRSTHDR(&message); header != nullptr; header = CMSG_NXTHDR(&message, header)) {
            if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_CREDENTIALS) {
                ucred credentials;
                std::memcpy(&credentials, CMSG_DATA(header), sizeof credentials);
                datagram.sender = credentials.pid;
            }
        }
        return datagram;
    }

    std::string name_;
    int fd_ = -1;
};

std::string unique_name(const std::string& what) { return shmq::test::unique_broker_name("systemd-" + what); }

// Removes the broker's segment if a failed test left it behind.
class SegmentGuard {
public:
    explicit SegmentGuard(std::string name) : name_(std::move(name)) {}
    ~SegmentGuard() { ::shm_unlink(("/" + name_).c_str()); }
    SegmentGuard(const SegmentGuard&) = delete;
    SegmentGuard& operator=(const SegmentGuard&) = delete;

    const std::string& name() const { return name_; }
    fs::path path() const { return fs::path("/dev/shm") / name_; }

private:
    std::string name_;
};

// A broker configuration with one small queue, ticking every 50 ms so that
// watchdog pings come quickly.
fs::path write_config(const fs::path& directory, const std::string& broker) {
    const auto path = directory / (broker + ".yaml");
    write_file(path, "broker:\n"
                     "  name: " + broker + "\n"
                     "  liveness_interval_ms: 50\n"
                     "queues:\n"
                     "  - name: q\n"
                     "    capacity: 16\n"
                     "    max_message_size: 64\n");
    return path;
}

// The real shmqd as a child process, started the way systemd starts it: the
// notification variables in its environment, its log in a file.
class BrokerProcess : public shmq::test::ShmqdProcess {
public:
    struct Options {
        std::string notify_socket;            // $NOTIFY_SOCKET
        std::string watchdog_usec;            // $WATCHDOG_USEC, unless empty
        bool watchdog_pid_is_broker = false;  // $WATCHDOG_PID: the broker's own pid
        std::string watchdog_pid;             // otherwise this $WATCHDOG_PID, unless empty
        bool log_is_journal = false;          // $JOURNAL_STREAM names the log file, as journald's would
    };

    BrokerProcess(const fs::path& config, const fs::path& log, const Options& options)
        : ShmqdProcess(config, {"/dev/null", log, log}, systemd_environment(log, options)) {}

    // Its exit code (128 + N when signal N ended it) once it has exited, or
    // nothing after `timeout`.
    std::optional<int> wait_exit(Clock::duration timeout) {
        return ShmqdProcess::wait_exit(std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
    }

private:
    static shmq::test::ShmqdOptions systemd_environment(const fs::path& log, const Options& options) {
        const auto unless_empty = [](const std::string& value) {
            return value.empty() ? std::nullopt : std::optional<std::string>(value);
        };
        shmq::test::ShmqdOptions result;
        result.environment["NOTIFY_SOCKET"] = options.notify_socket;
        result.environment["WATCHDOG_USEC"] = unless_empty(options.watchdog_usec);
        result.environment["WATCHDOG_PID"] = unless_empty(options.watchdog_pid);
        if (options.watchdog_pid_is_broker) result.own_pid_variable = "WATCHDOG_PID";
        result.environment["JOURNAL_STREAM"] = options.log_is_journal ? unless_empty(journal_stream(log)) : std::nullopt;
        return result;
    }

    // DEVICE:INODE of the log file, created empty now: the broker's stderr
    // opens this very file (truncating it keeps its inode).
    static std::string journal_stream(const fs::path& log) {
        write_file(log, "");
        struct stat status {};
        BOOST_REQUIRE_MESSAGE(::stat(log.c_str(), &status) == 0, "stat " << log << ": " << std::strerror(errno));
        return std::to_string(status.st_dev) + ":" + std::to_string(status.st_ino);
    }
};

// What systemd passes to a unit without WatchdogSec=.
BrokerProcess::Options notify_to(const NotifySocket& socket) {
    BrokerProcess::Options options;
    options.notify_socket = socket.name();
    return options;
}

std::string describe(const std::vector<Datagram>& datagrams) {
    std::string text;
    for (const auto& datagram : datagrams) {
        text += "\n  [from pid " + std::to_string(datagram.sender) + "]";
        for (const auto& line : datagram.lines) text += " " + line;
    }
    return text.empty() ? " (none)" : text;
}

// Waits for READY=1 and checks what systemd would check of it.
void expect_ready(NotifySocket& socket, BrokerProcess& broker, const SegmentGuard& segment) {
    std::vector<Datagram> seen;
    const auto ready = socket.wait_for("READY=1", notify_patience, seen);
    BOOST_REQUIRE_MESSAGE(ready, "no READY=1 within " << notify_patience.count() << " s; received:" << describe(seen)
                                                      << "\nbroker log:\n" << broker.log());
    // Clients may attach once READY=1 is out, so the segment is there already.
    BOOST_TEST(fs::exists(segment.path()), segment.path() << " missing when READY=1 arrived");
    BOOST_TEST(ready->field("MAINPID") == std::to_string(broker.pid()));
    // NotifyAccess=main: systemd ignores notifications from any other process.
    BOOST_TEST(ready->sender == broker.pid());
}

// Sends SIGTERM, then expects STOPPING=1, exit status 0 and no segment left.
// Returns every notification not read before, up to STOPPING=1.
std::vector<Datagram> stop_cleanly(NotifySocket& socket, BrokerProcess& broker, const SegmentGuard& segment) {
    broker.signal(SIGTERM);
    std::vector<Datagram> seen;
    const auto stopping = socket.wait_for("STOPPING=1", notify_patience, seen);
    BOOST_TEST(stopping.has_value(), "no STOPPING=1 after SIGTERM; received:" << describe(seen));
    if (stopping) BOOST_TEST(stopping->sender == broker.pid());
    const auto status = broker.wait_exit(notify_patience);
    BOOST_REQUIRE_MESSAGE(status, "broker still running " << notify_patience.count() << " s after SIGTERM");
    BOOST_TEST(*status == 0, "broker did not exit with status 0 (exit code " << *status << "); log:\n" << broker.log());
    BOOST_TEST(!fs::exists(segment.path()), segment.path() << " left behind after a clean stop");
    return seen;
}

// The whole conversation of a systemd service start and stop, over the
// socket named `socket_name`, with a client attached in between.
void check_start_and_stop(const std::string& socket_name, const TempDir& directory, const SegmentGuard& segment) {
    NotifySocket socket(socket_name);
    const auto config = write_config(directory.path(), segment.name());
    BrokerProcess broker(config, fs::path(directory.path()) / "shmqd.log", notify_to(socket));
    expect_ready(socket, broker, segment);

    // READY=1 means usable: a client attaches and moves a message at once.
    std::unique_ptr<shmq::Client> client;
    std::string error;
    shmq::AttachOptions attach;
    attach.broker = segment.name();
    BOOST_REQUIRE_MESSAGE(shmq::Client::attach(attach, client, &error) == shmq::Status::ok, error);
    shmq::Queue queue;
    BOOST_REQUIRE(client->open_queue("q", queue) == shmq::Status::ok);
    BOOST_REQUIRE(queue.send("hello", 1s) == shmq::Status::ok);
    std::string message;
    BOOST_REQUIRE(queue.receive(message, 1s) == shmq::Status::ok);
    BOOST_TEST(message == "hello");
    // A few liveness ticks pass: without $WATCHDOG_USEC none may ping.
    std::this_thread::sleep_for(300ms);

    const auto seen = stop_cleanly(socket, broker, segment);
    for (const auto& datagram : seen) {
        BOOST_TEST(!datagram.has("WATCHDOG=1"), "WATCHDOG=1 sent although $WATCHDOG_USEC is unset");
    }
    // The client attached across the stop learns of it.
    BOOST_TEST(queue.receive(message, 1s) == shmq::Status::broker_stopped);
}

// Counts WATCHDOG=1 notifications from the broker until `wanted` arrived or
// `period` passed.
int count_watchdog_pings(NotifySocket& socket, const BrokerProcess& broker, Clock::duration period,
                         int wanted = std::numeric_limits<int>::max()) {
    int pings = 0;
    const auto end = Clock::now() + period;
    while (pings < wanted && Clock::now() < end) {
        const auto datagram = socket.receive(end - Clock::now());
        if (!datagram) break;
        if (datagram->has("WATCHDOG=1")) {
            BOOST_TEST(datagram->sender == broker.pid());
            ++pings;
        }
    }
    return pings;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(unit_file)

// The settings the broker's design depends on, whatever else changes.
BOOST_AUTO_TEST_CASE(declares_what_the_broker_relies_on) {
    const auto settings = parse_unit(read_existing_file(unit_path));
    BOOST_TEST(value_of(settings, "Service", "Type") == "notify");
    BOOST_TEST(value_of(settings, "Service", "NotifyAccess") == "main");
    BOOST_TEST(value_of(settings, "Service", "ExecStart") == installed_shmqd + " --config " + installed_config);
    BOOST_TEST(value_of(settings, "Service", "ExecReload") ==
               installed_shmqd + " --config " + installed_config + " --reload");
    // RemoveIPC=yes would delete the segment under attached clients, and the
    // one a crashed broker leaves to be adopted after Restart=.
    BOOST_TEST(value_of(settings, "Service", "RemoveIPC") == "no");
    BOOST_TEST(!is_true(value_of(settings, "Service", "DynamicUser")), "DynamicUser= implies RemoveIPC=yes");
    BOOST_TEST(value_of(settings, "Service", "Restart") == "on-failure");
    BOOST_TEST(!value_of(settings, "Service", "WatchdogSec").empty());
    const auto user = value_of(settings, "Service", "User");
    BOOST_TEST(!user.empty(), "the broker must not run as root");
    BOOST_TEST(user != "root");
    // The segment lives where no other user can squat its name, and survives
    // a restart after a crash so that the next broker adopts it.
    BOOST_TEST(value_of(settings, "Service", "RuntimeDirectory") == "shmq");
    BOOST_TEST(value_of(settings, "Service", "RuntimeDirectoryPreserve") == "restart");
    BOOST_TEST(value_of(settings, "Service", "Environment") == "SHMQ_RUNTIME_DIR=/run/shmq");
    // Kept off by decision: a segment in /dev/shm must be in the host's.
    BOOST_TEST(!is_true(value_of(settings, "Service", "PrivateDevices")));
    // The reaper reads other users' /proc/PID/stat to tell dead clients.
    const auto proc = value_of(settings, "Service", "ProtectProc");
    BOOST_TEST(!(proc == "invisible" || proc == "noaccess"), "live clients of other users would look dead");
    BOOST_TEST(value_of(settings, "Install", "WantedBy") == "multi-user.target");
}

// systemd's own parser finds nothing to say about the unit. verify insists
// that ExecStart= and ExecReload= name an existing executable, so a copy
// points them at the built shmqd; every other line is unchanged.
BOOST_AUTO_TEST_CASE(systemd_analyze_verify_is_silent) {
    TempDir directory;
    std::string copy;
    int rewritten = 0;
    for (const auto& line : lines_of(read_existing_file(unit_path))) {
        bool done = false;
        for (const std::string key : {"ExecStart=", "ExecReload="}) {
            const std::string installed = key + installed_shmqd + " ";
            if (line.rfind(installed, 0) != 0) continue;
            copy += key + shmqd_path + " " + line.substr(installed.size()) + "\n";
            ++rewritten;
            done = true;
        }
        if (!done) copy += line + "\n";
    }
    BOOST_REQUIRE_MESSAGE(rewritten == 2, "expected one ExecStart= and one ExecReload= running " << installed_shmqd);
    const auto copy_path = fs::path(directory.path()) / "shmqd.service";
    write_file(copy_path, copy);

    const auto result = run({"systemd-analyze", "verify", copy_path.string()});
    BOOST_TEST(result.exit_code == 0);
    // Warnings exit 0 too: any output at all is a failure.
    BOOST_TEST(result.out.empty(), "systemd-analyze verify said:\n" << result.out);
}

// The metrics drop-in (systemd/shmqd-metrics.conf) opens loopback TCP and
// nothing else, and systemd accepts the unit with it in place.
BOOST_AUTO_TEST_CASE(metrics_drop_in_allows_loopback_only) {
    const auto drop_in = read_existing_file(SHMQ_SOURCE_DIR "/systemd/shmqd-metrics.conf");
    const auto settings = parse_unit(drop_in);
    BOOST_TEST(value_of(settings, "Service", "PrivateNetwork") == "no");
    BOOST_TEST(value_of(settings, "Service", "RestrictAddressFamilies") == "AF_INET AF_INET6");
    BOOST_TEST(value_of(settings, "Service", "IPAddressDeny") == "any");
    BOOST_TEST(value_of(settings, "Service", "IPAddressAllow") == "localhost");
    // The unit itself stays off the network.
    const auto unit = parse_unit(read_existing_file(unit_path));
    BOOST_TEST(value_of(unit, "Service", "PrivateNetwork") == "yes");
    BOOST_TEST(value_of(unit, "Service", "RestrictAddressFamilies") == "AF_UNIX");

    TempDir directory;
    std::string copy;
    for (const auto& line : lines_of(read_existing_file(unit_path))) {
        bool done = false;
        for (const std::string key : {"ExecStart=", "ExecReload="}) {
            const std::string installed = key + installed_shmqd + " ";
            if (line.rfind(installed, 0) != 0) continue;
            copy += key + shmqd_path + " " + line.substr(installed.size()) + "\n";
            done = true;
        }
        if (!done) copy += line + "\n";
    }
    write_file(fs::path(directory.path()) / "shmqd.service", copy);
    std::filesystem::create_directories(fs::path(directory.path()) / "shmqd.service.d");
    write_file(fs::path(directory.path()) / "shmqd.service.d" / "metrics.conf", drop_in);
    const auto result = run({"systemd-analyze", "verify", (fs::path(directory.path()) / "shmqd.service").string()});
    BOOST_TEST(result.exit_code == 0);
    BOOST_TEST(result.out.empty(), "systemd-analyze verify said:\n" << result.out);
}

// The sysusers line creates, in an empty root, the system user and group the
// unit runs as, with no login shell.
BOOST_AUTO_TEST_CASE(sysusers_creates_the_units_user_and_group) {
    const auto settings = parse_unit(read_existing_file(unit_path));
    const auto user = value_of(settings, "Service", "User");
    const auto group = value_of(settings, "Service", "Group");
    BOOST_REQUIRE(!user.empty());
    BOOST_REQUIRE(!group.empty());

    TempDir root;
    fs::create_directory(fs::path(root.path()) / "etc");
    const auto result = run({"systemd-sysusers", "--root=" + root.path(), sysusers_path});
    BOOST_REQUIRE_MESSAGE(result.exit_code == 0, "systemd-sysusers failed:\n" << result.out);

    // passwd: name:password:uid:gid:gecos:home:shell
    const auto passwd = fs::path(root.path()) / "etc/passwd";
    const auto account = database_entry(passwd, user);
    BOOST_REQUIRE_MESSAGE(account.size() == 7, "no user '" << user << "' in\n" << read_existing_file(passwd));
    // Below 1000 is the system range on Debian and Fedora alike (login.defs
    // SYS_UID_MAX 999); logind's RemoveIPC= spares such users.
    BOOST_TEST(std::stoul(account[2]) < 1000u);
    BOOST_TEST(account[6] == "/usr/sbin/nologin");

    // group: name:password:gid:members
    const auto group_file = fs::path(root.path()) / "etc/group";
    const auto group_entry = database_entry(group_file, group);
    BOOST_REQUIRE_MESSAGE(group_entry.size() >= 3, "no group '" << group << "' in\n" << read_existing_file(group_file));
    BOOST_TEST(group_entry[2] == account[3], "the user's primary group is not '" << group << "'");
}

// The configuration installed as /etc/shmq/shmqd.yaml is one shmqd accepts.
BOOST_AUTO_TEST_CASE(default_config_is_valid) {
    const auto result = run({shmqd_path, "--check-config", "--config", default_config_path});
    BOOST_TEST(result.exit_code == 0, "shmqd --check-config said:\n" << result.out);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sd_notify)

BOOST_AUTO_TEST_CASE(ready_and_stopping_on_a_path_socket) {
    TempDir directory;
    SegmentGuard segment(unique_name("path"));
    check_start_and_stop((fs::path(directory.path()) / "notify").string(), directory, segment);
}

// systemd may name an abstract socket: "@name" in $NOTIFY_SOCKET.
BOOST_AUTO_TEST_CASE(ready_and_stopping_on_an_abstract_socket) {
    TempDir directory;
    SegmentGuard segment(unique_name("abstract"));
    check_start_and_stop("@" + segment.name(), directory, segment);
}

// `systemctl reload` runs the unit's ExecReload= (here with the installed
// paths pointing at this build and the test's file): it asks the running
// broker to reload and exits once the broker answered, and the broker tells
// systemd RELOADING=1 (with the time, as Type=notify-reload requires), then
// READY=1. A file that does not load fails the reload and changes nothing.
BOOST_AUTO_TEST_CASE(exec_reload_reports_reloading_then_ready) {
    TempDir directory;
    SegmentGuard segment(unique_name("reload"));
    NotifySocket socket((fs::path(directory.path()) / "notify").string());
    const auto config = write_config(directory.path(), segment.name());
    BrokerProcess broker(config, fs::path(directory.path()) / "shmqd.log", notify_to(socket));
    expect_ready(socket, broker, segment);

    std::vector<std::string> command;
    std::istringstream words(value_of(parse_unit(read_existing_file(unit_path)), "Service", "ExecReload"));
    for (std::string word; words >> word;) {
        command.push_back(word == installed_shmqd ? shmqd_path : word == installed_config ? config.string() : word);
    }
    const auto reloaded = run(command);
    BOOST_TEST(reloaded.exit_code == 0, "ExecReload= said:\n" << reloaded.out);
    BOOST_TEST(reloaded.out.find(": no changes") != std::string::npos, reloaded.out);
    std::vector<Datagram> seen;
    const auto reloading = socket.wait_for("RELOADING=1", notify_patience, seen);
    BOOST_REQUIRE_MESSAGE(reloading, "no RELOADING=1; received:" << describe(seen));
    BOOST_TEST(reloading->sender == broker.pid());
    BOOST_TEST(!reloading->field("MONOTONIC_USEC").empty());
    seen.clear();
    const auto ready = socket.wait_for("READY=1", notify_patience, seen);
    BOOST_REQUIRE_MESSAGE(ready, "no READY=1 after RELOADING=1; received:" << describe(seen));
    BOOST_TEST(ready->sender == broker.pid());

    write_file(config, "broker:\n  name: " + segment.name() + "\n  max_clients: 0\n");
    const auto refused = run(command);
    BOOST_TEST(refused.exit_code == 1);
    BOOST_TEST(refused.out.find(config.string() + ":3: key 'max_clients'") != std::string::npos, refused.out);
    BOOST_TEST(broker.running());
    stop_cleanly(socket, broker, segment);
}

// WatchdogSec= makes systemd set $WATCHDOG_USEC and $WATCHDOG_PID (the main
// pid); the broker then pings on every liveness tick, here every 50 ms.
BOOST_AUTO_TEST_CASE(watchdog_pings_when_watchdog_pid_is_the_broker) {
    TempDir directory;
    SegmentGuard segment(unique_name("watchdog"));
    NotifySocket socket((fs::path(directory.path()) / "notify").string());
    auto options = notify_to(socket);
    options.watchdog_usec = "200000";
    options.watchdog_pid_is_broker = true;
    BrokerProcess broker(write_config(directory.path(), segment.name()), fs::path(directory.path()) / "shmqd.log", options);
    expect_ready(socket, broker, segment);
    // Pings keep coming, tick after tick, however slowly the machine runs.
    const int pings = count_watchdog_pings(socket, broker, 60s, 3);
    BOOST_TEST(pings == 3, pings << " WATCHDOG=1 in 60 s; log:\n" << broker.log());
    stop_cleanly(socket, broker, segment);
}

// $WATCHDOG_PID names the process the watchdog is meant for; a broker that
// is not that process must not ping (sd_watchdog_enabled(3)).
BOOST_AUTO_TEST_CASE(no_watchdog_pings_for_another_pid) {
    TempDir directory;
    SegmentGuard segment(unique_name("other-pid"));
    NotifySocket socket((fs::path(directory.path()) / "notify").string());
    auto options = notify_to(socket);
    options.watchdog_usec = "200000";
    options.watchdog_pid = std::to_string(::getpid());
    BrokerProcess broker(write_config(directory.path(), segment.name()), fs::path(directory.path()) / "shmqd.log", options);
    expect_ready(socket, broker, segment);
    BOOST_TEST(count_watchdog_pings(socket, broker, 300ms) == 0);
    stop_cleanly(socket, broker, segment);
}

// Under systemd, stderr is a stream to the journal named by $JOURNAL_STREAM;
// each line then carries its syslog priority ("<6>" for info) so that
// `journalctl -p` and the journal's colours work, and no time stamp (the
// journal keeps its own).
BOOST_AUTO_TEST_CASE(log_lines_carry_their_priority_for_the_journal) {
    TempDir directory;
    SegmentGuard segment(unique_name("journal"));
    NotifySocket socket((fs::path(directory.path()) / "notify").string());
    auto options = notify_to(socket);
    options.log_is_journal = true;
    BrokerProcess broker(write_config(directory.path(), segment.name()), fs::path(directory.path()) / "shmqd.log", options);
    expect_ready(socket, broker, segment);
    stop_cleanly(socket, broker, segment);
    const auto log = broker.log();
    std::istringstream lines(log);
    int info_lines = 0;
    for (std::string line; std::getline(lines, line);) {
        BOOST_TEST_INFO("line: " << line);
        BOOST_TEST((line.size() > 4 && line[0] == '<' && line[2] == '>' && line[3] == '['));
        info_lines += line.rfind("<6>[info] ", 0) == 0;
    }
    BOOST_TEST(info_lines >= 2, "log:\n" << log);
}

// Started by hand (no journal), lines start with a time stamp.
BOOST_AUTO_TEST_CASE(log_lines_are_time_stamped_outside_the_journal) {
    TempDir directory;
    SegmentGuard segment(unique_name("stamped"));
    NotifySocket socket((fs::path(directory.path()) / "notify").string());
    BrokerProcess broker(write_config(directory.path(), segment.name()), fs::path(directory.path()) / "shmqd.log",
                         notify_to(socket));
    expect_ready(socket, broker, segment);
    stop_cleanly(socket, broker, segment);
    const auto log = broker.log();
    BOOST_TEST(log.rfind("20", 0) == 0, "log:\n" << log);
    BOOST_TEST(log.find("[info] ") != std::string::npos);
    BOOST_TEST(log.find("<6>") == std::string::npos);
}

// What Restart=on-failure and RemoveIPC=no are for: a broker killed outright
// (a crash, or the watchdog's SIGABRT) leaves its segment, and the broker
// systemd starts next adopts it with the queued messages.
BOOST_AUTO_TEST_CASE(restarted_broker_adopts_the_segment_with_its_messages) {
    TempDir directory;
    SegmentGuard segment(unique_name("restart"));
    NotifySocket socket((fs::path(directory.path()) / "notify").string());
    const auto config = write_config(directory.path(), segment.name());
    shmq::AttachOptions attach;
    attach.broker = segment.name();
    {
        BrokerProcess crashing(config, fs::path(directory.path()) / "first.log", notify_to(socket));
        expect_ready(socket, crashing, segment);
        std::unique_ptr<shmq::Client> client;
        std::string error;
        BOOST_REQUIRE_MESSAGE(shmq::Client::attach(attach, client, &error) == shmq::Status::ok, error);
        shmq::Queue queue;
        BOOST_REQUIRE(client->open_queue("q", queue) == shmq::Status::ok);
        BOOST_REQUIRE(queue.send("kept across the restart", 1s) == shmq::Status::ok);
        client.reset();
        crashing.signal(SIGKILL);
        BOOST_REQUIRE(crashing.wait_exit(notify_patience));
    }
    BOOST_REQUIRE_MESSAGE(fs::exists(segment.path()), "a killed broker's segment must stay for its successor");

    BrokerProcess restarted(config, fs::path(directory.path()) / "second.log", notify_to(socket));
    expect_ready(socket, restarted, segment);
    std::unique_ptr<shmq::Client> client;
    std::string error;
    BOOST_REQUIRE_MESSAGE(shmq::Client::attach(attach, client, &error) == shmq::Status::ok, error);
    shmq::Queue queue;
    BOOST_REQUIRE(client->open_queue("q", queue) == shmq::Status::ok);
    std::string message;
    BOOST_TEST(queue.receive(message, 1s) == shmq::Status::ok);
    BOOST_TEST(message == "kept across the restart");
    client.reset();
    stop_cleanly(socket, restarted, segment);
}

BOOST_AUTO_TEST_SUITE_END()
