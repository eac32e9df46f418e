"""shmq.Queue: point-to-point messages, each received by one consumer."""

import collections
import threading

from ._async import wait_in_thread
from ._errors import ClosedError, Status, TimeoutError, check, error_of
from ._native import ffi, lib
from ._stats import take_stats
from ._waiting import wait_sliced


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


class _Scratch(threading.local):
    """Per-thread out-parameters and receive buffer, reused call after call."""

    def __init__(self, capacity: int):
        self.buffer = ffi.new("char[]", max(capacity, 1))
        self.size = ffi.new("size_t *")
        self.delivery = ffi.new("uint64_t *")
        self.sent = ffi.new("size_t *")
        self.batches = {}




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
        self._core.check_open()
        buffer = ffi.from_buffer(data)
        status = wait_sliced(lambda ns: lib.shmq_queue_send(self._handle, buffer, len(buffer), ns), timeout,
                             self._stop)
        self._checked(status, "send")

    def try_send(self, data) -> bool:
        """Sends without waiting: False when the queue is full."""
        self._core.check_open()
        buffer = ffi.from_buffer(data)
        status = lib.shmq_queue_try_send(self._handle, buffer, len(buffer))
        if status == Status.QUEUE_FULL:
            return False
        self._checked(status, "send")
        return True

    def send_batch(self, messages, timeout: "float | None" = None) -> int:
        """Sends the bytes-like objects in order, waiting for room as needed;
        returns how many were sent (fewer when `timeout` passed)."""
        self._core.check_open()
        buffers = [ffi.from_buffer(message) for message in messages]
        batch = ffi.new("shmq_outgoing[]", max(len(buffers), 1))
        for index, buffer in enumerate(buffers):
            batch[index].data = buffer
            batch[index].size = len(buffer)
        sent = self._scratch.sent
        done = 0

        def attempt(ns):
            nonlocal done
            status = lib.shmq_queue_send_batch(self._handle, batch + done, len(buffers) - done, sent, ns)
            done += sent[0]
            return status

        status = wait_sliced(attempt, timeout, self._stop)
        if status in (Status.TIMEOUT, Status.QUEUE_FULL):
            return done
        self._checked(status, "send_batch")
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
        self._core.check_open()
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
        an empty list instead)."""
        self._core.check_open()
        if max_count < 1:
            raise ValueError("max_count must be at least 1")
        scratch = self._scratch
        batch = scratch.batches.get(max_count)
        if batch is None:
            storage = ffi.new("char[]", max_count * max(self.max_message_size, 1))
            incoming = ffi.new("shmq_incoming[]", max_count)
            for index in range(max_count):
                incoming[index].buffer = storage + index * self.max_message_size
                incoming[index].capacity = self.max_message_size
            batch = scratch.batches[max_count] = (storage, incoming)
        incoming = batch[1]
        status = wait_sliced(
            lambda ns: lib.shmq_queue_receive_batch(self._handle, incoming, max_count, scratch.size, ns),
            timeout, self._stop)
        if status in (Status.TIMEOUT, Status.EMPTY) and not self._core.closed:
            if timeout is not None and timeout <= 0:
                return []
            raise TimeoutError(f"queue '{self.name}': no message within {timeout} s")
        self._checked(status, "receive_batch")
        return [self._message(ffi.unpack(ffi.cast("char *", incoming[i].buffer), incoming[i].size), incoming[i].delivery)
                for i in range(scratch.size[0])]

    def acknowledge(self, delivery) -> None:
        """Acknowledges an at_least_once delivery: a Message, a Received or
        the token itself. NotAcknowledgeableError if this client does not
        hold it (acknowledged already, or redelivered after the ack timeout)."""
        self._core.check_open()
        token = getattr(delivery, "delivery", delivery)
        self._checked(lib.shmq_queue_acknowledge(self._handle, int(token)), "acknowledge")

    async def receive_async(self, timeout: "float | None" = None) -> bytes:
        """receive() for asyncio: waits in a worker thread, never blocking the
        event loop and never polling. Cancelling the await loses no message."""
        self._core.check_open()
        if self._pending:
            return self._pending.popleft()
        message = await wait_in_thread(lambda stop: self._take(timeout, lambda: stop() or self._stop()),
                                       self._pending.append)
        if message is None:
            raise TimeoutError(f"queue '{self.name}': no message within {timeout} s")
        return message

    def __repr__(self) -> str:
        return f"<shmq.Queue {self.name!r} capacity={self.capacity} max_message_size={self.max_message_size}>"
