#include "daemon/retirement.hpp"

#include <algorithm>
#include <atomic>

namespace shmq::daemon {

namespace {

template <typename Item>
bool listed(const std::vector<Item>& items, const Item& item) {
    return std::find(items.begin(), items.end(), item) != items.end();
}

// seq_cst: pairs with the fence between a producer's claim and its read of
// the word, and a consumer's read of it before it looks for what is left.
void set_retired(std::atomic<std::uint32_t>& word) { word.store(layout::retired_by_reload, std::memory_order_seq_cst); }

}  // namespace

namespace {

bool superseded_at(const std::vector<RetiredIndexes::Superseded>& items, std::uint32_t index) {
    return std::any_of(items.begin(), items.end(),
                       [&](const RetiredIndexes::Superseded& item) { return item.index == index; });
}

// What the broker keeps in the retired word of item `index`: the mark of
// its successor, retired_by_reload, or 0 (in service).
std::uint32_t record_of(const std::vector<std::uint32_t>& removed,
                        const std::vector<RetiredIndexes::Superseded>& superseded, std::uint32_t index) {
    for (const auto& item : superseded) {
        if (item.index == index) return layout::superseded_by(item.generation);
    }
    return listed(removed, index) ? layout::retired_by_reload : 0;
}

}  // namespace

bool RetiredIndexes::holds_queue(std::uint32_t index) const {
    return listed(queues, index) || superseded_at(superseded_queues, index);
}

bool RetiredIndexes::holds_topic(std::uint32_t index) const {
    return listed(topics, index) || superseded_at(superseded_topics, index);
}

std::vector<std::string> retire(SegmentView& view, const ItemNames& names, RetiredIndexes& retired) {
    std::vector<std::string> lines;
    for (std::uint32_t index = 0; index < view.queue_count(); ++index) {
        if (!listed(names.queues, view.queue_name(index)) || retired.holds_queue(index)) continue;
        retired.queues.push_back(index);
        if (!view.queue_usable(index)) continue;
        auto& control = view.ring(index).control();
        set_retired(control.retired);
        control.not_empty.notify_all();
        control.not_full.notify_all();
        const auto queued = control.tail.load(std::memory_order_acquire) - control.head.load(std::memory_order_acquire);
        lines.push_back("queue '" + view.queue_name(index) + "' retired: it takes no more messages; " +
                        std::to_string(queued) + " queued messages are left for its consumers to drain");
    }
    for (std::uint32_t index = 0; index < view.topic_count(); ++index) {
        if (!listed(names.topics, view.topic_name(index)) || retired.holds_topic(index)) continue;
        retired.topics.push_back(index);
        if (!view.topic_usable(index)) continue;
        auto& control = view.topic(index).control();
        set_retired(control.retired);
        control.published.notify_all();
        control.room.notify_all();
        lines.push_back("topic '" + view.topic_name(index) +
                        "' retired: it takes no more messages; its subscribers read what was published, then end");
    }
    return lines;
}

std::vector<std::string> supersede(SegmentView& view, const ItemNames& names, std::uint32_t generation,
                                   RetiredIndexes& retired) {
    std::vector<std::string> lines;
    const auto where = " superseded by its successor in live segment " + std::to_string(generation);
    for (std::uint32_t index = 0; index < view.queue_count(); ++index) {
        if (!listed(names.queues, view.queue_name(index)) || retired.holds_queue(index)) continue;
        retired.superseded_queues.push_back({index, generation});
        if (!view.queue_usable(index)) continue;
        auto& control = view.ring(index).control();
        // seq_cst, as a retirement: the same fences pair with it.
        control.retired.store(layout::superseded_by(generation), std::memory_order_seq_cst);
        control.not_empty.notify_all();
        control.not_full.notify_all();
        const auto queued = control.tail.load(std::memory_order_acquire) - control.head.load(std::memory_order_acquire);
        lines.push_back("queue '" + view.queue_name(index) + "'" + where + ": new messages go there; " +
                        std::to_string(queued) + " queued messages are delivered first");
    }
    for (std::uint32_t index = 0; index < view.topic_count(); ++index) {
        if (!listed(names.topics, view.topic_name(index)) || retired.holds_topic(index)) continue;
        retired.superseded_topics.push_back({index, generation});
        if (!view.topic_usable(index)) continue;
        auto& control = view.topic(index).control();
        control.retired.store(layout::superseded_by(generation), std::memory_order_seq_cst);
        control.published.notify_all();
        control.room.notify_all();
        lines.push_back("topic '" + view.topic_name(index) + "'" + where +
                        ": new messages go there; its subscribers read what was published here first");
    }
    return lines;
}

std::vector<RetiredScribble> keep_retired(SegmentView& view, const RetiredIndexes& retired) {
    std::vector<RetiredScribble> scribbles;
    // Read once: the value logged is the value judged.
    const auto keep = [&](std::atomic<std::uint32_t>& word, std::uint32_t record, const char* kind,
                          const std::string& name) {
        const auto found = word.load(std::memory_order_relaxed);
        if (found == record) return;
        word.store(record, std::memory_order_seq_cst);
        scribbles.push_back({std::string(kind) + " '" + name + "'", found, record});
    };
    for (std::uint32_t index = 0; index < view.queue_count(); ++index) {
        if (!view.queue_usable(index)) continue;
        keep(view.ring(index).control().retired, record_of(retired.queues, retired.superseded_queues, index), "queue",
             view.queue_name(index));
    }
    for (std::uint32_t index = 0; index < view.topic_count(); ++index) {
        if (!view.topic_usable(index)) continue;
        keep(view.topic(index).control().retired, record_of(retired.topics, retired.superseded_topics, index), "topic",
             view.topic_name(index));
    }
    return scribbles;
}

void reinstate_all(SegmentView& view) {
    for (std::uint32_t index = 0; index < view.queue_count(); ++index) {
        if (view.queue_usable(index)) view.ring(index).control().retired.store(0, std::memory_order_seq_cst);
    }
    for (std::uint32_t index = 0; index < view.topic_count(); ++index) {
        if (view.topic_usable(index)) view.topic(index).control().retired.store(0, std::memory_order_seq_cst);
    }
}

}  // namespace shmq::daemon
