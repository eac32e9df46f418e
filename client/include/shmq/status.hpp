// Every outcome of a shmq operation. Data-path calls never throw: they return
// one of these, so a caller can tell back-pressure from failure at a glance.
// Public, and the lowest layer of the vocabulary: the library's internals
// (common/) use this same enum rather than a copy of it.
#pragma once

#include "shmq/export.h"

namespace shmq {

enum class Status {
    ok = 0,
    empty,               // a try-receive found nothing to take (on a topic: nothing new to read)
    queue_full,          // no room: the reject policy, or a try-send that would block (on a topic:
                         // a subscriber lags a whole ring behind, or the slot is pinned by a view)
    timeout,             // the deadline passed before the operation could complete
    message_too_large,   // larger than the queue's max_message_size
    buffer_too_small,    // the caller's buffer cannot hold the next message (it stays queued)
    queue_not_found,     // no queue of that name in this broker
    broker_not_found,    // no segment of that name: is shmqd running?
    broker_stopped,      // the broker shut down; reattach to a new one
    version_mismatch,    // the segment was laid out by another shmq version
    permission_denied,   // the segment exists but this user may not open it
    too_many_clients,    // every client record of the broker is taken
    corrupt_segment,     // shared metadata failed validation
    queue_quarantined,   // the queue (or topic) was found corrupt and is out of service
    invalid_argument,    // e.g. a null buffer with a non-zero size
    not_acknowledgeable, // ack of a delivery this client does not hold (or already acked)
    system_error,        // an operating-system call failed unexpectedly
    topic_not_found,     // no topic of that name in this broker
    too_many_subscribers,  // every subscriber record of the topic is taken (raise max_subscribers)
    too_many_views,      // the subscription already holds layout::max_views_per_subscriber views
    untrusted_segment,   // the segment's file belongs to a user this client does not trust as its broker
    foreign_pid_namespace,      // this process is in another PID namespace than the broker (a container?)
    segment_from_earlier_boot,  // no broker has adopted the segment since the machine rebooted
    client_reclaimed,           // the broker took this client for dead and reclaimed it: reattach
    queue_removed,              // a reload removed the queue or topic: nothing more can be sent to it, and a
                                // receive returns this once what was queued is drained
    exclusive_held              // the queue admits a single producer (consumer) and another client is it
};

// A short, stable, human-readable name, e.g. "queue_full".
SHMQ_API const char* to_string(Status status);
// One sentence saying what the status means to a user.
SHMQ_API const char* describe(Status status);

}  // namespace shmq
