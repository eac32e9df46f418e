// The layering rules of the source tree (README, "Layout"), checked on every
// #include of every source file, so that a change that crosses a layer fails
// the suite instead of waiting for a reviewer:
//  - no operating-system header outside platform/: the product's code
//    includes the C and C++ standard libraries, Boost and yaml-cpp only, and
//    a second platform is a matter of adding files under platform/;
//  - each folder includes only the folders below it (nothing includes upward);
//  - the command-line tool and shmq-bridge use the public API (and the
//    platform layer for their own few OS needs), never the library's internals.
#define BOOST_TEST_MODULE layering
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Include {
    fs::path file;  // relative to the source tree
    int line;
    std::string target;
    bool angled;
};

const fs::path source_dir = SHMQ_SOURCE_DIR;

bool is_source(const fs::path& path) {
    const auto extension = path.extension().string();
    return extension == ".cpp" || extension == ".hpp" || extension == ".h" || extension == ".c";
}

std::vector<Include> includes_under(const std::string& folder) {
    std::vector<Include> found;
    const std::regex directive(R"(^\s*#\s*include\s*([<"])([^>"]+)[>"])");
    for (const auto& entry : fs::recursive_directory_iterator(source_dir / folder)) {
        if (!entry.is_regular_file() || !is_source(entry.path())) continue;
        std::ifstream in(entry.path());
        std::string text;
        for (int line = 1; std::getline(in, text); ++line) {
            std::smatch match;
            if (std::regex_search(text, match, directive)) {
                found.push_back({fs::relative(entry.path(), source_dir), line, match[2], match[1] == "<"});
            }
        }
    }
    BOOST_TEST_REQUIRE(!found.empty(), "no #include found under " << folder << ": is SHMQ_SOURCE_DIR right?");
    return found;
}

std::string where(const Include& include) {
    return include.file.string() + ":" + std::to_string(include.line) + ": #include " +
           (include.angled ? "<" + include.target + ">" : "\"" + include.target + "\"");
}

// The C headers the C standard itself defines (C++ code uses them as <cX>;
// these are the spellings C allows too).
const std::set<std::string> c_standard_headers = {
    "assert.h", "ctype.h", "errno.h", "float.h", "inttypes.h", "limits.h", "locale.h", "math.h",
    "setjmp.h", "signal.h", "stdarg.h", "stdbool.h", "stddef.h", "stdint.h", "stdio.h", "stdlib.h",
    "string.h", "time.h", "wchar.h"};

// What the product's code may include with <>: the standard libraries (C++
// headers have no extension), the portable libraries it builds on (Boost,
// yaml-cpp, nlohmann-json, and nats.c, which the bridge uses and which runs
// on every platform shmq targets), and two x86 compiler headers, which no
// operating system provides: the pause intrinsic and the CPU's feature bits.
bool portable(const std::string& header) {
    if (header.find('.') == std::string::npos && header.find('/') == std::string::npos) return true;
    for (const char* library : {"boost/", "yaml-cpp/", "nlohmann/", "nats/"}) {
        if (header.rfind(library, 0) == 0) return true;
    }
    return c_standard_headers.count(header) != 0 || header == "immintrin.h" || header == "cpuid.h";
}

// The project folder a quoted include names, or "" for a file of the
// including folder itself or of a third-party library.
std::string layer_of(const Include& include) {
    const auto slash = include.target.find('/');
    if (slash == std::string::npos) return "";
    return include.target.substr(0, slash);
}

const std::vector<std::string> product_folders = {"platform", "common", "config", "client", "metrics", "daemon", "cli", "bridge"};

}  // namespace

BOOST_AUTO_TEST_CASE(no_operating_system_header_outside_platform) {
    for (const auto& folder : product_folders) {
        for (const auto& include : includes_under(folder)) {
            if (!include.angled) continue;
            const std::string file = include.file.string();
            const bool in_os_folder = file.rfind("platform/linux/", 0) == 0 || file.rfind("platform/windows/", 0) == 0;
            BOOST_TEST((in_os_folder || portable(include.target)),
                       where(include) << ": an operating-system header belongs in platform/<os>/");
        }
    }
}

BOOST_AUTO_TEST_CASE(nothing_includes_upward) {
    // What each folder may include besides itself ("shmq" is the public API,
    // client/include/shmq/).
    const std::map<std::string, std::set<std::string>> allowed = {
        {"platform", {"platform"}},
        // The public vocabulary (shmq/status.hpp, shmq/batch.hpp) is below common/.
        {"common", {"common", "shmq", "platform"}},
        {"config", {"config", "common", "platform"}},
        {"client", {"client", "shmq", "common", "platform"}},
        // The Prometheus text of shmq/stats.hpp: shared by the daemon and the CLI.
        {"metrics", {"metrics", "shmq"}},
        {"daemon", {"daemon", "config", "common", "metrics", "platform"}},
        {"cli", {"cli", "shmq", "metrics", "platform"}},
        // A separate daemon over the public API, as any application would be.
        {"bridge", {"bridge", "shmq", "platform"}},
        // The public headers, installed on their own: nothing internal.
        {"client/include/shmq", {"shmq"}},
    };
    const std::set<std::string> project_layers = {"platform", "common", "config", "client", "metrics",
                                                   "daemon", "cli", "bridge", "shmq"};
    for (const auto& [folder, may_include] : allowed) {
        for (const auto& include : includes_under(folder)) {
            if (include.angled) continue;
            const auto layer = layer_of(include);
            if (project_layers.count(layer) == 0) continue;
            BOOST_TEST(may_include.count(layer) == 1, where(include) << ": " << folder << "/ may not include " << layer
                                                                    << "/");
        }
    }
}
