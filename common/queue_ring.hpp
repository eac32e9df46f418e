// The algorithms of one queue's ring of slots, shared by the client library
// (the data path) and the broker (repair and reclaim). A QueueRing is a
// process-local view: it keeps its own copy of the queue's geometry, taken
// when the segment was validated, so that a process scribbling over shared
// metadata can never make this one index or copy out of bounds.
//
// Every call here is non-blocking and lock-free: atomic operations on
// owner-stamped slot words and on head and tail (docs/crash-safety.md,
// "Queues"), no mutex and no system call but a wake-up when someone sleeps.
// Each returns a Status; waiting for room or for a message is the caller's
// business (client/queue.cpp).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/counter_floor.hpp"
#include "common/sampled_check.hpp"
#include "common/layout.hpp"
#include "common/monotonic_clock.hpp"
#include "common/ring_position.hpp"
#include "common/slot_word.hpp"
#include "common/take_word.hpp"
#include "shmq/batch.hpp"
#include "shmq/status.hpp"

namespace shmq {

struct RingGeometry {
    std::uint32_t capacity = 0;
    std::uint32_t max_message_size = 0;
    std::uint64_t slot_stride = 0;
    std::uint8_t overflow = 0;  // layout::overflow_*
    std::uint8_t delivery = 0;  // layout::delivery_*
    std::uint32_t max_deliveries = 0;
    std::uint32_t ack_timeout_ms = 0;
    bool checksummed = false;  // QueueControl::checksummed: a persistent segment
    std::uint8_t exclusive = 0;  // QueueControl::exclusive: layout::exclusive_*

    bool single_producer() const { return (exclusive & layout::exclusive_producer) != 0; }
    bool single_consumer() const { return (exclusive & layout::exclusive_consumer) != 0; }
};

// What the broker released on behalf of a dead client.
struct ReclaimCounts {
    std::uint64_t abandoned_writes = 0;  // messages it was writing: skipped by consumers
    std::uint64_t lost_reads = 0;        // at_most_once messages it was reading
    std::uint64_t redeliveries = 0;      // at_least_once deliveries it held unacknowledged
    std::uint64_t undone_takes = 0;      // messages it had decided to take but not begun: queued again
};

// What the recovery after a power loss found (recover_after_power_loss).
struct PowerLossRecovery {
    std::uint64_t head_hint = 0;   // the control page's head and tail, as found
    std::uint64_t tail_hint = 0;
    bool hint_used = false;        // whether head_hint was consistent enough to use
    std::uint64_t head = 0;        // as recovered
    std::uint64_t tail = 0;
    std::uint64_t kept = 0;        // whole messages queued in [head, tail)
    std::uint64_t redeliverable = 0;  // at_least_once deliveries kept for redelivery
    std::uint64_t torn = 0;        // messages whose checksum failed: not delivered
    std::uint64_t missing = 0;     // positions in [head, tail) whose slot did not hold them
    std::uint64_t discarded = 0;   // slots outside the window (consumed, or malformed) freed
};

class QueueRing {
public:
    QueueRing() = default;
    // `clients`: the segment's client records, `client_count` of them by this
    // process's own count (publish_checked reads the producer's own).
    QueueRing(layout::QueueControl* control, std::byte* slots, const RingGeometry& geometry,
              const layout::ClientRecord* clients, std::uint32_t client_count)
        : control_(control),
          slots_(slots),
          claim_words_(slots == nullptr ? nullptr
                                        : reinterpret_cast<std::atomic<std::uint64_t>*>(
                                              slots + std::uint64_t{geometry.capacity} * geometry.slot_stride)),
          take_words_(slots == nullptr ? nullptr
                                       : reinterpret_cast<std::atomic<std::uint64_t>*>(
                                             slots + std::uint64_t{geometry.capacity} * geometry.slot_stride +
                                             layout::claim_words_bytes(geometry.capacity))),
          geometry_(geometry),
          positions_(geometry.capacity),
          clients_(clients),
          client_count_(client_count) {}

    const RingGeometry& geometry() const { return geometry_; }
    layout::QueueControl& control() const { return *control_; }

