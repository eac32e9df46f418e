#include "bridge/logging.hpp"

#include <boost/log/core.hpp>
#include <boost/log/expressions.hpp>
#include <boost/log/sources/record_ostream.hpp>
#include <boost/log/sources/severity_logger.hpp>
#include <boost/log/support/date_time.hpp>
#include <boost/log/utility/setup/common_attributes.hpp>
#include <boost/log/utility/setup/console.hpp>
#include <iostream>

#include "platform/journal.hpp"

namespace shmq::bridge::log {

std::ostream& operator<<(std::ostream& out, Level level);

namespace {

BOOST_LOG_ATTRIBUTE_KEYWORD(severity, "Severity", Level)


namespace logging = boost::log;
namespace expr = boost::log::expressions;

const char* name_of(Level level) {
    switch (level) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warning: return "warning";
    case Level::error: return "error";
    }
    return "?";
}

logging::sources::severity_logger_mt<Level>& logger() {
    static logging::sources::severity_logger_mt<Level> instance;
    return instance;
}

// The journal's priority prefix (sd-daemon(3)): err, warning, info, debug.
int priority_of(Level level) {
    switch (level) {
    case Level::debug: return 7;
    case Level::info: return 6;
    case Level::warning: return 4;
    case Level::error: return 3;
    }
    return 6;
}

}  // namespace

std::ostream& operator<<(std::ostream& out, Level level) { return out << name_of(level); }

bool parse_level(const std::string& text, Level& level) {
    for (auto candidate : {Level::debug, Level::info, Level::warning, Level::error}) {
        if (text == name_of(candidate)) {
            level = candidate;
            return true;
        }
    }
    return false;
}

void init(Level level) {
    logging::add_common_attributes();
    logging::core::get()->set_filter(severity >= level);
    if (platform::standard_error_is_journal()) {
        // The journal stamps lines itself; a "<N>" prefix gives it the priority.
        logging::add_console_log(
            std::clog,
            logging::keywords::format = (expr::stream << '<' << expr::attr<int>("Priority") << ">[" << severity << "] "
                                                      << expr::smessage),
            logging::keywords::auto_flush = true);
        return;
    }
    logging::add_console_log(std::clog, logging::keywords::format =
                                            (expr::stream << expr::format_date_time<boost::posix_time::ptime>(
                                                                 "TimeStamp", "%Y-%m-%d %H:%M:%S.%f")
                                                          << " [" << severity << "] "
                                                          << expr::smessage),
                             logging::keywords::auto_flush = true);
}

void write(Level level, const std::string& message) {
    logging::record record = logger().open_record(logging::keywords::severity = level);
    if (!record) return;
    record.attribute_values().insert("Priority", logging::attributes::make_attribute_value(priority_of(level)));
    logging::record_ostream stream(record);
    stream << message;
    stream.flush();
    logger().push_record(std::move(record));
}

}  // namespace shmq::bridge::log
