#include "platform/segment_directory.hpp"

#include <cstdlib>

namespace shmq::platform {

namespace {

constexpr const char* service_directory = "/run/shmq";
constexpr const char* shared_memory_directory = "/dev/shm";

const char* configured_directory() {
    const char* directory = std::getenv("SHMQ_RUNTIME_DIR");
    return directory != nullptr && *directory != '\0' ? directory : nullptr;
}

}  // namespace

std::string broker_segment_directory() {
    const char* configured = configured_directory();
    return configured != nullptr ? configured : shared_memory_directory;
}

std::vector<std::string> client_segment_directories() {
    if (const char* configured = configured_directory()) return {configured};
    return {service_directory, shared_memory_directory};
}

}  // namespace shmq::platform
