#include "common/segment_mapping.hpp"

#include <boost/interprocess/shared_memory_object.hpp>
#include <cstdio>
#include <new>
#include <stdexcept>
#include <sys/mman.h>

namespace shmq {

namespace bip = boost::interprocess;

std::unique_ptr<SegmentMapping> SegmentMapping::open(const std::string& address) {
    if (is_file(address)) {
        return std::unique_ptr<SegmentMapping>(
            new SegmentMapping(std::make_unique<bip::managed_mapped_file>(bip::open_only, address.c_str())));
    }
    return std::unique_ptr<SegmentMapping>(
        new SegmentMapping(std::make_unique<bip::managed_shared_memory>(bip::open_only, address.c_str())));
}

std::unique_ptr<SegmentMapping> SegmentMapping::create(const std::string& address, std::uint64_t size,
                                                       std::uint32_t mode) {
    bip::permissions permissions;
    permissions.set_permissions(static_cast<int>(mode));
    if (is_file(address)) {
        return std::unique_ptr<SegmentMapping>(new SegmentMapping(
            std::make_unique<bip::managed_mapped_file>(bip::create_only, address.c_str(), size, nullptr, permissions)));
    }
    return std::unique_ptr<SegmentMapping>(new SegmentMapping(
        std::make_unique<bip::managed_shared_memory>(bip::create_only, address.c_str(), size, nullptr, permissions)));
}

void SegmentMapping::remove(const std::string& address) {
    if (is_file(address)) {
        std::remove(address.c_str());
    } else {
        bip::shared_memory_object::remove(address.c_str());
    }
}

std::string SegmentMapping::file_system_path(const std::string& address) {
    return is_file(address) ? address : "/dev/shm/" + address;
}

std::byte* SegmentMapping::base() const {
    return std::visit([](const auto& segment) { return static_cast<std::byte*>(segment->get_address()); }, segment_);
}

std::size_t SegmentMapping::size() const {
    return std::visit([](const auto& segment) { return static_cast<std::size_t>(segment->get_size()); }, segment_);
}

layout::SegmentRoot* SegmentMapping::find_root() const {
    return std::visit(
        [](const auto& segment) { return segment->template find_no_lock<layout::SegmentRoot>(layout::root_object_name).first; },
        segment_);
}

layout::SegmentRoot* SegmentMapping::construct_root() {
    return std::visit(
        [](const auto& segment) { return segment->template construct<layout::SegmentRoot>(layout::root_object_name)(); },
        segment_);
}

void* SegmentMapping::allocate_aligned(std::uint64_t bytes, const std::string& what) {
    void* memory = std::visit(
        [bytes](const auto& segment) { return segment->allocate_aligned(bytes, layout::cache_line, std::nothrow); },
        segment_);
    if (memory == nullptr) throw std::runtime_error("segment too small for " + what + " (a sizing bug)");
    return memory;
}

void SegmentMapping::flush(bool wait) {
    if (!file_backed()) return;
    ::msync(base(), size(), wait ? MS_SYNC : MS_ASYNC);
}

}  // namespace shmq
