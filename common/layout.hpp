// The shared-memory layout: every structure the broker and its clients both
// read, in one place. Any change to it must bump `layout_version`, which a
// client checks on attach before it touches anything else.
//
// A segment is one file, mapped whole (common/segment_mapping.hpp); a broker
// has a main segment, and one per access group of restricted queues and
// topics, all laid out alike (AccessTable). The
// broker lays everything out once, under a temporary name, before it gives the
// file its real name; nothing is allocated in it afterwards. There is no
// library heap or name index inside (Boost's managed segment kept both, and
// trusted its own header: a scribbled word there hung or crashed every
// process that opened the file). Structures refer to each other by byte
// offsets from the segment's base, valid in every mapping, and every offset
// is bounds-checked against the real length of the mapping (SegmentView).
//
//   SegmentRoot  at offset 0
//     ├─ QueueControl[queue_count]          at queues_offset
//     ├─ TopicControl[topic_count]          at topics_offset
//     ├─ ClientRecord[client_capacity]      at clients_offset
//     ├─ std::uint8_t roles[client_capacity][queue_count + topic_count]  at roles_offset
//     ├─ AccessTable                        at access_offset
//     ├─ per queue: capacity slots of slot_stride bytes     at QueueControl::slots_offset
//     │     each slot = SlotHeader + up to max_message_size bytes of payload,
//     │     then capacity claim words (ClaimWord), right after the slots
//     └─ per topic: SubscriberRecord[max_subscribers]       at TopicControl::subscribers_offset
//           and capacity slots of slot_stride bytes         at TopicControl::slots_offset
//           each slot = TopicSlotHeader + pin words + up to max_message_size bytes
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "common/process_identity.hpp"
#include "common/wait_event.hpp"

