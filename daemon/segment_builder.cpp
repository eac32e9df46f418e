#include "daemon/segment_builder.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <new>
#include <stdexcept>
#include <unistd.h>

#include "common/layout.hpp"
#include "common/segment_view.hpp"

namespace shmq::daemon {

namespace {

// What rbtree_best_fit and the named index cost, generously: a header per
// allocation plus up to a cache line of alignment padding.
constexpr std::uint64_t per_allocation_overhead = 2 * layout::cache_line;
constexpr std::uint64_t fixed_overhead = 64 * 1024;

std::uint64_t aligned(std::uint64_t bytes) { return (bytes + layout::cache_line - 1) / layout::cache_line * layout::cache_line; }

// A group by name, or by numeric id as the configuration allows.
bool resolve_group(const std::string& name, gid_t& gid) {
    if (const group* entry = ::getgrnam(name.c_str())) {
        gid = entry->gr_gid;
        return true;
    }
    if (name.empty() || name.size() > 9 || name.find_first_not_of("0123456789") != std::string::npos) return false;
    gid = static_cast<gid_t>(std::stoul(name));
    return true;
}

// Mode, group and memory: the mode is applied without the umask, the group
// lets another account's clients attach, and reserving the pages now turns a
// full /dev/shm into a clear start-up error instead of a SIGBUS in a client.
void prepare_backing(const config::BrokerConfig& config, std::uint64_t size) {
    const std::string path = SegmentMapping::file_system_path(segment_address(config));
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot reopen segment '" + path + "': " + std::strerror(errno));
    std::string failure;
    if (!config.group.empty()) {
        gid_t gid = 0;
        if (!resolve_group(config.group, gid)) {
            failure = "group '" + config.group + "' does not exist";
        } else if (::fchown(fd, static_cast<uid_t>(-1), gid) != 0) {
            failure = "cannot give segment to group '" + config.group + "': " + std::strerror(errno);
        }
    }
    if (failure.empty() && ::fchmod(fd, config.permissions) != 0) {
        failure = std::string("cannot set the segment's permissions: ") + std::strerror(errno);
    }
    if (failure.empty()) {
        const int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(size));
        if (rc != 0) {
            failure = "cannot reserve " + std::to_string(size) + " bytes (" + std::strerror(rc) +
                      "): is there enough room in " + (config.persist_path.empty() ? "/dev/shm" : "its file system") + "?";
        }
    }
    ::close(fd);
    if (!failure.empty()) throw std::runtime_error("segment '" + path + "': " + failure);
}

std::uint32_t index_of_queue(const config::BrokerConfig& config, const std::string& name) {
    for (std::uint32_t index = 0; index < config.queues.size(); ++index) {
        if (config.queues[index].name == name) return index;
    }
    return layout::no_queue;
}

void build_queue(SegmentMapping& segment, const config::BrokerConfig& config, std::uint32_t index,
                 layout::QueueControl& control) {
    const auto& queue = config.queues[index];
    const auto stride = layout::slot_stride_for(queue.max_message_size);
    const auto bytes = stride * queue.capacity;
    auto* slots = static_cast<std::byte*>(segment.allocate_aligned(bytes, "queue '" + queue.name + "'"));
    for (std::uint32_t slot = 0; slot < queue.capacity; ++slot) {
        auto* header = new (slots + slot * stride) layout::SlotHeader{};
        header->word.store(0, std::memory_order_relaxed);
        // Never a real position, so no repair rule mistakes a fresh slot for a cut-short step.
        header->position.store(UINT64_MAX, std::memory_order_relaxed);
    }
    std::memset(control.name, 0, sizeof control.name);
    std::memcpy(control.name, queue.name.data(), queue.name.size());
    control.capacity = queue.capacity;
    control.max_message_size = queue.max_message_size;
    control.slot_stride = stride;
    control.slots_offset = static_cast<std::uint64_t>(slots - segment.base());
    control.overflow = static_cast<std::uint8_t>(queue.overflow);
    control.delivery = static_cast<std::uint8_t>(queue.delivery);
    control.max_deliveries = queue.max_deliveries;
    control.ack_timeout_ms = queue.ack_timeout_ms;
    control.dead_letter_index = queue.dead_letter.empty() ? layout::no_queue : index_of_queue(config, queue.dead_letter);
}

void build_topic(SegmentMapping& segment, const config::TopicConfig& topic, layout::TopicControl& control) {
    const auto stride = layout::topic_slot_stride_for(topic.max_message_size, topic.max_subscribers);
    const auto label = "topic '" + topic.name + "'";
    auto* slots = static_cast<std::byte*>(segment.allocate_aligned(stride * topic.capacity, label));
    const auto pin_bytes = 8ull * layout::topic_pin_words(topic.max_subscribers);
    for (std::uint32_t slot = 0; slot < topic.capacity; ++slot) {
        auto* header = new (slots + slot * stride) layout::TopicSlotHeader{};
        header->word.store(0, std::memory_order_relaxed);
        // Never a real position, so no subscriber mistakes a fresh slot for a message.
        header->position.store(UINT64_MAX, std::memory_order_relaxed);
        header->length.store(0, std::memory_order_relaxed);
        std::memset(slots + slot * stride + sizeof(layout::TopicSlotHeader), 0, pin_bytes);
    }
    auto* subscribers = static_cast<layout::SubscriberRecord*>(
        segment.allocate_aligned(topic.max_subscribers * sizeof(layout::SubscriberRecord), label + " subscribers"));
    for (std::uint32_t index = 0; index < topic.max_subscribers; ++index) {
        new (&subscribers[index]) layout::SubscriberRecord{};
    }
    std::memset(control.name, 0, sizeof control.name);
    std::memcpy(control.name, topic.name.data(), topic.name.size());
    control.capacity = topic.capacity;
    control.max_message_size = topic.max_message_size;
    control.slot_stride = stride;
    control.slots_offset = static_cast<std::uint64_t>(slots - segment.base());
    control.subscribers_offset =
        static_cast<std::uint64_t>(reinterpret_cast<std::byte*>(subscribers) - segment.base());
    control.max_subscribers = topic.max_subscribers;
    control.history = topic.history;
    control.slow_subscriber = static_cast<std::uint8_t>(topic.slow_subscriber);
}

}  // namespace