    // Producer side. queue_full when there is no room under the queue's
    // overflow policy (reject also counts the refusal).
    Status try_send(const void* data, std::size_t size, OwnerStamp me);
    // How a batch hands its messages over. `eager`: each is marked ready as
    // soon as it is copied in, so that a consumer woken by the first starts
    // on it while the rest are copied: what a blocking pair trades on.
    // `grouped`: up to publish_group_bytes of them are copied in before any
    // is marked ready, so that a spinning consumer takes them in one run
    // rather than one at a time right behind the copy, both ends pulling the
    // same lines back and forth (measured, 64 B batches between two spinning
    // processes: 12.6 M msg/s eager, 21-22 M grouped; two blocking ones:
    // 5.6-6.0 M eager, 4.6-4.8 M grouped; docs/benchmarks.md).
    enum class Handoff : std::uint8_t { eager, grouped };
    // Sends messages[0..count) in order, claiming up to batch_chunk slots
    // before copying into them. Returns how many were sent; `status` says why
    // it stopped.
    std::size_t try_send_batch(const OutgoingMessage* messages, std::size_t count, OwnerStamp me, Handoff handoff,
                               Status& status);

    // How a receive judges a slot at head that is still free for head's lap.
    // `quick`, for the first try of a call: nothing was claimed there (a
    // claim writes the slot before tail moves past it; a single producer's
    // claim is still being written), so the queue is empty, without a read
    // of tail, the producers' cache line, which a
    // consumer that keeps up would otherwise pull at every message (and the
    // producer's next claim pull back). One quick look in 64 checks all the
    // same. `checking`, for the tries of a wait: tail is read, so that a word
    // scribbled back to free over a claim is found (and the queue
    // quarantined) rather than waited on.
    enum class Look : std::uint8_t { quick, checking };

    // Consumer side: empty when there is nothing to take. For at_least_once
    // queues `delivery` receives the token acknowledge() takes.
    Status try_receive(void* buffer, std::size_t capacity, std::size_t& size, std::uint64_t& delivery,
                       OwnerStamp me, Look look);
    std::size_t try_receive_batch(IncomingMessage* messages, std::size_t count, OwnerStamp me, Look look,
                                  Status& status);
    Status acknowledge(std::uint64_t delivery, OwnerStamp me);
    // acknowledge() of each of `count` deliveries, with one wake-up of the
    // producers waiting for room for all the slots freed. `results[i]` says
    // what acknowledge(deliveries[i]) would have; returns how many were ok.
    std::size_t acknowledge_batch(const std::uint64_t* deliveries, std::size_t count, OwnerStamp me, Status* results);
    // The full ring position of an at_least_once delivery `me` still holds
    // (the token keeps only its low 24 bits): not_acknowledgeable otherwise.
    Status delivery_position(std::uint64_t delivery, OwnerStamp me, std::uint64_t& position) const;

    // Read-only: copies up to `max_count` messages ready in [head, tail),
    // oldest first, onto `messages`, without taking them or writing a word
    // of shared memory. A message taken (or dropped) while it was copied is
    // skipped, never returned torn: its slot word, read before and after the
    // copy, changed. Deliveries awaiting redelivery (at_least_once) are not
    // among them.
    void peek(std::size_t max_count, std::vector<std::string>& messages) const;

    // Whether a reload removed the queue (QueueControl::retired, read once:
    // any non-zero value is retired). Sends then return queue_removed;
    // receives drain what is queued first.
    bool is_retired() const { return control_->retired.load(std::memory_order_seq_cst) != 0; }
    // Whether it is retired and nothing in it can still be delivered: no
    // message in [head, tail), none awaiting redelivery, and (at_least_once)
    // no delivery unacknowledged: what a receive that found nothing returns
    // queue_removed on. From then on it delivers nothing again.
    bool drained_after_retirement() const;

    // What the ring holds that a restart would carry: messages queued or
    // delivered and not acknowledged, and the longest of them (lengths
    // clamped to the geometry). A look at every slot while clients run: of
    // the moment, for a reload's check that a new layout can hold them.
    struct Held {
        std::uint64_t messages = 0;
        std::uint32_t longest = 0;
    };
    Held held() const;

    // Client side, once at attach, when this process registered so that
    // waiters fence for it (platform::let_waiters_fence_for_this_process):
    // its single-side steps then need no fence (stores_own_tail). A waiter
    // on a queue with a single producer (consumer) always fences before it
    // checks (waiters_must_fence_for_*), whoever holds the lease.
    void let_waiters_fence_for_this_process() { waiters_fence_for_me_ = true; }
    bool waiters_must_fence_for_producers() const { return geometry_.single_producer(); }
    bool waiters_must_fence_for_consumers() const { return geometry_.single_consumer(); }