namespace shmq::layout {

inline constexpr std::uint64_t magic = 0x3147'4553'514D'4853ull;  // "SHMQSEG1"
// 2: topics; 3: delivery numbers in the slot word; 4: shmq's own root at
// offset 0 instead of a Boost managed segment, and the broker's PID namespace
// in the root (clients of another namespace are refused); 5: a checksum of
// each queue message in its slot header, and the flag in QueueControl that
// says a queue keeps one (persistent segments), so that the recovery after a
// power loss can tell a message whose pages were not all written; 6: queues
// and topics take no lock (issue 9): QueueControl lost its two robust
// mutexes and TopicControl its publisher mutex and the passed_hint it
// guarded; a free, ready or abandoned queue slot word carries the lap of the
// position it is for (SlotWord::at_lap); subscriber records gained the
// claimed and joining states; and the AccessTable after the roles
// (SegmentRoot::access_offset), which lists the segments of restricted
// queues and topics (one per access group, beside this one) and what each
// of them holds; 7: QueueControl::quarantined and TopicControl::quarantined
// hold why (a QuarantineReason) instead of 1, so that `shmq list`, stats and
// metrics can say it (issue 14); 8: the ReloadExchange at the end of the
// root, through which `shmq reload` asks the broker to re-read its
// configuration and reads the answer (issue 11); 9: the LiveTable in the
// root, which lists the live segments a reload added (issue 11);
// BrokerState::stopped and SegmentRoot::clean_stop_unix_ms, the durable mark
// of a clean stop that a crash cannot leave, so that the next broker logs a
// clean stop as one; and the ClientEventRing (SegmentRoot::events_offset)
// through which clients announce every attach and detach, so that the broker
// logs those shorter than its tick too (issue 14); broker_started_ns and
// reclaimed_clients at the end of the root, so that `shmq stats` and the
// metrics endpoint give the broker's uptime and reclaimed clients (issue 14);
// QueueControl::retired and TopicControl::retired, which a reload that
// removes the queue or topic sets (issue 11, live removal). 10: a
// QueueControl::retired of superseded_mark | G: a reload changed the queue's
// settings and live segment G holds its successor (issue 11, live settings).
// 11: a TopicControl::retired of superseded_mark | G too: a reload changed the
// topic's settings and live segment G holds its successor (issue 11).
// 12: QueueControl::dead_letter_index gone: the broker routes dead letters
// by name, to the newest ring of that name in any of its segments, which a
// segment-local index could not name (issue 11, live settings).
// 13: AccessTable::entry_count atomic and the table append-only after
// `ready`: a reload that adds a restricted queue or topic to an existing
// access group writes its entry past the count, then publishes the count
// (issue 11, live restricted adds).
// 14: AccessTable::group_count atomic, and groups append-only too: a reload
// that adds a queue or topic restricted to a new access group builds that
// group's segment, writes the group's name past the count, publishes the
// group count, then the entries (issue 11, live restricted adds).
// 15: WaitEvent's word carries an "armed" bit that waiters set and the
// notify that wakes them clears: a notify makes its wake-up call only when
// it finds the bit set, where it made one whenever the waiter count was not
// zero.
// 16: a queue's producer marks a slot ready with a plain store, then reads
// its own client record, and its wake-up look is ordered by its move of
// tail, which a consumer reads after arming before it sleeps; the reaper
// waits for every CPU's stores between marking a record reclaiming and
// abandoning its slots. No field moved, but a consumer or broker of 15
// would miss wake-ups or race such a publish.
// 17: QueueControl::exclusive (was reserved) marks queues configured with a
// single producer or a single consumer; QueueControl gains producer_lease
// and consumer_lease. A single producer's claim is its move of tail alone
// (a slot free for its lap below tail is a claim in flight), and a single
// consumer takes with plain stores.
// 18: a queue's producers claim a position by a compare-and-swap of its
// claim word, in an array after the queue's slots, instead of writing the
// slot's word (which its consumers poll): the slot's word is written once
// per message, by the publish, on every queue, and a slot free for its lap
// below tail is a claim in flight on every queue; no queue slot is ever
// `writing` any more.
// 19: a queue's consumers decide the fate of each published message by a
// compare-and-swap of its slot's take word, in an array after the claim
// words, instead of writing the slot's word (which its producer wrote): a
// slot whose word still reads ready or abandoned for the lap before is free
// once head is past that position and its take word finishes that lap.
// 20: an at_least_once consumer that has copied a message out stores
// ack_clock_copied(position, delivery) in the slot's ack deadline, and the
// broker, at its next look, replaces it with its clock plus the timeout:
// consumers read no clock. A broker of 19 would never expire such a
// delivery.
inline constexpr std::uint32_t version = 20;
inline constexpr std::size_t cache_line = 64;
inline constexpr std::size_t queue_name_capacity = 72;  // 64 characters + NUL, padded
inline constexpr std::uint32_t no_queue = 0xFFFF'FFFF;
// The client table holds max_clients records plus this many for the broker.
inline constexpr std::uint32_t broker_records = 1;

// The segment's last 8 bytes hold this value, written when it is built. A
// truncation to any shorter length zeroes it, even when another process has
// given the file its length back since, so the broker learns that pages were
// lost. It has a cache line of its own.
inline constexpr std::uint64_t tail_canary = 0x4C49'4154'514D'4853ull;  // "SHMQTAIL"
inline constexpr std::uint64_t tail_canary_bytes = cache_line;

// How the policies are stored in QueueControl::overflow and ::delivery and in
// TopicControl::slow_subscriber. The configuration's enums are checked against
// these where the broker builds the segment (daemon/segment_builder.cpp).
inline constexpr std::uint8_t overflow_block = 0;
inline constexpr std::uint8_t overflow_reject = 1;
inline constexpr std::uint8_t overflow_drop_oldest = 2;
inline constexpr std::uint8_t delivery_at_most_once = 0;
inline constexpr std::uint8_t delivery_at_least_once = 1;
inline constexpr std::uint8_t slow_subscriber_block = 0;
inline constexpr std::uint8_t slow_subscriber_drop = 1;
// QueueControl::exclusive: which side of the queue admits one client at a
// time (docs/crash-safety.md, "Single producer, single consumer").
inline constexpr std::uint8_t exclusive_producer = 1;
inline constexpr std::uint8_t exclusive_consumer = 2;
inline constexpr std::uint8_t exclusive_mask = exclusive_producer | exclusive_consumer;

// A lease word: the holder's OwnerStamp, record index in bits 0-15 and
// generation in bits 16-39, and which of the client's threads holds it
// (common/thread_token.hpp) in bits 40-63; 0 when nobody holds it (a
// generation is never 0).
inline constexpr std::uint64_t lease_client_mask = 0xFF'FFFF'FFFFull;
inline constexpr std::uint64_t lease_of(std::uint16_t client_index, std::uint32_t generation,
                                        std::uint32_t thread = 0) {
    return static_cast<std::uint64_t>(client_index) | (static_cast<std::uint64_t>(generation & 0xFF'FFFF) << 16) |
           (static_cast<std::uint64_t>(thread & 0xFF'FFFF) << 40);
}
inline constexpr std::uint16_t lease_client_index(std::uint64_t lease) { return static_cast<std::uint16_t>(lease); }
inline constexpr std::uint32_t lease_generation(std::uint64_t lease) {
    return static_cast<std::uint32_t>((lease >> 16) & 0xFF'FFFF);
}

// Restricted queues and topics (docs/security.md): each access group's live
// in a segment of their own, NAME.access-GROUP beside the main one, whose
// file mode lets only that group in. The main segment, which every client
// opens, lists them in an AccessTable (at SegmentRoot::access_offset) so that
// a client outside a group can say which queues it may not use, and why.
inline constexpr std::uint32_t max_access_segments = 8;
inline constexpr std::uint32_t max_restricted = 64;
inline constexpr std::size_t access_group_capacity = 40;  // a group name of up to 32 characters + NUL, padded

struct RestrictedEntry {
    char name[queue_name_capacity];
    std::uint8_t is_topic;
    std::uint8_t segment;  // index into AccessTable::groups
    std::uint8_t reserved[6];
};

// Written by the broker before the segment is ready; append-only after: a
// reload's new groups are written past group_count, then that count is
// stored with release; its restricted additions are written past
// entry_count, then that count is stored with release. Groups and entries
// below their counts never change (docs/crash-safety.md, "Live segments").
// A reader loads entry_count first: every group an entry it then sees names
// was published before it.
struct AccessTable {
    std::atomic<std::uint32_t> group_count;
    std::atomic<std::uint32_t> entry_count;
    char groups[max_access_segments][access_group_capacity];
    RestrictedEntry entries[max_restricted];
};

// Why a queue or topic is out of service: the value of QueueControl::
// quarantined and TopicControl::quarantined, 0 while it is in service. The
// first process to find the damage writes it; every reader treats it as
// untrusted (quarantine_reason_name() in common/quarantine_reason.hpp names an
// unknown value "unknown").
enum class QuarantineReason : std::uint32_t {
    none = 0,
    damaged_metadata = 1,         // the control block's fixed fields are unsound
    inconsistent_counters = 2,    // head and tail (a queue's, or a topic's tail) contradict each other
    damaged_slot = 3,             // a slot's word, length or position is one no operation leaves
    inconsistent_subscriber = 4,  // a topic subscriber's cursor or counts contradict its topic
};

// A configuration reload asked through the segment (`shmq reload`, `shmqd
// --reload`, which systemd's ExecReload= runs) and the broker's answer,
// a seqlock of two request numbers around the report. A client takes a
// number with requested.fetch_add(1) + 1 and waits until `answered` reaches
// it. The broker, at its next tick, reloads once for every request up to
// `requested` as it read it, N; stores answering = N, writes the outcome and
// the report, stores answered = N, and wakes `answer_event`. A reader copies
// the report after reading `answered`, and keeps the copy only if
// `answering` still equals it afterwards (else the broker was writing the
// next answer meanwhile: it reads again). The report's length is checked
// against its capacity: every field here may have been written by any client.
// The capacity keeps the whole root within its first page (the broker's log
// has a longer report in full).
inline constexpr std::size_t reload_report_capacity = 3072;
inline constexpr std::uint32_t reload_applied = 1;        // every change took effect
inline constexpr std::uint32_t reload_needs_restart = 2;  // the live changes took effect; the rest needs a restart
inline constexpr std::uint32_t reload_refused = 3;        // the file did not load or validate: nothing changed

struct ReloadExchange {
    std::atomic<std::uint32_t> requested;
    std::atomic<std::uint32_t> answering;
    std::atomic<std::uint32_t> answered;
    std::atomic<std::uint32_t> outcome;        // reload_*
    std::atomic<std::uint32_t> report_length;  // bytes of `report`, at most reload_report_capacity
    std::uint32_t reserved;
    WaitEvent answer_event;
    char report[reload_report_capacity];
};

// Queues and topics a reload adds live in a segment of their own, built
// whole under a temporary name and renamed, as an access group's is:
// NAME.live-GENERATION beside the main segment (persistent brokers:
// PERSIST_PATH.live-GENERATION). The main segment's root lists them here. The
// broker writes generations[count] in full, then publishes it by storing
// count + 1 with release; entries below `count` never change afterwards. A
// client reads count once, clamps it to the capacity and takes a
// generation of 0 for "no segment": any value is harmless, since it only
// names a file that the client then validates like any segment. When all
// entries are used, a reload that adds queues reports them as needing a
// restart (docs/crash-safety.md, "Live segments").
inline constexpr std::uint32_t max_live_segments = 32;

struct LiveTable {
    std::atomic<std::uint32_t> count;
    std::uint32_t reserved;
    std::atomic<std::uint32_t> generations[max_live_segments];
};

// The value the broker writes into QueueControl::retired and
// TopicControl::retired when a reload removes the queue or topic
// (docs/crash-safety.md, "Live removal"). A reader treats every non-zero
// value alike, so a scribble can only retire, never crash or revive.
inline constexpr std::uint32_t retired_by_reload = 1;

// The value of QueueControl::retired (TopicControl::retired) when a reload
// changed the queue's (topic's) settings: superseded_mark | G, where live
// segment G (listed in the LiveTable) holds the successor of the same name.
// To the ring it is retired like any non-zero value (sends and publishes
// refused, receives drain); a client
// then follows it to G, which it validates as any live segment, and only to
// a generation above the one holding this queue (docs/crash-safety.md, "Live
// settings change"). A scribbled G only sends a client looking for a
// segment and a name, never into memory it did not validate.
inline constexpr std::uint32_t superseded_mark = 0x8000'0000u;
inline constexpr std::uint32_t superseded_by(std::uint32_t generation) { return superseded_mark | generation; }
// The successor's generation a retired word names; 0 when it names none.
inline constexpr std::uint32_t successor_generation(std::uint32_t retired) {
    return (retired & superseded_mark) != 0 ? retired & ~superseded_mark : 0;
}

enum class BrokerState : std::uint32_t {
    initializing = 0,  // the broker is still building the segment
    ready = 1,         // clients may attach and use it
    stopping = 2,      // the broker is shutting down: every operation returns broker_stopped
    // A clean stop is over: written last, after the final flush of a
    // persistent segment. A crash leaves any other state, so the next broker
    // can tell a clean stop from a death. Clients treat it as `stopping`.
    stopped = 3,
};

// Clients append an event here when they attach or detach, so that the broker
// logs each of them, even those shorter than its tick (it only reads the
// client table once per tick). A client takes a sequence number s with
// next.fetch_add(1), writes entry s % capacity, then stores its `sequence` =
// s + 1 with release, and notifies `appended`. The broker keeps its own count
// of the events it drained and reads entries up to `next`: an entry whose
// sequence is not s + 1 was overwritten (the ring wrapped) or is still being
// written. Every field is untrusted: written by any client.
inline constexpr std::uint32_t client_event_capacity = 256;
inline constexpr std::uint32_t client_event_attached = 1;
inline constexpr std::uint32_t client_event_detached = 2;
inline constexpr std::size_t client_event_program_words = 4;  // the program name: 32 bytes, NUL-padded

struct ClientEvent {
    std::atomic<std::uint64_t> sequence;  // s + 1 once entry s is written whole
    std::atomic<std::uint32_t> kind;      // client_event_*
    std::atomic<std::uint32_t> record;    // the client record's index
    std::atomic<std::uint32_t> generation;
    std::atomic<std::int32_t> pid;
    std::atomic<std::uint64_t> attached_at_ns;  // monotonic: when the client attached
    std::atomic<std::uint64_t> at_ns;           // monotonic: when this event happened
    std::atomic<std::uint64_t> program[client_event_program_words];
};

struct ClientEventRing {
    std::atomic<std::uint64_t> next;  // the sequence number the next event takes
    WaitEvent appended;
    ClientEvent entries[client_event_capacity];
};

// At offset 0 of the segment, so at the start of a page in every mapping.
struct SegmentRoot {
    // Identity: checked by every client before anything else is read.
    std::uint64_t magic;
    std::uint32_t layout_version;
    std::uint32_t root_size;      // sizeof(SegmentRoot), a second check on the layout
    std::uint64_t segment_size;   // the file's length as built; believed only up to the real mapping

    std::atomic<std::uint32_t> state;         // BrokerState
    std::atomic<std::uint32_t> broker_epoch;  // bumped each time a broker starts on this segment
    ProcessIdentity broker;                   // the broker process that owns the segment
    std::atomic<std::uint64_t> broker_heartbeat_ns;  // monotonic; updated every liveness tick
    // The kernel boot the segment's locks, futex words and pids belong to
    // (/proc/sys/kernel/random/boot_id). A persistent segment adopted after a
    // reboot has every lock and client of the old boot reset.
    char boot_id[40];
    // The PID namespace the recorded pids belong to (the inode of the
    // broker's /proc/self/ns/pid). A client of another namespace (a
    // container sharing /dev/shm) is refused at attach: the broker could
    // not see its pid, and would reap it as dead while it lives.
    std::uint64_t pid_namespace;

    std::uint32_t queue_count;
    std::uint32_t client_capacity;
    std::uint32_t liveness_interval_ms;
    std::atomic<std::uint32_t> broker_record;  // the client record the broker itself holds
    std::uint64_t queues_offset;
    std::uint64_t clients_offset;
    std::uint64_t roles_offset;
    std::uint32_t topic_count;
    std::uint32_t reserved;
    std::uint64_t topics_offset;

    // Woken when the broker stops, so clients blocked anywhere notice at once.
    WaitEvent broker_event;

    // The AccessTable: in the main segment, the restricted queues and topics;
    // empty in the segments that hold them.
    std::uint64_t access_offset;

    // Used in the main segment only.
    ReloadExchange reload;
    LiveTable live;

    // Written by a clean stop just before state turns `stopped`: wall-clock
    // milliseconds since 1970, for the next broker's log. Untrusted.
    std::atomic<std::int64_t> clean_stop_unix_ms;
    std::uint64_t events_offset;  // the ClientEventRing

    // Written by the broker, read by stats and metrics only: nothing decides
    // anything on them. Monotonic time the running broker took the segment.
    std::atomic<std::uint64_t> broker_started_ns;
    // Dead clients whose records the broker reclaimed, since the segment was built.
    std::atomic<std::uint64_t> reclaimed_clients;
};
static_assert(sizeof(SegmentRoot) <= 4096, "the root fits in the first page of every mapping");

// One slot of a queue's ring. The payload follows the header directly.
struct SlotHeader {
    std::atomic<std::uint64_t> word;  // SlotWord: state + owner
    std::atomic<std::uint64_t> position;  // the ring position (tail value) it was claimed at
    // Payload bytes. Atomic (relaxed) because a consumer reads it before its
    // take's compare-and-swap decides whether the slot is its own.
    std::atomic<std::uint32_t> length;
    // QueueControl::checksummed only: payload_checksum(length, payload),
    // written before the slot turns ready; checked only when the broker
    // recovers the queue after a power loss. (at_least_once delivery
    // numbers live in the word's tag.)
    std::uint32_t checksum;
    // at_least_once: the monotonic time the ack is due; ack_clock_not_started
    // while the consumer taking the slot still copies the message out (the
    // broker expires only a delivery whose deadline passed, so never one
    // whose slot is still being read; docs/crash-safety.md, "Copy out");
    // then ack_clock_copied(...) until the broker starts the clock.
    std::atomic<std::uint64_t> ack_deadline_ns;
};
// SlotHeader::ack_deadline_ns of a delivery whose copy is not finished.
inline constexpr std::uint64_t ack_clock_not_started = ~std::uint64_t{0};
// SlotHeader::ack_deadline_ns of a delivery copied out, until the broker
// starts its clock (QueueRing::start_ack_clocks_and_find_overdue). It says
// which delivery, so that a broker that read it swaps it only for that very
// delivery (position and delivery number). Bit 63 set: later than any deadline, it never
// expires; bit 62 clear: never ack_clock_not_started; a monotonic clock in
// nanoseconds reaches neither in 146 years.
inline constexpr std::uint64_t ack_clock_copied_bit = std::uint64_t{1} << 63;
inline constexpr std::uint64_t ack_clock_copied(std::uint64_t position, std::uint16_t delivery) {
    constexpr std::uint64_t position_bits = (std::uint64_t{1} << 46) - 1;
    return ack_clock_copied_bit | (position & position_bits) << 16 | delivery;
}
inline constexpr bool is_ack_clock_copied(std::uint64_t deadline) {
    return (deadline >> 62) == 2;  // bit 63 set, bit 62 clear
}
inline constexpr std::size_t slot_header_size = sizeof(SlotHeader);
static_assert(slot_header_size == 32);

// A queue's claim words: one 64-bit word per slot, right after its slots.
// The word of slot i names who claimed the last position claimed at i, as a
// SlotWord `writing` word (owner, and the lap's tag), or is 0 when none was.
// Only producers write them, so the claim's compare-and-swap does not pull
// the slot's line from the consumers polling it (docs/crash-safety.md,
// "Queues"). The slots' size is a whole number of cache lines, so the words
// start on one.
inline constexpr std::uint64_t claim_words_bytes(std::uint32_t capacity) {
    const std::uint64_t raw = std::uint64_t{capacity} * sizeof(std::uint64_t);
    return (raw + cache_line - 1) / cache_line * cache_line;
}

// A queue's take words (common/take_word.hpp): one 64-bit word per slot,
// right after its claim words. Only consumers write them on the data path,
// so a take does not pull back the line of the slot its producer wrote last.
inline constexpr std::uint64_t take_words_bytes(std::uint32_t capacity) { return claim_words_bytes(capacity); }

inline constexpr std::uint64_t slot_stride_for(std::uint32_t max_message_size) {
    const std::uint64_t raw = slot_header_size + max_message_size;
    return (raw + cache_line - 1) / cache_line * cache_line;
}

// A bounded MPMC ring without locks (docs/crash-safety.md, "Queues"). A
// producer claims the position at `tail` by a compare-and-swap of its slot's
// claim word, moves tail, copies the message in and marks the slot's word
// ready for the position's lap; a consumer decides the message's fate by a
// compare-and-swap of the slot's take word, then moves head. Anyone who sees
// a claim or decision whose counter was not moved yet moves it. Invariants:
// head <= tail <= head + capacity; every position in [head, tail) is claimed,
// ready or abandoned for its lap and undecided, but the ones from head on
// that were decided while head has not moved past them yet.
struct alignas(cache_line) QueueControl {
    // Written by the broker before the segment is ready; read-only after.
    char name[queue_name_capacity];
    std::uint32_t capacity;
    std::uint32_t max_message_size;
    std::uint64_t slot_stride;
    std::uint64_t slots_offset;
    std::uint8_t overflow;  // layout::overflow_*
    std::uint8_t delivery;  // layout::delivery_*
    // Non-zero in a persistent segment: producers write SlotHeader::checksum.
    // Memory-backed segments do not survive a power loss, so pay nothing.
    std::uint8_t checksummed;
    std::uint8_t exclusive;  // exclusive_producer | exclusive_consumer
    std::uint32_t max_deliveries;
    std::uint32_t ack_timeout_ms;

    std::atomic<std::uint32_t> quarantined;  // QuarantineReason; non-zero: found corrupt, out of service
    // Non-zero once a reload removed the queue (layout::retired_by_reload)
    // or changed its settings (superseded_by(G)). Written by the broker only, read once per operation by clients, which
    // take any non-zero value as retired: sends are refused, receives drain.
    std::atomic<std::uint32_t> retired;
    // The single producer's and the single consumer's leases (lease_of; 0:
    // free) on a queue whose `exclusive` says so. Taken by a thread's first
    // send (receive) with a compare-and-swap from 0, read at each one after;
    // freed by its client's detach, or by the broker once the record named
    // is no longer that tenant's.
    std::atomic<std::uint64_t> producer_lease;
    std::atomic<std::uint64_t> consumer_lease;

    // Each on a cache line of its own: producers write one, consumers the other.
    alignas(cache_line) std::atomic<std::uint64_t> tail;  // next position to claim; total claimed ever

    alignas(cache_line) std::atomic<std::uint64_t> head;  // next position to take; total taken ever

    alignas(cache_line) WaitEvent not_empty;  // consumers wait here
    alignas(cache_line) WaitEvent not_full;   // blocked producers wait here

    // Rarely-changing counters, off the hot lines. Enqueued and dequeued
    // totals are derived from tail and head rather than counted twice.
    alignas(cache_line) std::atomic<std::uint64_t> rejected;   // sends refused: full under reject
    std::atomic<std::uint64_t> dropped;      // messages discarded by drop_oldest
    std::atomic<std::uint64_t> abandoned;    // slots whose producer died mid-write, or whose claim a retirement refused
    std::atomic<std::uint64_t> lost_in_read; // at_most_once messages whose consumer died mid-copy
    std::atomic<std::uint64_t> redelivered;  // at_least_once deliveries handed out again
    std::atomic<std::uint64_t> dead_lettered;
    std::atomic<std::uint64_t> redeliver_pending;  // slots in state redeliver
};

enum class ClientState : std::uint8_t {
    free = 0,
    active = 1,     // attached
    reclaiming = 2  // dead; the broker is releasing what it held
};

// One attached process. Claimed with a single compare-and-swap that stamps the
// pid together with the state, so a client killed at any instant after the
// claim is identifiable; the broker reclaims records whose process is gone.
struct alignas(cache_line) ClientRecord {
    // Bits 0-7 ClientState, 8-31 generation, 32-63 pid.
    std::atomic<std::uint64_t> word;
    std::atomic<std::uint64_t> start_time;  // of the pid; 0 until the client wrote it
    std::atomic<std::uint64_t> attached_at_ns;
    char program[32];
};

class ClientWord {
public:
    static std::uint64_t make(ClientState state, std::uint32_t generation, std::int32_t pid) {
        return static_cast<std::uint64_t>(state) | (static_cast<std::uint64_t>(generation & 0xFF'FFFF) << 8) |
               (static_cast<std::uint64_t>(static_cast<std::uint32_t>(pid)) << 32);
    }
    static ClientState state(std::uint64_t word) { return static_cast<ClientState>(word & 0xFF); }
    static std::uint32_t generation(std::uint64_t word) { return static_cast<std::uint32_t>((word >> 8) & 0xFF'FFFF); }
    static std::int32_t pid(std::uint64_t word) { return static_cast<std::int32_t>(word >> 32); }
};

// Per client and queue (or topic), what the client uses it for; stats count
// these. On a topic, role_producer means "published to it".
enum RoleBits : std::uint8_t { role_producer = 1, role_consumer = 2 };

// ---------------------------------------------------------------------------
// Topics: fan-out publish/subscribe (docs/crash-safety.md, "Topics").
//
// A topic is a ring of `capacity` slots that publishers fill in position
// order, as a queue's producers do, but that no reader empties: each
// subscriber has a record with its own cursor, and a slot is reused for
// position p only once every active subscriber's cursor has passed
// p - capacity (block), or after the laggards were pushed past it (drop),
// and while no subscriber holds a view of it.

// How many zero-copy views one subscription may hold at once. Each pins its
// slot against reuse; the record lists them so that a dead subscriber's pins
// can be released.
inline constexpr std::uint32_t max_views_per_subscriber = 4;

// One slot of a topic. `word` is either a SlotWord writing(owner) whose tag is
// the low 16 bits of the ring lap (position / capacity) of the message being
// written, or a finished word (free, ready or abandoned: no owner) that keeps
// the lap in full in bits 8-63, so that a claim expecting it cannot succeed
// for a stale lap (common/topic_ring.cpp). Pin words follow the header: bit s
// of them is set while subscriber record s holds a view of the slot. The
// payload follows the pin words.
struct TopicSlotHeader {
    std::atomic<std::uint64_t> word;
    std::atomic<std::uint64_t> position;  // the ring position it was claimed at
    std::atomic<std::uint32_t> length;    // payload bytes
    std::uint32_t reserved;
};
static_assert(sizeof(TopicSlotHeader) == 24);

inline constexpr std::uint32_t topic_pin_words(std::uint32_t max_subscribers) {
    return (max_subscribers + 63) / 64;
}
inline constexpr std::uint64_t topic_payload_offset(std::uint32_t max_subscribers) {
    return sizeof(TopicSlotHeader) + 8ull * topic_pin_words(max_subscribers);
}
inline constexpr std::uint64_t topic_slot_stride_for(std::uint32_t max_message_size, std::uint32_t max_subscribers) {
    const std::uint64_t raw = topic_payload_offset(max_subscribers) + max_message_size;
    return (raw + cache_line - 1) / cache_line * cache_line;
}

enum class SubscriberState : std::uint8_t {
    free = 0,
    active = 1,   // subscribed: publishers respect its cursor
    claimed = 2,  // taken by a subscriber still writing its fields: publishers ignore it
    joining = 3,  // cursor written, settling against tail: publishers respect its cursor
};

// A subscriber record's word: bits 0-7 SubscriberState, 8-23 the subscribing
// client's record index, 24-47 its generation (as in a SlotWord), 48-63 a
// serial number of the subscription, so that a handle of an earlier
// subscription never matches a later one on the same record.
class SubscriberWord {
public:
    static std::uint64_t make(SubscriberState state, std::uint16_t client_index, std::uint32_t generation,
                              std::uint16_t serial) {
        return static_cast<std::uint64_t>(state) | (static_cast<std::uint64_t>(client_index) << 8) |
               (static_cast<std::uint64_t>(generation & 0xFF'FFFF) << 24) | (static_cast<std::uint64_t>(serial) << 48);
    }
    static SubscriberState state(std::uint64_t word) { return static_cast<SubscriberState>(word & 0xFF); }
    static std::uint16_t client_index(std::uint64_t word) { return static_cast<std::uint16_t>((word >> 8) & 0xFFFF); }
    static std::uint32_t generation(std::uint64_t word) { return static_cast<std::uint32_t>((word >> 24) & 0xFF'FFFF); }
};

// One subscription. Claimed with a compare-and-swap of `word` from free to
// claimed(owner); the fields are written, then the word turns joining and,
// once the cursor is settled against tail, active. Every state but free
// carries the owner's stamp, so a subscriber killed at any instant leaves a
// record the broker's reaper frees (docs/crash-safety.md, "Topics").
struct alignas(cache_line) SubscriberRecord {
    std::atomic<std::uint64_t> word;       // SubscriberWord
    std::atomic<std::uint64_t> cursor;     // next position to read; under drop, publishers push it
    std::atomic<std::uint64_t> joined_at;  // the cursor it subscribed with
    std::atomic<std::uint64_t> received;   // messages delivered to it (written by its owner only)
    std::atomic<std::uint64_t> skipped;    // abandoned messages it passed (written by its owner only)
    // Position + 1 of each slot it holds a view of; 0 when the entry is unused.
    // Written before the slot's pin bit is set and cleared after it is cleared.
    std::atomic<std::uint64_t> views[max_views_per_subscriber];
};
// What a subscriber lost to the drop policy is what its cursor passed without
// delivering or skipping: cursor - joined_at - received - skipped.

struct alignas(cache_line) TopicControl {
    // Written by the broker before the segment is ready; read-only after.
    char name[queue_name_capacity];
    std::uint32_t capacity;
    std::uint32_t max_message_size;
    std::uint64_t slot_stride;
    std::uint64_t slots_offset;
    std::uint64_t subscribers_offset;
    std::uint32_t max_subscribers;
    std::uint32_t history;          // most history a subscriber may ask for; < capacity
    std::uint8_t slow_subscriber;   // layout::slow_subscriber_*
    std::uint8_t reserved[7];

    std::atomic<std::uint32_t> quarantined;  // QuarantineReason; non-zero: found corrupt, out of service
    // Non-zero once a reload removed the topic or changed its settings: as
    // QueueControl::retired.
    std::atomic<std::uint32_t> retired;

    // No lock: publishers claim a position with compare-and-swaps on its
    // slot's word and position, then move tail (anyone may move it past a
    // claimed slot); subscribers claim records with a compare-and-swap.
    alignas(cache_line) std::atomic<std::uint64_t> tail;  // next position to claim; total claimed ever
    std::atomic<std::uint32_t> subscriber_serial;  // last serial handed out (fetch_add)

    alignas(cache_line) WaitEvent published;  // subscribers wait here for the next message
    alignas(cache_line) WaitEvent room;       // publishers wait here for a reusable slot

    // Rarely-changing counters, off the hot lines.
    alignas(cache_line) std::atomic<std::uint64_t> abandoned;  // claims never published (publisher died, loan cancelled)
    std::atomic<std::uint64_t> dropped;        // positions subscribers were pushed past under drop
    std::atomic<std::uint64_t> subscriptions;  // subscribe calls that succeeded, ever
};

}  // namespace shmq::layout
