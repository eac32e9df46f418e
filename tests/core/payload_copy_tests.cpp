// copy_payload (common/payload_copy.hpp) copies exactly `size` bytes, at any
// alignment, on both sides of the size from which it copies by `rep movsb`
// (where the CPU has a fast string copy), and writes nothing around them.
#define BOOST_TEST_MODULE payload_copy_tests
#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/payload_copy.hpp"

using shmq::copy_payload;
using shmq::string_copy_threshold;

namespace {

constexpr std::size_t guard = 64;  // bytes checked untouched on either side

std::vector<std::byte> pattern(std::size_t size, unsigned seed) {
    std::vector<std::byte> bytes(size);
    for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::byte>((i * 131 + seed) % 251);
    return bytes;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_size_and_alignment_copies_exactly_its_bytes) {
    const std::vector<std::size_t> sizes = {0,
                                            1,
                                            63,
                                            4096,
                                            string_copy_threshold - 1,
                                            string_copy_threshold,
                                            string_copy_threshold + 1,
                                            (std::size_t{1} << 20) - 1,
                                            std::size_t{1} << 20,
                                            (std::size_t{1} << 20) + 13};
    for (const auto size : sizes) {
        for (const std::size_t from_offset : {0, 1, 8, 32}) {
            for (const std::size_t to_offset : {0, 3, 16, 32}) {
                BOOST_TEST_INFO("size " << size << ", from +" << from_offset << ", to +" << to_offset);
                const auto source = pattern(size + from_offset + guard, 7);
                auto target = pattern(size + to_offset + 2 * guard, 99);
                const auto before = target;
                std::byte* to = target.data() + guard + to_offset;
                copy_payload(to, source.data() + from_offset, size);
                bool same = true;
                for (std::size_t i = 0; i < size && same; ++i) same = to[i] == source[from_offset + i];
                BOOST_TEST(same);
                bool untouched = true;
                for (std::size_t i = 0; i < guard + to_offset; ++i) untouched = untouched && target[i] == before[i];
                for (std::size_t i = guard + to_offset + size; i < target.size(); ++i) {
                    untouched = untouched && target[i] == before[i];
                }
                BOOST_TEST(untouched);
            }
        }
    }
}