    // Lock-free peeks used to decide whether to sleep. They may be stale; the
    // caller re-checks with a real operation.
    bool may_have_room() const;
    bool may_have_message() const;
    // Whether the position at head is claimed (tail is past it), its message
    // not yet seen ready: a consumer about to sleep must then not count on
    // a wake-up (docs/crash-safety.md, "Wake-ups"). A seq_cst read of tail,
    // for after the waiter armed its event.
    bool claim_pending_at_head() const;
    // Whether a run of `count` claims from tail would most likely find room:
    // a look at the run's last slot only (see queue_ring.cpp).
    bool may_have_room_for(std::uint64_t count) const;

    // Single-producer and single-consumer queues (RingGeometry::exclusive).
    // Client side, at a detach: gives back the leases `me` holds, so that
    // another client may take the side at once.
    void release_leases(OwnerStamp me);
    // Broker side, at each tick: frees each lease whose word does not name
    // the current tenant of an active client record (its holder detached,
    // died or was reclaimed, or the word was scribbled). How many it freed.
    std::uint32_t release_stale_leases();

    // Broker side: release every slot the (dead) owner holds, by its stamp,
    // while the other clients carry on.
    void reclaim(OwnerStamp dead_owner, ReclaimCounts& counts);
    // Broker side, every tick: starts the ack clocks of the deliveries
    // copied out since its last look, then makes in_flight deliveries whose
    // ack deadline passed redeliverable. Returns how many.
    std::uint64_t expire_deliveries(std::uint64_t now_ns);

    // Where exhausted deliveries go: a ring in this segment or another, and
    // the broker's own client record in that ring's segment, which stamps
    // the copy's claim there (a stamp names a record of one segment's table).
    struct DeadLetterTarget {
        QueueRing* ring = nullptr;
        OwnerStamp broker;
    };
    // Broker side, at_least_once: deliveries that failed max_deliveries times
    // move to `dead_letter` (or are discarded when its ring is null). Returns
    // how many moved; `redeliverable` gets how many wait for another delivery.
    std::uint64_t retire_exhausted(const DeadLetterTarget& dead_letter, OwnerStamp broker,
                                   std::uint64_t& redeliverable);

    // A lock-free check of invariant 1 (head <= tail <= head + capacity),
    // cheap enough for every broker tick; quarantines the queue and returns
    // false when it fails.
    bool check_counters();

    // Broker side, for the log of a quarantined queue: what is wrong with
    // it, naming the slot, as far as can be seen now. Read-only.
    std::string describe_damage() const;

    // After a reboot, for a persistent segment: fresh wait events (their
    // futex counts belong to the old boot). Only when no other process can
    // be using the queue.
    void reset_synchronisation();

    // After a reboot, for a persistent segment, once every client of the old
    // boot is reclaimed: head and tail are rebuilt from the slots (their
    // positions and states), the control page's head serving only as a hint,
    // and the ring repaired so that its invariants hold. Torn messages
    // (checksum mismatch) become skipped holes. The rule is in
    // docs/crash-safety.md, "After a power loss". Only when no other process
    // can be using the queue. (common/queue_recovery.cpp)
    PowerLossRecovery recover_after_power_loss();

    // Checks the ring's invariants (the broker, on adopting a segment, while
    // clients may still be running): judged on a snapshot that head and tail
    // did not move across. When they fail, `problem` says how and the queue
    // is quarantined; left empty when traffic never let a snapshot hold.
    void verify(std::string& problem);

    // Whether `word`, read from the slot of `position` (a position in [head,
    // tail)), says a producer claimed it and is still copying its message
    // in: a claim writes nothing to the slot, whose word the publish writes,
    // so the slot is still vacant for its lap (vacant_for), and a client
    // that may still hold claims claimed it (claimer_of, may_hold_claims). Such a send is not acknowledged yet: consumers wait for
    // it, and a migration lets it finish before it reads the queue. (A
    // caller that acts on "no" re-reads the slot's word first: the claimer
    // read after it may since have published and left.)
    bool claim_in_flight(std::uint64_t position, std::uint64_t word) const;
    // Whether `claimer`'s client record may still hold a claim: it names
    // that client, active or being reclaimed.
    bool may_hold_claims(OwnerStamp claimer) const;
    // Who claimed `position` (a claim in flight, claim_in_flight): the
    // single producer's lease holder, or whom its claim word names; none
    // when the word names another position (scribbled).
    OwnerStamp claimer_of(std::uint64_t position) const;

