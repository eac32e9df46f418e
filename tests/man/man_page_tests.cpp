// The man pages and --help must not contradict each other: every option a
// program's --help (and each shmq command's --help) prints is documented in
// its man page, every command `shmq --help` lists is, and every key of the
// example configuration is in shmqd.conf(5). The pages are real: scdoc
// generated them into the build tree.
#define BOOST_TEST_MODULE man_pages
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/files.hpp"
#include "tests/support/programs.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path source_dir = SHMQ_SOURCE_DIR;
const fs::path binary_dir = SHMQ_BINARY_DIR;

using shmq::test::read_existing_file;

// What `command` prints on standard output.
std::string output_of(const std::vector<std::string>& command) { return shmq::test::run_program(command).out; }

std::set<std::string> long_options_in(const std::string& help) {
    std::set<std::string> options;
    const std::regex option(R"(--[a-z][a-z-]*)");
    for (auto it = std::sregex_iterator(help.begin(), help.end(), option); it != std::sregex_iterator(); ++it) {
        options.insert(it->str());
    }
    return options;
}

// The page's scdoc source: options appear there as *--name*.
std::string page_source(const std::string& page) { return read_existing_file(source_dir / "docs/man" / (page + ".scd")); }

void check_documented(const std::string& help, const std::string& page, const std::string& what) {
    const auto source = page_source(page);
    for (const auto& option : long_options_in(help)) {
        BOOST_TEST(source.find("*" + option + "*") != std::string::npos, what << " has " << option << ", " << page
                                                                                 << " does not document it");
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_pages_were_generated) {
    for (const char* page : {"shmqd.8", "shmq.1", "shmqd.conf.5", "shmq-bridge.8"}) {
        const auto text = read_existing_file(binary_dir / "man" / page);
        BOOST_TEST(text.find(".TH") != std::string::npos, page << " is not a man page");
    }
}

BOOST_AUTO_TEST_CASE(every_shmqd_option_is_in_shmqd_8) {
    check_documented(output_of({(binary_dir / "daemon/shmqd").string(), "--help"}), "shmqd.8", "shmqd --help");
}

#ifdef SHMQ_HAVE_BRIDGE
BOOST_AUTO_TEST_CASE(every_shmq_bridge_option_is_in_shmq_bridge_8) {
    check_documented(output_of({(binary_dir / "bridge/shmq-bridge").string(), "--help"}), "shmq-bridge.8",
                     "shmq-bridge --help");
}

BOOST_AUTO_TEST_CASE(every_key_of_the_example_bridge_configuration_is_in_shmq_bridge_8) {
    const auto example = read_existing_file(source_dir / "examples/shmq-bridge.yaml");
    const auto source = page_source("shmq-bridge.8");
    // "  key: value" and "  # key: value" (keys shown commented out), and "- name:".
    const std::regex key(R"((?:^|\n)[ \t-]*#?[ \t]*([a-z_]+):[ \t\n])");
    std::set<std::string> keys;
    for (auto it = std::sregex_iterator(example.begin(), example.end(), key); it != std::sregex_iterator(); ++it) {
        keys.insert((*it)[1]);
    }
    BOOST_TEST(keys.size() >= 20u);
    for (const auto& name : keys) {
        BOOST_TEST(source.find("*" + name + "*") != std::string::npos, "key " << name << " is not in shmq-bridge.8");
    }
}
#endif

BOOST_AUTO_TEST_CASE(every_shmq_command_and_option_is_in_shmq_1) {
    const std::string shmq = binary_dir.string() + "/cli/shmq";
    const auto help = output_of({shmq, "--help"});
    check_documented(help, "shmq.1", "shmq --help");
    // The commands are the first word of the lines under "Commands:".
    const auto commands_at = help.find("Commands:\n");
    BOOST_TEST_REQUIRE(commands_at != std::string::npos);
    std::istringstream lines(help.substr(commands_at + 10));
    const auto source = page_source("shmq.1");
    int commands = 0;
    for (std::string line; std::getline(lines, line) && line.rfind("  ", 0) == 0;) {
        std::istringstream words(line);
        std::string command;
        words >> command;
        ++commands;
        BOOST_TEST(source.find("*" + command + "*") != std::string::npos, "command " << command << " is not in shmq.1");
        check_documented(output_of({shmq, command, "--help"}), "shmq.1", "shmq " + command + " --help");
    }
    BOOST_TEST(commands >= 9);
}

BOOST_AUTO_TEST_CASE(every_configuration_key_is_in_shmqd_conf_5) {
    const auto example = read_existing_file(source_dir / "examples/shmqd.yaml");
    const auto source = page_source("shmqd.conf.5");
    // "  key: value" and "  # key: value" (keys shown commented out), and "- name:".
    const std::regex key(R"((?:^|\n)[ \t-]*#?[ \t]*([a-z_]+):[ \t])");
    std::set<std::string> keys;
    for (auto it = std::sregex_iterator(example.begin(), example.end(), key); it != std::sregex_iterator(); ++it) {
        keys.insert((*it)[1]);
    }
    BOOST_TEST(keys.size() >= 15u);
    for (const auto& name : keys) {
        BOOST_TEST(source.find("*" + name + "*") != std::string::npos, "key " << name << " is not in shmqd.conf.5");
    }
}
