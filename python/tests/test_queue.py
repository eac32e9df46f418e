"""Queues from Python: round trips, batches, errors, closing."""

import array
import gc
import os
import threading
import time

import pytest

import shmq

LIMIT = 60.0  # seconds: generous, the machine may be busy


def test_send_and_receive_round_trip(client):
    work = client.queue("work")
    assert (work.capacity, work.max_message_size) == (256, 4096)
    work.send(b"hello")
    work.send(bytearray(b"from a bytearray"))
    work.send(memoryview(b"xxfrom a memoryview")[2:])
    assert work.receive(timeout=10) == b"hello"
    assert work.receive(timeout=10) == b"from a bytearray"
    assert work.receive() == b"from a memoryview"
    assert work.try_receive() is None


def test_receive_into_a_buffer(client):
    work = client.queue("work")
    work.send(b"0123456789")
    small = bytearray(4)
    with pytest.raises(shmq.BufferTooSmallError) as raised:
        work.receive_into(small, timeout=10)
    assert raised.value.status == shmq.Status.BUFFER_TOO_SMALL
    buffer = bytearray(64)
    size = work.receive_into(buffer, timeout=10)
    assert bytes(buffer[:size]) == b"0123456789"


def test_timeouts_and_errors_are_shmq_errors(client, broker):
    work = client.queue("work")
    with pytest.raises(shmq.TimeoutError) as raised:
        work.receive(timeout=0.05)
    assert isinstance(raised.value, shmq.Error) and raised.value.status == shmq.Status.TIMEOUT
    with pytest.raises(shmq.MessageTooLargeError):
        work.send(bytes(4097))
    with pytest.raises(shmq.NotFoundError) as raised:
        client.queue("missing")
    assert raised.value.status == shmq.Status.QUEUE_NOT_FOUND and "missing" in str(raised.value)
    with pytest.raises(shmq.NotFoundError) as raised:
        shmq.Client(broker + "-absent")
    assert raised.value.status == shmq.Status.BROKER_NOT_FOUND and broker + "-absent" in str(raised.value)
    with pytest.raises(TypeError):
        work.send("text is not bytes")


def test_batches(client):
    work = client.queue("work")
    assert work.send_batch([b"a", b"bb", bytearray(b"ccc")], timeout=10) == 3
    assert work.receive_batch(max_count=10, timeout=10) == [b"a", b"bb", b"ccc"]
    assert work.receive_batch(max_count=10, timeout=0) == []
    with pytest.raises(shmq.TimeoutError):
        work.receive_batch(timeout=0.05)


def test_batches_of_any_bytes_like_objects_and_sizes(client):
    work = client.queue("work")
    wide = memoryview(array.array("i", [1, 2, 3]))  # len() 3, 12 bytes
    messages = [b"", bytes(4096), wide, bytearray(b"last")]
    assert work.send_batch(iter(messages)) == 4  # any iterable
    received = work.receive_batch(max_count=3, timeout=10)
    assert received == [b"", bytes(4096), wide.tobytes()]
    assert work.receive_batch(max_count=3, timeout=10) == [b"last"]
    assert work.send_batch([]) == 0


def test_a_batch_larger_than_the_room_left_sends_what_fits_within_the_timeout(client):
    work = client.queue("work")
    batch = [b"%d" % i for i in range(work.capacity + 10)]
    assert work.send_batch(batch, timeout=0.05) == work.capacity
    taken = []
    while len(taken) < work.capacity:
        taken += work.receive_batch(max_count=100, timeout=10)
    assert taken == batch[:work.capacity]


def test_an_at_least_once_batch_carries_a_delivery_per_message(client):
    jobs = client.queue("jobs")
    assert jobs.send_batch([b"one", b"two"]) == 2
    received = jobs.receive_batch(max_count=2, timeout=10)
    assert received == [b"one", b"two"]
    assert all(isinstance(message, shmq.Message) for message in received)
    for message in received:
        jobs.acknowledge(message)