    std::uint64_t index_of(std::uint64_t position) const { return positions_.index(position); }
    layout::SlotHeader& slot_at(std::uint64_t position) const { return slot_at_index(index_of(position)); }
    // The claim word of the slot of `position` (layout::claim_words_bytes).
    std::atomic<std::uint64_t>& claim_word_at(std::uint64_t position) const {
        return claim_words_[index_of(position)];
    }
    // The take word of the slot of `position` (layout::take_words_bytes). A
    // reader that judges a message by it reads it before the slot's word
    // (decide()), and takes the two together: the slot's word says what was
    // published there, the take word whether it was decided.
    std::atomic<std::uint64_t>& take_word_at(std::uint64_t position) const {
        return take_words_[index_of(position)];
    }
    // Whether a slot whose word is `word` holds no message of lap `lap` yet,
    // for a position whose previous one (position - capacity) head has
    // passed: free for the lap, or still holding the previous lap's message
    // (ready or abandoned), which was decided before head passed it. Nothing
    // rewrites a slot's word when its message is taken (take words).
    static bool vacant_for(std::uint64_t word, std::uint64_t lap) {
        return word == SlotWord::at_lap(SlotState::free, lap) ||
               (lap > 0 && (word == SlotWord::at_lap(SlotState::ready, lap - 1) ||
                            word == SlotWord::at_lap(SlotState::abandoned, lap - 1)));
    }
    std::byte* payload_of(layout::SlotHeader& slot) const {
        return reinterpret_cast<std::byte*>(&slot) + layout::slot_header_size;
    }

private:
    // acknowledge() without the wake-up: the slot's compare-and-swap alone.
    Status free_acknowledged(std::uint64_t delivery, OwnerStamp me);
    // What a consumer took: all that its copy and its delivery token need,
    // read once from the slot and checked there (the slot's length is a
    // plain field another process could rewrite).
    struct Taken {
        std::uint64_t position = 0;
        std::uint32_t length = 0;
        std::uint16_t delivery = 0;  // the tag stored in the slot's word (0: at_most_once)
        bool copied = false;  // copied out before the take, which finished the message
    };
    // at_most_once messages up to this long are copied out before they are
    // taken (docs/crash-safety.md, "Copy, then take"): the take is then one
    // write of the take word, and nothing is written to the slot. Longer
    // ones are taken first and their slot's word marked reading: consumers
    // racing for one message would each copy all of it, and a copy word by
    // word (common/shared_copy.hpp) is slower than memcpy.
    static constexpr std::uint32_t copy_first_limit = 512;
    // may_have_message(), once it found a message: asks for the rest of it.
    void prefetch_message(const layout::SlotHeader& slot) const;
    // What claim() and take() do after a look at a slot that was not the one
    // they hoped for.
    enum class Next { retry, stop };

