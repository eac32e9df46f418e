#include "daemon/segment_plan.hpp"

#include <algorithm>

namespace shmq::daemon {

namespace {

// The index of `group` in the plan, adding its segment on first sight.
std::uint32_t group_index(SegmentPlan& plan, const config::BrokerConfig& config, const std::string& group,
                          const std::string& readers) {
    const auto found = std::find(plan.listing.groups.begin(), plan.listing.groups.end(), group);
    if (found != plan.listing.groups.end()) return static_cast<std::uint32_t>(found - plan.listing.groups.begin());
    plan.listing.groups.push_back(group);
    config::BrokerConfig part = config;
    part.name = config.name + ".access-" + group;
    // A persistent broker keeps each group's segment in a file beside its
    // own, where clients look for it (access_segment_path), so that the
    // group's messages survive a restart and a reboot as the others do.
    if (!config.persist_path.empty()) part.persist_path = access_segment_path(config.persist_path, group);
    // Read-write for the broker's user and the group, nothing for others:
    // whoever may map a segment may change every message in it.
    part.permissions = 0660;
    part.allow_world_access = false;
    part.group = group;
    // Validation saw to it that every queue and topic of the group names the same readers.
    part.read_only_group = readers;
    part.queues.clear();
    part.topics.clear();
    plan.restricted.push_back(std::move(part));
    return static_cast<std::uint32_t>(plan.listing.groups.size() - 1);
}

}  // namespace

SegmentPlan plan_segments(const config::BrokerConfig& config) {
    SegmentPlan plan;
    plan.main = config;
    plan.main.queues.clear();
    plan.main.topics.clear();
    for (const auto& queue : config.queues) {
        if (queue.access_group.empty()) {
            plan.main.queues.push_back(queue);
            continue;
        }
        const auto group = group_index(plan, config, queue.access_group, queue.access_readers);
        plan.restricted[group].queues.push_back(queue);
        plan.listing.entries.push_back({queue.name, false, group});
    }
    for (const auto& topic : config.topics) {
        if (topic.access_group.empty()) {
            plan.main.topics.push_back(topic);
            continue;
        }
        const auto group = group_index(plan, config, topic.access_group, topic.access_readers);
        plan.restricted[group].topics.push_back(topic);
        plan.listing.entries.push_back({topic.name, true, group});
    }
    return plan;
}

}  // namespace shmq::daemon
