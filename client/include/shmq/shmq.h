/* libshmq's C API: the C++ client (shmq/client.hpp, shmq/topic.hpp) behind
 * opaque handles, for C programs and for any language's FFI (ctypes, cffi,
 * Rust, Go, ...). C11; the library itself is C++, linked as libshmq.
 *
 *     shmq_client* client;
 *     if (shmq_attach(NULL, &client, NULL, 0) != SHMQ_OK) ...
 *     shmq_queue* orders;
 *     shmq_queue_open(client, "orders", &orders);
 *     shmq_queue_send(orders, "hello", 5, SHMQ_WAIT_FOREVER);
 *     ...
 *     shmq_queue_close(orders);
 *     shmq_detach(client);
 *
 * Rules that hold for every function:
 * - Each returns an shmq_status (or a plain value for accessors that cannot
 *   fail); shmq_status_text() says what it means. Nothing throws or unwinds
 *   across this API: a C++ exception inside (e.g. out of memory) comes back as
 *   SHMQ_SYSTEM_ERROR, never as a crash.
 * - A NULL handle or NULL out-pointer gives SHMQ_INVALID_ARGUMENT.
 * - Out-parameters hold meaningful values only on SHMQ_OK unless said otherwise.
 * - Timeouts are in nanoseconds: SHMQ_WAIT_FOREVER (any negative value) waits
 *   as long as it takes, SHMQ_NO_WAIT (0) makes the call a try.
 * - Ownership: every handle made by a function (client, queue, topic,
 *   subscription, loan, view, stats) is owned by the caller and given back by
 *   exactly one matching call (shmq_detach, shmq_queue_close, ...). Handles
 *   derived from a client must all be given back before shmq_detach of that
 *   client; the pointers they hand out (shmq_view_data, shmq_loan_data) are
 *   valid until their own handle is given back.
 * - Thread safety is stated per handle type below.
 */
#ifndef SHMQ_SHMQ_H
#define SHMQ_SHMQ_H

#include <stddef.h>
#include <stdint.h>

#include "shmq/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Every outcome of a call; one for one with shmq::Status (shmq/status.hpp). */
typedef enum shmq_status {
    SHMQ_OK = 0,
    SHMQ_EMPTY,                     /* a try found nothing to take */
    SHMQ_QUEUE_FULL,                /* no room (reject policy, or a try that would wait) */
    SHMQ_TIMEOUT,                   /* the timeout passed first */
    SHMQ_MESSAGE_TOO_LARGE,         /* above the queue's or topic's max_message_size */
    SHMQ_BUFFER_TOO_SMALL,          /* the next message does not fit; it stays to be read again */
    SHMQ_QUEUE_NOT_FOUND,           /* no queue of that name */
    SHMQ_BROKER_NOT_FOUND,          /* no broker segment of that name: is shmqd running? */
    SHMQ_BROKER_STOPPED,            /* the broker shut down: detach and attach again */
    SHMQ_VERSION_MISMATCH,          /* the segment was laid out by another shmq version */
    SHMQ_PERMISSION_DENIED,         /* the segment exists but this user may not open it */
    SHMQ_TOO_MANY_CLIENTS,          /* every client record of the broker is taken */
    SHMQ_CORRUPT_SEGMENT,           /* shared metadata failed validation */
    SHMQ_QUEUE_QUARANTINED,         /* the queue or topic was found corrupt and is out of service */
    SHMQ_INVALID_ARGUMENT,          /* e.g. a NULL handle, or NULL data with a non-zero size */
    SHMQ_NOT_ACKNOWLEDGEABLE,       /* ack of a delivery this client does not hold */
    SHMQ_SYSTEM_ERROR,              /* an OS call failed, or the library ran out of memory */
    SHMQ_TOPIC_NOT_FOUND,           /* no topic of that name */
    SHMQ_TOO_MANY_SUBSCRIBERS,      /* every subscriber record of the topic is taken */
    SHMQ_TOO_MANY_VIEWS,            /* the subscription already holds SHMQ_MAX_VIEWS views */
    SHMQ_UNTRUSTED_SEGMENT,         /* the segment belongs to a user not trusted as the broker */
    SHMQ_FOREIGN_PID_NAMESPACE,     /* this process is in another PID namespace than the broker */
    SHMQ_SEGMENT_FROM_EARLIER_BOOT, /* no broker has adopted the segment since the reboot */
    SHMQ_CLIENT_RECLAIMED,          /* the broker took this client for dead: attach again */
    SHMQ_QUEUE_REMOVED,             /* a reload removed the queue or topic; receives drain it first */
    SHMQ_EXCLUSIVE_HELD             /* a single-producer (consumer) queue's other side is another client's */
} shmq_status;