    // Messages a batch claims or takes before it copies: bounds the stack the
    // receive side's bookkeeping takes.
    static constexpr std::size_t batch_chunk = 64;
    // The payload bytes a batch copies in before it marks them ready, when
    // it hands them over grouped (Handoff): at 64 B a whole chunk. Larger
    // messages go one by one, so that the consumer's copy out of one
    // overlaps the producer's copy into the next.
    static constexpr std::size_t publish_group_bytes = 64 * 1024;
    bool is_quarantined() const { return control_->quarantined.load(std::memory_order_relaxed) != 0; }
    // ok when `me` holds `lease` (QueueControl::producer_lease or
    // consumer_lease), taking it when nobody does; exclusive_held when
    // another client does. One load of a line that is written only when the
    // lease changes hands.
    Status hold_lease(std::atomic<std::uint64_t>& lease, OwnerStamp me);
    // With a side's lease (hold_lease) no other process makes that side's
    // steps (docs/crash-safety.md, "Single producer, single consumer"). A
    // single producer then claims by its move of tail alone, without a
    // claim word; a single consumer takes with a plain store, unless the
    // queue drops its oldest messages, which producers do by freeing ready
    // slots.
    bool claims_by_tail() const { return geometry_.single_producer(); }
    // Whether `word`, read from the slot of `position` (at or past tail) and
    // not free for position's lap, leaves the slot vacant all the same: it
    // holds the previous lap's message, which was decided and head moved
    // past (vacant_for). Moves head past that message when its decider has
    // not yet. `changed` when a second read of the word found it moved on:
    // the look is stale, to be made again.
    enum class Vacancy : std::uint8_t { vacant, held, changed };
    Vacancy vacated(std::uint64_t position, std::uint64_t word);
    // Whether head is past `position`, by this process's floor of head when
    // that tells, else by a read of head (not above `limit`, which a
    // scribbled head could be).
    bool head_past(std::uint64_t position, std::uint64_t limit) const;
    // drop_oldest: decides the message at `oldest` (head, tail - capacity),
    // whose slot's word was read as `word`, dropped, and moves head past it.
    // False when a consumer holds it and has not marked the slot yet.
    bool drop_oldest(std::uint64_t oldest, std::uint64_t word);
    // The one step that decides the fate of a message: `take_word` from
    // `seen`, read before the slot's word showed the message, to `decision`.
    // False when someone decided first.
    bool decide(std::atomic<std::uint64_t>& take_word, std::uint64_t seen, std::uint64_t decision);
    // Claims a position (of lap `lap`), whose slot was read vacant for that
    // lap, for `me` by a compare-and-swap of its claim word `claim_word` from
    // `seen`, a claim of an earlier lap; false when another producer claimed
    // it first.
    bool claim_by_word(OwnerStamp me, std::atomic<std::uint64_t>& claim_word, std::uint64_t lap, std::uint64_t seen);
    // Whether claim word `word` claims the position of lap `lap` at its slot.
    static bool claims_lap(std::uint64_t word, std::uint64_t lap) {
        return SlotWord::state(word) == SlotState::writing && SlotWord::tag(word) == SlotWord::lap_tag(lap);
    }
    bool takes_by_store() const {
        return geometry_.single_consumer() && geometry_.overflow != layout::overflow_drop_oldest;
    }
    // When waiters fence for this process (let_waiters_fence_for_this_
    // process), the lease holder of a single side also moves that side's
    // counter past its own claim (take) by a plain store, and wakes the other
    // side with no fence: no locked instruction is left on its path. Nobody
    // else moves that counter past a position the lease holder has not
    // finished (docs/crash-safety.md, "Single producer, single consumer").
    bool stores_own_tail() const { return claims_by_tail() && waiters_fence_for_me_; }
    bool stores_own_head() const { return takes_by_store() && waiters_fence_for_me_; }
    // The claim's (take's) own move of tail (head) from `position`.
    void move_tail_past_claim(std::uint64_t position);
    void move_head_past_take(std::uint64_t position);
    // The wake-up of consumers after messages were published (of producers
    // after slots were freed), by the notify that the move of the counter
    // before it allows (WaitEvent).
    void wake_consumers(int count);
    void wake_producers(int count);
    // Claims made after the queue was retired (positions [first, first +
    // count)): abandoned at once, since a consumer may already have found the
    // queue drained (docs/crash-safety.md, "Live removal").
    // Inline: every send makes the look, and the call around it cost as many
    // instructions as the look itself (callgrind, docs/benchmarks.md).
    Status refuse_claims_if_retired(std::uint64_t first, std::size_t count) {
        return is_retired() ? abandon_claims_of_retired(first, count) : Status::ok;
    }
    Status abandon_claims_of_retired(std::uint64_t first, std::size_t count);
    bool holds_unacknowledged() const;
    // Part of reclaim(): the takes the dead owner decided (holding) and died
    // before marking in the slot's word are undone: their messages are
    // queued again (docs/crash-safety.md, "Take words").
    void release_unmarked_takes(OwnerStamp dead_owner, ReclaimCounts& counts);
    // Part of reclaim(): the claims the dead owner made and never published
    // are abandoned: those its claim words name, or, with a single
    // producer, whose lease it holds, those in [head, tail).
    void abandon_unpublished_claims(OwnerStamp dead_owner, ReclaimCounts& counts);
    void abandon_single_producer_claims(OwnerStamp dead_owner, ReclaimCounts& counts);
    void abandon_claims_by_word(OwnerStamp dead_owner, ReclaimCounts& counts);
    // Abandons the claim in flight at `position`, if it still is one.
    void abandon_claim(std::uint64_t position, ReclaimCounts& counts);
    // The broker's half of start_ack_clock: copied-out marks become
    // deadlines, from its own clock. Whether an in_flight delivery's
    // deadline has passed (a lock-free look).
    bool start_ack_clocks_and_find_overdue(std::uint64_t now_ns);
    std::size_t send_chunk(const OutgoingMessage* messages, std::size_t count, OwnerStamp me, Handoff handoff,
                           Status& status);
    // send_chunk's hand-over of the `count` messages it claimed at
    // `positions` (Handoff).
    void publish_eagerly(const OutgoingMessage* messages, const std::uint64_t* positions, std::size_t count);
    void publish_grouped(const OutgoingMessage* messages, const std::uint64_t* positions, std::size_t count);
    std::size_t receive_chunk(IncomingMessage* messages, std::size_t count, OwnerStamp me, Look look,
                              Status& status);

