#include "common/access_listing.hpp"

#include <cstring>

#include "common/names.hpp"

namespace shmq {

namespace {

// A fixed-size field holds a string when a NUL ends it inside the field.
bool string_in(const char* field, std::size_t capacity, std::string& text) {
    const auto length = strnlen(field, capacity);
    if (length == capacity) return false;
    text.assign(field, length);
    return true;
}

}  // namespace

const AccessListing::Entry* AccessListing::find(std::string_view name, bool topic) const {
    for (const auto& entry : entries) {
        if (entry.topic == topic && entry.name == name) return &entry;
    }
    return nullptr;
}

std::string access_group_problem(std::string_view group) {
    if (group.empty()) return "is empty";
    if (group.size() > 32) return "is longer than 32 characters";
    if (group.front() == '.' || group.front() == '-') return "starts with '.' or '-'";
    for (const char c : group) {
        const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                             c == '.' || c == '-';
        if (!allowed) return "holds a character other than letters, digits, '_', '.' and '-'";
    }
    return {};
}

std::string access_segment_path(const std::string& main_path, const std::string& group) {
    return main_path + ".access-" + group;
}

bool read_access_listing(const layout::AccessTable& shared, AccessListing& listing, std::string& why) {
    layout::AccessTable table;
    std::memcpy(&table, &shared, sizeof table);
    listing = AccessListing{};
    if (table.group_count > layout::max_access_segments || table.entry_count > layout::max_restricted) {
        why = "its list of restricted queues is out of range";
        return false;
    }
    for (std::uint32_t index = 0; index < table.group_count; ++index) {
        std::string group;
        if (!string_in(table.groups[index], sizeof table.groups[index], group) || !access_group_problem(group).empty()) {
            why = "its list of restricted queues names access group #" + std::to_string(index) + " wrongly";
            return false;
        }
        listing.groups.push_back(std::move(group));
    }
    for (std::uint32_t index = 0; index < table.entry_count; ++index) {
        const auto& entry = table.entries[index];
        AccessListing::Entry checked;
        if (!string_in(entry.name, sizeof entry.name, checked.name) || !name_problem(checked.name).empty() ||
            entry.segment >= table.group_count || entry.is_topic > 1) {
            why = "its list of restricted queues has a wrong entry #" + std::to_string(index);
            return false;
        }
        checked.topic = entry.is_topic != 0;
        checked.group = entry.segment;
        listing.entries.push_back(std::move(checked));
    }
    return true;
}

void write_access_listing(const AccessListing& listing, layout::AccessTable& table) {
    std::memset(&table, 0, sizeof table);
    table.group_count = static_cast<std::uint32_t>(listing.groups.size());
    table.entry_count = static_cast<std::uint32_t>(listing.entries.size());
    for (std::size_t index = 0; index < listing.groups.size(); ++index) {
        std::memcpy(table.groups[index], listing.groups[index].data(), listing.groups[index].size());
    }
    for (std::size_t index = 0; index < listing.entries.size(); ++index) {
        const auto& entry = listing.entries[index];
        std::memcpy(table.entries[index].name, entry.name.data(), entry.name.size());
        table.entries[index].is_topic = entry.topic ? 1 : 0;
        table.entries[index].segment = static_cast<std::uint8_t>(entry.group);
    }
}

}  // namespace shmq
