// How the benchmark's report pairs figures (bench/results.hpp): a shmq
// figure is compared with the limit ring run beside it when there is one,
// repeat by repeat, and repeats that were disturbed or unsteady are set
// aside while others remain. Plain values in, no process run: what the
// smoke test cannot pin down, as its runs time a real machine.
#define BOOST_TEST_MODULE bench_results_tests
#include <boost/test/unit_test.hpp>

#include "bench/results.hpp"

using namespace shmq::bench;

namespace {

FigureKey key(const std::string& transport, const std::string& mode, const std::string& metric) {
    return {"round_trip", transport, mode, "1x1", 64, metric};
}

void add(Results& results, const FigureKey& key, std::vector<double> repeats, std::vector<bool> unsteady = {}) {
    Figure& figure = results.figure(key, "µs", false);
    figure.others_share.assign(repeats.size(), 0.0);
    figure.unsteady = unsteady.empty() ? std::vector<bool>(repeats.size(), false) : unsteady;
    figure.repeats = std::move(repeats);
}

const FigureKey shmq_p50 = key("shmq", "spin_then_block", "p50_us");
const FigureKey beside_p50 = key("shmq", "spin_then_block", beside_limit_metric("p50_us"));
const FigureKey ring_p50 = key(limit_transport, limit_mode, "p50_us");
const FigureKey boost_p50 = key(boost_transport, boost_mode, "p50_us");

}  // namespace

BOOST_AUTO_TEST_CASE(the_limit_ring_run_beside_a_figure_is_its_reference) {
    Results results;
    add(results, shmq_p50, {0.35, 0.93, 0.34});
    add(results, beside_p50, {0.27, 0.78, 0.27});
    // The ring's own runs, made minutes away in the other phase.
    add(results, ring_p50, {0.78, 0.27, 0.78});
    const Figure* reference = results.reference(shmq_p50, ring_p50);
    BOOST_REQUIRE(reference != nullptr);
    BOOST_TEST(reference->key.metric == beside_limit_metric("p50_us"));
    // The median of 0.35 / 0.27, 0.93 / 0.78 and 0.34 / 0.27; against the
    // ring's own runs it would have read 0.45, 3.4 and 0.44.
    const double ratio = paired_ratio(*results.find(shmq_p50), *reference);
    BOOST_TEST(ratio == 0.34 / 0.27, boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(without_a_run_beside_it_the_ring_s_own_figure_is_the_reference) {
    Results results;
    add(results, shmq_p50, {0.35});
    add(results, ring_p50, {0.27});
    const Figure* reference = results.reference(shmq_p50, ring_p50);
    BOOST_REQUIRE(reference != nullptr);
    BOOST_TEST(reference->key.transport == limit_transport);
    // Nothing to compare with at all.
    BOOST_TEST(results.reference(shmq_p50, key(limit_transport, limit_mode, "p99_us")) == nullptr);
}

BOOST_AUTO_TEST_CASE(a_figure_is_compared_with_another_peer_s_own_figure) {
    Results results;
    add(results, shmq_p50, {0.35});
    add(results, beside_p50, {0.27});
    add(results, boost_p50, {19.0});
    const Figure* reference = results.reference(shmq_p50, boost_p50);
    BOOST_REQUIRE(reference != nullptr);
    BOOST_TEST(reference->key.transport == boost_transport);
}

BOOST_AUTO_TEST_CASE(an_unsteady_repeat_is_set_aside_while_steady_ones_remain) {
    Results results;
    // Repeat 2 straddled a phase change: the ring ran at 0.27 and 0.78
    // around it, and shmq's figure is no evidence either way.
    add(results, shmq_p50, {0.35, 0.93, 0.36}, {false, true, false});
    add(results, beside_p50, {0.27, 0.52, 0.27}, {false, true, false});
    const Figure& shmq = *results.find(shmq_p50);
    BOOST_TEST(shmq.set_aside(1));
    BOOST_TEST(!shmq.set_aside(0));
    BOOST_TEST(shmq.summarized() == 2u);
    BOOST_TEST(shmq.summary().median == (0.35 + 0.36) / 2, boost::test_tools::tolerance(1e-9));
    const double ratio = paired_ratio(shmq, *results.reference(shmq_p50, ring_p50));
    BOOST_TEST(ratio == (0.35 / 0.27 + 0.36 / 0.27) / 2, boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(when_every_repeat_is_unsteady_all_of_them_count) {
    Results results;
    add(results, shmq_p50, {0.35, 0.93}, {true, true});
    add(results, beside_p50, {0.5, 0.5}, {true, true});
    const Figure& shmq = *results.find(shmq_p50);
    BOOST_TEST(shmq.summarized() == 0u);
    BOOST_TEST(shmq.summary().median == (0.35 + 0.93) / 2, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(paired_ratio(shmq, *results.find(beside_p50)) == (0.7 + 1.86) / 2,
               boost::test_tools::tolerance(1e-9));
}
