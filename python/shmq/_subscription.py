"""shmq.Subscription and shmq.View: receiving a topic, by copy or in place."""

import collections
import threading
import weakref

from . import _memory
from ._async import wait_in_thread
from ._errors import ClosedError, Status, TimeoutError, check, error_of
from ._native import ffi, lib
from ._waiting import wait_sliced


class Subscription:
    """One subscription to a topic: every message published after it began
    (and the history it asked for), in order. Use it from one thread at a
    time; views may be released from any thread.

    `timeout` is in seconds: None waits as long as it takes, and TimeoutError
    is raised when it passes. Iterating (``for``/``async for``) yields
    messages until the subscription ends.
    """

    def __init__(self, core, name: str, history: int = 0, timeout: "float | None" = None):
        out = ffi.new("shmq_subscription **")
        status = wait_sliced(lambda ns: lib.shmq_subscribe(core.pointer, name.encode(), history, ns, out), timeout,
                             lambda: core.closed)
        check(status, f"subscribe to topic '{name}'")
        self._core = core
        self._handle = out[0]
        self._lock = threading.Lock()  # held during each call into C, so unsubscribe never frees it under one
        self._closed = False
        self._views = weakref.WeakSet()
        self._pending = collections.deque()
        self.topic = name
        self.max_message_size = lib.shmq_subscription_max_message_size(self._handle)
        self._buffer = ffi.new("char[]", max(self.max_message_size, 1))
        self._size = ffi.new("size_t *")

    def _stop(self) -> bool:
        return self._closed or self._core.closed

    def _call(self, function, *arguments):
        with self._lock:
            if self._handle is None:
                raise ClosedError(f"the subscription to topic '{self.topic}' has ended")
            return function(self._handle, *arguments)

    def _wait(self, function, timeout, should_stop):
        status = wait_sliced(lambda ns: self._call(function, ns), timeout, should_stop)
        if status in (Status.TIMEOUT, Status.EMPTY):
            if self._stop():
                raise ClosedError(f"the subscription to topic '{self.topic}' has ended")
            return None
        if status != Status.OK:
            raise error_of(status, f"topic '{self.topic}'")
        return status

    def _take(self, timeout, should_stop) -> "bytes | None":
        if self._pending:
            return self._pending.popleft()
        received = self._wait(
            lambda handle, ns: lib.shmq_subscription_receive(handle, self._buffer, self.max_message_size,
                                                             self._size, ns),
            timeout, lambda: bool(self._pending) or (should_stop is not None and should_stop()))
        if received is None:
            # A cancelled receive_async may have handed its message back meanwhile.
            return self._pending.popleft() if self._pending else None
        return ffi.unpack(self._buffer, self._size[0])

    def receive(self, timeout: "float | None" = None) -> bytes:
        """A copy of the next message."""
        message = self._take(timeout, self._stop)
        if message is None:
            raise TimeoutError(f"topic '{self.topic}': no message within {timeout} s")
        return message

    def try_receive(self) -> "bytes | None":
        """A copy of the next message, or None at once when there is none."""
        return self._take(0, None)

    def receive_into(self, buffer, timeout: "float | None" = None) -> int:
        """Copies the next message into a writable bytes-like `buffer`;
        returns its size. BufferTooSmallError leaves it to be read again."""
        if self._pending:
            raise error_of(Status.INVALID_ARGUMENT, "receive_into after a cancelled receive_async: use receive()")
        target = ffi.from_buffer(buffer, require_writable=True)
        size = self._size
        if self._wait(lambda handle, ns: lib.shmq_subscription_receive(handle, target, len(target), size, ns),
                      timeout, self._stop) is None:
            raise TimeoutError(f"topic '{self.topic}': no message within {timeout} s")
        return size[0]

    def read(self, timeout: "float | None" = None) -> "View":
        """The next message in place, zero copy: a View whose `data` is a
        read-only memoryview into shared memory. Use it as ``with
        subscription.read() as data: ...`` or release() it: at most 4 views
        at once (TooManyViews), and a held view holds publishers up."""
        if self._pending:
            raise error_of(Status.INVALID_ARGUMENT, "read after a cancelled receive_async: use receive()")
        out = ffi.new("shmq_view **")
        if self._wait(lambda handle, ns: lib.shmq_subscription_read(handle, out, ns), timeout, self._stop) is None:
            raise TimeoutError(f"topic '{self.topic}': no message within {timeout} s")
        view = View(self, out[0])
        self._views.add(view)
        return view

    def try_read(self) -> "View | None":
        """read() without waiting: None when there is nothing new."""
        out = ffi.new("shmq_view **")
        if self._wait(lambda handle, ns: lib.shmq_subscription_read(handle, out, ns), 0, None) is None:
            return None
        view = View(self, out[0])
        self._views.add(view)
        return view

    @property
    def received(self) -> int:
        """Messages delivered so far."""
        return self._call(lib.shmq_subscription_received)

    @property
    def lost(self) -> int:
        """Messages lost under the topic's drop policy."""
        return self._call(lib.shmq_subscription_lost)

    @property
    def active(self) -> bool:
        return self._handle is not None and not self._core.closed

    def unsubscribe(self) -> None:
        """Ends the subscription now, releasing its views (their memoryviews
        then raise ValueError). Waits at most one wait slice for a call in
        progress in another thread. Idempotent."""
        self._closed = True
        for view in list(self._views):
            view._release(force=True)
        with self._lock:
            handle, self._handle = self._handle, None
        if handle is not None:
            lib.shmq_unsubscribe(handle)

    close = unsubscribe

    async def receive_async(self, timeout: "float | None" = None) -> bytes:
        """receive() for asyncio: waits in a worker thread, never blocking the
        event loop and never polling. Cancelling the await loses no message."""
        if self._pending:
            return self._pending.popleft()
        message = await wait_in_thread(lambda stop: self._take(timeout, lambda: stop() or self._stop()),
                                       self._pending.append)
        if message is None:
            raise TimeoutError(f"topic '{self.topic}': no message within {timeout} s")
        return message

    def __iter__(self):
        return self

    def __next__(self) -> bytes:
        try:
            return self.receive()
        except ClosedError:
            raise StopIteration from None

    def __aiter__(self):
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self.receive_async()
        except ClosedError:
            raise StopAsyncIteration from None

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exception) -> None:
        self.unsubscribe()

    def __del__(self):
        handle, self._handle = getattr(self, "_handle", None), None
        if handle is not None and lib is not None:
            lib.shmq_unsubscribe(handle)

    def __repr__(self) -> str:
        return f"<shmq.Subscription to {self.topic!r}{'' if self.active else ' (ended)'}>"


