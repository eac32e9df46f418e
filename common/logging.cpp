#include "common/logging.hpp"

#include <boost/core/null_deleter.hpp>
#include <boost/log/core.hpp>
#include <boost/log/expressions.hpp>
#include <boost/log/sinks/sync_frontend.hpp>
#include <boost/log/sinks/text_ostream_backend.hpp>
#include <boost/log/sources/record_ostream.hpp>
#include <boost/log/sources/severity_logger.hpp>
#include <boost/log/support/date_time.hpp>
#include <boost/log/utility/setup/common_attributes.hpp>
#include <boost/shared_ptr.hpp>
#include <boost/make_shared.hpp>
#include <fstream>
#include <iostream>
#include <stdexcept>

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

logging::sources::severity_logger_mt<Level>& logger() {
    static logging::sources::severity_logger_mt<Level> instance;
    return instance;
}

void add_stream(boost::shared_ptr<std::ostream> stream, Level level) {
    using Sink = sinks::synchronous_sink<sinks::text_ostream_backend>;
    auto backend = boost::make_shared<sinks::text_ostream_backend>();
    backend->add_stream(stream);
    backend->auto_flush(true);
    auto sink = boost::make_shared<Sink>(backend);
    sink->set_filter(severity_keyword >= level);
    sink->set_formatter(expr::stream << expr::format_date_time<boost::posix_time::ptime>("TimeStamp", "%Y-%m-%d %H:%M:%S.%f")
                                     << " [" << expr::attr<Level>("Severity") << "] " << expr::smessage);
    logging::core::get()->add_sink(sink);
}

}  // namespace

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

void init(Level level, const std::string& file) {
    logging::core::get()->remove_all_sinks();
    logging::add_common_attributes();
    add_stream(boost::shared_ptr<std::ostream>(&std::clog, boost::null_deleter()), level);
    if (!file.empty()) {
        auto stream = boost::make_shared<std::ofstream>(file, std::ios::app);
        if (!*stream) throw std::runtime_error("cannot open log file '" + file + "'");
        add_stream(stream, level);
    }
}

void write(Level level, const std::string& message) { BOOST_LOG_SEV(logger(), level) << message; }

}  // namespace shmq::log
