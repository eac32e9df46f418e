#include "daemon/segment_builder.hpp"

#include <cstring>
#include <new>
#include <stdexcept>

#include "common/layout.hpp"
#include "common/logging.hpp"
#include "common/read_once.hpp"
#include "common/segment_size.hpp"
#include "common/segment_view.hpp"
#include "platform/process.hpp"
#include "platform/user_identity.hpp"

namespace shmq::daemon {

namespace {

// The segment stores the configuration's policies as these codes.
static_assert(static_cast<std::uint8_t>(config::OverflowPolicy::block) == layout::overflow_block &&
              static_cast<std::uint8_t>(config::OverflowPolicy::reject) == layout::overflow_reject &&
              static_cast<std::uint8_t>(config::OverflowPolicy::drop_oldest) == layout::overflow_drop_oldest);
static_assert(static_cast<std::uint8_t>(config::DeliveryMode::at_most_once) == layout::delivery_at_most_once &&
              static_cast<std::uint8_t>(config::DeliveryMode::at_least_once) == layout::delivery_at_least_once);
static_assert(static_cast<std::uint8_t>(config::SlowSubscriberPolicy::block) == layout::slow_subscriber_block &&
              static_cast<std::uint8_t>(config::SlowSubscriberPolicy::drop) == layout::slow_subscriber_drop);

std::uint64_t aligned(std::uint64_t bytes) { return (bytes + layout::cache_line - 1) / layout::cache_line * layout::cache_line; }

// Hands out the segment's bytes in order, each piece cache-line aligned, as
// common/segment_size.cpp adds them up.
class Carver {
public:
    explicit Carver(std::byte* base = nullptr) : base_(base) {}
    template <typename T>
    T* take(std::uint64_t bytes) {
        const std::uint64_t offset = used_;
        used_ += aligned(bytes == 0 ? 1 : bytes);
        return base_ == nullptr ? nullptr : reinterpret_cast<T*>(base_ + offset);
    }
    std::uint64_t offset_of(const void* piece) const {
        return static_cast<std::uint64_t>(static_cast<const std::byte*>(piece) - base_);
    }
    std::uint64_t used() const { return used_; }

private:
    std::byte* base_;
    std::uint64_t used_ = 0;
};

void build_queue(Carver& carver, const config::BrokerConfig& config, std::uint32_t index,
                 layout::QueueControl& control) {
    const auto& queue = config.queues[index];
    const auto stride = layout::slot_stride_for(queue.max_message_size);
    auto* slots = carver.take<std::byte>(stride * queue.capacity);
    for (std::uint32_t slot = 0; slot < queue.capacity; ++slot) {
        auto* header = new (slots + slot * stride) layout::SlotHeader{};
        header->word.store(0, std::memory_order_relaxed);
        // Never a real position, so no repair rule mistakes a fresh slot for a cut-short step.
        header->position.store(UINT64_MAX, std::memory_order_relaxed);
    }
    // Right after the slots, where QueueRing finds them: no claim made yet.
    auto* claim_words = carver.take<std::atomic<std::uint64_t>>(layout::claim_words_bytes(queue.capacity));
    for (std::uint32_t slot = 0; slot < queue.capacity; ++slot) new (claim_words + slot) std::atomic<std::uint64_t>(0);
    // Right after the claim words: no message decided yet.
    auto* take_words = carver.take<std::atomic<std::uint64_t>>(layout::take_words_bytes(queue.capacity));
    for (std::uint32_t slot = 0; slot < queue.capacity; ++slot) new (take_words + slot) std::atomic<std::uint64_t>(0);
    std::memset(control.name, 0, sizeof control.name);
    std::memcpy(control.name, queue.name.data(), queue.name.size());
    control.capacity = queue.capacity;
    control.max_message_size = queue.max_message_size;
    control.slot_stride = stride;
    control.slots_offset = carver.offset_of(slots);
    control.overflow = static_cast<std::uint8_t>(queue.overflow);
    control.delivery = static_cast<std::uint8_t>(queue.delivery);
    control.max_deliveries = queue.max_deliveries;
    control.ack_timeout_ms = queue.ack_timeout_ms;
    control.checksummed = config.persist_path.empty() ? 0 : 1;
    control.exclusive = static_cast<std::uint8_t>(
        (queue.producers == config::Sharing::single ? layout::exclusive_producer : 0) |
        (queue.consumers == config::Sharing::single ? layout::exclusive_consumer : 0));
    SHMQ_LOG(trace) << "queue '" << queue.name << "': " << queue.capacity << " slots of " << stride
                    << " bytes at offset " << control.slots_offset;
}

void build_topic(Carver& carver, const config::TopicConfig& topic, layout::TopicControl& control) {
    const auto stride = layout::topic_slot_stride_for(topic.max_message_size, topic.max_subscribers);
    auto* slots = carver.take<std::byte>(stride * topic.capacity);
    const auto pin_bytes = 8ull * layout::topic_pin_words(topic.max_subscribers);
    for (std::uint32_t slot = 0; slot < topic.capacity; ++slot) {
        auto* header = new (slots + slot * stride) layout::TopicSlotHeader{};
        header->word.store(0, std::memory_order_relaxed);
        // Never a real position, so no subscriber mistakes a fresh slot for a message.
        header->position.store(UINT64_MAX, std::memory_order_relaxed);
        header->length.store(0, std::memory_order_relaxed);
        std::memset(slots + slot * stride + sizeof(layout::TopicSlotHeader), 0, pin_bytes);
    }
    auto* subscribers = carver.take<layout::SubscriberRecord>(topic.max_subscribers * sizeof(layout::SubscriberRecord));
    for (std::uint32_t index = 0; index < topic.max_subscribers; ++index) {
        new (&subscribers[index]) layout::SubscriberRecord{};
    }
    std::memset(control.name, 0, sizeof control.name);
    std::memcpy(control.name, topic.name.data(), topic.name.size());
    control.capacity = topic.capacity;
    control.max_message_size = topic.max_message_size;
    control.slot_stride = stride;
    control.slots_offset = carver.offset_of(slots);
    control.subscribers_offset = carver.offset_of(subscribers);
    control.max_subscribers = topic.max_subscribers;
    control.history = topic.history;
    control.slow_subscriber = static_cast<std::uint8_t>(topic.slow_subscriber);
    SHMQ_LOG(trace) << "topic '" << topic.name << "': " << topic.capacity << " slots of " << stride
                    << " bytes at offset " << control.slots_offset << ", " << topic.max_subscribers
                    << " subscriber records at offset " << control.subscribers_offset;
}

}  // namespace

std::string segment_address(const config::BrokerConfig& config) {
    return config.persist_path.empty() ? config.name : config.persist_path;
}

const char* segment_address_key(const config::BrokerConfig& config) {
    return config.persist_path.empty() ? "name" : "persist_path";
}

std::uint64_t required_segment_size(const config::BrokerConfig& config) {
    SegmentSize size(config.max_clients, config.queues.size(), config.topics.size());
    for (const auto& queue : config.queues) size.add_queue(queue.capacity, queue.max_message_size);
    for (const auto& topic : config.topics) size.add_topic(topic.capacity, topic.max_message_size, topic.max_subscribers);
    return size.bytes();
}

namespace {

// Lays out every table of `config` through `carver`, in the order
// common/segment_size.cpp sizes them.
void lay_out(Carver& carver, const config::BrokerConfig& config, const AccessListing& access) {
    auto* root = carver.take<layout::SegmentRoot>(sizeof(layout::SegmentRoot));
    const std::uint32_t records = config.max_clients + layout::broker_records;
    auto* queues = carver.take<layout::QueueControl>(config.queues.size() * sizeof(layout::QueueControl));
    auto* topics = carver.take<layout::TopicControl>(config.topics.size() * sizeof(layout::TopicControl));
    auto* clients = carver.take<layout::ClientRecord>(records * sizeof(layout::ClientRecord));
    auto* roles = carver.take<std::byte>(static_cast<std::uint64_t>(records) * (config.queues.size() + config.topics.size()));
    auto* access_table = carver.take<layout::AccessTable>(sizeof(layout::AccessTable));
    auto* events = carver.take<layout::ClientEventRing>(sizeof(layout::ClientEventRing));
    for (std::uint32_t index = 0; index < config.queues.size(); ++index) {
        build_queue(carver, config, index, *new (&queues[index]) layout::QueueControl());
    }
    for (std::uint32_t index = 0; index < config.topics.size(); ++index) {
        build_topic(carver, config.topics[index], *new (&topics[index]) layout::TopicControl());
    }
    auto* tail = carver.take<std::byte>(layout::tail_canary_bytes);
    std::memcpy(tail + layout::tail_canary_bytes - sizeof layout::tail_canary, &layout::tail_canary,
                sizeof layout::tail_canary);
    for (std::uint32_t index = 0; index < records; ++index) new (&clients[index]) layout::ClientRecord();
    new (events) layout::ClientEventRing();
    // The file is zero-filled; the roles need nothing more.

    new (root) layout::SegmentRoot();
    root->layout_version = layout::version;
    root->root_size = sizeof(layout::SegmentRoot);
    root->segment_size = carver.used();
    platform::read_boot_id(root->boot_id);
    root->pid_namespace = platform::own_pid_namespace();
    root->state.store(static_cast<std::uint32_t>(layout::BrokerState::initializing), std::memory_order_relaxed);
    root->broker = ProcessIdentity::self();
    root->queue_count = static_cast<std::uint32_t>(config.queues.size());
    root->client_capacity = records;
    root->liveness_interval_ms = config.liveness_interval_ms;
    root->queues_offset = carver.offset_of(queues);
    root->topic_count = static_cast<std::uint32_t>(config.topics.size());
    root->topics_offset = carver.offset_of(topics);
    root->clients_offset = carver.offset_of(clients);
    root->roles_offset = carver.offset_of(roles);
    write_access_listing(access, *access_table);
    root->access_offset = carver.offset_of(access_table);
    root->events_offset = carver.offset_of(events);
    // The magic last: a root is recognisable only once it is whole.
    root->magic = layout::magic;
}

}  // namespace

platform::FileAccess segment_access(const config::BrokerConfig& config, const std::string& path) {
    const auto group_id = [&](const std::string& group, const char* role) -> std::int64_t {
        if (group.empty()) return -1;
        std::uint32_t gid = 0;
        if (!platform::group_id_of(group, gid)) {
            throw SettingError("segment '" + path + "': " + role + " '" + group + "' does not exist", "group");
        }
        return gid;
    };
    platform::FileAccess access;
    access.mode = config.permissions;
    access.group = group_id(config.group, "group");
    access.read_only_group = group_id(config.read_only_group, "readers' group");
    return access;
}

std::unique_ptr<SegmentMapping> build_segment(const config::BrokerConfig& config, const std::string& path,
                                              const AccessListing& access) {
    const auto size = required_segment_size(config);
    const auto file_access = segment_access(config, path);
    std::unique_ptr<SegmentMapping> segment;
    std::string why;
    const auto error = SegmentMapping::create(path, SegmentMapping::is_file(segment_address(config)), size,
                                              file_access, segment, why);
    if (error == platform::FileError::no_space) {
        throw SettingError("segment '" + path + "': " + why + ": is there enough room in " +
                               (config.persist_path.empty() ? "its directory" : "its file system") + "?",
                           segment_address_key(config));
    }
    if (error != platform::FileError::none) {
        throw SettingError("segment '" + path + "': " + why, segment_address_key(config));
    }
    SHMQ_LOG(debug) << "segment '" << path << "': created, " << size << " bytes; laying out " << config.queues.size()
                    << " queues, " << config.topics.size() << " topics, " << config.max_clients + layout::broker_records
                    << " client records";
    Carver builder(segment->base());
    lay_out(builder, config, access);
    if (builder.used() != size) {
        throw std::logic_error("segment '" + path + "': laid out " + std::to_string(builder.used()) +
                               " bytes where " + std::to_string(size) + " were sized (a bug)");
    }
    return segment;
}

bool segment_matches_config(const SegmentView& view, const config::BrokerConfig& config, const AccessListing& access,
                            std::string& difference) {
    AccessListing listed;
    if (!read_access_listing(view.access_table(), listed, difference)) return false;
    if (!(listed == access)) {
        difference = "its restricted queues and topics, or their access groups, differ from the configuration's";
        return false;
    }
    if (view.queue_count() != config.queues.size()) {
        difference = "it holds " + std::to_string(view.queue_count()) + " queues, the configuration " +
                     std::to_string(config.queues.size());
        return false;
    }
    if (view.client_capacity() != config.max_clients + layout::broker_records) {
        difference = "its client table has another size than max_clients";
        return false;
    }
    for (std::uint32_t index = 0; index < view.queue_count(); ++index) {
        const auto& queue = config.queues[index];
        if (!view.queue_usable(index)) {
            difference = "queue #" + std::to_string(index) + " has corrupt metadata";
            return false;
        }
        const auto& geometry = view.ring(index).geometry();
        if (view.queue_name(index) != queue.name || geometry.capacity != queue.capacity ||
            geometry.max_message_size != queue.max_message_size ||
            geometry.overflow != static_cast<std::uint8_t>(queue.overflow) ||
            geometry.delivery != static_cast<std::uint8_t>(queue.delivery) ||
            geometry.single_producer() != (queue.producers == config::Sharing::single) ||
            geometry.single_consumer() != (queue.consumers == config::Sharing::single)) {
            difference = "queue '" + queue.name + "' is configured differently";
            return false;
        }
    }
    if (view.topic_count() != config.topics.size()) {
        difference = "it holds " + std::to_string(view.topic_count()) + " topics, the configuration " +
                     std::to_string(config.topics.size());
        return false;
    }
    for (std::uint32_t index = 0; index < view.topic_count(); ++index) {
        const auto& topic = config.topics[index];
        if (!view.topic_usable(index)) {
            difference = "topic #" + std::to_string(index) + " has corrupt metadata";
            return false;
        }
        const auto& geometry = view.topic(index).geometry();
        if (view.topic_name(index) != topic.name || geometry.capacity != topic.capacity ||
            geometry.max_message_size != topic.max_message_size || geometry.history != topic.history ||
            geometry.max_subscribers != topic.max_subscribers ||
            geometry.slow_subscriber != static_cast<std::uint8_t>(topic.slow_subscriber)) {
            difference = "topic '" + topic.name + "' is configured differently";
            return false;
        }
    }
    return true;
}

std::vector<std::string> apply_delivery_settings(SegmentView& view, const config::BrokerConfig& config) {
    std::vector<std::string> changes;
    for (std::uint32_t index = 0; index < view.queue_count() && index < config.queues.size(); ++index) {
        if (!view.queue_usable(index)) continue;
        const auto& queue = config.queues[index];
        auto& control = view.ring(index).control();
        const auto change = [&](const char* key, std::uint32_t& field, std::uint32_t value, const std::string& before,
                                const std::string& after) {
            if (read_once(field) == value) return;
            // Clients read the field with read_once meanwhile: one store, never torn.
            write_once(field, value);
            changes.push_back("queue '" + queue.name + "': " + key + " " + before + " -> " + after);
        };
        change("max_deliveries", control.max_deliveries, queue.max_deliveries,
               std::to_string(read_once(control.max_deliveries)), std::to_string(queue.max_deliveries));
        change("ack_timeout_ms", control.ack_timeout_ms, queue.ack_timeout_ms,
               std::to_string(read_once(control.ack_timeout_ms)), std::to_string(queue.ack_timeout_ms));
    }
    return changes;
}

}  // namespace shmq::daemon