class View:
    """A message read in place: `data` is a read-only memoryview into shared
    memory, valid until release() (or the end of a ``with`` block, which
    gives `data`). After release, `data` and the memoryview handed out raise
    ValueError/ClosedError; nothing crashes."""

    def __init__(self, subscription: Subscription, handle):
        self._subscription = subscription
        self._handle = handle
        self._lock = threading.Lock()
        self._data = _memory.shared_memoryview(lib.shmq_view_data(handle), lib.shmq_view_size(handle),
                                               subscription._core, writable=False)

    @property
    def data(self) -> memoryview:
        if self._handle is None:
            raise ClosedError("the view was released")
        return self._data

    def __len__(self) -> int:
        return len(self.data)

    def tobytes(self) -> bytes:
        return self.data.tobytes()

    def _release(self, force: bool) -> None:
        with self._lock:
            handle = self._handle
            if handle is None:
                return
            try:
                _memory.release(self._data, "the view's memoryview")
            except BufferError:
                if not force:
                    raise
            self._handle = None
        lib.shmq_view_release(handle)

    def release(self) -> None:
        """Unpins the message; its memoryview is released with it. BufferError
        while something (e.g. a NumPy array) still exports the memoryview.
        Idempotent."""
        self._release(force=False)

    @property
    def released(self) -> bool:
        return self._handle is None

    def __enter__(self) -> memoryview:
        return self.data

    def __exit__(self, *exception) -> None:
        self.release()

    def __del__(self):
        handle, self._handle = getattr(self, "_handle", None), None
        if handle is not None and lib is not None:
            lib.shmq_view_release(handle)
