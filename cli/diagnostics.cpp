#include "cli/diagnostics.hpp"

#include <iostream>

namespace shmq::cli {

int report_error(int code, const std::string& message) {
    std::cerr << "shmq: " << message << std::endl;
    return code;
}

std::string status_text(Status status) {
    return std::string(to_string(status)) + " (" + describe(status) + ")";
}

}  // namespace shmq::cli
