#include "daemon/reload_plan.hpp"

#include <algorithm>
#include <sstream>

#include "common/layout.hpp"

namespace shmq::daemon {

namespace {

std::string octal(std::uint32_t mode) {
    std::ostringstream text;
    text << "0" << std::oct << mode;
    return text.str();
}

std::string quoted(const std::string& text) { return text.empty() ? "(none)" : "'" + text + "'"; }

class Planner {
public:
    Planner(const config::BrokerConfig& running, const config::BrokerConfig& reloaded,
            const std::vector<std::string>& full, const ItemNames& retired)
        : running_(running), reloaded_(reloaded), full_(full), retired_(retired) {
        plan_.next = running;
    }

    ReloadPlan plan() {
        compare_broker();
        compare_queues();
        compare_topics();
        return std::move(plan_);
    }

private:
    void restart(const std::string& what) { plan_.need_restart.push_back(what); }

    void broker_setting(const std::string& key, const std::string& before, const std::string& after) {
        if (before != after) restart(config::where(reloaded_, key) + ": " + before + " -> " + after);
    }

    void compare_broker() {
        broker_setting("name", running_.name, reloaded_.name);
        broker_setting("permissions", octal(running_.permissions), octal(reloaded_.permissions));
        broker_setting("allow_world_access", running_.allow_world_access ? "true" : "false",
                       reloaded_.allow_world_access ? "true" : "false");
        broker_setting("group", quoted(running_.group), quoted(reloaded_.group));
        broker_setting("max_clients", std::to_string(running_.max_clients), std::to_string(reloaded_.max_clients));
        broker_setting("liveness_interval_ms", std::to_string(running_.liveness_interval_ms),
                       std::to_string(reloaded_.liveness_interval_ms));
        broker_setting("persist_path", quoted(running_.persist_path), quoted(reloaded_.persist_path));
        broker_setting("flush_interval_ms", std::to_string(running_.flush_interval_ms),
                       std::to_string(reloaded_.flush_interval_ms));
        broker_setting("set_aside.keep", std::to_string(running_.set_aside_keep),
                       std::to_string(reloaded_.set_aside_keep));
        broker_setting("set_aside.max_age", std::to_string(running_.set_aside_max_age_s) + "s",
                       std::to_string(reloaded_.set_aside_max_age_s) + "s");
        // The listener is bound once, before the segment is built, so that a
        // port in use stops the start instead of a reload half-applied.
        broker_setting("metrics_listen", quoted(running_.metrics_listen), quoted(reloaded_.metrics_listen));
    }

    std::string in_file(const std::string& what) const { return reloaded_.origin.source + ": " + what; }

    static bool listed(const std::vector<std::string>& names, const std::string& name) {
        return std::find(names.begin(), names.end(), name) != names.end();
    }

    // Retired live in the segment that holds it, open or restricted: one
    // word in its control block, nothing laid out again.
    template <typename Item>
    void remove(const Item& item, const std::string& what, std::vector<std::string>& removed) {
        plan_.applied.push_back(what + ": it takes no more messages and is drained by its consumers");
        removed.push_back(item.name);
    }

    // A name an earlier reload removed is still held, retired, by its
    // segment until a restart, which is what can give the name a new queue.
    void readded(const std::string& what) {
        restart(in_file(what + " again, but an earlier reload removed it and its segment keeps it retired until "
                               "a restart"));
    }

    void compare_queues() {
        for (const auto& queue : running_.queues) {
            if (listed(retired_.queues, queue.name) || config::find_named(reloaded_.queues, queue.name)) continue;
            remove(queue, "queue '" + queue.name + "' removed", plan_.removed.queues);
        }
        for (const auto& queue : reloaded_.queues) {
            if (listed(retired_.queues, queue.name)) {
                readded("queue '" + queue.name + "' added");
                continue;
            }
            const auto* before = config::find_named(running_.queues, queue.name);
            if (before == nullptr) {
                add(queue, "queue '" + queue.name + "' added");
                continue;
            }
            compare_queue(*before, queue);
        }
    }