    std::uint64_t lap_of(std::uint64_t position) const { return positions_.lap(position); }
    // The slot of index `index` (index_of), for a step that has the index
    // already and needs the claim word of the same slot too.
    layout::SlotHeader& slot_at_index(std::uint64_t index) const {
        return *reinterpret_cast<layout::SlotHeader*>(slots_ + index * geometry_.slot_stride);
    }
    // How may_claim() judges a slot still holding the previous lap's ready
    // message. `always`: by a read of head, which is past it once the
    // message is decided. `unless_marked`, for a spinning producer's hint
    // (may_have_room_for): where every take marks the slot's word before
    // head passes it (marks_every_take), the message is most likely still
    // queued, and head is not read. Head is the consumers' line, written at
    // every message: a producer polling it took it from them at each one,
    // which held at_least_once 64 B throughput at 0.24-0.30x the limit ring
    // (0.50-0.59x without that read; docs/benchmarks.md). The exception, a message
    // withdrawn or dropped there, is found by the wait's periodic try.
    enum class HeadLook : std::uint8_t { always, unless_marked };
    bool may_claim(std::uint64_t position, HeadLook head_look) const;
    // Whether every take of a message marks its slot's word (in_flight)
    // before head moves past it: at_least_once, where no take is copy-first.
    bool marks_every_take() const { return geometry_.delivery == layout::delivery_at_least_once; }
    // The position below `tail` (in [tail - capacity, tail)) that slot
    // `index` serves; false when tail is below it (a word that cannot be).
    bool position_below(std::uint64_t index, std::uint64_t tail, std::uint64_t& position) const;
    // Moves head (tail) from `position` to position + 1 unless someone did:
    // every process that sees that position finished (claimed) helps.
    // Finished: decided by a take word that finishes it, or taken by a
    // consumer that marked the slot's word.
    void help_head_past(std::uint64_t position);
    void help_tail_past(std::uint64_t position);

