"""shmq.Queue: point-to-point messages, each received by one consumer."""

import array
import collections
import concurrent.futures
import itertools
import threading
import typing

from ._async import wait_in_thread
from ._errors import ClosedError, Status, TimeoutError, check, error_of
from ._native import ffi, lib
from ._stats import take_stats
from ._waiting import wait_sliced

# Looked up once: the per-message paths below are short enough for these
# lookups to count.
_try_send = lib.shmq_queue_try_send
_try_receive = lib.shmq_queue_try_receive
_send_packed = lib.shmq_queue_send_packed
_send_packed_checked = lib.shmq_queue_send_packed_checked
_receive_packed_total = lib.shmq_queue_receive_packed_total
_unpack = ffi.unpack
_from_buffer = ffi.from_buffer
_new_tuple = tuple.__new__
_OK, _QUEUE_FULL, _EMPTY = int(Status.OK), int(Status.QUEUE_FULL), int(Status.EMPTY)
_INVALID_ARGUMENT = int(Status.INVALID_ARGUMENT)
# The array type code of a C size_t: a list of sizes becomes a size_t[] in
# one C loop (array.array), ~3x faster than cffi's conversion item by item.
_SIZE_T = next(code for code in "QLI" if array.array(code).itemsize == ffi.sizeof("size_t"))


class Message(bytes):
    """A message of an at_least_once queue: the bytes, and the `delivery`
    token to pass to Queue.acknowledge() (1 + redeliveries in its low 16 bits)."""

    delivery: int

    def __new__(cls, data, delivery: int):
        message = super().__new__(cls, data)
        message.delivery = delivery
        return message

    def __reduce__(self):
        return (Message, (bytes(self), self.delivery))


class Received(int):
    """receive_into()'s size on an at_least_once queue, with its `delivery`."""

    delivery: int

    def __new__(cls, size: int, delivery: int):
        received = super().__new__(cls, size)
        received.delivery = delivery
        return received

    def __reduce__(self):
        return (Received, (int(self), self.delivery))


class Packed(typing.NamedTuple):
    """Messages laid back to back in one bytes object, as Queue.receive_packed()
    returns them: message i is data[sum(sizes[:i]):sum(sizes[:i + 1])].
    `deliveries` holds their delivery tokens on an at_least_once queue
    (empty otherwise)."""

    data: bytes
    sizes: "list[int]"
    deliveries: "list[int]"


class _Scratch(threading.local):
    """Per-thread out-parameters and receive buffer, reused call after call."""

    def __init__(self, capacity: int):
        self.buffer = ffi.new("char[]", max(capacity, 1))
        self.size = ffi.new("size_t *")
        self.delivery = ffi.new("uint64_t *")
        self.sent = ffi.new("size_t *")
        self.receiving = (self.buffer, self.size, self.delivery)
        self.batches = {}  # max_count -> _PackedBatch


class _PackedBatch:
    """The buffers of shmq_queue_receive_packed_total for batches of up to `count`
    messages, reused call after call."""

    def __init__(self, count: int, max_message_size: int):
        self.capacity = count * max(max_message_size, 1)
        self.buffer = ffi.new("char[]", self.capacity)
        self.sizes = ffi.new("size_t[]", count)
        self.deliveries = ffi.new("uint64_t[]", count)
        self.received = ffi.new("size_t *")
        self.total = ffi.new("size_t *")
        self.count = count
        # The sizes as Python sees them: memoryview.tolist() makes the list
        # in one C loop, ~2x faster than ffi.unpack.
        self.sizes_view = memoryview(ffi.buffer(self.sizes)).cast("B").cast(_SIZE_T)
        self.arguments = (self.buffer, self.capacity, self.sizes, self.deliveries, count, self.received, self.total)

    def packed(self, at_least_once: bool) -> Packed:
        """The messages received, in one copy of the buffer: no per-message
        call into cffi, no per-message object."""
        count = self.received[0]
        sizes = self.sizes_view.tolist() if count == self.count else self.sizes_view[:count].tolist()
        deliveries = _unpack(self.deliveries, count) if at_least_once else []
        # tuple.__new__ rather than Packed(): skips the NamedTuple's __new__ written in Python.
        return _new_tuple(Packed, (_unpack(self.buffer, self.total[0]), sizes, deliveries))