    // A key of a queue's or topic's settings, with its value before and
    // after the reload as the report writes it.
    struct Setting {
        const char* key;
        std::string before;
        std::string after;
    };

    // "key before -> after" for each of `settings` that changed, appended to
    // `changes`.
    static void add_changes(const std::vector<Setting>& settings, std::vector<std::string>& changes) {
        for (const auto& setting : settings) {
            if (setting.before != setting.after) {
                changes.push_back(std::string(setting.key) + " " + setting.before + " -> " + setting.after);
            }
        }
    }

    // What a queue and a topic compare alike: a change of access needs a
    // restart, each key its line; the changes of the keys that lay the ring
    // out (`ring`) are returned, for a successor.
    template <typename Item>
    std::vector<std::string> ring_changes(const Item& before, const Item& after, const std::string& what,
                                          const std::vector<Setting>& ring) {
        std::vector<std::string> access;
        add_changes({{"access.group", quoted(before.access_group), quoted(after.access_group)},
                     {"access.readers", quoted(before.access_readers), quoted(after.access_readers)}},
                    access);
        for (const auto& change : access) restart(in_file(what + change));
        std::vector<std::string> changes;
        add_changes(ring, changes);
        return changes;
    }

    void compare_queue(const config::QueueConfig& before, const config::QueueConfig& after) {
        const std::string what = "queue '" + after.name + "': ";
        auto changes = ring_changes(
            before, after, what,
            {{"capacity", std::to_string(before.capacity), std::to_string(after.capacity)},
             {"max_message_size", std::to_string(before.max_message_size), std::to_string(after.max_message_size)},
             {"overflow", config::to_string(before.overflow), config::to_string(after.overflow)},
             {"delivery", config::to_string(before.delivery), config::to_string(after.delivery)},
             {"producers", config::to_string(before.producers), config::to_string(after.producers)},
             {"consumers", config::to_string(before.consumers), config::to_string(after.consumers)}});
        if (!changes.empty()) {
            // The successor takes the delivery limits too: said with the rest.
            add_changes(
                {{"max_deliveries", std::to_string(before.max_deliveries), std::to_string(after.max_deliveries)},
                 {"ack_timeout_ms", std::to_string(before.ack_timeout_ms), std::to_string(after.ack_timeout_ms)},
                 {"dead_letter", quoted(before.dead_letter), quoted(after.dead_letter)}},
                changes);
            replace(before, after, what, changes);
            return;
        }
        if (before.delivery != config::DeliveryMode::at_least_once || after.delivery != before.delivery) return;
        auto& next = *config::find_named(plan_.next.queues, after.name);
        const auto live = [&](const char* key, std::uint32_t& field, std::uint32_t value) {
            if (field == value) return;
            plan_.applied.push_back(what + key + " " + std::to_string(field) + " -> " + std::to_string(value));
            field = value;
        };
        live("max_deliveries", next.max_deliveries, after.max_deliveries);
        live("ack_timeout_ms", next.ack_timeout_ms, after.ack_timeout_ms);
        if (before.dead_letter == after.dead_letter) return;
        const auto change = "dead_letter " + quoted(before.dead_letter) + " -> " + quoted(after.dead_letter);
        const auto why_not = why_dead_letter_unreachable(after);
        if (why_not.empty()) {
            plan_.applied.push_back(what + change);
            next.dead_letter = after.dead_letter;
        } else {
            restart(in_file(what + change + " (" + why_not + ")"));
        }
    }

