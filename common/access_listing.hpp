// The restricted queues and topics a main segment lists (layout::AccessTable),
// in this process's memory: written by the broker when it builds the main
// segment and appended to by reloads, read and checked by every client that
// attaches to it (and again when it looks for a name it does not know). A restricted
// queue lives in the segment of its access group, a file beside the main one
// whose mode only lets that group in (docs/security.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/layout.hpp"

namespace shmq {

struct AccessListing {
    struct Entry {
        std::string name;
        bool topic = false;
        std::uint32_t group = 0;  // index into groups
        bool operator==(const Entry& other) const {
            return name == other.name && topic == other.topic && group == other.group;
        }
    };
    std::vector<std::string> groups;
    std::vector<Entry> entries;

    bool empty() const { return groups.empty(); }
    // The entry of the queue (or topic) `name`; nullptr when it is not restricted.
    const Entry* find(std::string_view name, bool topic) const;
    bool operator==(const AccessListing& other) const { return groups == other.groups && entries == other.entries; }
};

// Empty when `group` may name an access group: it becomes part of a file
// name, so 1 to 32 letters, digits, '_', '.' or '-', not starting with '.'
// or '-'. Otherwise what is wrong, worded to follow the quoted group.
std::string access_group_problem(std::string_view group);

// The file of group `group`'s segment, beside the main segment's file `main_path`.
std::string access_segment_path(const std::string& main_path, const std::string& group);

// `stored` with the groups and entries of `configured` it lacks appended,
// each entry under its group's index in the result: what a table listing
// `stored` becomes when appended to. False when the two disagree on what
// `stored` lists: a group `configured` does not have, or an entry it does
// not have under the same group (a name removed or moved needs a new
// table). Groups are matched by name, not by index.
bool extend_listing(const AccessListing& stored, const AccessListing& configured, AccessListing& extended);

// Copies the table once out of shared memory and checks every count, group
// name, queue name and index in the copy. False with `why` when anything is
// out of place: a client never builds a file name from an unchecked one.
bool read_access_listing(const layout::AccessTable& table, AccessListing& listing, std::string& why);

// Fills a table of a segment being built; the listing must respect the
// table's bounds (configuration validation sees to it).
void write_access_listing(const AccessListing& listing, layout::AccessTable& table);

// Writes the listing's groups into a live table, then their count with
// release, then its entries, then their count with release: a reload's
// additions appear whole or not at all to a reader, and an entry never
// before its group. What was published already is written with the values
// it has, so this also repairs a table another process damaged.
void publish_access_listing(const AccessListing& listing, layout::AccessTable& table);

}  // namespace shmq
