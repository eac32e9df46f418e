#include "cli/receive_limits.hpp"

namespace shmq::cli {

void add_receive_options(SubcommandParser& parser) {
    parser.add_options()
        ("count", integer_at_least("count", 1)->value_name("N"),
         "stop after N messages; default: run until the timeout passes or the broker stops")
        ("timeout", integer_at_least("timeout", 0)->value_name("MS"),
         "give up when no message arrives for MS milliseconds (0: do not wait); default: wait as long as it takes");
    add_framing_option(parser, /*reading=*/false);
    parser.set_epilog("Exit status: 0 after N messages (--count), or when --timeout passed after at\n"
                      "least one message without --count (a drain); 3 when --timeout passed before the\n"
                      "first message, or before N were received if --count was given; 1 for any other\n"
                      "failure, e.g. the broker stopped; 2 for a usage error.");
}

ReceiveLimits receive_limits(const po::variables_map& variables) {
    ReceiveLimits limits{std::nullopt, timeout_option(variables, "timeout")};
    if (variables.count("count")) limits.count = variables["count"].as<std::int64_t>();
    return limits;
}

}  // namespace shmq::cli
