// The subcommands of `shmq`. Each takes the arguments that followed its name
// and the broker named before it (or the default), and returns the process's
// exit code, having reported any error itself.
#pragma once

#include <string>
#include <vector>

namespace shmq::cli {

using Arguments = std::vector<std::string>;

int run_publish(const Arguments& arguments, const std::string& broker);
int run_consume(const Arguments& arguments, const std::string& broker);
int run_subscribe(const Arguments& arguments, const std::string& broker);
int run_list(const Arguments& arguments, const std::string& broker);
int run_stats(const Arguments& arguments, const std::string& broker);
int run_health(const Arguments& arguments, const std::string& broker);
int run_peek(const Arguments& arguments, const std::string& broker);
int run_purge(const Arguments& arguments, const std::string& broker);
int run_move(const Arguments& arguments, const std::string& broker);
int run_top(const Arguments& arguments, const std::string& broker);
int run_reload(const Arguments& arguments, const std::string& broker);

}  // namespace shmq::cli
