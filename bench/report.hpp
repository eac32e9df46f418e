// The benchmark's output files, all in one directory:
//   results.json       one record per transport, mode, payload size and metric
//   results.md         the tables, each figure's ratio to the limit ring and
//                      to Boost's message_queue, and the targets
//   machine.txt        what it ran on
//   latency_<size>.dat, throughput.dat   the data bench/plot.gp draws
#pragma once

#include <string>

#include "bench/results.hpp"

namespace shmq::bench {

void write_reports(const Results& results, const std::string& directory);

}  // namespace shmq::bench
