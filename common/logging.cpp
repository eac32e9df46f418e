#include "common/logging.hpp"

#include <boost/core/null_deleter.hpp>
#include <boost/log/core.hpp>
#include <boost/log/expressions.hpp>
#include <boost/log/sinks/sync_frontend.hpp>
#include <boost/log/sinks/text_file_backend.hpp>
#include <boost/log/sinks/text_ostream_backend.hpp>
#include <boost/log/sources/record_ostream.hpp>
#include <boost/log/sources/severity_logger.hpp>
#include <boost/log/support/date_time.hpp>
#include <boost/log/utility/setup/common_attributes.hpp>
#include <boost/shared_ptr.hpp>
#include <boost/make_shared.hpp>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "platform/journal.hpp"

namespace shmq::log {

namespace logging = boost::log;
namespace expr = boost::log::expressions;
namespace sinks = boost::log::sinks;

BOOST_LOG_ATTRIBUTE_KEYWORD(severity_keyword, "Severity", Level)

namespace {

const char* name_of(Level level) {
    switch (level) {
    case Level::trace: return "trace";
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warning: return "warning";
    case Level::error: return "error";
    case Level::fatal: return "fatal";
    }
    return "?";
}

// How many bytes the UTF-8 sequence at the start of `text` takes, or 0 when
// it is not a valid, printable one (C1 controls, overlong forms, surrogates
// and stray continuation bytes are not).
std::size_t printable_sequence(std::string_view text) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byte(0);
    if (lead >= 0x20 && lead < 0x7F) return 1;
    const std::size_t length = lead >= 0xC2 && lead <= 0xDF ? 2 : lead >= 0xE0 && lead <= 0xEF ? 3
                               : lead >= 0xF0 && lead <= 0xF4 ? 4 : 0;
    if (length == 0 || text.size() < length) return 0;
    std::uint32_t code = lead & (0x7F >> length);
    for (std::size_t i = 1; i < length; ++i) {
        if ((byte(i) & 0xC0) != 0x80) return 0;
        code = (code << 6) | (byte(i) & 0x3F);
    }
    const std::uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < smallest[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
    return code >= 0x80 && code <= 0x9F ? 0 : length;
}

logging::sources::severity_logger_mt<Level>& logger() {
    static logging::sources::severity_logger_mt<Level> instance;
    return instance;
}

// The syslog priority of a level, as the journal reads it from a "<N>" prefix.
int syslog_priority(Level level) {
    switch (level) {
    case Level::trace:
    case Level::debug: return 7;  // LOG_DEBUG
    case Level::info: return 6;   // LOG_INFO
    case Level::warning: return 4;  // LOG_WARNING
    case Level::error: return 3;  // LOG_ERR
    case Level::fatal: return 2;  // LOG_CRIT
    }
    return 6;
}

// Under the journal, lines carry their priority (so `journalctl -p warning`
// and the colours work) and no time stamp: the journal keeps its own.
enum class Style { timestamped, journal };

void set_format(sinks::basic_formatting_sink_frontend<char>& sink, Style style) {
    if (style == Style::journal) {
        sink.set_formatter([](const logging::record_view& record, logging::formatting_ostream& out) {
            const auto severity = logging::extract_or_default<Level>("Severity", record, Level::info);
            out << "<" << syslog_priority(severity) << ">[" << severity << "] " << record[expr::smessage];
        });
    } else {
        sink.set_formatter(expr::stream
                           << expr::format_date_time<boost::posix_time::ptime>("TimeStamp", "%Y-%m-%d %H:%M:%S.%f")
                           << " [" << expr::attr<Level>("Severity") << "] " << expr::smessage);
    }
}

void add_stream(boost::shared_ptr<std::ostream> stream, Level level, Style style) {
    using Sink = sinks::synchronous_sink<sinks::text_ostream_backend>;
    auto backend = boost::make_shared<sinks::text_ostream_backend>();
    backend->add_stream(stream);
    backend->auto_flush(true);
    auto sink = boost::make_shared<Sink>(backend);
    sink->set_filter(severity_keyword >= level);
    set_format(*sink, style);
    logging::core::get()->add_sink(sink);
}

// A Boost.Log backend handing each record to an add_destination() function.
class DestinationBackend : public sinks::basic_sink_backend<sinks::synchronized_feeding> {
public:
    explicit DestinationBackend(Destination destination) : destination_(std::move(destination)) {}
    void consume(const logging::record_view& record) {
        destination_(logging::extract_or_default<Level>("Severity", record, Level::info),
                     logging::extract_or_default<std::string>("Message", record, std::string()));
    }

private:
    Destination destination_;
};

using FileSink = sinks::synchronous_sink<sinks::text_file_backend>;

// The file sink and what made it, so that reopen_file() can make another.
struct FileLog {
    std::mutex mutex;
    FileOptions options;
    Level level = Level::info;
    boost::shared_ptr<FileSink> sink;
};

FileLog& file_log() {
    static FileLog instance;
    return instance;
}

// What is wrong with a log file path that could not be opened, when the
// file system tells: ": it is a folder", ": its folder ... does not exist".
std::string why_not_writable(const std::filesystem::path& path) {
    std::error_code error;
    if (std::filesystem::is_directory(path, error)) return ": it is a folder";
    if (!std::filesystem::is_directory(path.parent_path(), error)) {
        return ": its folder '" + path.parent_path().string() + "' does not exist";
    }
    return {};
}

// Opens the file at once, so that a path that cannot be written fails the
// start rather than the first line.
boost::shared_ptr<FileSink> make_file_sink(const FileOptions& options, Level level) {
    namespace keywords = boost::log::keywords;
    const auto path = std::filesystem::absolute(options.path);
    {
        std::ofstream probe(path, std::ios::app);
        if (!probe) throw std::runtime_error("cannot open log file '" + options.path + "'" + why_not_writable(path));
    }
    const auto rotated = path.parent_path() / (path.filename().string() + ".%Y%m%d-%H%M%S.%N");
    auto backend = boost::make_shared<sinks::text_file_backend>(
        keywords::file_name = path.string(), keywords::target_file_name = rotated.string(),
        keywords::open_mode = std::ios::out | std::ios::app,
        keywords::rotation_size =
            options.rotate_size != 0 ? options.rotate_size : std::numeric_limits<std::uintmax_t>::max(),
        // A stop is not a reason to rotate: the next start appends.
        keywords::enable_final_rotation = false);
    switch (options.rotate_every) {
    case Rotation::never: break;
    case Rotation::hourly:
        backend->set_time_based_rotation(sinks::file::rotation_at_time_interval(boost::posix_time::hours(1)));
        break;
    case Rotation::daily: backend->set_time_based_rotation(sinks::file::rotation_at_time_point(0, 0, 0)); break;
    }
    backend->set_file_collector(sinks::file::make_collector(keywords::target = path.parent_path().string(),
                                                            keywords::max_files = options.keep));
    // The files an earlier run rotated count against `keep` too.
    backend->scan_for_files(sinks::file::scan_matching, true);
    backend->auto_flush(true);
    auto sink = boost::make_shared<FileSink>(backend);
    sink->set_filter(severity_keyword >= level);
    set_format(*sink, Style::timestamped);
    return sink;
}

}  // namespace

std::string printable(std::string_view text) {
    std::string shown;
    shown.reserve(text.size());
    while (!text.empty()) {
        const std::size_t length = printable_sequence(text);
        if (length > 0) {
            shown.append(text.substr(0, length));
            text.remove_prefix(length);
            continue;
        }
        const auto byte = static_cast<unsigned char>(text.front());
        char escaped[5];
        std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
        shown += byte == '\n' ? "\\n" : byte == '\t' ? "\\t" : byte == '\r' ? "\\r" : escaped;
        text.remove_prefix(1);
    }
    return shown;
}

std::ostream& operator<<(std::ostream& out, Level level) { return out << name_of(level); }

bool parse_level(const std::string& text, Level& level) {
    for (auto candidate : {Level::trace, Level::debug, Level::info, Level::warning, Level::error, Level::fatal}) {
        if (text == name_of(candidate)) {
            level = candidate;
            return true;
        }
    }
    return false;
}

void init(Level level, const FileOptions& file) {
    logging::core::get()->remove_all_sinks();
    logging::add_common_attributes();
    add_stream(boost::shared_ptr<std::ostream>(&std::clog, boost::null_deleter()), level,
               platform::standard_error_is_journal() ? Style::journal : Style::timestamped);
    auto& log = file_log();
    std::lock_guard<std::mutex> lock(log.mutex);
    log.sink.reset();
    if (file.path.empty()) return;
    log.options = file;
    log.level = level;
    log.sink = make_file_sink(file, level);
    logging::core::get()->add_sink(log.sink);
}

void init(Level level, const std::string& file) {
    FileOptions options;
    options.path = file;
    init(level, options);
}

void add_destination(Level level, Destination destination) {
    auto sink = boost::make_shared<sinks::synchronous_sink<DestinationBackend>>(
        boost::make_shared<DestinationBackend>(std::move(destination)));
    sink->set_filter(severity_keyword >= level);
    logging::core::get()->add_sink(sink);
}

// The new sink goes in before the old one goes out, so that no line is lost
// (one logged in between may land in both files).
void reopen_file() {
    auto& log = file_log();
    std::lock_guard<std::mutex> lock(log.mutex);
    if (!log.sink) return;
    auto fresh = make_file_sink(log.options, log.level);
    logging::core::get()->add_sink(fresh);
    logging::core::get()->remove_sink(log.sink);
    log.sink = fresh;
}

void write(Level level, const std::string& message) { BOOST_LOG_SEV(logger(), level) << printable(message); }

}  // namespace shmq::log