def test_packed_batches_carry_messages_back_to_back_with_their_sizes(client):
    work = client.queue("work")
    assert work.send_packed(b"aBBccc", [1, 2, 3], timeout=10) == 3
    assert work.send_packed(memoryview(b"xx"), iter([0, 2])) == 2  # any bytes-like object, any iterable
    packed = work.receive_packed(max_count=4, timeout=10)
    assert packed == shmq.Packed(b"aBBccc", [1, 2, 3, 0], [])
    assert work.receive_packed(max_count=4, timeout=10) == (b"xx", [2], [])
    assert work.receive_packed(timeout=0) == (b"", [], [])
    with pytest.raises(shmq.TimeoutError):
        work.receive_packed(timeout=0.05)
    with pytest.raises(ValueError, match="add up to 4 bytes, the data holds 3"):
        work.send_packed(b"abc", [2, 2])
    with pytest.raises(ValueError, match="add up to 2 bytes, the data holds 3"):
        work.send_packed(b"abc", [2])
    # Sizes that a C size_t would wrap around to the data's length.
    with pytest.raises(ValueError, match="add up to 18446744073709551619 bytes, the data holds 3"):
        work.send_packed(b"abc", [2**64 - 1, 4])
    with pytest.raises(ValueError, match="a message size is negative or too large"):
        work.send_packed(b"abc", [4, -1])
    assert work.receive_packed(timeout=0) == (b"", [], [])  # nothing was sent


def test_a_packed_at_least_once_batch_carries_a_delivery_per_message(client):
    jobs = client.queue("jobs")
    assert jobs.send_packed(b"onetwo", [3, 3]) == 2
    data, sizes, deliveries = jobs.receive_packed(max_count=2, timeout=10)
    assert (data, sizes, len(deliveries)) == (b"onetwo", [3, 3], 2)
    for delivery in deliveries:
        jobs.acknowledge(delivery)
    with pytest.raises(shmq.NotAcknowledgeableError):
        jobs.acknowledge(deliveries[0])


def test_a_batch_of_acknowledgements_frees_every_slot_and_names_those_not_held(client):
    jobs = client.queue("jobs")
    assert jobs.send_packed(b"abc", [1, 1, 1]) == 3
    _, sizes, deliveries = jobs.receive_packed(max_count=3, timeout=10)
    assert sizes == [1, 1, 1]
    assert jobs.acknowledge_batch(deliveries[:2]) == 2
    assert jobs.acknowledge_batch([]) == 0
    # One already acknowledged beside one held: the held one is acknowledged all the same.
    with pytest.raises(shmq.NotAcknowledgeableError, match="1 of 2 not held"):
        jobs.acknowledge_batch([deliveries[0], deliveries[2]])
    with pytest.raises(shmq.NotAcknowledgeableError):
        jobs.acknowledge(deliveries[2])
    # Every slot is free again: the whole capacity takes a send at once.
    assert all(jobs.try_send(b"x") for _ in range(jobs.capacity))
    with pytest.raises(ValueError, match="negative or too large"):
        jobs.acknowledge_batch([-1])


def test_a_full_queue_times_out_a_send(client):
    work = client.queue("work")
    for _ in range(work.capacity):
        assert work.try_send(b"x")
    assert not work.try_send(b"x")
    with pytest.raises(shmq.TimeoutError):
        work.send(b"x", timeout=0.05)
    # A packed batch sends what fits (nothing here) and returns when the timeout passed.
    began = time.monotonic()
    assert work.send_packed(b"ab", [1, 1], timeout=0.2) == 0
    assert time.monotonic() - began >= 0.2
    assert work.send_packed(b"ab", [1, 1], timeout=0) == 0


def test_a_packed_receive_waits_for_messages_and_its_timeout(client):
    work = client.queue("work")
    began = time.monotonic()
    with pytest.raises(shmq.TimeoutError):
        work.receive_packed(timeout=0.2)
    assert time.monotonic() - began >= 0.2
    # Nothing there at the first try: the wait that follows gets the batch.
    threading.Timer(0.2, lambda: work.send_packed(b"late", [4])).start()
    assert work.receive_packed(timeout=LIMIT) == (b"late", [4], [])


