// Where a broker's segment lives and how a process maps it. A broker address
// is either a plain name (a file in a memory file system, gone at reboot: see
// platform/segment_directory.hpp for which directory) or an absolute path (a
// file that survives a reboot). Either way the segment
// is one regular file, mapped whole: shmq's own SegmentRoot at offset 0 and
// everything else at offsets the root gives (common/layout.hpp). Nothing of a
// library's bookkeeping lives in it, so nothing in it is trusted before
// SegmentView has checked it against the real length of the mapping.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/layout.hpp"
#include "common/names.hpp"
#include "platform/mapped_file.hpp"

namespace shmq {

class SegmentMapping {
public:
    static bool is_file(const std::string& address) { return names_a_file(address); }
    // Where a broker started now puts the segment of `address`.
    static std::string file_system_path(const std::string& address);

    // Maps an existing segment as it is, looking for a plain name where
    // clients look (the first directory that holds it); `message` says why
    // not. Nothing of its contents is read here.
    static platform::FileError open(const std::string& address, std::unique_ptr<SegmentMapping>& mapping,
                                    std::string& message);
    // Maps the file at exactly `path` (the broker's own segment, or an access
    // group's), read-write unless `how` says read-only.
    static platform::FileError open_path(const std::string& path, bool file_backed,
                                         std::unique_ptr<SegmentMapping>& mapping, std::string& message,
                                         platform::Mapping how = platform::Mapping::read_write);
    // Creates a zero-filled segment of `size` bytes at the file-system path
    // `path` (it must not exist), with `access`; `file_backed` for a
    // persistent broker's file.
    static platform::FileError create(const std::string& path, bool file_backed, std::uint64_t size,
                                      const platform::FileAccess& access, std::unique_ptr<SegmentMapping>& mapping,
                                      std::string& message);
    // Removes the segment's name (mapped processes keep their mapping).
    static void remove(const std::string& address);

    std::byte* base() const { return file_->base(); }
    // The real length of this process's mapping; every offset must fall inside.
    std::size_t size() const { return file_->size(); }
    // Where the root lies; SegmentView::validate says whether it holds one.
    layout::SegmentRoot* root() const { return reinterpret_cast<layout::SegmentRoot*>(base()); }
    std::uint32_t owner() const { return file_->owner(); }
    // The file this mapping was opened from or created as.
    const std::string& path() const { return path_; }
    bool file_backed() const { return file_backed_; }
    // False for a read-only mapping, which this process must never write.
    bool writable() const { return file_->writable(); }
    // Gives the file `access` (a broker adopting it applies its configuration's).
    bool set_access(const platform::FileAccess& access, std::string& message) const {
        return file_->set_access(access, message);
    }

    // False when the file's length is no longer the mapped one (someone
    // truncated or extended it); `length` is what it is now.
    bool length_intact(std::uint64_t& length) const;
    // Gives the file back its mapped length; lost pages return zero-filled.
    bool restore_length() const { return file_->restore_length(); }
    // Writes dirty pages of a file-backed segment to disk (no-op in memory);
    // false with `message` when the kernel reports that it failed.
    bool flush(bool wait, std::string& message) const;

private:
    SegmentMapping(std::unique_ptr<platform::MappedFile> file, std::string path, bool file_backed)
        : file_(std::move(file)), path_(std::move(path)), file_backed_(file_backed) {}

    std::unique_ptr<platform::MappedFile> file_;
    std::string path_;
    bool file_backed_;
};

}  // namespace shmq
