// How `shmq` writes messages to standard output and reads them from standard
// input (--framing):
//  - lines: one message per line, for people; a message holding a newline
//    comes out as two lines, so this is not for arbitrary bytes;
//  - length: each message as its length (4 bytes, big-endian) then its bytes:
//    binary-safe and compact, for programs;
//  - json: one JSON object per line, {"data":"BASE64"}: binary-safe and easy
//    for scripts (jq, Python).
#pragma once

#include <iosfwd>

#include "cli/subcommand_parser.hpp"

namespace shmq::cli {

enum class Framing { lines, length, json };

std::istream& operator>>(std::istream& in, Framing& framing);
std::ostream& operator<<(std::ostream& out, Framing framing);

// Declares --framing; `reading` says whether it frames standard input.
void add_framing_option(SubcommandParser& parser, bool reading);
Framing framing_of(const po::variables_map& variables);

}  // namespace shmq::cli