def test_closing_the_client_ends_a_blocked_packed_receive(broker):
    client = shmq.Client(broker)
    work = client.queue("work")
    raised = []

    def receive():
        try:
            work.receive_packed()
        except shmq.ClosedError as error:
            raised.append(error)

    receiver = threading.Thread(target=receive)
    receiver.start()
    time.sleep(0.2)  # let it enter the wait (if not yet, it finds the client closed at once)
    client.close()
    receiver.join(LIMIT)
    assert not receiver.is_alive() and len(raised) == 1


def test_acknowledge_and_redelivery(client):
    jobs = client.queue("jobs")
    jobs.send(b"job")
    first = jobs.receive(timeout=10)
    assert isinstance(first, shmq.Message) and first == b"job" and first.delivery & 0xFFFF == 1
    # Not acknowledged: it comes back after the 300 ms ack timeout.
    again = jobs.receive(timeout=30)
    assert again == b"job" and again.delivery & 0xFFFF == 2
    with pytest.raises(shmq.NotAcknowledgeableError):
        jobs.acknowledge(first)
    jobs.acknowledge(again)
    with pytest.raises(shmq.NotAcknowledgeableError):
        jobs.acknowledge(again.delivery)
    assert jobs.try_receive() is None


def test_stats(client):
    client.queue("work").send(b"counted")
    stats = client.stats()
    assert stats["broker"] == client.broker_name and stats["broker_alive"]
    work = next(queue for queue in stats["queues"] if queue["name"] == "work")
    assert work["enqueued"] == 1 and work["depth"] == 1 and work["delivery"] == "at_most_once"
    # In service, and open to this process for reading and writing.
    assert work["quarantined"] is False and work["quarantine_reason"] == "" and work["read_only"] is False
    assert (work["producers_sharing"], work["consumers_sharing"]) == ("many", "many")
    assert (work["producer_lease_pid"], work["consumer_lease_pid"]) == (0, 0)
    assert any(entry["program"] == "pytest" for entry in stats["clients"])


def test_a_closed_client_refuses_its_handles(broker):
    client = shmq.Client(broker)
    work = client.queue("work")
    client.close()
    assert client.closed
    with pytest.raises(shmq.ClosedError):
        work.send(b"late")
    with pytest.raises(shmq.ClosedError):
        client.queue("work")


def _hold_ticks_then_let_go(broker):
    """Takes both sides of `ticks` and checks that others are refused; the
    client is gone once this returns (nothing refers to it)."""
    holder = shmq.Client(broker, program="pytest-holder")
    ticks = holder.queue("ticks")
    ticks.send(b"t1")
    assert ticks.receive(timeout=LIMIT) == b"t1"
    leased = next(queue for queue in holder.stats()["queues"] if queue["name"] == "ticks")
    assert (leased["producers_sharing"], leased["consumers_sharing"]) == ("single", "single")
    assert (leased["producer_lease_pid"], leased["consumer_lease_pid"]) == (os.getpid(), os.getpid())
    with shmq.Client(broker, program="pytest-other") as other:
        theirs = other.queue("ticks")
        with pytest.raises(shmq.ExclusiveHeldError) as raised:
            theirs.send(b"no")
        assert raised.value.status == shmq.Status.EXCLUSIVE_HELD
        with pytest.raises(shmq.ExclusiveHeldError):
            theirs.receive(timeout=1)
    refused = []

    def from_another_thread():
        try:
            ticks.send(b"no")
        except shmq.ExclusiveHeldError:
            refused.append(True)

    thread = threading.Thread(target=from_another_thread)
    thread.start()
    thread.join(LIMIT)
    assert refused == [True]
    ticks.send(b"t2")
    holder.close()


def test_a_single_producer_and_consumer_queue_is_leased_to_one_thread(broker):
    _hold_ticks_then_let_go(broker)
    gc.collect()  # the client detaches once nothing refers to it, giving the sides back
    with shmq.Client(broker, program="pytest-next") as after:
        taken_over = after.queue("ticks")
        taken_over.send(b"t3")
        assert taken_over.receive(timeout=LIMIT) == b"t2"
        assert taken_over.receive(timeout=LIMIT) == b"t3"
