"""shmq.Topic and shmq.Loan: publishing, by copy or in place."""

import threading

from . import _memory
from ._errors import ClosedError, Status, check, error_of
from ._native import ffi, lib
from ._waiting import wait_sliced


class Topic:
    """A handle for publishing to one topic of a Client; thread-safe.

    `timeout` is in seconds (None: wait as long as it takes); publishing waits
    only while the slot to reuse is still needed (a slow subscriber under the
    block policy, or a view pinning it)."""

    def __init__(self, core, name: str):
        out = ffi.new("shmq_topic **")
        check(lib.shmq_topic_open(core.pointer, name.encode(), out), f"topic '{name}'")
        self._core = core
        self._handle = ffi.gc(out[0], lib.shmq_topic_close)
        self.name = name
        self.max_message_size = lib.shmq_topic_max_message_size(self._handle)
        self.capacity = lib.shmq_topic_capacity(self._handle)
        self.history = lib.shmq_topic_history(self._handle)

    def _checked(self, status: int, what: str) -> None:
        if status != Status.OK:
            if self._core.closed:
                raise ClosedError("the shmq client is closed")
            raise error_of(status, f"topic '{self.name}': {what}")

    def publish(self, data, timeout: "float | None" = None) -> None:
        """Publishes a copy of a bytes-like object to every subscriber."""
        self._core.check_open()
        buffer = ffi.from_buffer(data)
        status = wait_sliced(lambda ns: lib.shmq_topic_publish(self._handle, buffer, len(buffer), ns), timeout,
                             lambda: self._core.closed)
        self._checked(status, "publish")

    def loan(self, size: "int | None" = None, timeout: "float | None" = None) -> "Loan":
        """Claims the next slot of the ring, to be filled in place: use it as
        ``with topic.loan(n) as buffer: buffer[:] = ...``; the message (its
        first `size` bytes, default max_message_size) is published on leaving
        the block, and given up if the block raises."""
        self._core.check_open()
        size = self.max_message_size if size is None else size
        out = ffi.new("shmq_loan **")
        status = wait_sliced(lambda ns: lib.shmq_topic_loan(self._handle, size, out, ns), timeout,
                             lambda: self._core.closed)
        self._checked(status, "loan")
        return Loan(self, out[0], size)

    def __repr__(self) -> str:
        return f"<shmq.Topic {self.name!r} capacity={self.capacity} max_message_size={self.max_message_size}>"


class Loan:
    """A slot of a topic lent to this publisher: `data` is a writable
    memoryview over it in shared memory. publish() or cancel() ends the loan
    and releases `data` (using it afterwards raises ValueError). Subscribers
    wait at its position until then: fill it promptly."""

    def __init__(self, topic: Topic, handle, size: int):
        self._topic = topic
        self._handle = handle
        self._lock = threading.Lock()
        self._data = _memory.shared_memoryview(lib.shmq_loan_data(handle), size, topic._core, writable=True)

    @property
    def data(self) -> memoryview:
        if self._handle is None:
            raise ClosedError("the loan was published or cancelled")
        return self._data

    @property
    def capacity(self) -> int:
        """The most bytes the loan may publish: the topic's max_message_size."""
        return self._topic.max_message_size

    def resize(self, size: int) -> memoryview:
        """Changes how many bytes publish() sends; returns the new `data`
        (the previous memoryview is released)."""
        with self._lock:
            if self._handle is None:
                raise ClosedError("the loan was published or cancelled")
            check(lib.shmq_loan_resize(self._handle, size), f"topic '{self._topic.name}': loan resize")
            _memory.release(self._data, "the loan's memoryview")
            self._data = _memory.shared_memoryview(lib.shmq_loan_data(self._handle), size, self._topic._core,
                                                   writable=True)
            return self._data

    def _end(self):
        """Takes the handle, releasing `data` first (BufferError if exported)."""
        with self._lock:
            handle = self._handle
            if handle is None:
                raise ClosedError("the loan was published or cancelled")
            _memory.release(self._data, "the loan's memoryview")
            self._handle = None
            return handle

    def publish(self) -> None:
        """Publishes the loan's bytes. Never waits."""
        handle = self._end()
        self._topic._checked(lib.shmq_topic_publish_loan(self._topic._handle, handle), "publish loan")

    def cancel(self) -> None:
        """Gives the slot up unpublished; subscribers skip it. Idempotent."""
        try:
            handle = self._end()
        except ClosedError:
            return
        lib.shmq_loan_cancel(handle)

    def __enter__(self) -> memoryview:
        return self.data

    def __exit__(self, exception_type, exception, traceback) -> None:
        if exception_type is None:
            self.publish()
        else:
            self.cancel()

    def __del__(self):
        handle, self._handle = getattr(self, "_handle", None), None
        if handle is not None and lib is not None:
            lib.shmq_loan_cancel(handle)
