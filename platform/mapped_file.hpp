// A file mapped into this process: the only way shmq maps a broker segment.
// The operating-system calls behind it live in platform/<os>/; the core sees
// just this interface.
//
// A mapping knows its own length, taken from the file it actually opened (not
// from anything stored inside the file), and it stays usable whatever another
// process does to the file: while a MappedFile lives, a fault on its pages
// because the file was truncated is repaired in place (see truncation_guard),
// so a client that shrinks the segment cannot kill the others with SIGBUS.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "platform/file_access.hpp"

namespace shmq::platform {

enum class FileError {
    none,
    not_found,          // nothing exists at the path
    exists,             // create: something already exists at the path
    permission_denied,  // it exists, but this user may not open it
    not_regular_file,   // a directory, FIFO, device, socket, symbolic link...
    too_small,          // shorter than the caller's minimum: empty or half-created
    too_large,          // longer than this process can map
    no_space,           // its storage could not be reserved
    other,
};

// How a file is opened and mapped. A read-only mapping needs only read
// permission, and any write through it faults (SIGSEGV): its user must never
// write, not even an atomic word.
enum class Mapping { read_write, read_only };

class MappedFile {
public:
    // Opens an existing regular file (read-write or read-only, as `mapping`
    // says), without following a symbolic link and without blocking, and maps
    // all of it. Refuses a file shorter than `minimum_size`. `message` says why
    // on failure.
    static FileError open(const std::string& path, std::uint64_t minimum_size, Mapping mapping,
                          std::unique_ptr<MappedFile>& mapped, std::string& message);
    // Creates `path` (it must not exist) with exactly `access` (no umask),
    // reserves `size` bytes of storage so that a full file system is a clear
    // error now rather than a fault later, and maps it zero-filled, read-write.
    static FileError create(const std::string& path, std::uint64_t size, const FileAccess& access,
                            std::unique_ptr<MappedFile>& mapped, std::string& message);
    // Removes the name `path` at once, even while other processes still map
    // the file (they keep their mapping): a broker started right after must
    // find the name free. Nothing at `path` is not an error.
    static void remove(const std::string& path);

    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    std::byte* base() const { return base_; }
    // The length mapped: the file's length when it was opened or created.
    std::size_t size() const { return size_; }
    // The owner of the file this process mapped (not of whatever the path names now).
    std::uint32_t owner() const { return owner_; }
    bool writable() const { return writable_; }

    // Gives the mapped file `access` (a broker adopting its segment applies
    // the configuration's). False with `message` when the kernel refuses.
    bool set_access(const FileAccess& access, std::string& message) const;

    // The file's length now; differs from size() when someone truncated or
    // extended it. Returns false when the file cannot be examined.
    bool current_length(std::uint64_t& length) const;
    // Gives the file back the length it was mapped with (pages lost to a
    // truncation come back zero-filled).
    bool restore_length() const;
    // Writes dirty pages to the file (wait: before returning). False with
    // `message` when the kernel reports a failure.
    bool flush(bool wait, std::string& message) const;

private:
    // `descriptor`: the open file, a descriptor on Linux, a HANDLE on Windows.
    MappedFile(std::intptr_t descriptor, std::byte* base, std::size_t size, std::uint32_t owner, bool writable);
    // Maps all `size` bytes of `descriptor` shared, as `mapping` says; takes
    // the descriptor over (closed on failure).
    static FileError map_descriptor(std::intptr_t descriptor, std::uint64_t size, std::uint32_t owner, Mapping mapping,
                                    std::unique_ptr<MappedFile>& mapped, std::string& message);

    std::intptr_t descriptor_;
    std::byte* base_;
    std::size_t size_;
    std::uint32_t owner_;
    bool writable_;
};

}  // namespace shmq::platform
