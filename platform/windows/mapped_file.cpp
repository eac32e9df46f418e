// The segment is a real file mapped with CreateFileMappingW + MapViewOfFile,
// not a native shared-memory section: a section disappears when its last
// handle closes, so a crashed broker's segment would be lost whenever no
// client held it, and adoption needs it to stay. Every handle shares delete
// access, so that the broker can still move a bad segment aside while
// clients map it.
#include "platform/mapped_file.hpp"

#include <atomic>
#include <cstring>
#include <limits>
#include <vector>
#include <windows.h>

#include "platform/user_identity.hpp"
#include "platform/windows/file_security.hpp"
#include "platform/windows/win32_text.hpp"

namespace shmq::platform {

namespace {

constexpr DWORD share_all = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;

FileError error_of(DWORD code) {
    switch (code) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND: return FileError::not_found;
    case ERROR_FILE_EXISTS:
    case ERROR_ALREADY_EXISTS: return FileError::exists;
    case ERROR_ACCESS_DENIED: return FileError::permission_denied;
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL: return FileError::no_space;
    default: return FileError::other;
    }
}

FileError fail(DWORD code, const std::string& what, std::string& message) {
    message = what + ": " + win32::error_text(code);
    return error_of(code);
}

HANDLE native(std::intptr_t descriptor) { return reinterpret_cast<HANDLE>(descriptor); }

bool length_of(HANDLE file, std::uint64_t& length) {
    LARGE_INTEGER size{};
    if (!::GetFileSizeEx(file, &size)) return false;
    length = static_cast<std::uint64_t>(size.QuadPart);
    return true;
}

bool set_length(HANDLE file, std::uint64_t length) {
    LARGE_INTEGER end{};
    end.QuadPart = static_cast<LONGLONG>(length);
    return ::SetFilePointerEx(file, end, nullptr, FILE_BEGIN) && ::SetEndOfFile(file);
}

}  // namespace

MappedFile::MappedFile(std::intptr_t descriptor, std::byte* base, std::size_t size, std::uint32_t owner,
                       bool writable)
    : descriptor_(descriptor), base_(base), size_(size), owner_(owner), writable_(writable) {}

FileError MappedFile::map_descriptor(std::intptr_t descriptor, std::uint64_t size, std::uint32_t owner,
                                     Mapping mapping, std::unique_ptr<MappedFile>& mapped, std::string& message) {
    const HANDLE file = native(descriptor);
    const bool writable = mapping == Mapping::read_write;
    // The view keeps the section alive; its handle is not needed afterwards.
    const HANDLE section =
        ::CreateFileMappingW(file, nullptr, writable ? PAGE_READWRITE : PAGE_READONLY, 0, 0, nullptr);
    if (section == nullptr) {
        const DWORD code = ::GetLastError();
        ::CloseHandle(file);
        return fail(code, "cannot map it", message);
    }
    void* base =
        ::MapViewOfFile(section, writable ? FILE_MAP_READ | FILE_MAP_WRITE : FILE_MAP_READ, 0, 0, static_cast<SIZE_T>(size));
    const DWORD code = ::GetLastError();
    ::CloseHandle(section);
    if (base == nullptr) {
        ::CloseHandle(file);
        return fail(code, "cannot map it", message);
    }
    mapped.reset(
        new MappedFile(descriptor, static_cast<std::byte*>(base), static_cast<std::size_t>(size), owner, writable));
    return FileError::none;
}

MappedFile::~MappedFile() {
    ::UnmapViewOfFile(base_);
    ::CloseHandle(native(descriptor_));
}

FileError MappedFile::open(const std::string& path, std::uint64_t minimum_size, Mapping mapping,
                           std::unique_ptr<MappedFile>& mapped, std::string& message) {
    // FILE_FLAG_OPEN_REPARSE_POINT: a symbolic link or junction is opened as
    // itself, and refused below, rather than followed. Read-only: the
    // readers group's DACL entry grants nothing more.
    const DWORD rights = mapping == Mapping::read_write ? GENERIC_READ | GENERIC_WRITE : GENERIC_READ;
    const HANDLE file = ::CreateFileW(win32::widen(path).c_str(), rights | READ_CONTROL,
                                      share_all, nullptr, OPEN_EXISTING,
                                      FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
    if (file == INVALID_HANDLE_VALUE) return fail(::GetLastError(), "cannot open it", message);
    // Everything below is about the file actually opened, not the name.
    BY_HANDLE_FILE_INFORMATION facts{};
    if (::GetFileType(file) != FILE_TYPE_DISK || !::GetFileInformationByHandle(file, &facts) ||
        (facts.dwFileAttributes & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT)) != 0) {
        ::CloseHandle(file);
        message = "it is not a regular file";
        return FileError::not_regular_file;
    }
    const std::uint64_t size = (static_cast<std::uint64_t>(facts.nFileSizeHigh) << 32) | facts.nFileSizeLow;
    if (size < minimum_size) {
        ::CloseHandle(file);
        message = "it holds " + std::to_string(size) + " bytes, fewer than a segment's header (" +
                  std::to_string(minimum_size) + "): empty or half-created";
        return FileError::too_small;
    }
    if (size > std::numeric_limits<std::size_t>::max() / 2) {
        ::CloseHandle(file);
        message = "it is too large to map (" + std::to_string(size) + " bytes)";
        return FileError::too_large;
    }
    std::uint32_t owner = 0;
    if (!win32::owner_of_handle(file, owner)) {
        const DWORD code = ::GetLastError();
        ::CloseHandle(file);
        return fail(code, "cannot read its owner", message);
    }
    return map_descriptor(reinterpret_cast<std::intptr_t>(file), size, owner, mapping, mapped, message);
}

