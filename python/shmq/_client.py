"""shmq.Client: one attachment to a broker."""

import weakref

from ._errors import ClosedError, check
from ._native import ffi, lib


class _Core:
    """Owns the C client. It detaches once nothing refers to it any more: no
    handle, and no memoryview over the segment (see _memory)."""

    def __init__(self, pointer):
        self.pointer = pointer
        self.closed = False

    def check_open(self) -> None:
        if self.closed:
            raise ClosedError("the shmq client is closed")

    def __del__(self):
        pointer, self.pointer = self.pointer, None
        if pointer is not None and lib is not None:
            lib.shmq_detach(pointer)


_WAIT_STRATEGIES = {"block": 0, "spin_then_block": 1, "busy_poll": 2}


class Client:
    """A process's attachment to a shmq broker (shmqd).

    Thread-safe: one Client and its Queue and Topic handles may be used from
    any number of threads, except that a queue configured `producers: single`
    (`consumers: single`) is leased to the first thread that sends (receives)
    on it, until the client record is given back: other threads get
    ExclusiveHeldError. (A Queue's receive_async waits on one worker thread
    of its own, so its awaits keep the lease.) close() (or leaving a ``with`` block) makes every
    handle of the client unusable (ClosedError); the broker's client record
    is given back as soon as no handle and no memoryview of it is left.
    """

    def __init__(
        self,
        broker: "str | None" = None,
        *,
        broker_owner: "str | None" = None,
        program: "str | None" = None,
        wait: str = "spin_then_block",
        spin_us: int = 50,
    ):
        if wait not in _WAIT_STRATEGIES:
            raise ValueError(f"wait must be one of {', '.join(_WAIT_STRATEGIES)}, not {wait!r}")
        options = ffi.new("shmq_attach_options *")
        lib.shmq_attach_options_init(options)
        keep = []  # the strings must live until shmq_attach returns
        for field, value in (("broker", broker), ("broker_owner", broker_owner), ("program", program)):
            if value:
                keep.append(ffi.new("char[]", value.encode()))
                setattr(options, field, keep[-1])
        options.wait = _WAIT_STRATEGIES[wait]
        options.spin_us = spin_us
        out = ffi.new("shmq_client **")
        error = ffi.new("char[]", 512)
        status = lib.shmq_attach(options, out, error, 512)
        check(status, ffi.string(error).decode(errors="replace"))
        self._core = _Core(out[0])
        self._subscriptions = weakref.WeakSet()

    @property
    def broker_name(self) -> str:
        """The broker's segment name (or persistent file) this client uses."""
        self._core.check_open()
        return ffi.string(lib.shmq_client_broker_name(self._core.pointer)).decode()

    def queue(self, name: str) -> "Queue":
        """A handle on queue `name`; NotFoundError if the broker has none."""
        from ._queue import Queue

        self._core.check_open()
        return Queue(self._core, name)

    def topic(self, name: str) -> "Topic":
        """A handle for publishing to topic `name`."""
        from ._topic import Topic

        self._core.check_open()
        return Topic(self._core, name)

    def subscribe(self, name: str, history: int = 0, timeout: "float | None" = None) -> "Subscription":
        """Subscribes to topic `name`: every message published from now on,
        after the latest `history` ones the topic still holds."""
        from ._subscription import Subscription

        self._core.check_open()
        subscription = Subscription(self._core, name, history, timeout)
        self._subscriptions.add(subscription)
        return subscription

    def stats(self) -> dict:
        """A snapshot of the broker, as `shmq stats` shows it, as plain dicts."""
        from ._stats import take_stats

        self._core.check_open()
        return take_stats(self._core.pointer)

    def close(self) -> None:
        """Ends every subscription of this client and makes its handles
        unusable. Idempotent."""
        core = self._core
        if core.closed:
            return
        core.closed = True
        for subscription in list(self._subscriptions):
            subscription.unsubscribe()

    @property
    def closed(self) -> bool:
        return self._core.closed

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exception) -> None:
        self.close()
