#include "bench/anonymous_mapping.hpp"

#include <cerrno>
#include <sys/mman.h>
#include <string>
#include <system_error>
#include <utility>

namespace shmq::bench {

AnonymousMapping::AnonymousMapping(std::size_t size, const char* what) {
    void* memory = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) throw std::system_error(errno, std::generic_category(), std::string(what) + ": mmap");
    memory_ = static_cast<std::byte*>(memory);
    size_ = size;
}

AnonymousMapping::~AnonymousMapping() {
    if (memory_ != nullptr) ::munmap(memory_, size_);
}

AnonymousMapping::AnonymousMapping(AnonymousMapping&& other) noexcept
    : memory_(std::exchange(other.memory_, nullptr)), size_(std::exchange(other.size_, 0)) {}

AnonymousMapping& AnonymousMapping::operator=(AnonymousMapping&& other) noexcept {
    if (this != &other) {
        if (memory_ != nullptr) ::munmap(memory_, size_);
        memory_ = std::exchange(other.memory_, nullptr);
        size_ = std::exchange(other.size_, 0);
    }
    return *this;
}

}  // namespace shmq::bench
