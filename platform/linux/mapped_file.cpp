#include "platform/mapped_file.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform/truncation_guard.hpp"

namespace shmq::platform {

namespace {

FileError error_of(int code) {
    switch (code) {
    case ENOENT: return FileError::not_found;
    case EEXIST: return FileError::exists;
    case EACCES:
    case EPERM: return FileError::permission_denied;
    case ELOOP:  // O_NOFOLLOW met a symbolic link
    case ENXIO:  // a FIFO without a writer, a socket
    case ENODEV:
    case EISDIR: return FileError::not_regular_file;
    case ENOSPC:
    case EDQUOT: return FileError::no_space;
    default: return FileError::other;
    }
}

FileError fail(int code, const std::string& what, std::string& message) {
    const FileError error = error_of(code);
    message = (error == FileError::not_regular_file ? "it is not a regular file: " : "") + what + ": " +
              std::strerror(code);
    return error;
}

}  // namespace

MappedFile::MappedFile(std::intptr_t descriptor, std::byte* base, std::size_t size, std::uint32_t owner,
                       bool writable)
    : descriptor_(descriptor), base_(base), size_(size), owner_(owner), writable_(writable) {
    guard_mapping(base_, size_, static_cast<int>(descriptor_));
}

FileError MappedFile::map_descriptor(std::intptr_t descriptor, std::uint64_t size, std::uint32_t owner,
                                     Mapping mapping, std::unique_ptr<MappedFile>& mapped, std::string& message) {
    const int fd = static_cast<int>(descriptor);
    const bool writable = mapping == Mapping::read_write;
    void* base = ::mmap(nullptr, static_cast<std::size_t>(size), writable ? PROT_READ | PROT_WRITE : PROT_READ,
                        MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
        const int code = errno;
        ::close(fd);
        return fail(code, "cannot map it", message);
    }
    mapped.reset(
        new MappedFile(descriptor, static_cast<std::byte*>(base), static_cast<std::size_t>(size), owner, writable));
    return FileError::none;
}

MappedFile::~MappedFile() {
    unguard_mapping(base_);
    ::munmap(base_, size_);
    ::close(static_cast<int>(descriptor_));
}

FileError MappedFile::open(const std::string& path, std::uint64_t minimum_size, Mapping mapping,
                           std::unique_ptr<MappedFile>& mapped, std::string& message) {
    // O_NONBLOCK: a FIFO put at the path must not block the open; O_NOFOLLOW:
    // a symbolic link must not redirect it.
    const int descriptor = ::open(path.c_str(), (mapping == Mapping::read_write ? O_RDWR : O_RDONLY) | O_CLOEXEC |
                                                    O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    if (descriptor < 0) return fail(errno, "cannot open it", message);
    // Everything below is about the file actually opened, not the name.
    struct stat facts {};
    if (::fstat(descriptor, &facts) != 0) {
        const int code = errno;
        ::close(descriptor);
        return fail(code, "cannot examine it", message);
    }
    if (!S_ISREG(facts.st_mode)) {
        ::close(descriptor);
        message = "it is not a regular file";
        return FileError::not_regular_file;
    }
    const auto size = static_cast<std::uint64_t>(facts.st_size);
    if (size < minimum_size) {
        ::close(descriptor);
        message = "it holds " + std::to_string(size) + " bytes, fewer than a segment's header (" +
                  std::to_string(minimum_size) + "): empty or half-created";
        return FileError::too_small;
    }
    if (size > std::numeric_limits<std::size_t>::max() / 2) {
        ::close(descriptor);
        message = "it is too large to map (" + std::to_string(size) + " bytes)";
        return FileError::too_large;
    }
    return map_descriptor(descriptor, size, static_cast<std::uint32_t>(facts.st_uid), mapping, mapped, message);
}

FileError MappedFile::create(const std::string& path, std::uint64_t size, const FileAccess& access,
                             std::unique_ptr<MappedFile>& mapped, std::string& message) {
    // Created private; the configured access is given once it is owned by the
    // right group, so that nobody else can open it in between.
    const int descriptor = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (descriptor < 0) return fail(errno, "cannot create it", message);
    auto give_up = [&](int code, const std::string& what) {
        ::close(descriptor);
        ::unlink(path.c_str());
        return fail(code, what, message);
    };
    std::string refused;
    if (!apply_file_access(descriptor, access, refused)) {
        ::close(descriptor);
        ::unlink(path.c_str());
        message = refused;
        return FileError::other;
    }
    const int reserved = ::posix_fallocate(descriptor, 0, static_cast<off_t>(size));
    if (reserved != 0) return give_up(reserved, "cannot reserve " + std::to_string(size) + " bytes for it");
    const FileError mapped_error =
        map_descriptor(descriptor, size, static_cast<std::uint32_t>(::geteuid()), Mapping::read_write, mapped, message);
    if (mapped_error != FileError::none) ::unlink(path.c_str());
    return mapped_error;
}

void MappedFile::remove(const std::string& path) { ::unlink(path.c_str()); }

bool MappedFile::current_length(std::uint64_t& length) const {
    struct stat facts {};
    if (::fstat(static_cast<int>(descriptor_), &facts) != 0) return false;
    length = static_cast<std::uint64_t>(facts.st_size);
    return true;
}

bool MappedFile::set_access(const FileAccess& access, std::string& message) const {
    return apply_file_access(descriptor_, access, message);
}

bool MappedFile::restore_length() const {
    return ::ftruncate(static_cast<int>(descriptor_), static_cast<off_t>(size_)) == 0;
}

bool MappedFile::flush(bool wait, std::string& message) const {
    if (::msync(base_, size_, wait ? MS_SYNC : MS_ASYNC) == 0) return true;
    message = std::string("msync failed: ") + std::strerror(errno);
    return false;
}

}  // namespace shmq::platform
