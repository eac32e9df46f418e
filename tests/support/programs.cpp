#include "tests/support/programs.hpp"

#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/files.hpp"
#include "tests/support/processes.hpp"

extern char** environ;

namespace shmq::test {

namespace {

// An open file descriptor, closed when it goes; -1 for none.
class Descriptor {
public:
    explicit Descriptor(int fd = -1) : fd_(fd) {}
    ~Descriptor() { close(); }
    Descriptor(const Descriptor&) = delete;
    Descriptor& operator=(const Descriptor&) = delete;
    int get() const { return fd_; }
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_;
};

[[noreturn]] void fail(const std::string& what, int error) {
    throw std::runtime_error(what + ": " + std::strerror(error));
}

// Opens `path` for one of the child's streams (none when it is empty).
int open_stream(const std::filesystem::path& path, int flags) {
    if (path.empty()) return -1;
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0600);
    if (fd < 0) fail("cannot open " + path.string() + " for a child's stream", errno);
    return fd;
}

std::vector<std::string> child_environment(const EnvironmentChanges& changes, const std::string& own_pid_variable) {
    std::vector<std::string> environment;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        const std::string variable = *entry;
        const std::string name = variable.substr(0, variable.find('='));
        if (!changes.count(name) && name != own_pid_variable) environment.push_back(variable);
    }
    for (const auto& [name, value] : changes) {
        if (value) environment.push_back(name + "=" + *value);
    }
    return environment;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
    std::vector<char*> pointers;
    for (auto& text : strings) pointers.push_back(text.data());
    pointers.push_back(nullptr);
    return pointers;
}

// Appends the decimal `number` to the C string `text`, which has room: the
// child calls it between fork and exec, where only async-signal-safe code may run.
void append_number(char* text, long number) {
    char digits[24];
    int count = 0;
    do {
        digits[count++] = static_cast<char>('0' + number % 10);
        number /= 10;
    } while (number > 0);
    char* end = text + std::strlen(text);
    while (count > 0) *end++ = digits[--count];
    *end = '\0';
}

// In the child: the descriptor becomes stream `target` (kept across exec).
void redirect(int fd, int target) {
    if (fd >= 0) ::dup2(fd, target);
}

}  // namespace

pid_t spawn_program(const std::vector<std::string>& command, const Redirections& files,
                    const EnvironmentChanges& environment, const std::string& own_pid_variable) {
    if (command.empty()) throw std::invalid_argument("spawn_program: no command");
    // Everything the child needs is built before fork: between fork and exec
    // it may only call async-signal-safe functions.
    auto words = command;
    auto argv = c_strings(words);
    auto variables = child_environment(environment, own_pid_variable);
    auto envp = c_strings(variables);
    std::string own_pid = own_pid_variable + "=";
    own_pid.resize(own_pid.size() + 24, '\0');  // room for the digits
    if (!own_pid_variable.empty()) envp.insert(envp.end() - 1, own_pid.data());

    const int write_flags = O_WRONLY | O_CREAT | (files.append ? O_APPEND : O_TRUNC);
    const Descriptor input(open_stream(files.input, O_RDONLY));
    const Descriptor output(open_stream(files.output, write_flags));
    const Descriptor errors(files.errors == files.output ? -1 : open_stream(files.errors, write_flags));
    const int errors_fd = files.errors == files.output ? output.get() : errors.get();
    // The child writes exec's errno here; end of file means exec succeeded.
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0) fail("pipe2", errno);
    const Descriptor report_read(report[0]);
    Descriptor report_write(report[1]);

    const pid_t pid = ::fork();
    if (pid < 0) fail("cannot fork to start " + command[0], errno);
    if (pid == 0) {
        if (!own_pid_variable.empty()) append_number(own_pid.data(), ::getpid());
        redirect(input.get(), STDIN_FILENO);
        redirect(output.get(), STDOUT_FILENO);
        redirect(errors_fd, STDERR_FILENO);
        ::execvpe(argv[0], argv.data(), envp.data());
        const int error = errno;
        [[maybe_unused]] const auto written = ::write(report[1], &error, sizeof error);
        ::_exit(127);
    }
    report_write.close();  // or the read below would wait for this end too
    int error = 0;
    ssize_t got = 0;
    do {
        got = ::read(report_read.get(), &error, sizeof error);
    } while (got < 0 && errno == EINTR);
    if (got > 0) {
        ::waitpid(pid, nullptr, 0);
        fail("cannot start " + command[0], error);
    }
    return pid;
}

BackgroundProgram::BackgroundProgram(const std::vector<std::string>& command, const Redirections& files,
                                     const EnvironmentChanges& environment, const std::string& own_pid_variable)
    : BackgroundProgram(spawn_program(command, files, environment, own_pid_variable)) {}

BackgroundProgram::~BackgroundProgram() {
    if (running()) kill();
}

bool BackgroundProgram::running() { return !wait_exit(std::chrono::milliseconds(0)).has_value(); }

void BackgroundProgram::signal(int number) const {
    BOOST_TEST_REQUIRE(::kill(pid_, number) == 0, "cannot send signal " << number << " to child " << pid_);
}

std::optional<int> BackgroundProgram::wait_exit(std::chrono::milliseconds limit) {
    if (!exit_code_) exit_code_ = wait_for_exit(pid_, limit);
    return exit_code_;
}

std::optional<int> BackgroundProgram::stop(std::chrono::milliseconds limit) {
    if (!exit_code_) ::kill(pid_, SIGTERM);
    return wait_exit(limit);
}

int BackgroundProgram::kill() {
    if (!exit_code_) {
        ::kill(pid_, SIGKILL);
        exit_code_ = wait_for_exit(pid_, std::chrono::hours(1));
    }
    return *exit_code_;
}

Child start_program(const std::vector<std::string>& command, const Redirections& files,
                    const EnvironmentChanges& environment) {
    return Child{spawn_program(command, files, environment), files, command.at(0)};
}

Run finish(const Child& child, std::chrono::milliseconds limit) {
    const auto code = wait_for_exit(child.pid, limit);
    if (!code) kill_and_reap(child.pid);
    BOOST_TEST_REQUIRE(code.has_value(), child.name << " did not finish within "
                                                    << std::chrono::duration_cast<std::chrono::seconds>(limit).count()
                                                    << " s");
    const auto& files = child.files;
    const bool separate_errors = !files.errors.empty() && files.errors != files.output;
    return Run{*code, files.output.empty() ? "" : read_file(files.output),
               separate_errors ? read_file(files.errors) : ""};
}

Run run_program(const std::vector<std::string>& command, const RunOptions& options) {
    const TempDir scratch;
    const std::filesystem::path directory = scratch.path();
    Redirections files{directory / "in", directory / "out", directory / "err"};
    if (options.errors_into_output) files.errors = files.output;
    write_file(files.input, options.input);
    return finish(start_program(command, files, options.environment), options.limit);
}

}  // namespace shmq::test
