// shmqd's options for its log file: where, when it rotates, how many rotated
// files are kept. Apart from main.cpp so that the parsing of sizes and
// intervals can be read (and changed) on its own.
#pragma once

#include <boost/program_options.hpp>

#include "common/logging.hpp"

namespace shmq::daemon {

// --log-file, --log-rotate-size, --log-rotate-every, --log-keep.
void add_log_file_options(boost::program_options::options_description& options);

// The log file the parsed arguments ask for. Throws
// boost::program_options::validation_error for a value it cannot read.
log::FileOptions log_file_options(const boost::program_options::variables_map& arguments);

}  // namespace shmq::daemon
