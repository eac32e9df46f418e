// The out routes' PubAck parser: what JetStream answers (nats-server 2.9's
// forms), and that anything else is never read as a stored message.
#define BOOST_TEST_MODULE bridge_pub_ack_tests
#include <boost/test/unit_test.hpp>

#include "bridge/pub_ack.hpp"

using shmq::bridge::parse_pub_ack;
using shmq::bridge::PubAck;
using Kind = shmq::bridge::PubAck::Kind;

BOOST_AUTO_TEST_CASE(a_stored_message_gives_its_sequence) {
    const auto ack = parse_pub_ack(R"({"stream":"BENCH","seq":42})");
    BOOST_TEST((ack.kind == Kind::stored));
    BOOST_TEST(ack.sequence == 42u);
    BOOST_TEST(ack.positive());
    const auto spaced = parse_pub_ack(" {\n \"stream\" : \"S\" ,\t\"seq\": 18446744073709551615 } ");
    BOOST_TEST((spaced.kind == Kind::stored));
    BOOST_TEST(spaced.sequence == 18446744073709551615u);
}

BOOST_AUTO_TEST_CASE(a_duplicate_is_positive_and_said) {
    const auto ack = parse_pub_ack(R"({"stream":"S","seq":7,"duplicate":true})");
    BOOST_TEST((ack.kind == Kind::duplicate));
    BOOST_TEST(ack.sequence == 7u);
    BOOST_TEST(ack.positive());
    BOOST_TEST((parse_pub_ack(R"({"stream":"S","seq":7,"duplicate":false})").kind == Kind::stored));
}

BOOST_AUTO_TEST_CASE(members_a_newer_server_adds_are_ignored) {
    const auto ack = parse_pub_ack(
        R"({"stream":"S","domain":"hub","seq":3,"val":{"a":[1,-2.5e3,null,"x\"y"],"b":false},"extra":null})");
    BOOST_TEST((ack.kind == Kind::stored));
    BOOST_TEST(ack.sequence == 3u);
}

BOOST_AUTO_TEST_CASE(an_error_is_refused_with_its_codes_and_text) {
    const auto ack = parse_pub_ack(
        R"({"error":{"code":400,"err_code":10071,"description":"wrong last msg ID: \"a/1\"\u0021"}})");
    BOOST_TEST((ack.kind == Kind::refused));
    BOOST_TEST(!ack.positive());
    BOOST_TEST(ack.code == 400);
    BOOST_TEST(ack.err_code == 10071);
    BOOST_TEST(ack.description == "wrong last msg ID: \"a/1\"!");
    BOOST_TEST(shmq::bridge::failure_text(ack).find("10071") != std::string::npos);
    // An error wins over anything else the answer holds.
    BOOST_TEST((parse_pub_ack(R"({"stream":"S","seq":1,"error":{"code":503}})").kind == Kind::refused));
}

BOOST_AUTO_TEST_CASE(anything_else_is_malformed_never_positive) {
    const char* bad[] = {
        "",
        "{}",
        "null",
        "[]",
        R"({"stream":"S"})",                         // no sequence
        R"({"seq":1})",                              // no stream
        R"({"stream":"","seq":1})",                  // an empty stream name
        R"({"stream":"S","seq":0})",                 // JetStream's sequences start at 1
        R"({"stream":"S","seq":-1})",
        R"({"stream":"S","seq":1.5})",
        R"({"stream":"S","seq":1e3})",
        R"({"stream":"S","seq":01})",
        R"({"stream":"S","seq":"1"})",
        R"({"stream":"S","seq":18446744073709551616})",  // past 64 bits
        R"({"stream":"S","seq":1,"seq":2})",          // twice
        R"({"stream":"S","seq":1,"duplicate":1})",
        R"({"stream":"S","seq":1)",                  // cut short
        R"({"stream":"S","seq":1}x)",                // trailing bytes
        R"({"stream":"S","seq":1,})",
        R"({"stream":S,"seq":1})",
        "{\"stream\":\"S\x01\",\"seq\":1}",           // a control character in a string
        R"({"stream":"S\q","seq":1})",               // an unknown escape
        R"({"stream":"S","seq":1,"x":[1,2})",
        R"({"stream":"S","seq":1,"x":tru})",
        R"({"error":"no"})",
        R"({"error":{"code":400,)",
        R"({"stream":"S","seq":1,"x":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]})",  // deeper than any ack
    };
    for (const char* text : bad) {
        const auto ack = parse_pub_ack(text);
        BOOST_TEST((ack.kind == Kind::malformed), text);
        BOOST_TEST(!ack.positive(), text);
        BOOST_TEST(!ack.description.empty(), text);
    }
}
