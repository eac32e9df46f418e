// The files of a test: a private directory, and the whole-file reads and
// writes the tests check configuration files, logs and outputs with.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace shmq::test {

// A temporary directory removed with its contents at destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return path_; }
    // Writes `content` to the file `name` in the directory; returns its path.
    std::string write(const std::string& name, const std::string& content) const;

private:
    std::string path_;
};

// The whole content of `path`; empty if it cannot be read, so that a log
// the child has not created yet reads as one with nothing in it.
std::string read_file(const std::filesystem::path& path);
// The same for a file that must exist: throws std::runtime_error naming it.
std::string read_existing_file(const std::filesystem::path& path);

// Writes `content` to `path`, replacing what was there; the test fails (and
// stops) if it cannot.
void write_file(const std::filesystem::path& path, const std::string& content);

// `text` split at newlines, without them (a final newline ends the last line).
std::vector<std::string> lines_of(const std::string& text);

bool contains(const std::string& text, const std::string& part);

}  // namespace shmq::test