#define SHMQ_WAIT_FOREVER ((int64_t)-1)
#define SHMQ_NO_WAIT ((int64_t)0)
/* Views a subscription may hold at once. */
#define SHMQ_MAX_VIEWS 4

/* The library's version, e.g. "0.1.0". Thread-safe; static string. */
SHMQ_API const char* shmq_version(void);
/* A short stable name, e.g. "queue_full", and one sentence for a user, of
 * an shmq_status value (taken as an int, so that any value an FFI passes is
 * defined behaviour). Thread-safe; static strings; a value that is no
 * shmq_status gives "unknown status". */
SHMQ_API const char* shmq_status_name(int status);
SHMQ_API const char* shmq_status_text(int status);

/* ---- Attaching ------------------------------------------------------- */

typedef enum shmq_wait_strategy {
    SHMQ_WAIT_BLOCK = 0,           /* sleep at once (a receive that finds a message
                                      mid-copy polls for it up to 2 us first) */
    SHMQ_WAIT_SPIN_THEN_BLOCK = 1, /* poll for spin_us, then sleep (the default) */
    SHMQ_WAIT_BUSY_POLL = 2        /* never sleep */
} shmq_wait_strategy;

/* Fill with shmq_attach_options_init() first, then set what differs; the
 * strings are copied by shmq_attach and may be freed after it returns. */
typedef struct shmq_attach_options {
    const char* broker;       /* segment name or persistent file; NULL/"": $SHMQ_BROKER, else "shmq" */
    const char* broker_owner; /* user name or id to trust; NULL/"": $SHMQ_BROKER_OWNER, else the defaults */
    const char* program;      /* shown by `shmq stats`; NULL/"": this process's name */
    int wait;                 /* a shmq_wait_strategy (an int, so any FFI may set it) */
    int64_t spin_us;          /* spin_then_block: how long to poll before sleeping */
} shmq_attach_options;

/* Sets the defaults. Thread-safe. */
SHMQ_API void shmq_attach_options_init(shmq_attach_options* options);

/* A client attached to a broker. Thread-safe: a client, and the queue and
 * topic handles opened from it, may be used from any number of threads at
 * once; but a queue configured `producers: single` (`consumers: single`) is
 * leased to the first thread that sends (receives) on it, until its client
 * detaches: any other thread, of this client or another, gets
 * SHMQ_EXCLUSIVE_HELD. Must outlive every handle made from it. */
typedef struct shmq_client shmq_client;

/* Attaches (options NULL: the defaults). On failure, when error is not NULL,
 * writes a NUL-terminated explanation naming the segment, cut to
 * error_capacity bytes. The caller owns *client: give it back with
 * shmq_detach. */
SHMQ_API shmq_status shmq_attach(const shmq_attach_options* options, shmq_client** client, char* error,
                                 size_t error_capacity);
/* Detaches and frees the client; NULL does nothing. Every handle made from
 * it must have been given back; no other thread may be using it. */
SHMQ_API void shmq_detach(shmq_client* client);
/* The broker's name; valid while the client lives. */
SHMQ_API const char* shmq_client_broker_name(const shmq_client* client);

