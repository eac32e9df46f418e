#include "shmq/status.hpp"

namespace shmq {

const char* to_string(Status status) {
    switch (status) {
    case Status::ok: return "ok";
    case Status::empty: return "empty";
    case Status::queue_full: return "queue_full";
    case Status::timeout: return "timeout";
    case Status::message_too_large: return "message_too_large";
    case Status::buffer_too_small: return "buffer_too_small";
    case Status::queue_not_found: return "queue_not_found";
    case Status::broker_not_found: return "broker_not_found";
    case Status::broker_stopped: return "broker_stopped";
    case Status::version_mismatch: return "version_mismatch";
    case Status::permission_denied: return "permission_denied";
    case Status::untrusted_segment: return "untrusted_segment";
    case Status::too_many_clients: return "too_many_clients";
    case Status::corrupt_segment: return "corrupt_segment";
    case Status::queue_quarantined: return "queue_quarantined";
    case Status::invalid_argument: return "invalid_argument";
    case Status::not_acknowledgeable: return "not_acknowledgeable";
    case Status::system_error: return "system_error";
    case Status::topic_not_found: return "topic_not_found";
    case Status::too_many_subscribers: return "too_many_subscribers";
    case Status::too_many_views: return "too_many_views";
    case Status::foreign_pid_namespace: return "foreign_pid_namespace";
    case Status::segment_from_earlier_boot: return "segment_from_earlier_boot";
    case Status::client_reclaimed: return "client_reclaimed";
    case Status::queue_removed: return "queue_removed";
    case Status::exclusive_held: return "exclusive_held";
    }
    return "unknown_status";
}

const char* describe(Status status) {
    switch (status) {
    case Status::ok: return "success";
    case Status::empty: return "nothing was waiting to be received";
    case Status::queue_full: return "the queue (or the topic's ring) is full";
    case Status::timeout: return "the operation timed out";
    case Status::message_too_large: return "the message is larger than the queue's max_message_size";
    case Status::buffer_too_small: return "the receive buffer is smaller than the next message";
    case Status::queue_not_found: return "no queue of that name is configured in the broker";
    case Status::broker_not_found: return "no broker segment of that name exists (is shmqd running?)";
    case Status::broker_stopped: return "the broker has stopped";
    case Status::version_mismatch: return "the broker's segment has another magic or layout version than this client";
    case Status::permission_denied: return "permission denied on the broker's segment";
    case Status::untrusted_segment:
        return "the broker's segment belongs to a user not trusted as a broker (trusted: root, the shmq user, "
               "this process's user, or the owner named by --broker-owner / SHMQ_BROKER_OWNER)";
    case Status::too_many_clients: return "the broker's client table is full (raise max_clients)";
    case Status::corrupt_segment: return "the broker's segment failed validation";
    case Status::queue_quarantined: return "the queue or topic was found corrupt and is quarantined";
    case Status::invalid_argument: return "invalid argument";
    case Status::not_acknowledgeable: return "no such delivery is held by this client";
    case Status::system_error: return "an operating-system call failed";
    case Status::topic_not_found: return "no topic of that name is configured in the broker";
    case Status::too_many_subscribers: return "every subscriber record of the topic is taken (raise max_subscribers)";
    case Status::too_many_views: return "the subscription already holds as many views as it may; release one";
    case Status::foreign_pid_namespace:
        return "this process runs in another PID namespace than the broker (a container without the host's PID "
               "namespace?), where the broker cannot tell whether it is alive; run it in the broker's PID namespace "
               "(e.g. docker run --pid=host)";
    case Status::segment_from_earlier_boot:
        return "the segment was left by a broker of an earlier boot and no broker has adopted it since; start shmqd "
               "first";
    case Status::client_reclaimed:
        return "the broker took this client for dead and reclaimed what it held; the operation did not happen; "
               "reattach";
    case Status::queue_removed:
        return "the queue or topic was removed from the broker's configuration by a reload: it takes no more "
               "messages, and what it held has been received";
    case Status::exclusive_held:
        return "the queue is configured with a single producer (or consumer) and another client is it; the "
               "operation did not happen; retry once that client detaches or dies";
    }
    return "unknown status";
}

}  // namespace shmq