    // A new ring for a queue or topic: its successor, in the reload's live
    // segment of the segment holding it, with every new setting (a queue's
    // delivery limits included).
    template <typename Item>
    void replace(const Item& before, const Item& after, const std::string& what,
                 const std::vector<std::string>& changes) {
        std::string listing;
        for (const auto& change : changes) listing += (listing.empty() ? "" : ", ") + change;
        const auto why_not = why_not_replaced(before, after);
        if (!why_not.empty()) {
            restart(in_file(what + listing + " (" + why_not + ")"));
            return;
        }
        plan_.applied.push_back(what + listing + successor_note(after));
        replaced_names(after).push_back(after.name);
        next_of(after) = after;
    }

    static const char* successor_note(const config::QueueConfig&) {
        return ": new messages go to a successor queue, the queued ones are delivered first";
    }
    static const char* successor_note(const config::TopicConfig&) {
        return ": new messages go to a successor topic, subscribers read the old one to its end first";
    }
    std::vector<std::string>& replaced_names(const config::QueueConfig&) { return plan_.replaced.queues; }
    std::vector<std::string>& replaced_names(const config::TopicConfig&) { return plan_.replaced.topics; }
    config::QueueConfig& next_of(const config::QueueConfig& queue) {
        return *config::find_named(plan_.next.queues, queue.name);
    }
    config::TopicConfig& next_of(const config::TopicConfig& topic) {
        return *config::find_named(plan_.next.topics, topic.name);
    }

    // The segment a queue or topic's successor goes beside: the one that
    // holds it (the main one, or its access group's), which must have room
    // for a live segment.
    std::string why_not_live_beside(const std::string& group) const {
        if (!listed(full_, group)) return {};
        return "the broker has added " + std::to_string(layout::max_live_segments) + " live segments " +
               (group.empty() ? std::string("already") : "to the segment of group '" + group + "' already");
    }

    // What every successor needs: the same access as the ring it follows (a
    // change of access moves it to another segment, whose clients are
    // other processes) and room for a live segment beside it.
    template <typename Item>
    std::string why_not_in_live_segment(const Item& before, const Item& after) const {
        if (before.access_group != after.access_group || before.access_readers != after.access_readers) {
            return "its access changes too, which moves it to another segment";
        }
        return why_not_live_beside(before.access_group);
    }

    std::string why_not_replaced(const config::TopicConfig& before, const config::TopicConfig& after) const {
        return why_not_in_live_segment(before, after);
    }

    // The broker moves a dead letter to the newest ring of its queue's name
    // in any segment (Broker::newest_queue): a successor's or another's.
    std::string why_not_replaced(const config::QueueConfig& before, const config::QueueConfig& after) const {
        const auto why_not = why_not_in_live_segment(before, after);
        return why_not.empty() ? why_dead_letter_unreachable(after) : why_not;
    }

    // A queue or topic is added live, in a segment of its own beside the one
    // that holds its kind: the main one for an open one, its access group's
    // for a restricted one, whose name the main segment's AccessTable then
    // lists too (clients look there again for a name they do not know).
    template <typename Item>
    void add(const Item& item, const std::string& what) {
        auto why_not = why_not_listed(item);
        if (why_not.empty()) why_not = why_not_live_beside(item.access_group);
        if (why_not.empty()) why_not = why_dead_letter_unreachable(item);
        if (!why_not.empty()) {
            restart(in_file(what + " (" + why_not + ")"));
            return;
        }
        plan_.applied.push_back(what);
        added_to_next(item);
    }

    // The readers of access group `group`'s segment as the running
    // configuration made it; false when the broker has no such segment.
    bool running_readers(const std::string& group, std::string& readers) const {
        const auto of_group = [&](const auto& items) {
            for (const auto& item : items) {
                if (item.access_group != group) continue;
                readers = item.access_readers;
                return true;
            }
            return false;
        };
        return of_group(running_.queues) || of_group(running_.topics);
    }