FileError MappedFile::create(const std::string& path, std::uint64_t size, const FileAccess& access,
                             std::unique_ptr<MappedFile>& mapped, std::string& message) {
    // Created with its access list in place (see file_security.hpp), so that
    // nobody else can open it in between.
    win32::FileSecurity security(access);
    if (security.attributes() == nullptr) {
        message = security.error();
        return FileError::other;
    }
    const std::wstring wide = win32::widen(path);
    const HANDLE file = ::CreateFileW(wide.c_str(), GENERIC_READ | GENERIC_WRITE | READ_CONTROL, share_all,
                                      static_cast<SECURITY_ATTRIBUTES*>(security.attributes()), CREATE_NEW,
                                      FILE_ATTRIBUTE_NORMAL, nullptr);
    if (file == INVALID_HANDLE_VALUE) return fail(::GetLastError(), "cannot create it", message);
    // Setting the length allocates the storage, so a full disk is a clear
    // error now; the new bytes read as zeros.
    if (!set_length(file, size)) {
        const DWORD code = ::GetLastError();
        ::CloseHandle(file);
        ::DeleteFileW(wide.c_str());
        return fail(code, "cannot reserve " + std::to_string(size) + " bytes for it", message);
    }
    std::uint32_t owner = 0;
    if (!win32::owner_of_handle(file, owner)) owner = effective_user();
    const FileError mapped_error =
        map_descriptor(reinterpret_cast<std::intptr_t>(file), size, owner, Mapping::read_write, mapped, message);
    if (mapped_error != FileError::none) ::DeleteFileW(wide.c_str());
    return mapped_error;
}

// Windows deletes a file some process still maps only when the last of them
// lets go; until then the name stays, and creating a file of that name fails.
// So the file is opened to be deleted when this handle closes (were this
// process killed next, the closing would still delete it), renamed aside
// through that same handle, which frees the name at once, then let go: it
// goes with the last mapping. Renamed through another handle, Wine would
// forget the deletion.
void MappedFile::remove(const std::string& path) {
    const std::wstring wide = win32::widen(path);
    const HANDLE file = ::CreateFileW(wide.c_str(), DELETE, share_all, nullptr, OPEN_EXISTING,
                                      FILE_FLAG_DELETE_ON_CLOSE | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
    if (file == INVALID_HANDLE_VALUE) return;
    static std::atomic<unsigned> removed{0};
    const std::wstring aside = wide + L".removed-" + std::to_wstring(::GetCurrentProcessId()) + L"-" +
                               std::to_wstring(removed.fetch_add(1, std::memory_order_relaxed));
    const std::size_t name_bytes = aside.size() * sizeof(wchar_t);
    std::vector<unsigned char> storage(sizeof(FILE_RENAME_INFO) + name_bytes);
    auto* rename = reinterpret_cast<FILE_RENAME_INFO*>(storage.data());
    rename->ReplaceIfExists = FALSE;
    rename->RootDirectory = nullptr;
    rename->FileNameLength = static_cast<DWORD>(name_bytes);
    std::memcpy(rename->FileName, aside.data(), name_bytes);
    // If refused, the name goes with the last mapping.
    ::SetFileInformationByHandle(file, FileRenameInfo, rename, static_cast<DWORD>(storage.size()));
    ::CloseHandle(file);
}

bool MappedFile::set_access(const FileAccess& access, std::string& message) const {
    return apply_file_access(descriptor_, access, message);
}

bool MappedFile::current_length(std::uint64_t& length) const { return length_of(native(descriptor_), length); }

// Windows refuses to shrink a mapped file, so the length can only have grown;
// giving it back is still honest work.
bool MappedFile::restore_length() const { return set_length(native(descriptor_), size_); }

bool MappedFile::flush(bool wait, std::string& message) const {
    if (!::FlushViewOfFile(base_, size_) || (wait && !::FlushFileBuffers(native(descriptor_)))) {
        message = "flushing the segment failed: " + win32::last_error_text();
        return false;
    }
    return true;
}

}  // namespace shmq::platform
