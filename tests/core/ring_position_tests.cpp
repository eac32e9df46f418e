// RingPositions: the slot index and lap of a ring position, worked out once
// per ring, must agree with plain division for every capacity a queue or a
// topic may have (any from 1 up, powers of two or not) and every position,
// up to the largest a 64-bit counter reaches.
#define BOOST_TEST_MODULE ring_position_tests
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <limits>
#include <vector>

#include "common/ring_position.hpp"

using shmq::RingPositions;

BOOST_AUTO_TEST_CASE(index_and_lap_agree_with_division_for_every_kind_of_capacity) {
    const std::vector<std::uint64_t> capacities = {1,   2,    3,         5,         6,          7,          8,
                                                   64,  100,  1u << 20,  (1u << 20) + 1, 4294967295u, 4294967296u};
    const std::uint64_t top = std::numeric_limits<std::uint64_t>::max();
    for (const auto capacity : capacities) {
        const RingPositions positions(capacity);
        std::vector<std::uint64_t> samples = {0, 1, capacity - 1, capacity, capacity + 1, 3 * capacity + 2,
                                              top / 2, top - capacity, top - 1, top};
        for (std::uint64_t position = 0; position < 4 * capacity && position < 1000; ++position) {
            samples.push_back(position);
        }
        for (const auto position : samples) {
            BOOST_TEST_INFO("capacity " << capacity << ", position " << position);
            BOOST_TEST(positions.index(position) == position % capacity);
            BOOST_TEST(positions.lap(position) == position / capacity);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_default_ring_has_one_slot) {
    const RingPositions positions;
    BOOST_TEST(positions.index(12345) == 0u);
    BOOST_TEST(positions.lap(12345) == 12345u);
}