/* ---- Queues ---------------------------------------------------------- */

/* A handle on one queue. Thread-safe: any number of threads at once. */
typedef struct shmq_queue shmq_queue;

/* One message to send in a batch. */
typedef struct shmq_outgoing {
    const void* data;
    size_t size;
} shmq_outgoing;

/* A receive buffer in a batch: size (the message's length) and delivery
 * (at_least_once: the token to acknowledge) are filled in. */
typedef struct shmq_incoming {
    void* buffer;
    size_t capacity;
    size_t size;
    uint64_t delivery;
} shmq_incoming;

/* Opens queue `name` (SHMQ_QUEUE_NOT_FOUND, SHMQ_QUEUE_QUARANTINED). The
 * caller owns *queue: give it back with shmq_queue_close. */
SHMQ_API shmq_status shmq_queue_open(shmq_client* client, const char* name, shmq_queue** queue);
/* Frees the handle; NULL does nothing. */
SHMQ_API void shmq_queue_close(shmq_queue* queue);
/* Valid while the handle lives. */
SHMQ_API const char* shmq_queue_name(const shmq_queue* queue);
SHMQ_API uint32_t shmq_queue_max_message_size(const shmq_queue* queue);
SHMQ_API uint32_t shmq_queue_capacity(const shmq_queue* queue);

/* Sends a copy of size bytes, waiting for room per the queue's overflow
 * policy up to timeout_ns (SHMQ_NO_WAIT: SHMQ_QUEUE_FULL instead). */
SHMQ_API shmq_status shmq_queue_send(shmq_queue* queue, const void* data, size_t size, int64_t timeout_ns);
SHMQ_API shmq_status shmq_queue_try_send(shmq_queue* queue, const void* data, size_t size);
/* Copies the next message into buffer; *size is its length. On an
 * at_least_once queue *delivery (when not NULL) is the token to pass to
 * shmq_queue_acknowledge; unacknowledged, the message is redelivered after
 * the queue's ack timeout. SHMQ_BUFFER_TOO_SMALL leaves it queued. */
SHMQ_API shmq_status shmq_queue_receive(shmq_queue* queue, void* buffer, size_t capacity, size_t* size,
                                        uint64_t* delivery, int64_t timeout_ns);
SHMQ_API shmq_status shmq_queue_try_receive(shmq_queue* queue, void* buffer, size_t capacity, size_t* size,
                                            uint64_t* delivery);
SHMQ_API shmq_status shmq_queue_acknowledge(shmq_queue* queue, uint64_t delivery);
/* shmq_queue_acknowledge of each of count deliveries, in order, waking a
 * producer waiting for room once for all the slots they free; *acknowledged
 * (always written) counts those that were acknowledged.
 * SHMQ_NOT_ACKNOWLEDGEABLE when any was not held (the others are
 * acknowledged all the same). */
SHMQ_API shmq_status shmq_queue_acknowledge_batch(shmq_queue* queue, const uint64_t* deliveries, size_t count,
                                                  size_t* acknowledged);
/* Sends all count messages in order; *sent (always written) says how many
 * went before a timeout, SHMQ_QUEUE_FULL or SHMQ_BROKER_STOPPED. */
SHMQ_API shmq_status shmq_queue_send_batch(shmq_queue* queue, const shmq_outgoing* messages, size_t count, size_t* sent,
                                           int64_t timeout_ns);
/* Waits for at least one message, then takes up to count that are ready;
 * *received (always written) says how many of messages[] were filled. */
SHMQ_API shmq_status shmq_queue_receive_batch(shmq_queue* queue, shmq_incoming* messages, size_t count,
                                     size_t* received, int64_t timeout_ns);
