// Another program run in a process of its own, and its abrupt death: what
// the tests that need a real broker or client process use where fork() does
// not exist (Windows). The product itself starts no process.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace shmq::platform {

class ChildProcess {
public:
    // Starts `program` with `arguments`. Its standard output and error go to
    // `output_path` (created or truncated) when that is not empty, else where
    // this process's go. Throws std::runtime_error saying why it could not.
    ChildProcess(const std::string& program, const std::vector<std::string>& arguments,
                 const std::string& output_path = {});
    ~ChildProcess();  // kills it if it still runs
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    std::int32_t id() const { return id_; }
    // Ends it at once, as kill -9 (Linux) or TerminateProcess (Windows) does.
    void kill();
    // Waits up to `timeout`; true, with its exit status, once it has ended.
    bool wait(std::chrono::milliseconds timeout, int& exit_status);

private:
    std::intptr_t handle_ = 0;  // a process HANDLE on Windows; unused on Linux
    std::int32_t id_ = 0;
    bool ended_ = false;
    int exit_status_ = 0;
};

}  // namespace shmq::platform
