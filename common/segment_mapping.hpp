// Where a broker's segment lives and how a process maps it. A broker address
// is either a plain name (a POSIX shared-memory object, /dev/shm/NAME, gone at
// reboot) or an absolute path (a memory-mapped file that survives a reboot).
// Both are Boost.Interprocess managed segments with the same layout inside.
#pragma once

#include <boost/interprocess/managed_mapped_file.hpp>
#include <boost/interprocess/managed_shared_memory.hpp>
#include <boost/interprocess/permissions.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>

#include "common/layout.hpp"

namespace shmq {

class SegmentMapping {
public:
    static bool is_file(const std::string& address) { return address.find('/') != std::string::npos; }

    // Both throw boost::interprocess::interprocess_exception on failure.
    static std::unique_ptr<SegmentMapping> open(const std::string& address);
    static std::unique_ptr<SegmentMapping> create(const std::string& address, std::uint64_t size,
                                                  std::uint32_t mode);
    // Removes the segment's name (mapped processes keep their mapping).
    static void remove(const std::string& address);
    // Where the segment's bytes live in the file system, for chmod/rename.
    static std::string file_system_path(const std::string& address);

    std::byte* base() const;
    std::size_t size() const;
    // The root by find_no_lock: see layout.hpp for why never a locked find.
    layout::SegmentRoot* find_root() const;
    layout::SegmentRoot* construct_root();
    // Throws std::runtime_error naming `what` when the segment is too small.
    void* allocate_aligned(std::uint64_t bytes, const std::string& what);
    // Writes dirty pages of a file-backed segment to disk (no-op in memory).
    void flush(bool wait);
    bool file_backed() const { return std::holds_alternative<File>(segment_); }

private:
    using Memory = std::unique_ptr<boost::interprocess::managed_shared_memory>;
    using File = std::unique_ptr<boost::interprocess::managed_mapped_file>;
    explicit SegmentMapping(std::variant<Memory, File> segment) : segment_(std::move(segment)) {}

    std::variant<Memory, File> segment_;
};

}  // namespace shmq