/* Packed batches, for bindings where each call and each struct field
 * costs more than the copy (e.g. Python): a batch's messages lie back to
 * back in one buffer, their lengths in an array.
 *
 * shmq_queue_send_packed sends count messages in order, message i being the
 * sizes[i] bytes that follow message i-1 in data; otherwise as
 * shmq_queue_send_batch (*sent, always written, says how many went). */
SHMQ_API shmq_status shmq_queue_send_packed(shmq_queue* queue, const void* data, const size_t* sizes, size_t count,
                                   size_t* sent, int64_t timeout_ns);
/* Waits up to timeout_ns for at least one message, then takes up to count
 * that are ready and fit in the rest of buffer, back to back: message i has
 * sizes[i] bytes, and deliveries[i] (deliveries may be NULL) is its
 * at_least_once token. *received (always written) says how many. A message
 * that does not fit stays queued: SHMQ_BUFFER_TOO_SMALL when it is the
 * first, else SHMQ_OK with those before it (capacity >=
 * shmq_queue_max_message_size() always takes at least one). Fastest with
 * capacity >= count * shmq_queue_max_message_size(): every message then
 * fits, and the batch is taken in one go rather than one message at a time. */
SHMQ_API shmq_status shmq_queue_receive_packed(shmq_queue* queue, void* buffer, size_t capacity, size_t* sizes,
                                      uint64_t* deliveries, size_t count, size_t* received, int64_t timeout_ns);
/* As shmq_queue_send_packed, but data holds data_size bytes, which the
 * sizes must add up to: SHMQ_INVALID_ARGUMENT, nothing sent, otherwise. For
 * bindings in which adding the sizes up costs more than here (Python). */
SHMQ_API shmq_status shmq_queue_send_packed_checked(shmq_queue* queue, const void* data, size_t data_size,
                                                    const size_t* sizes, size_t count, size_t* sent,
                                                    int64_t timeout_ns);
/* As shmq_queue_receive_packed, and *total (always written) is the number of
 * bytes received: the sum of sizes[0..*received). */
SHMQ_API shmq_status shmq_queue_receive_packed_total(shmq_queue* queue, void* buffer, size_t capacity, size_t* sizes,
                                                     uint64_t* deliveries, size_t count, size_t* received,
                                                     size_t* total, int64_t timeout_ns);

/* ---- Topics: publishing ---------------------------------------------- */

/* A handle for publishing to one topic. Thread-safe: any number of threads. */
typedef struct shmq_topic shmq_topic;
/* A slot of the ring lent to a publisher to fill in place. One thread at a
 * time. Until published or cancelled, subscribers wait at its position. */
typedef struct shmq_loan shmq_loan;

/* Opens topic `name` for publishing (SHMQ_TOPIC_NOT_FOUND,
 * SHMQ_QUEUE_QUARANTINED). Give it back with shmq_topic_close. */
SHMQ_API shmq_status shmq_topic_open(shmq_client* client, const char* name, shmq_topic** topic);
/* Frees the handle; NULL does nothing. Loans made from it must be gone. */
SHMQ_API void shmq_topic_close(shmq_topic* topic);
SHMQ_API const char* shmq_topic_name(const shmq_topic* topic);
SHMQ_API uint32_t shmq_topic_max_message_size(const shmq_topic* topic);
SHMQ_API uint32_t shmq_topic_capacity(const shmq_topic* topic);
SHMQ_API uint32_t shmq_topic_history(const shmq_topic* topic);

/* Publishes a copy, waiting while the slot to reuse is still needed up to
 * timeout_ns (SHMQ_NO_WAIT: SHMQ_QUEUE_FULL instead). */
SHMQ_API shmq_status shmq_topic_publish(shmq_topic* topic, const void* data, size_t size, int64_t timeout_ns);
/* Claims the next slot for *loan, waiting as shmq_topic_publish does; size
 * is how many bytes publishing sends. The caller owns *loan: give it back
 * with shmq_topic_publish_loan or shmq_loan_cancel. */
