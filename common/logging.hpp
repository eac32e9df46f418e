// Logging for the daemon and the CLI, through Boost.Log. Kept behind this
// small interface so that only logging.cpp pays Boost.Log's compile cost.
#pragma once

#include <cstdint>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>

namespace shmq::log {

enum class Level { trace, debug, info, warning, error, fatal };

// Parses "trace|debug|info|warning|error|fatal"; false if unknown.
bool parse_level(const std::string& text, Level& level);

// When the log file is renamed and a fresh one started.
enum class Rotation { never, hourly, daily };

// The log file, besides stderr: appended to, rotated by size and/or time,
// the rotated files renamed FILE.YYYYmmdd-HHMMSS.N beside it and only the
// newest `keep` of them kept.
struct FileOptions {
    std::string path;               // empty: no file
    std::uint64_t rotate_size = 0;  // bytes; 0: never by size
    Rotation rotate_every = Rotation::never;
    std::uint32_t keep = 7;
};

// Console (stderr) logging at `level`, plus the file when one is named.
// Throws std::runtime_error when the file cannot be opened.
void init(Level level, const FileOptions& file);
void init(Level level, const std::string& file);

// One more destination for every record at `level` or above, besides
// stderr and the file (the Windows service's Event Log): `destination` is
// given each record's level and its message (as write() shows it), one
// record at a time. Until the next init(), which removes it.
using Destination = std::function<void(Level level, const std::string& message)>;
void add_destination(Level level, Destination destination);

// Closes the log file and opens it again by its name: after an outside tool
// (logrotate) renamed it, the next lines go to a new file of that name.
// Does nothing without a log file.
void reopen_file();

// Logs one record. Every record is one line of printable text: control
// characters and bytes that are not printable UTF-8 are escaped (\n, \x1b),
// because messages carry text clients wrote (program names, names read from
// the segment), and a newline in one must not forge a record of its own.
void write(Level level, const std::string& message);

// `text` as write() shows it.
std::string printable(std::string_view text);

}  // namespace shmq::log

// SHMQ_LOG(info) << "attached " << pid;
#define SHMQ_LOG(severity) \
    for (::shmq::log::detail::Line line_(::shmq::log::Level::severity); line_.once(); line_.done()) line_.stream()

namespace shmq::log::detail {
class Line {
public:
    explicit Line(Level level) : level_(level) {}
    bool once() const { return !done_; }
    void done() {
        write(level_, stream_.str());
        done_ = true;
    }
    std::ostringstream& stream() { return stream_; }

private:
    Level level_;
    bool done_ = false;
    std::ostringstream stream_;
};
}  // namespace shmq::log::detail
