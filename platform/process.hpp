// Processes, as the operating system knows them: ids, the instant each was
// started (so that a reused id is never taken for the process that had it),
// the boot and the PID namespace they belong to, and the abrupt death the
// crash tests simulate.
#pragma once

#include <cstdint>
#include <string>

namespace shmq::platform {

std::int32_t current_process_id();
// The calling program's short name, for people reading a list of clients.
std::string current_program_name();

// When process `pid` started, in the operating system's own unit, or 0 when
// there is no such process or it has exited (a zombie counts as exited).
std::uint64_t process_start_time(std::int32_t pid);

// This boot's id, NUL-terminated; empty when it cannot be read.
void read_boot_id(char (&boot_id)[40]);

// The calling process's PID namespace (an inode number on Linux), or 0 when
// it cannot be read. Process ids mean something only within one namespace.
std::uint64_t own_pid_namespace();

// Ends the calling process at once, as `kill -9` would: nothing flushed,
// nothing unwound, no exit handler run.
[[noreturn]] void die_abruptly();

// Stops the calling process where it stands until another process lets it
// go on (SIGSTOP and SIGCONT on Linux; on Windows the calling thread is
// suspended until resumed), as a preempted process would be.
void stop_until_continued();

}  // namespace shmq::platform
