#include "daemon/reload_plan.hpp"

#include <sstream>

namespace shmq::daemon {

namespace {

template <typename Item>
const Item* find_named(const std::vector<Item>& items, const std::string& name) {
    for (const auto& item : items) {
        if (item.name == name) return &item;
    }
    return nullptr;
}

std::string octal(std::uint32_t mode) {
    std::ostringstream text;
    text << "0" << std::oct << mode;
    return text.str();
}

std::string quoted(const std::string& text) { return text.empty() ? "(none)" : "'" + text + "'"; }

class Planner {
public:
    Planner(const config::BrokerConfig& running, const config::BrokerConfig& reloaded)
        : running_(running), reloaded_(reloaded) {
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
    }

    std::string in_file(const std::string& what) const { return reloaded_.origin.source + ": " + what; }

    void compare_queues() {
        for (const auto& queue : running_.queues) {
            if (!find_named(reloaded_.queues, queue.name)) restart(in_file("queue '" + queue.name + "' removed"));
        }
        for (const auto& queue : reloaded_.queues) {
            const auto* before = find_named(running_.queues, queue.name);
            if (before == nullptr) {
                restart(in_file("queue '" + queue.name + "' added"));
                continue;
            }
            compare_queue(*before, queue);
        }
    }

    void compare_queue(const config::QueueConfig& before, const config::QueueConfig& after) {
        const std::string what = "queue '" + after.name + "': ";
        const auto setting = [&](const char* key, const std::string& old_value, const std::string& new_value) {
            if (old_value != new_value) restart(in_file(what + key + " " + old_value + " -> " + new_value));
        };
        setting("capacity", std::to_string(before.capacity), std::to_string(after.capacity));
        setting("max_message_size", std::to_string(before.max_message_size), std::to_string(after.max_message_size));
        setting("overflow", config::to_string(before.overflow), config::to_string(after.overflow));
        setting("delivery", config::to_string(before.delivery), config::to_string(after.delivery));
        setting("access.group", quoted(before.access_group), quoted(after.access_group));
        setting("access.readers", quoted(before.access_readers), quoted(after.access_readers));
        if (before.delivery != config::DeliveryMode::at_least_once || after.delivery != before.delivery) return;
        auto& next = *find_named_mutable(after.name);
        const auto live = [&](const char* key, std::uint32_t& field, std::uint32_t value) {
            if (field == value) return;
            plan_.applied.push_back(what + key + " " + std::to_string(field) + " -> " + std::to_string(value));
            field = value;
        };
        live("max_deliveries", next.max_deliveries, after.max_deliveries);
        live("ack_timeout_ms", next.ack_timeout_ms, after.ack_timeout_ms);
        if (before.dead_letter == after.dead_letter) return;
        // Live only into a queue the running broker has, in the same segment:
        // the broker moves dead letters between rings of one segment.
        const auto* target = find_named(running_.queues, after.dead_letter);
        if (after.dead_letter.empty() || (target != nullptr && target->access_group == before.access_group)) {
            plan_.applied.push_back(what + "dead_letter " + quoted(before.dead_letter) + " -> " +
                                    quoted(after.dead_letter));
            next.dead_letter = after.dead_letter;
        } else {
            restart(in_file(what + "dead_letter " + quoted(before.dead_letter) + " -> " + quoted(after.dead_letter)));
        }
    }

    config::QueueConfig* find_named_mutable(const std::string& name) {
        for (auto& queue : plan_.next.queues) {
            if (queue.name == name) return &queue;
        }
        return nullptr;
    }

    void compare_topics() {
        for (const auto& topic : running_.topics) {
            if (!find_named(reloaded_.topics, topic.name)) restart(in_file("topic '" + topic.name + "' removed"));
        }
        for (const auto& topic : reloaded_.topics) {
            const auto* before = find_named(running_.topics, topic.name);
            if (before == nullptr) {
                restart(in_file("topic '" + topic.name + "' added"));
            } else {
                compare_topic(*before, topic);
            }
        }
    }

    void compare_topic(const config::TopicConfig& before, const config::TopicConfig& after) {
        const std::string what = "topic '" + after.name + "': ";
        const auto setting = [&](const char* key, const std::string& old_value, const std::string& new_value) {
            if (old_value != new_value) restart(in_file(what + key + " " + old_value + " -> " + new_value));
        };
        setting("capacity", std::to_string(before.capacity), std::to_string(after.capacity));
        setting("max_message_size", std::to_string(before.max_message_size), std::to_string(after.max_message_size));
        setting("history", std::to_string(before.history), std::to_string(after.history));
        setting("max_subscribers", std::to_string(before.max_subscribers), std::to_string(after.max_subscribers));
        setting("slow_subscriber", config::to_string(before.slow_subscriber), config::to_string(after.slow_subscriber));
        setting("access.group", quoted(before.access_group), quoted(after.access_group));
        setting("access.readers", quoted(before.access_readers), quoted(after.access_readers));
    }

    const config::BrokerConfig& running_;
    const config::BrokerConfig& reloaded_;
    ReloadPlan plan_;
};

}  // namespace

ReloadPlan plan_reload(const config::BrokerConfig& running, const config::BrokerConfig& reloaded) {
    return Planner(running, reloaded).plan();
}

}  // namespace shmq::daemon
