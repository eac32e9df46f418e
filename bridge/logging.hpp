// The bridge's log, through Boost.Log, to stderr (the journal under systemd).
// Its own small setup: the broker's (common/logging) is below the public API
// that the bridge is restricted to.
#pragma once

#include <sstream>
#include <string>

namespace shmq::bridge::log {

enum class Level { debug, info, warning, error };

bool parse_level(const std::string& text, Level& level);
void init(Level level);
void write(Level level, const std::string& message);

class Line {
public:
    explicit Line(Level level) : level_(level) {}
    ~Line() { write(level_, stream_.str()); }
    Line(const Line&) = delete;
    Line& operator=(const Line&) = delete;
    std::ostringstream& stream() { return stream_; }

private:
    Level level_;
    std::ostringstream stream_;
};

}  // namespace shmq::bridge::log

// BRIDGE_LOG(info) << "route " << name << " started";
#define BRIDGE_LOG(severity) ::shmq::bridge::log::Line(::shmq::bridge::log::Level::severity).stream()
