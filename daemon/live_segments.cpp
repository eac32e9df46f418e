#include "daemon/live_segments.hpp"

#include <algorithm>
#include <memory>

#include "common/live_table.hpp"
#include "common/segment_mapping.hpp"

namespace shmq::daemon {

namespace {

bool held_by_any(const std::vector<SegmentContents>& held, const std::string& name, bool topic) {
    return std::any_of(held.begin(), held.end(), [&](const SegmentContents& contents) {
        const auto& names = topic ? contents.topics : contents.queues;
        return std::find(names.begin(), names.end(), name) != names.end();
    });
}

}  // namespace

SegmentContents contents_of(const SegmentView& view) {
    SegmentContents contents;
    for (std::uint32_t index = 0; index < view.queue_count(); ++index) contents.queues.push_back(view.queue_name(index));
    for (std::uint32_t index = 0; index < view.topic_count(); ++index) contents.topics.push_back(view.topic_name(index));
    return contents;
}

bool part_holding(const config::BrokerConfig& open, const SegmentContents& contents, config::BrokerConfig& part,
                  std::string& missing) {
    part = open;
    part.queues.clear();
    part.topics.clear();
    for (const auto& name : contents.queues) {
        const auto* queue = config::find_named(open.queues, name);
        if (queue == nullptr) {
            missing = "it holds queue '" + name + "', which the configuration does not have";
            return false;
        }
        part.queues.push_back(*queue);
    }
    for (const auto& name : contents.topics) {
        const auto* topic = config::find_named(open.topics, name);
        if (topic == nullptr) {
            missing = "it holds topic '" + name + "', which the configuration does not have";
            return false;
        }
        part.topics.push_back(*topic);
    }
    return true;
}

config::BrokerConfig not_held(const config::BrokerConfig& open, const std::vector<SegmentContents>& held) {
    config::BrokerConfig added = open;
    added.queues.clear();
    added.topics.clear();
    for (const auto& queue : open.queues) {
        if (!held_by_any(held, queue.name, false)) added.queues.push_back(queue);
    }
    for (const auto& topic : open.topics) {
        if (!held_by_any(held, topic.name, true)) added.topics.push_back(topic);
    }
    return added;
}

config::BrokerConfig live_segment_config(const config::BrokerConfig& main, std::uint32_t generation,
                                         const config::BrokerConfig& added) {
    config::BrokerConfig part = main;
    part.name = main.name + ".live-" + std::to_string(generation);
    if (!main.persist_path.empty()) part.persist_path = live_segment_path(main.persist_path, generation);
    part.queues = added.queues;
    part.topics = added.topics;
    return part;
}

bool split_adopted(const SegmentView& main_view, const std::string& main_path, bool file_backed,
                   const config::BrokerConfig& open, config::BrokerConfig& main_part,
                   std::vector<AdoptedLiveSegment>& live, config::BrokerConfig& extra, std::string& difference) {
    std::vector<SegmentContents> held{contents_of(main_view)};
    if (!part_holding(open, held.front(), main_part, difference)) return false;
    live.clear();
    for (const auto generation : read_live_generations(main_view.root().live)) {
        const std::string path = live_segment_path(main_path, generation);
        std::unique_ptr<SegmentMapping> mapping;
        std::string why;
        SegmentView view;
        if (SegmentMapping::open_path(path, file_backed, mapping, why) != platform::FileError::none ||
            SegmentView::validate(mapping->base(), mapping->size(), view, why, /*writable=*/false) != Status::ok) {
            difference = "its live segment " + path + " cannot be read: " + why;
            return false;
        }
        const auto contents = contents_of(view);
        for (const bool topic : {false, true}) {
            for (const auto& name : topic ? contents.topics : contents.queues) {
                if (!held_by_any(held, name, topic)) continue;
                // A reload changed its settings: the old ring and its
                // successor become one of the new layout (a queue's old
                // messages first; a topic's start empty, as at any restart).
                difference = std::string(topic ? "topic '" : "queue '") + name +
                             "' is held by an earlier segment and by live segment " + std::to_string(generation) +
                             " (a reload changed its settings)";
                return false;
            }
        }
        held.push_back(contents);
        AdoptedLiveSegment segment;
        segment.generation = generation;
        config::BrokerConfig holding;
        if (!part_holding(open, held.back(), holding, why)) {
            difference = "its live segment " + path + ": " + why;
            return false;
        }
        segment.part = live_segment_config(open, generation, holding);
        live.push_back(std::move(segment));
    }
    extra = not_held(open, held);
    return true;
}

}  // namespace shmq::daemon
