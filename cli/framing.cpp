#include "cli/framing.hpp"

#include <istream>
#include <ostream>

namespace shmq::cli {

std::istream& operator>>(std::istream& in, Framing& framing) {
    std::string text;
    in >> text;
    if (text == "lines") {
        framing = Framing::lines;
    } else if (text == "length") {
        framing = Framing::length;
    } else if (text == "json") {
        framing = Framing::json;
    } else {
        throw po::validation_error(po::validation_error::invalid_option_value, "framing", text);
    }
    return in;
}

std::ostream& operator<<(std::ostream& out, Framing framing) {
    switch (framing) {
    case Framing::lines: return out << "lines";
    case Framing::length: return out << "length";
    case Framing::json: return out << "json";
    }
    return out;
}

void add_framing_option(SubcommandParser& parser, bool reading) {
    parser.add_options()
        ("framing", po::value<Framing>()->default_value(Framing::lines)->value_name("lines|length|json"),
         reading ? "how standard input holds the messages: lines (one per line), length (each a 4-byte big-endian "
                   "length, then its bytes), json (one {\"data\":\"BASE64\"} object per line); length and json "
                   "carry any bytes, newlines included"
                 : "how messages are printed: lines (one per line), length (each as a 4-byte big-endian length, "
                   "then its bytes), json (one {\"data\":\"BASE64\"} object per line); length and json carry any "
                   "bytes, newlines included");
}

Framing framing_of(const po::variables_map& variables) { return variables["framing"].as<Framing>(); }

}  // namespace shmq::cli