    // Claims the position at tail for `me`, under drop_oldest dropping
    // the message in it first when that makes room; refused on a retired queue.
    Status claim(OwnerStamp me, std::uint64_t& position);
    // claim() before its retirement check.
    Status claim_at_tail(OwnerStamp me, std::uint64_t& position);
    // Claims up to `want` consecutive positions from tail, [first, first +
    // count), and moves tail past them; refused on a retired queue.
    Status claim_run(OwnerStamp me, std::size_t want, std::uint64_t& first, std::size_t& count);
    bool claim_past_tail(OwnerStamp me, std::uint64_t position);
    void move_tail_past_run(std::uint64_t first, std::uint64_t end);
    // claim() found `word` at `tail` rather than the free word it wanted.
    Next look_at_tail(std::uint64_t tail, std::uint64_t word, Status& status);
    // Moves one exhausted redelivery (`word` as read) to `dead_letter`, or
    // discards it when that is null; false when it stays (dead-letter queue
    // full, or the word changed).
    bool retire(layout::SlotHeader& slot, std::uint64_t index, std::uint64_t word, const DeadLetterTarget& dead_letter,
                OwnerStamp broker);
    // Takes the next deliverable slot: a redelivery first, else the one at
    // head.
    Status take(OwnerStamp me, void* buffer, std::size_t capacity, Look look, Taken& taken);
    // Takes up to `want` messages (at_least_once: one), consecutive from
    // head, into `takes`, and moves head past them; how many.
    std::size_t take_run(OwnerStamp me, const IncomingMessage* messages, std::size_t want, Look look, Taken* takes,
                         Status& status);
    bool take_past_head(OwnerStamp me, std::uint64_t position, void* buffer, std::size_t capacity, Taken& taken);
    void move_head_past_run(std::uint64_t first, std::uint64_t end);
    // take() found no undecided ready message at `head`.
    Next look_at_head(std::uint64_t head, Status& status);
    Status take_redelivery(OwnerStamp me, std::size_t capacity, Taken& taken);
    // at_least_once: a take holds its slot's ack deadline at
    // layout::ack_clock_not_started until the message is copied out, then
    // marks it layout::ack_clock_copied for the broker to start.
    static bool stop_ack_clock(layout::SlotHeader& slot, std::uint64_t read);
    void start_ack_clock(const Taken* taken, std::size_t count);
    // The token acknowledge() takes for what was taken.
    std::uint64_t token_of(const Taken& taken) const {
        return DeliveryToken::make(index_of(taken.position), taken.position, taken.delivery);
    }
    // Copies out a message taken before its copy (not Taken::copied), and
    // frees its slot (at_most_once; at_least_once: acknowledge() does).
    void copy_out_taken(const Taken& taken, void* buffer, OwnerStamp me);
    // Marks the slot of a message this consumer decided holding (a long
    // read, an at_least_once delivery) with `holding`, its reading or
    // in_flight word.
    void mark_held(layout::SlotHeader& slot, std::uint64_t holding);
    // Copies `length` bytes of the message in `slot` out, to `to`.
    void copy_out(const layout::SlotHeader& slot, void* to, std::uint32_t length) const;
    // Copies the message into the slot claimed at `position` and marks it
    // ready, in two steps: copy_in(), then mark_ready()'s store. Both take
    // the slot as found once: the position's arithmetic is not redone.
    void publish(const void* data, std::size_t size, std::uint64_t position);
    void copy_in(const void* data, std::size_t size, layout::SlotHeader& slot, std::uint64_t position);
    void mark_ready(layout::SlotHeader& slot, std::uint64_t position);
    // publish(), then a check that `me` still holds its client record. When
    // the broker reclaimed it meanwhile, the message is withdrawn if no
    // consumer took it yet: false, nothing sent.
    bool publish_checked(const void* data, std::size_t size, std::uint64_t position, OwnerStamp me);
    bool holds_record(OwnerStamp me) const;
    // Takes back the message this process marked ready at `position` after
    // the broker reclaimed its record, by deciding it withdrawn: false when a
    // consumer had taken it (or drop_oldest dropped it) first.
    bool withdraw(std::uint64_t position);
    Status quarantine(layout::QuarantineReason why);
    // Quarantines for `why` when neither `head` nor the word of `slot` moved
    // since they were read as `word` (a change means the look was stale).
    Next quarantine_if_still(const std::atomic<std::uint64_t>& counter, std::uint64_t value,
                             const layout::SlotHeader& slot, std::uint64_t word, layout::QuarantineReason why,
                             Status& status);
    // Power-loss recovery: whether the message in `slot` is whole.
    bool intact(const layout::SlotHeader& slot) const;

    // Whether head may still be at `position` (claim() must then move it
    // past): asks head_floor_ first, and reads head only when it cannot tell.
    bool head_may_be_at(std::uint64_t position, std::uint64_t tail) const;
    // What head_may_be_at(), head_past() and vacated() share: whether this
    // process's floor of head says head is past `position` (the floor not
    // above `limit`), and, when it cannot tell, head read now with `order`
    // (and remembered as the floor).
    bool floor_past(std::uint64_t position, std::uint64_t limit) const;
    std::uint64_t read_head(std::memory_order order) const;

    layout::QueueControl* control_ = nullptr;
    std::byte* slots_ = nullptr;
    // layout::claim_words_bytes: right after the slots, by this process's
    // own geometry.
    std::atomic<std::uint64_t>* claim_words_ = nullptr;
    // layout::take_words_bytes: right after the claim words.
    std::atomic<std::uint64_t>* take_words_ = nullptr;
    RingGeometry geometry_{};
    RingPositions positions_;  // of geometry_.capacity
    const layout::ClientRecord* clients_ = nullptr;
    std::uint32_t client_count_ = 0;
    bool waiters_fence_for_me_ = false;  // let_waiters_fence_for_this_process
    // The head this process last read. Producers read head once a lap rather
    // than at every claim: head is the consumers' cache line, and reading it
    // at each message moved that line between CPUs at each message.
    mutable CounterFloor head_floor_;
    // Which quick look at a free slot at head checks it against tail all
    // the same (Look): a scribbled word is found within 64 calls that never
    // wait.
    SampledCheck<64> empty_check_;
};

}  // namespace shmq