SHMQ_API shmq_status shmq_topic_loan(shmq_topic* topic, size_t size, shmq_loan** loan, int64_t timeout_ns);
/* The buffer to fill: shmq_loan_capacity() bytes are writable. Valid until
 * the loan is published or cancelled. */
SHMQ_API void* shmq_loan_data(shmq_loan* loan);
SHMQ_API size_t shmq_loan_size(const shmq_loan* loan);
SHMQ_API size_t shmq_loan_capacity(const shmq_loan* loan);
/* Changes how many bytes publishing sends (SHMQ_MESSAGE_TOO_LARGE above
 * the capacity). */
SHMQ_API shmq_status shmq_loan_resize(shmq_loan* loan, size_t size);
/* Publishes the loan's bytes and frees the loan, whatever the outcome.
 * Never waits. The loan must come from this topic's client. */
SHMQ_API shmq_status shmq_topic_publish_loan(shmq_topic* topic, shmq_loan* loan);
/* Gives the slot up unpublished (subscribers skip it) and frees the loan;
 * NULL does nothing. */
SHMQ_API void shmq_loan_cancel(shmq_loan* loan);

/* ---- Topics: subscribing --------------------------------------------- */

/* One subscription. Use from one thread at a time (views may be released
 * from any thread). */
typedef struct shmq_subscription shmq_subscription;
/* A message read in place, inside shared memory, pinned until released. */
typedef struct shmq_view shmq_view;

/* Subscribes to topic `name`: every message published from now on, after
 * the latest from_history ones (at most the topic's history). timeout_ns
 * bounds the wait for the topic's publisher lock. Give it back with
 * shmq_unsubscribe. */
SHMQ_API shmq_status shmq_subscribe(shmq_client* client, const char* name, uint32_t from_history, int64_t timeout_ns,
                                    shmq_subscription** subscription);
/* Ends the subscription and frees it; NULL does nothing. Its views must
 * have been released first. */
SHMQ_API void shmq_unsubscribe(shmq_subscription* subscription);
/* Copies the next message into buffer, waiting up to timeout_ns
 * (SHMQ_NO_WAIT: SHMQ_EMPTY). SHMQ_BUFFER_TOO_SMALL leaves it to be read
 * again: a buffer of shmq_subscription_max_message_size() bytes always fits. */
SHMQ_API shmq_status shmq_subscription_receive(shmq_subscription* subscription, void* buffer, size_t capacity,
                                               size_t* size, int64_t timeout_ns);
/* Hands out the next message in place as *view, waiting as receive does;
 * at most SHMQ_MAX_VIEWS at once (SHMQ_TOO_MANY_VIEWS). Give the view back
 * with shmq_view_release. */
SHMQ_API shmq_status shmq_subscription_read(shmq_subscription* subscription, shmq_view** view, int64_t timeout_ns);
/* The topic's name and max_message_size; the name is valid while the
 * subscription lives. */
SHMQ_API const char* shmq_subscription_topic(const shmq_subscription* subscription);
SHMQ_API uint32_t shmq_subscription_max_message_size(const shmq_subscription* subscription);
/* Messages delivered so far, and messages lost under the drop policy. */
SHMQ_API uint64_t shmq_subscription_received(const shmq_subscription* subscription);
SHMQ_API uint64_t shmq_subscription_lost(const shmq_subscription* subscription);
/* The message, read-only: shmq_view_size() bytes, valid until released. */
SHMQ_API const void* shmq_view_data(const shmq_view* view);
SHMQ_API size_t shmq_view_size(const shmq_view* view);
/* Unpins the message and frees the view; NULL does nothing. Any thread. */
SHMQ_API void shmq_view_release(shmq_view* view);

/* ---- Statistics ------------------------------------------------------ */

/* A snapshot of the broker, as `shmq stats` shows it. Immutable: may be read
 * from any number of threads. Its strings live as long as it does. */
typedef struct shmq_stats shmq_stats;

