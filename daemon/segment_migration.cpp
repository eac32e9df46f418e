#include "daemon/segment_migration.hpp"

#include <algorithm>
#include <iterator>
#include <stdexcept>

#include "common/client_registry.hpp"

namespace shmq::daemon {

namespace {

// Why `contents` cannot go into `queue`, or empty.
std::string does_not_fit(const QueueContents& contents, const config::QueueConfig& queue) {
    const std::string what = "queue '" + queue.name + "'";
    if (contents.messages.size() > queue.capacity) {
        return what + " holds " + std::to_string(contents.messages.size()) + " messages, more than its new capacity " +
               std::to_string(queue.capacity);
    }
    for (const auto& message : contents.messages) {
        if (message.size() > queue.max_message_size) {
            return what + " holds a message of " + std::to_string(message.size()) +
                   " bytes, longer than its new max_message_size " + std::to_string(queue.max_message_size);
        }
    }
    return {};
}

// Adds every queue of `old_view` to `plan`: carried when `config` has it
// (after what an earlier segment held of the same name), else left behind.
void read_for_migration(const SegmentView& old_view, const config::BrokerConfig& config, MigrationPlan& plan) {
    for (std::uint32_t index = 0; index < old_view.queue_count(); ++index) {
        const auto& name = old_view.queue_name(index);
        if (!old_view.queue_usable(index)) {
            plan.impossible = "queue #" + std::to_string(index) + " ('" + name + "') has damaged metadata";
            return;
        }
        auto contents = read_queue_contents(old_view.ring(index));
        if (!contents.damage.empty()) {
            plan.impossible = "queue '" + name + "' is damaged: " + contents.damage;
            return;
        }
        if (config::find_named(config.queues, name) == nullptr) {
            if (!contents.messages.empty()) {
                plan.left_behind.push_back(name);
                plan.left_behind_messages += contents.messages.size();
            }
            continue;
        }
        const auto earlier = std::find_if(plan.carried.begin(), plan.carried.end(),
                                          [&](const MigrationPlan::Carried& carried) { return carried.name == name; });
        if (earlier == plan.carried.end()) {
            plan.carried.push_back({name, std::move(contents)});
            continue;
        }
        auto& messages = earlier->contents.messages;
        messages.insert(messages.end(), std::make_move_iterator(contents.messages.begin()),
                        std::make_move_iterator(contents.messages.end()));
        earlier->contents.redeliveries += contents.redeliveries;
    }
}

}  // namespace

MigrationPlan plan_migration(const std::vector<const SegmentView*>& old_views, const config::BrokerConfig& config) {
    MigrationPlan plan;
    for (const auto* old_view : old_views) {
        read_for_migration(*old_view, config, plan);
        if (!plan.impossible.empty()) return plan;
    }
    for (const auto& carried : plan.carried) {
        plan.impossible = does_not_fit(carried.contents, *config::find_named(config.queues, carried.name));
        if (!plan.impossible.empty()) break;
    }
    return plan;
}

void carry_messages(SegmentView& view, const MigrationPlan& plan) {
    OwnerStamp stamp;
    const Status claimed = claim_client_record(view, "shmqd-migration", stamp);
    if (claimed != Status::ok) {
        throw std::runtime_error(std::string("cannot take a client record in the new segment to carry messages: ") +
                                 describe(claimed));
    }
    for (const auto& queue : plan.carried) {
        const auto index = view.find_queue(queue.name);
        if (index == layout::no_queue || !view.queue_usable(index)) {
            release_client_record(view, stamp);
            throw std::runtime_error("queue '" + queue.name + "' is missing from the new segment");
        }
        auto& ring = view.ring(index);
        for (const auto& message : queue.contents.messages) {
            const Status sent = ring.try_send(message.data(), message.size(), stamp);
            if (sent != Status::ok) {
                release_client_record(view, stamp);
                throw std::runtime_error("queue '" + queue.name + "' of the new segment refused a carried message: " +
                                         describe(sent));
            }
        }
        ring.release_leases(stamp);  // a single-producer queue's lease is its clients'
    }
    release_client_record(view, stamp);
}

std::uint64_t carried_messages(const MigrationPlan& plan) {
    std::uint64_t total = 0;
    for (const auto& queue : plan.carried) total += queue.contents.messages.size();
    return total;
}

std::uint64_t carried_redeliveries(const MigrationPlan& plan) {
    std::uint64_t total = 0;
    for (const auto& queue : plan.carried) total += queue.contents.redeliveries;
    return total;
}

}  // namespace shmq::daemon