std::string segment_address(const config::BrokerConfig& config) {
    return config.persist_path.empty() ? config.name : config.persist_path;
}

std::uint64_t required_segment_size(const config::BrokerConfig& config) {
    const std::uint64_t queues = config.queues.size();
    std::uint64_t size = fixed_overhead;
    size += aligned(sizeof(layout::SegmentRoot)) + per_allocation_overhead;
    size += aligned(queues * sizeof(layout::QueueControl)) + per_allocation_overhead;
    const std::uint64_t records = config.max_clients + layout::broker_records;
    size += aligned(records * sizeof(layout::ClientRecord)) + per_allocation_overhead;
    const std::uint64_t topics = config.topics.size();
    size += aligned(topics * sizeof(layout::TopicControl)) + per_allocation_overhead;
    size += aligned(records * (queues + topics)) + per_allocation_overhead;
    for (const auto& queue : config.queues) {
        size += layout::slot_stride_for(queue.max_message_size) * queue.capacity + per_allocation_overhead;
    }
    for (const auto& topic : config.topics) {
        size += layout::topic_slot_stride_for(topic.max_message_size, topic.max_subscribers) * topic.capacity +
                per_allocation_overhead;
        size += topic.max_subscribers * sizeof(layout::SubscriberRecord) + per_allocation_overhead;
    }
    return aligned(size);
}

std::unique_ptr<SegmentMapping> build_segment(const config::BrokerConfig& config) {
    const auto size = required_segment_size(config);
    auto segment = SegmentMapping::create(segment_address(config), size, config.permissions);
    prepare_backing(config, size);

    auto* root = segment->construct_root();
    root->magic = layout::magic;
    root->layout_version = layout::version;
    root->root_size = sizeof(layout::SegmentRoot);
    root->segment_size = segment->size();
    read_boot_id(root->boot_id);
    root->pid_namespace = own_pid_namespace();
    root->state.store(static_cast<std::uint32_t>(layout::BrokerState::initializing), std::memory_order_relaxed);
    root->broker_epoch.store(0, std::memory_order_relaxed);
    root->broker = ProcessIdentity::self();
    root->broker_heartbeat_ns.store(0, std::memory_order_relaxed);
    root->queue_count = static_cast<std::uint32_t>(config.queues.size());
    const std::uint32_t records = config.max_clients + layout::broker_records;
    root->client_capacity = records;
    root->liveness_interval_ms = config.liveness_interval_ms;

    auto* base = segment->base();
    const auto queue_bytes = config.queues.size() * sizeof(layout::QueueControl);
    // A broker may carry only topics; the table still needs an address.
    auto* queues = static_cast<layout::QueueControl*>(
        segment->allocate_aligned(queue_bytes == 0 ? 1 : queue_bytes, "the queue table"));
    for (std::uint32_t index = 0; index < config.queues.size(); ++index) {
        auto* control = new (&queues[index]) layout::QueueControl();
        build_queue(*segment, config, index, *control);
    }
    root->queues_offset = static_cast<std::uint64_t>(reinterpret_cast<std::byte*>(queues) - base);

    root->topic_count = static_cast<std::uint32_t>(config.topics.size());
    const auto topic_bytes = config.topics.size() * sizeof(layout::TopicControl);
    auto* topics = static_cast<layout::TopicControl*>(
        segment->allocate_aligned(topic_bytes == 0 ? 1 : topic_bytes, "the topic table"));
    for (std::uint32_t index = 0; index < config.topics.size(); ++index) {
        auto* control = new (&topics[index]) layout::TopicControl();
        build_topic(*segment, config.topics[index], *control);
    }
    root->topics_offset = static_cast<std::uint64_t>(reinterpret_cast<std::byte*>(topics) - base);

    auto* clients = static_cast<layout::ClientRecord*>(
        segment->allocate_aligned(records * sizeof(layout::ClientRecord), "the client table"));
    for (std::uint32_t index = 0; index < records; ++index) new (&clients[index]) layout::ClientRecord();
    root->clients_offset = static_cast<std::uint64_t>(reinterpret_cast<std::byte*>(clients) - base);

    const auto role_bytes = static_cast<std::uint64_t>(records) * (config.queues.size() + config.topics.size());
    auto* roles = static_cast<std::byte*>(segment->allocate_aligned(role_bytes == 0 ? 1 : role_bytes, "the role table"));
    std::memset(roles, 0, role_bytes);
    root->roles_offset = static_cast<std::uint64_t>(roles - base);
    return segment;
}

bool segment_matches_config(const SegmentView& view, const config::BrokerConfig& config, std::string& difference) {
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
            geometry.delivery != static_cast<std::uint8_t>(queue.delivery)) {
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

}  // namespace shmq::daemon
