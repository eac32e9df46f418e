// Runs shmq_torture as CI does: about a minute, 200 client kills, 5 broker kills.
#define BOOST_TEST_MODULE torture_tests
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <string>
#include <sys/wait.h>

BOOST_AUTO_TEST_CASE(two_hundred_client_kills_and_five_broker_kills_lose_nothing_acknowledged) {
    const std::string command = SHMQ_BINARY_DIR "/tests/torture/shmq_torture --duration 45 --client-kills 200 "
                                                "--broker-kills 5 2>&1";
    FILE* output = ::popen(command.c_str(), "r");
    BOOST_TEST_REQUIRE(output != nullptr);
    std::string text;
    char buffer[4096];
    while (std::fgets(buffer, sizeof buffer, output) != nullptr) text += buffer;
    const int status = ::pclose(output);
    BOOST_TEST_MESSAGE(text);
    BOOST_TEST(WIFEXITED(status));
    BOOST_TEST(WEXITSTATUS(status) == 0, text);
    BOOST_TEST(text.find("PASSED") != std::string::npos, text);
}