class Queue:
    """A handle on one queue of a Client; thread-safe.

    Blocking calls release the GIL and wait in slices of at most 50 ms, so
    Ctrl-C interrupts them. `timeout` is in seconds: None waits as long as it
    takes, and TimeoutError is raised when it passes.
    """

    def __init__(self, core, name: str):
        out = ffi.new("shmq_queue **")
        check(lib.shmq_queue_open(core.pointer, name.encode(), out), f"queue '{name}'")
        self._core = core
        self._handle = ffi.gc(out[0], lib.shmq_queue_close)
        self.name = name
        self.max_message_size = lib.shmq_queue_max_message_size(self._handle)
        self.capacity = lib.shmq_queue_capacity(self._handle)
        self._scratch = _Scratch(self.max_message_size)
        # The C API hands out a token on every queue; only an at_least_once
        # queue's is worth returning, and only the broker's stats tell which.
        stats = take_stats(core.pointer)
        self.at_least_once = any(queue["name"] == name and queue["delivery"] == "at_least_once"
                                 for queue in stats["queues"])
        # Messages a cancelled receive_async took: handed out first.
        self._pending = collections.deque()
        # The one thread receive_async waits on. A queue configured with
        # `consumers: single` is leased to one thread of one client, so the
        # waits of this handle must not hop between the loop's workers.
        self._async_worker = None

    def _stop(self) -> bool:
        return self._core.closed

    def _message(self, data: bytes, delivery: int) -> bytes:
        return Message(data, delivery) if self.at_least_once else data

    def _checked(self, status: int, what: str) -> None:
        if status != Status.OK:
            if self._core.closed:
                raise ClosedError("the shmq client is closed")
            raise error_of(status, f"queue '{self.name}': {what}")

    # ---- sending

    def send(self, data, timeout: "float | None" = None) -> None:
        """Sends a copy of a bytes-like object, waiting for room (per the
        queue's overflow policy) up to `timeout` seconds."""
        if self._core.closed:
            raise ClosedError("the shmq client is closed")
        if type(data) is not bytes:  # cffi passes bytes as they are; the rest through their buffer
            data = ffi.from_buffer(data)
        # The common case in one call: there is room. Otherwise wait in slices.
        status = _try_send(self._handle, data, len(data))
        if status == _QUEUE_FULL and (timeout is None or timeout > 0):
            status = wait_sliced(lambda ns: lib.shmq_queue_send(self._handle, data, len(data), ns), timeout,
                                 self._stop)
        if status != _OK:
            self._checked(status, "send")

    def try_send(self, data) -> bool:
        """Sends without waiting: False when the queue is full."""
        if self._core.closed:
            raise ClosedError("the shmq client is closed")
        if type(data) is not bytes:
            data = ffi.from_buffer(data)
        status = _try_send(self._handle, data, len(data))
        if status == _QUEUE_FULL:
            return False
        self._checked(status, "send")
        return True

    def send_batch(self, messages, timeout: "float | None" = None) -> int:
        """Sends the bytes-like objects in order, waiting for room as needed;
        returns how many were sent (fewer when `timeout` passed). One call
        into libshmq for the whole batch (more when it waits)."""
        self._core.check_open()
        messages = messages if isinstance(messages, (list, tuple)) else list(messages)
        data = b"".join(messages)
        sizes = list(map(len, messages))
        if sum(sizes) != len(data):  # e.g. a memoryview of wider items: len() counts items
            sizes = [memoryview(message).nbytes for message in messages]
        return self.send_packed(data, sizes, timeout)

    def send_packed(self, data, sizes, timeout: "float | None" = None) -> int:
        """Sends the messages laid back to back in the bytes-like `data`,
        `sizes` their lengths in order (they must add up to its length), as
        send_batch() does but with no object per message; returns how many
        were sent (fewer when `timeout` passed)."""
        if self._core.closed:
            raise ClosedError("the shmq client is closed")
        packed = _from_buffer(data)
        try:
            sizes = array.array(_SIZE_T, sizes)
        except OverflowError:
            raise ValueError("a message size is negative or too large") from None
        count = len(sizes)
        lengths = _from_buffer("size_t[]", sizes)
        sent = self._scratch.sent
        # The common case in one call: there is room for all. Otherwise wait
        # in slices. libshmq checks that the sizes add up to the data's length.
        status = _send_packed_checked(self._handle, packed, len(packed), lengths, count, sent, 0)
        done = sent[0]
        if status == _OK and done == count:
            return count
        if status == _INVALID_ARGUMENT and sum(sizes) != len(packed):
            raise ValueError(f"the sizes add up to {sum(sizes)} bytes, the data holds {len(packed)}")
        offset = sum(sizes[:done])

        def attempt(ns):
            nonlocal done, offset
            status = _send_packed(self._handle, packed + offset, lengths + done, count - done, sent, ns)
            offset += sum(sizes[done:done + sent[0]])
            done += sent[0]
            return status

        status = wait_sliced(attempt, timeout, self._stop)
        if status in (Status.TIMEOUT, Status.QUEUE_FULL):
            return done
        self._checked(status, "send_packed")
        return done

    # ---- receiving

    def _take(self, timeout, should_stop) -> "bytes | None":
        """The next message, or None when the timeout passed or should_stop."""
        if self._pending:
            return self._pending.popleft()
        scratch = self._scratch
        status = wait_sliced(
            lambda ns: lib.shmq_queue_receive(self._handle, scratch.buffer, self.max_message_size, scratch.size,
                                              scratch.delivery, ns),
            timeout, lambda: bool(self._pending) or (should_stop is not None and should_stop()))
        if status in (Status.TIMEOUT, Status.EMPTY):
            if self._core.closed:
                raise ClosedError("the shmq client is closed")
            # A cancelled receive_async may have handed its message back meanwhile.
            return self._pending.popleft() if self._pending else None
        self._checked(status, "receive")
        return self._message(ffi.unpack(scratch.buffer, scratch.size[0]), scratch.delivery[0])

    def receive(self, timeout: "float | None" = None) -> bytes:
        """The next message, as bytes (a Message, with its delivery token, on
        an at_least_once queue). TimeoutError when `timeout` passes."""
        if self._core.closed:
            raise ClosedError("the shmq client is closed")
        if not self._pending:
            # The common case in one call: a message is there. Otherwise wait in slices.
            buffer, size, delivery = self._scratch.receiving  # one thread-local lookup, not three
            if _try_receive(self._handle, buffer, self.max_message_size, size, delivery) == _OK:
                data = _unpack(buffer, size[0])
                return Message(data, delivery[0]) if self.at_least_once else data
        message = self._take(timeout, self._stop)
        if message is None:
            raise TimeoutError(f"queue '{self.name}': no message within {timeout} s")
        return message

    def try_receive(self) -> "bytes | None":
        """The next message, or None at once when there is none."""
        self._core.check_open()
        return self._take(0, None)

    def receive_into(self, buffer, timeout: "float | None" = None) -> int:
        """Copies the next message into a writable bytes-like `buffer` and
        returns its size (a Received, with .delivery, on an at_least_once
        queue). BufferTooSmallError leaves the message queued."""
        self._core.check_open()
        target = ffi.from_buffer(buffer, require_writable=True)
        if self._pending:
            message = self._pending[0]
            if len(message) > len(target):
                raise error_of(Status.BUFFER_TOO_SMALL, f"queue '{self.name}': receive_into")
            self._pending.popleft()
            ffi.memmove(target, message, len(message))
            return Received(len(message), message.delivery) if isinstance(message, Message) else len(message)
        scratch = self._scratch
        status = wait_sliced(
            lambda ns: lib.shmq_queue_receive(self._handle, target, len(target), scratch.size, scratch.delivery, ns),
            timeout, self._stop)
        self._checked(status, "receive_into")
        size, delivery = scratch.size[0], scratch.delivery[0]
        return Received(size, delivery) if self.at_least_once else size

    def receive_batch(self, max_count: int = 64, timeout: "float | None" = None) -> "list[bytes]":
        """Waits for at least one message, then takes up to max_count that
        are ready. TimeoutError when `timeout` passes with none (timeout 0:
        an empty list instead). One call into libshmq per batch."""
        data, sizes, deliveries = self.receive_packed(max_count, timeout)
        ends = list(itertools.accumulate(sizes))
        messages = list(map(data.__getitem__, map(slice, [0] + ends[:-1], ends)))
        if self.at_least_once:
            return list(map(Message, messages, deliveries))
        return messages

    def receive_packed(self, max_count: int = 64, timeout: "float | None" = None) -> Packed:
        """As receive_batch(), but the messages come back to back in one
        bytes object with a list of their sizes (a Packed): no object per
        message, for consumers that parse the bytes themselves. TimeoutError
        when `timeout` passes with none (timeout 0: an empty Packed instead).
        A message a cancelled receive_async handed back comes first, alone."""
        if self._core.closed:
            raise ClosedError("the shmq client is closed")
        if max_count < 1:
            raise ValueError("max_count must be at least 1")
        if self._pending:
            message = self._pending.popleft()
            return Packed(bytes(message), [len(message)], [message.delivery] if self.at_least_once else [])
        batch = self._scratch.batches.get(max_count)
        if batch is None:
            batch = self._scratch.batches[max_count] = _PackedBatch(max_count, self.max_message_size)
        handle, arguments = self._handle, batch.arguments
        # The common case in one call: messages are there. Otherwise wait in slices.
        status = _receive_packed_total(handle, *arguments, 0)
        if status == _OK:
            return batch.packed(self.at_least_once)
        if status == _EMPTY and (timeout is None or timeout > 0):
            status = wait_sliced(lambda ns: _receive_packed_total(handle, *arguments, ns), timeout, self._stop)
        if status in (Status.TIMEOUT, Status.EMPTY) and not self._core.closed:
            if timeout is not None and timeout <= 0:
                return Packed(b"", [], [])
            raise TimeoutError(f"queue '{self.name}': no message within {timeout} s")
        self._checked(status, "receive_packed")
        return batch.packed(self.at_least_once)

    def acknowledge(self, delivery) -> None:
        """Acknowledges an at_least_once delivery: a Message, a Received or
        the token itself. NotAcknowledgeableError if this client does not
        hold it (acknowledged already, or redelivered after the ack timeout)."""
        self._core.check_open()
        token = getattr(delivery, "delivery", delivery)
        self._checked(lib.shmq_queue_acknowledge(self._handle, int(token)), "acknowledge")

    def acknowledge_batch(self, deliveries) -> int:
        """acknowledge() of each of `deliveries` (Messages, Receiveds or
        tokens, e.g. receive_packed()'s list), with one wake-up of a producer
        waiting for room for all the slots they free. Returns how many were
        acknowledged; NotAcknowledgeableError, after the others were
        acknowledged all the same, when any was not held."""
        self._core.check_open()
        try:
            tokens = array.array("Q", (int(getattr(delivery, "delivery", delivery)) for delivery in deliveries))
        except OverflowError:
            raise ValueError("a delivery token is negative or too large") from None
        if not tokens:
            return 0
        acknowledged = ffi.new("size_t *")
        status = lib.shmq_queue_acknowledge_batch(self._handle, _from_buffer("uint64_t[]", tokens), len(tokens),
                                                  acknowledged)
        self._checked(status, f"acknowledge_batch: {len(tokens) - acknowledged[0]} of {len(tokens)} not held")
        return acknowledged[0]

    async def receive_async(self, timeout: "float | None" = None) -> bytes:
        """receive() for asyncio: waits in a worker thread, never blocking the
        event loop and never polling. Cancelling the await loses no message."""
        self._core.check_open()
        if self._pending:
            return self._pending.popleft()
        if self._async_worker is None:
            self._async_worker = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=f"shmq-{self.name}")
        message = await wait_in_thread(lambda stop: self._take(timeout, lambda: stop() or self._stop()),
                                       self._pending.append, self._async_worker)
        if message is None:
            raise TimeoutError(f"queue '{self.name}': no message within {timeout} s")
        return message

    def __repr__(self) -> str:
        return f"<shmq.Queue {self.name!r} capacity={self.capacity} max_message_size={self.max_message_size}>"
