// Memory that the benchmark's forked processes share: an anonymous
// MAP_SHARED mapping, made before the fork, so that every child sees it at
// the same address. The reference rings (spsc_ring, mpmc_ring) live in one.
#pragma once

#include <cstddef>

namespace shmq::bench {

inline constexpr std::size_t cache_line = 64;

// `bytes` rounded up to whole cache lines: a ring slot's stride.
constexpr std::size_t whole_cache_lines(std::size_t bytes) { return (bytes + cache_line - 1) / cache_line * cache_line; }

class AnonymousMapping {
public:
    AnonymousMapping() = default;
    // Throws std::system_error naming `what` when the mapping fails.
    AnonymousMapping(std::size_t size, const char* what);
    ~AnonymousMapping();
    AnonymousMapping(AnonymousMapping&& other) noexcept;
    AnonymousMapping& operator=(AnonymousMapping&& other) noexcept;
    AnonymousMapping(const AnonymousMapping&) = delete;
    AnonymousMapping& operator=(const AnonymousMapping&) = delete;

    std::byte* data() const { return memory_; }

private:
    std::byte* memory_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace shmq::bench
