#include "common/access_listing.hpp"

#include <algorithm>
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

bool extend_listing(const AccessListing& stored, const AccessListing& configured, AccessListing& extended) {
    const auto group_in = [](const std::vector<std::string>& groups, const std::string& group) {
        return static_cast<std::uint32_t>(std::find(groups.begin(), groups.end(), group) - groups.begin());
    };
    for (const auto& group : stored.groups) {
        if (group_in(configured.groups, group) == configured.groups.size()) return false;
    }
    for (const auto& entry : stored.entries) {
        const auto* wanted = configured.find(entry.name, entry.topic);
        if (wanted == nullptr || configured.groups[wanted->group] != stored.groups[entry.group]) return false;
    }
    extended = stored;
    for (const auto& group : configured.groups) {
        if (group_in(extended.groups, group) == extended.groups.size()) extended.groups.push_back(group);
    }
    for (const auto& entry : configured.entries) {
        if (stored.find(entry.name, entry.topic) != nullptr) continue;
        extended.entries.push_back({entry.name, entry.topic, group_in(extended.groups, configured.groups[entry.group])});
    }
    return true;
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
    // The counts first, with acquire, the entries' before the groups': the
    // broker appends groups, then entries, after `ready`, and publishes each
    // by its count, so what lies below the counts read is whole in the copy
    // taken after them, and every group an entry below the count names is
    // below the group count.
    const std::uint32_t entry_count = shared.entry_count.load(std::memory_order_acquire);
    const std::uint32_t group_count = shared.group_count.load(std::memory_order_acquire);
    layout::AccessTable table;
    std::memcpy(static_cast<void*>(&table), static_cast<const void*>(&shared), sizeof table);
    listing = AccessListing{};
    if (group_count > layout::max_access_segments || entry_count > layout::max_restricted) {
        why = "its list of restricted queues is out of range";
        return false;
    }
    for (std::uint32_t index = 0; index < group_count; ++index) {
        std::string group;
        if (!string_in(table.groups[index], sizeof table.groups[index], group) || !access_group_problem(group).empty()) {
            why = "its list of restricted queues names access group #" + std::to_string(index) + " wrongly";
            return false;
        }
        listing.groups.push_back(std::move(group));
    }
    for (std::uint32_t index = 0; index < entry_count; ++index) {
        const auto& entry = table.entries[index];
        AccessListing::Entry checked;
        if (!string_in(entry.name, sizeof entry.name, checked.name) || !name_problem(checked.name).empty() ||
            entry.segment >= group_count || entry.is_topic > 1) {
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
    std::memset(static_cast<void*>(&table), 0, sizeof table);
    publish_access_listing(listing, table);
}

void publish_access_listing(const AccessListing& listing, layout::AccessTable& table) {
    for (std::size_t index = 0; index < listing.groups.size(); ++index) {
        auto& shared = table.groups[index];
        std::memset(shared, 0, sizeof shared);
        std::memcpy(shared, listing.groups[index].data(), listing.groups[index].size());
    }
    table.group_count.store(static_cast<std::uint32_t>(listing.groups.size()), std::memory_order_release);
    for (std::size_t index = 0; index < listing.entries.size(); ++index) {
        const auto& entry = listing.entries[index];
        auto& shared = table.entries[index];
        std::memset(shared.name, 0, sizeof shared.name);
        std::memcpy(shared.name, entry.name.data(), entry.name.size());
        shared.is_topic = entry.topic ? 1 : 0;
        shared.segment = static_cast<std::uint8_t>(entry.group);
    }
    table.entry_count.store(static_cast<std::uint32_t>(listing.entries.size()), std::memory_order_release);
}

}  // namespace shmq
