#include "common/live_table.hpp"

namespace shmq {

std::string live_segment_path(const std::string& main_path, std::uint32_t generation) {
    return main_path + ".live-" + std::to_string(generation);
}

std::vector<std::uint32_t> read_live_generations(const layout::LiveTable& table) {
    auto count = table.count.load(std::memory_order_acquire);
    if (count > layout::max_live_segments) count = layout::max_live_segments;
    std::vector<std::uint32_t> generations;
    for (std::uint32_t index = 0; index < count; ++index) {
        const auto generation = table.generations[index].load(std::memory_order_relaxed);
        if (generation != 0) generations.push_back(generation);
    }
    return generations;
}

void write_live_generations(layout::LiveTable& table, const std::vector<std::uint32_t>& generations) {
    std::uint32_t index = 0;
    for (; index < generations.size() && index < layout::max_live_segments; ++index) {
        table.generations[index].store(generations[index], std::memory_order_relaxed);
    }
    table.count.store(index, std::memory_order_release);
}

}  // namespace shmq
