"""shmq.Error and its subclasses: one per failure status of the C API."""

import enum

from ._native import ffi, lib


class Status(enum.IntEnum):
    """Every outcome of a call, one for one with shmq_status in shmq/shmq.h."""

    OK = 0
    EMPTY = 1
    QUEUE_FULL = 2
    TIMEOUT = 3
    MESSAGE_TOO_LARGE = 4
    BUFFER_TOO_SMALL = 5
    QUEUE_NOT_FOUND = 6
    BROKER_NOT_FOUND = 7
    BROKER_STOPPED = 8
    VERSION_MISMATCH = 9
    PERMISSION_DENIED = 10
    TOO_MANY_CLIENTS = 11
    CORRUPT_SEGMENT = 12
    QUEUE_QUARANTINED = 13
    INVALID_ARGUMENT = 14
    NOT_ACKNOWLEDGEABLE = 15
    SYSTEM_ERROR = 16
    TOPIC_NOT_FOUND = 17
    TOO_MANY_SUBSCRIBERS = 18
    TOO_MANY_VIEWS = 19
    UNTRUSTED_SEGMENT = 20
    FOREIGN_PID_NAMESPACE = 21
    SEGMENT_FROM_EARLIER_BOOT = 22
    CLIENT_RECLAIMED = 23
    QUEUE_REMOVED = 24
    EXCLUSIVE_HELD = 25

    @property
    def text(self) -> str:
        """One sentence saying what the status means."""
        return ffi.string(lib.shmq_status_text(int(self))).decode()


class Error(Exception):
    """A shmq call failed; `status` says how, the message says what."""

    status = Status.SYSTEM_ERROR

    def __init__(self, message: str = "", status: "Status | None" = None):
        if status is not None:
            self.status = Status(status)
        super().__init__(message or self.status.text)


class EmptyError(Error):
    status = Status.EMPTY


class QueueFullError(Error):
    status = Status.QUEUE_FULL


class TimeoutError(Error):  # noqa: A001 - shmq.TimeoutError, as asyncio.TimeoutError
    status = Status.TIMEOUT


class MessageTooLargeError(Error):
    status = Status.MESSAGE_TOO_LARGE


class BufferTooSmallError(Error):
    status = Status.BUFFER_TOO_SMALL


class NotFoundError(Error):
    """No queue, topic or broker of that name."""


class BrokerStoppedError(Error):
    status = Status.BROKER_STOPPED


class NotAcknowledgeableError(Error):
    status = Status.NOT_ACKNOWLEDGEABLE


class QueueRemovedError(Error):
    """A reload removed the queue or topic: it takes nothing more, and a
    receive raises this once what it held was received."""

    status = Status.QUEUE_REMOVED


class ExclusiveHeldError(Error):
    """The queue admits a single producer (or consumer), and another
    client is it: retry once that client detaches or dies."""

    status = Status.EXCLUSIVE_HELD


class ClosedError(Error):
    """The handle (or its client) was closed, or the view or loan released."""

    status = Status.INVALID_ARGUMENT


_by_status = {
    Status.EMPTY: EmptyError,
    Status.QUEUE_FULL: QueueFullError,
    Status.TIMEOUT: TimeoutError,
    Status.MESSAGE_TOO_LARGE: MessageTooLargeError,
    Status.BUFFER_TOO_SMALL: BufferTooSmallError,
    Status.QUEUE_NOT_FOUND: NotFoundError,
    Status.TOPIC_NOT_FOUND: NotFoundError,
    Status.BROKER_NOT_FOUND: NotFoundError,
    Status.BROKER_STOPPED: BrokerStoppedError,
    Status.NOT_ACKNOWLEDGEABLE: NotAcknowledgeableError,
    Status.QUEUE_REMOVED: QueueRemovedError,
    Status.EXCLUSIVE_HELD: ExclusiveHeldError,
}


def error_of(status: int, context: str = "") -> Error:
    """The exception for a failure status, its message prefixed by context."""
    status = Status(status)
    message = status.text if not context else f"{context}: {status.text}"
    return _by_status.get(status, Error)(message, status)


def check(status: int, context: str = "") -> None:
    """Raises the Error of a status that is not OK."""
    if status != Status.OK:
        raise error_of(status, context)
