#include "platform/truncation_guard.hpp"

#include <atomic>
#include <csignal>
#include <cstdint>
#include <fcntl.h>
#include <mutex>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace shmq::platform {

namespace {

// A fixed table, so the handler reads it without locks or allocation. An
// entry is published by storing `base` last and retired by clearing it first.
struct Entry {
    std::atomic<std::uintptr_t> base{0};
    std::atomic<std::size_t> length{0};
    std::atomic<int> descriptor{-1};
};
constexpr std::size_t table_size = 64;
constexpr std::uintptr_t reserved = 1;
Entry table[table_size];
std::atomic<unsigned long> repairs{0};
struct sigaction previous_action;
std::once_flag installed;

// Async-signal-safe throughout: fstat, ftruncate, fallocate and mmap are
// plain system calls.
bool repair(const Entry& entry, std::uintptr_t address) {
    const int descriptor = entry.descriptor.load(std::memory_order_acquire);
    const std::size_t length = entry.length.load(std::memory_order_acquire);
    struct stat facts {};
    if (::fstat(descriptor, &facts) != 0) return false;
    if (static_cast<std::uint64_t>(facts.st_size) < length) {
        // Truncated: the original length back; the lost pages read as zeros.
        return ::ftruncate(descriptor, static_cast<off_t>(length)) == 0;
    }
    // The length is right (another thread repaired it first, or the page is
    // a hole the file system has no room for): give the page storage, or
    // failing that, a private zero page so the process can go on.
    const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    const std::uintptr_t first = address & ~(page - 1);
    const std::uintptr_t base = entry.base.load(std::memory_order_acquire);
    if (::fallocate(descriptor, 0, static_cast<off_t>(first - base), static_cast<off_t>(page)) == 0) return true;
    return ::mmap(reinterpret_cast<void*>(first), page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                  -1, 0) != MAP_FAILED;
}

void forward(int signal_number, siginfo_t* info, void* context) {
    if ((previous_action.sa_flags & SA_SIGINFO) != 0 && previous_action.sa_sigaction != nullptr) {
        previous_action.sa_sigaction(signal_number, info, context);
        return;
    }
    if (previous_action.sa_handler != SIG_DFL && previous_action.sa_handler != SIG_IGN &&
        previous_action.sa_handler != nullptr) {
        previous_action.sa_handler(signal_number);
        return;
    }
    // Default action: returning re-runs the faulting access, which now kills
    // the process as it would have without the guard.
    ::signal(signal_number, SIG_DFL);
}

void on_bus_error(int signal_number, siginfo_t* info, void* context) {
    const auto address = reinterpret_cast<std::uintptr_t>(info->si_addr);
    for (const Entry& entry : table) {
        const std::uintptr_t base = entry.base.load(std::memory_order_acquire);
        if (base <= reserved || address < base || address - base >= entry.length.load(std::memory_order_acquire)) continue;
        if (repair(entry, address)) {
            repairs.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        break;
    }
    forward(signal_number, info, context);
}

void install() {
    struct sigaction action {};
    action.sa_sigaction = on_bus_error;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGBUS, &action, &previous_action);
}

}  // namespace

bool guard_mapping(void* base, std::size_t length, int descriptor) {
    std::call_once(installed, install);
    for (Entry& entry : table) {
        std::uintptr_t expected = 0;
        // A reserved marker first, so that two threads never take one entry;
        // the handler skips it until the real base is stored.
        if (!entry.base.compare_exchange_strong(expected, reserved, std::memory_order_acq_rel)) continue;
        entry.length.store(length, std::memory_order_release);
        entry.descriptor.store(descriptor, std::memory_order_release);
        entry.base.store(reinterpret_cast<std::uintptr_t>(base), std::memory_order_release);
        return true;
    }
    return false;
}

void unguard_mapping(void* base) {
    for (Entry& entry : table) {
        if (entry.base.load(std::memory_order_acquire) == reinterpret_cast<std::uintptr_t>(base)) {
            entry.base.store(0, std::memory_order_release);
            return;
        }
    }
}

unsigned long repaired_faults() { return repairs.load(std::memory_order_relaxed); }

}  // namespace shmq::platform
