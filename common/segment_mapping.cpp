#include "common/segment_mapping.hpp"

#include <cstdio>

namespace shmq {

std::string SegmentMapping::file_system_path(const std::string& address) {
    return is_file(address) ? address : "/dev/shm/" + address;
}

platform::FileError SegmentMapping::open(const std::string& address, std::unique_ptr<SegmentMapping>& mapping,
                                         std::string& message) {
    std::unique_ptr<platform::MappedFile> file;
    const auto error =
        platform::MappedFile::open(file_system_path(address), sizeof(layout::SegmentRoot), file, message);
    if (error == platform::FileError::none) mapping.reset(new SegmentMapping(std::move(file), is_file(address)));
    return error;
}

platform::FileError SegmentMapping::create(const std::string& path, bool file_backed, std::uint64_t size, std::uint32_t mode,
                                           std::int64_t group, std::unique_ptr<SegmentMapping>& mapping,
                                           std::string& message) {
    std::unique_ptr<platform::MappedFile> file;
    const auto error = platform::MappedFile::create(path, size, mode, group, file, message);
    if (error == platform::FileError::none) {
        mapping.reset(new SegmentMapping(std::move(file), file_backed));
    }
    return error;
}

void SegmentMapping::remove(const std::string& address) { std::remove(file_system_path(address).c_str()); }

bool SegmentMapping::length_intact(std::uint64_t& length) const {
    if (!file_->current_length(length)) return true;  // cannot tell: nothing to repair either
    return length == size();
}

bool SegmentMapping::flush(bool wait, std::string& message) const {
    if (!file_backed_) return true;
    return file_->flush(wait, message);
}

}  // namespace shmq