    // Why a restricted queue or topic cannot be listed live: its group is
    // new and the AccessTable has no room for another group, the group's
    // readers differ from its segment's, or the AccessTable is full. Empty
    // for an open one. Removed names stay in `running_` and in the table,
    // and so do their groups. A new group gets its segment, with its
    // permissions, from the reload (Broker::add_access_segment).
    template <typename Item>
    std::string why_not_listed(const Item& item) const {
        const auto& group = item.access_group;
        if (group.empty()) return {};
        std::string readers;
        if (!running_readers(group, readers)) {
            if (!listed(next_groups(), group) && next_groups().size() >= layout::max_access_segments) {
                return "restricted to group '" + group + "', a new access group, but the main segment lists " +
                       std::to_string(layout::max_access_segments) + " access groups already";
            }
        } else if (readers != item.access_readers) {
            return "its access.readers " + quoted(item.access_readers) + " differ from those of the segment of group '" +
                   group + "', " + quoted(readers);
        }
        const auto restricted = [](const auto& items) {
            return std::count_if(items.begin(), items.end(), [](const auto& next) { return !next.access_group.empty(); });
        };
        const auto entries = static_cast<std::size_t>(restricted(plan_.next.queues) + restricted(plan_.next.topics));
        if (entries >= layout::max_restricted) {
            return "the main segment lists " + std::to_string(layout::max_restricted) +
                   " restricted queues and topics already";
        }
        return {};
    }

    // The access groups of the configuration the broker will run, removed
    // names' included: each has its segment and its place in the AccessTable.
    std::vector<std::string> next_groups() const {
        std::vector<std::string> groups;
        const auto collect = [&](const auto& items) {
            for (const auto& item : items) {
                if (!item.access_group.empty() && !listed(groups, item.access_group)) groups.push_back(item.access_group);
            }
        };
        collect(plan_.next.queues);
        collect(plan_.next.topics);
        return groups;
    }

    // Why the reloaded queue's dead_letter would not take its dead letters
    // once this reload is applied; empty when it would: a queue the broker
    // runs, or one this reload adds live. The file was validated: the target
    // exists, with the same access.
    std::string why_dead_letter_unreachable(const config::TopicConfig&) const { return {}; }
    std::string why_dead_letter_unreachable(const config::QueueConfig& queue) const {
        const auto& target = queue.dead_letter;
        if (target.empty()) return {};
        // A retired queue takes no more messages, and keeps its name until a restart.
        if (listed(retired_.queues, target)) return "dead_letter '" + target + "' was removed by an earlier reload";
        if (config::find_named(running_.queues, target) != nullptr) return {};
        const auto* added = config::find_named(reloaded_.queues, target);
        if (added != nullptr && why_not_listed(*added).empty() && why_not_live_beside(added->access_group).empty()) {
            return {};
        }
        return "dead_letter '" + target + "' is not added live";
    }

    void added_to_next(const config::QueueConfig& queue) { plan_.next.queues.push_back(queue); }
    void added_to_next(const config::TopicConfig& topic) { plan_.next.topics.push_back(topic); }

    void compare_topics() {
        for (const auto& topic : running_.topics) {
            if (listed(retired_.topics, topic.name) || config::find_named(reloaded_.topics, topic.name)) continue;
            remove(topic, "topic '" + topic.name + "' removed", plan_.removed.topics);
        }
        for (const auto& topic : reloaded_.topics) {
            if (listed(retired_.topics, topic.name)) {
                readded("topic '" + topic.name + "' added");
                continue;
            }
            const auto* before = config::find_named(running_.topics, topic.name);
            if (before == nullptr) {
                add(topic, "topic '" + topic.name + "' added");
            } else {
                compare_topic(*before, topic);
            }
        }
    }

    // Every key but the access ones lays the ring out: a change of any of
    // them gives the topic a successor.
    void compare_topic(const config::TopicConfig& before, const config::TopicConfig& after) {
        const std::string what = "topic '" + after.name + "': ";
        const auto changes = ring_changes(
            before, after, what,
            {{"capacity", std::to_string(before.capacity), std::to_string(after.capacity)},
             {"max_message_size", std::to_string(before.max_message_size), std::to_string(after.max_message_size)},
             {"history", std::to_string(before.history), std::to_string(after.history)},
             {"max_subscribers", std::to_string(before.max_subscribers), std::to_string(after.max_subscribers)},
             {"slow_subscriber", config::to_string(before.slow_subscriber), config::to_string(after.slow_subscriber)}});
        if (!changes.empty()) replace(before, after, what, changes);
    }

