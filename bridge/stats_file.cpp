#include "bridge/stats_file.hpp"

#include <filesystem>
#include <fstream>

namespace shmq::bridge {

bool write_stats_file(const std::string& path, const std::vector<const RouteCounters*>& routes, std::string& error) {
    const std::string aside = path + ".new";
    {
        std::ofstream out(aside, std::ios::trunc);
        out << prometheus_text(routes);
        out.close();
        if (!out) {
            error = "cannot write " + aside;
            return false;
        }
    }
    std::error_code failure;
    std::filesystem::rename(aside, path, failure);
    if (failure) {
        error = "cannot rename " + aside + " to " + path + ": " + failure.message();
        return false;
    }
    return true;
}

}  // namespace shmq::bridge
