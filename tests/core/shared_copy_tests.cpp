// copy_from_shared and copy_to_shared (common/shared_copy.hpp) copy exactly
// `size` bytes between a private buffer at any alignment and a slot's
// 8-byte-aligned payload, for every size a copy before the take handles,
// across the 16-byte steps of the copy out and its 8-byte words, and write
// nothing around the private bytes.
#define BOOST_TEST_MODULE shared_copy_tests
#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "common/shared_copy.hpp"

namespace {

constexpr std::size_t guard = 64;      // bytes checked untouched on either side
constexpr std::size_t largest = 512;   // QueueRing::copy_first_limit

std::vector<std::byte> pattern(std::size_t size, unsigned seed) {
    std::vector<std::byte> bytes(size);
    for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::byte>((i * 131 + seed) % 251);
    return bytes;
}

// A slot's payload: 8-byte aligned, with room for the size rounded up to 8.
struct SharedPayload {
    explicit SharedPayload(std::size_t size, unsigned seed) : words((size + 7) / 8 + 1) {
        const auto bytes = pattern(words.size() * 8, seed);
        std::memcpy(words.data(), bytes.data(), bytes.size());
    }
    std::byte* data() { return reinterpret_cast<std::byte*>(words.data()); }
    std::vector<std::uint64_t> words;
};

bool untouched_around(const std::vector<std::byte>& now, const std::vector<std::byte>& before, std::size_t from,
                      std::size_t size) {
    for (std::size_t i = 0; i < now.size(); ++i) {
        if ((i < from || i >= from + size) && now[i] != before[i]) return false;
    }
    return true;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_copy_out_gets_exactly_its_bytes_at_every_size_and_alignment) {
    for (std::size_t size = 0; size <= largest; ++size) {
        for (const std::size_t to_offset : {0, 1, 8, 13}) {
            BOOST_TEST_INFO("size " << size << ", to +" << to_offset);
            SharedPayload shared(size, 7);
            auto target = pattern(size + to_offset + 2 * guard, 99);
            const auto before = target;
            std::byte* to = target.data() + guard + to_offset;
            shmq::copy_from_shared(to, shared.data(), size);
            BOOST_TEST(std::memcmp(to, shared.data(), size) == 0);
            BOOST_TEST(untouched_around(target, before, guard + to_offset, size));
        }
    }
}

BOOST_AUTO_TEST_CASE(a_copy_in_puts_exactly_its_bytes_in_the_slot_at_every_size_and_alignment) {
    for (std::size_t size = 0; size <= largest; ++size) {
        for (const std::size_t from_offset : {0, 1, 8, 13}) {
            BOOST_TEST_INFO("size " << size << ", from +" << from_offset);
            const auto source = pattern(size + from_offset + guard, 3);
            SharedPayload shared(size, 55);
            shmq::copy_to_shared(shared.data(), source.data() + from_offset, size);
            BOOST_TEST(std::memcmp(shared.data(), source.data() + from_offset, size) == 0);
        }
    }
}
