#include "common/segment_mapping.hpp"

#include "platform/segment_directory.hpp"

namespace shmq {

std::string SegmentMapping::file_system_path(const std::string& address) {
    return is_file(address) ? address : platform::broker_segment_directory() + "/" + address;
}

platform::FileError SegmentMapping::open(const std::string& address, std::unique_ptr<SegmentMapping>& mapping,
                                         std::string& message) {
    std::vector<std::string> candidates;
    if (is_file(address)) {
        candidates.push_back(address);
    } else {
        for (const auto& directory : platform::client_segment_directories()) candidates.push_back(directory + "/" + address);
    }
    std::string looked;
    for (const auto& path : candidates) {
        std::unique_ptr<platform::MappedFile> file;
        const auto error = platform::MappedFile::open(path, sizeof(layout::SegmentRoot), platform::Mapping::read_write,
                                                     file, message);
        if (error == platform::FileError::none) {
            mapping.reset(new SegmentMapping(std::move(file), path, is_file(address)));
            return error;
        }
        if (error != platform::FileError::not_found) {
            message = path + ": " + message;
            return error;
        }
        looked += (looked.empty() ? "" : ", ") + path;
    }
    message = "no such file (looked for " + looked + ")";
    return platform::FileError::not_found;
}

platform::FileError SegmentMapping::open_path(const std::string& path, bool file_backed,
                                              std::unique_ptr<SegmentMapping>& mapping, std::string& message,
                                              platform::Mapping how) {
    std::unique_ptr<platform::MappedFile> file;
    const auto error = platform::MappedFile::open(path, sizeof(layout::SegmentRoot), how, file, message);
    if (error == platform::FileError::none) mapping.reset(new SegmentMapping(std::move(file), path, file_backed));
    return error;
}

platform::FileError SegmentMapping::create(const std::string& path, bool file_backed, std::uint64_t size,
                                           const platform::FileAccess& access, std::unique_ptr<SegmentMapping>& mapping,
                                           std::string& message) {
    std::unique_ptr<platform::MappedFile> file;
    const auto error = platform::MappedFile::create(path, size, access, file, message);
    if (error == platform::FileError::none) mapping.reset(new SegmentMapping(std::move(file), path, file_backed));
    return error;
}
void SegmentMapping::remove(const std::string& address) { platform::MappedFile::remove(file_system_path(address)); }

bool SegmentMapping::length_intact(std::uint64_t& length) const {
    if (!file_->current_length(length)) return true;  // cannot tell: nothing to repair either
    return length == size();
}

bool SegmentMapping::flush(bool wait, std::string& message) const {
    if (!file_backed_) return true;
    return file_->flush(wait, message);
}

}  // namespace shmq