typedef struct shmq_broker_stats {
    const char* broker;
    int32_t broker_pid;
    int broker_alive;
    uint32_t broker_epoch;
    uint64_t segment_size;
    size_t queues;  /* how many shmq_stats_queue() indexes */
    size_t topics;
    size_t clients;
} shmq_broker_stats;

typedef struct shmq_queue_stats {
    const char* name;
    uint32_t capacity;
    uint32_t max_message_size;
    const char* overflow;
    const char* delivery;
    int quarantined;
    uint64_t depth, enqueued, dequeued, rejected, dropped, abandoned, lost_in_read, redelivered, dead_lettered;
    uint32_t producers, consumers;
    /* Why it is quarantined (damaged_metadata, inconsistent_counters,
     * damaged_slot, inconsistent_subscriber, unknown); "" when it is not. */
    const char* quarantine_reason;
    /* 1: this process is among the access group's readers (access.readers):
     * its figures are known, but sending and receiving are refused with
     * SHMQ_PERMISSION_DENIED. */
    int read_only;
    /* 1: a reload removed it: it takes no more messages (SHMQ_QUEUE_REMOVED)
     * and its consumers drain what is left. */
    int removed;
} shmq_queue_stats;

/* Who may produce into and consume from a queue (its producers and
 * consumers settings), and for a side declared "single", the pid of the
 * client one of whose threads holds it (anyone else gets
 * SHMQ_EXCLUSIVE_HELD); 0 while nobody does. Apart from shmq_queue_stats so
 * that struct keeps its size and programs built before it keep working. */
typedef struct shmq_queue_sides {
    const char* producers; /* "many" or "single" */
    const char* consumers;
    int32_t producer_lease_pid;
    int32_t consumer_lease_pid;
} shmq_queue_sides;

typedef struct shmq_topic_stats {
    const char* name;
    uint32_t capacity, max_message_size, history, max_subscribers;
    const char* slow_subscriber;
    int quarantined;
    uint64_t published, abandoned, dropped, subscriptions;
    uint32_t publishers;
    size_t subscribers; /* how many shmq_stats_subscriber() indexes */
    const char* quarantine_reason; /* as shmq_queue_stats.quarantine_reason */
    int read_only;                 /* as shmq_queue_stats.read_only */
    int removed;                   /* as shmq_queue_stats.removed */
} shmq_topic_stats;

typedef struct shmq_subscriber_stats {
    uint32_t record, client_record;
    int32_t pid;
    const char* program;
    uint64_t lag, received, lost;
    uint32_t views;
} shmq_subscriber_stats;

typedef struct shmq_client_info {
    uint32_t record;
    int32_t pid;
    const char* program;
    uint64_t attached_ms;
} shmq_client_info;

/* Takes a snapshot; give it back with shmq_stats_free. */
SHMQ_API shmq_status shmq_stats_take(shmq_client* client, shmq_stats** stats);
SHMQ_API void shmq_stats_free(shmq_stats* stats);
SHMQ_API shmq_status shmq_stats_broker(const shmq_stats* stats, shmq_broker_stats* out);
/* SHMQ_INVALID_ARGUMENT for an index out of range. */
SHMQ_API shmq_status shmq_stats_queue(const shmq_stats* stats, size_t index, shmq_queue_stats* out);
SHMQ_API shmq_status shmq_stats_queue_sides(const shmq_stats* stats, size_t index, shmq_queue_sides* out);
SHMQ_API shmq_status shmq_stats_topic(const shmq_stats* stats, size_t index, shmq_topic_stats* out);
SHMQ_API shmq_status shmq_stats_subscriber(const shmq_stats* stats, size_t topic, size_t index, shmq_subscriber_stats* out);
SHMQ_API shmq_status shmq_stats_client(const shmq_stats* stats, size_t index, shmq_client_info* out);

#ifdef __cplusplus
}
#endif

#endif /* SHMQ_SHMQ_H */