    const config::BrokerConfig& running_;
    const config::BrokerConfig& reloaded_;
    const std::vector<std::string>& full_;
    const ItemNames& retired_;
    ReloadPlan plan_;
};

}  // namespace

ReloadPlan plan_reload(const config::BrokerConfig& running, const config::BrokerConfig& reloaded,
                       const std::vector<std::string>& full, const ItemNames& retired) {
    return Planner(running, reloaded, full, retired).plan();
}

void withdraw_added(ReloadPlan& plan, const config::BrokerConfig& added, const config::BrokerConfig& running,
                    const std::string& why, const std::string& segment) {
    // Only those of the replaced among `added`: another segment's successors
    // may be made.
    const auto restore = [&](auto& items, const auto& running_items, std::vector<std::string>& names,
                             const auto& withdrawn, const std::string& kind) {
        for (auto name = names.begin(); name != names.end();) {
            if (config::find_named(withdrawn, *name) == nullptr) {
                ++name;
                continue;
            }
            *config::find_named(items, *name) = *config::find_named(running_items, *name);
            const auto prefix = kind + " '" + *name + "': ";
            for (auto line = plan.applied.begin(); line != plan.applied.end();) {
                if (line->compare(0, prefix.size(), prefix) != 0) {
                    ++line;
                    continue;
                }
                plan.need_restart.push_back(*line + ", but the live segment for its successor could not be made: " +
                                            why);
                line = plan.applied.erase(line);
            }
            name = names.erase(name);
        }
    };
    restore(plan.next.queues, running.queues, plan.replaced.queues, added.queues, "queue");
    restore(plan.next.topics, running.topics, plan.replaced.topics, added.topics, "topic");
    const auto withdraw = [&](auto& items, const auto& withdrawn, const std::string& kind) {
        for (const auto& item : withdrawn) {
            const std::string line = kind + " '" + item.name + "' added";
            items.erase(std::remove_if(items.begin(), items.end(), [&](const auto& kept) { return kept.name == item.name; }),
                        items.end());
            plan.applied.erase(std::remove(plan.applied.begin(), plan.applied.end(), line), plan.applied.end());
            plan.need_restart.push_back(line + ", but " + segment + " could not be made: " + why);
        }
    };
    // The successors were restored above: only the names new to the broker
    // leave `plan.next`.
    config::BrokerConfig new_names;
    for (const auto& queue : added.queues) {
        if (config::find_named(running.queues, queue.name) == nullptr) new_names.queues.push_back(queue);
    }
    for (const auto& topic : added.topics) {
        if (config::find_named(running.topics, topic.name) == nullptr) new_names.topics.push_back(topic);
    }
    withdraw(plan.next.queues, new_names.queues, "queue");
    withdraw(plan.next.topics, new_names.topics, "topic");
    // A running queue whose dead_letter this reload set to a queue it was
    // to add keeps the one it had: dead letters never go to a missing queue.
    for (auto& queue : plan.next.queues) {
        if (config::find_named(new_names.queues, queue.dead_letter) == nullptr) continue;
        const auto* before = config::find_named(running.queues, queue.name);
        if (before == nullptr) continue;
        const auto line = "queue '" + queue.name + "': dead_letter " + quoted(before->dead_letter) + " -> " +
                          quoted(queue.dead_letter);
        queue.dead_letter = before->dead_letter;
        plan.applied.erase(std::remove(plan.applied.begin(), plan.applied.end(), line), plan.applied.end());
        plan.need_restart.push_back(line + ", but the queue it names could not be added: " + why);
    }
}

}  // namespace shmq::daemon
