# Type hints of the shmq package (the implementation is in the _*.py modules).
import enum
from collections.abc import AsyncIterator, Iterable, Iterator
from types import TracebackType
from typing import NamedTuple, TypedDict


__version__: str

_BytesLike = bytes | bytearray | memoryview

# What Client.stats() returns, plain dicts (docs/operations.md describes each
# member); the names exist for type checkers only.
class _QueueStats(TypedDict):
    name: str
    capacity: int
    max_message_size: int
    overflow: str
    delivery: str
    quarantined: bool
    quarantine_reason: str  # "" when not quarantined
    depth: int
    enqueued: int
    dequeued: int
    rejected: int
    dropped: int
    abandoned: int
    lost_in_read: int
    redelivered: int
    dead_lettered: int
    producers: int
    consumers: int
    producers_sharing: str  # "many", or "single": one thread of one client at a time may send
    consumers_sharing: str  # the same for receiving
    producer_lease_pid: int  # of a single side: the pid of the client holding it; 0 while nobody does
    consumer_lease_pid: int
    read_only: bool  # this process is among the access group's readers
    removed: bool  # a reload removed it: it takes no more messages

class _SubscriberStats(TypedDict):
    record: int
    client_record: int
    pid: int
    program: str
    lag: int
    received: int
    lost: int
    views: int

class _TopicStats(TypedDict):
    name: str
    capacity: int
    max_message_size: int
    history: int
    max_subscribers: int
    slow_subscriber: str
    quarantined: bool
    quarantine_reason: str
    published: int
    abandoned: int
    dropped: int
    subscriptions: int
    publishers: int
    read_only: bool
    removed: bool
    subscribers: list[_SubscriberStats]

class _ClientInfo(TypedDict):
    record: int
    pid: int
    program: str
    attached_ms: int

class _BrokerStats(TypedDict):
    broker: str
    broker_pid: int
    broker_alive: bool
    broker_epoch: int
    segment_size: int
    queues: list[_QueueStats]
    topics: list[_TopicStats]
    clients: list[_ClientInfo]

class Status(enum.IntEnum):
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
    def text(self) -> str: ...

class Error(Exception):
    status: Status
    def __init__(self, message: str = ..., status: Status | int | None = ...) -> None: ...

class EmptyError(Error): ...
class QueueFullError(Error): ...
class TimeoutError(Error): ...
class MessageTooLargeError(Error): ...
class BufferTooSmallError(Error): ...
class NotFoundError(Error): ...
class BrokerStoppedError(Error): ...
class NotAcknowledgeableError(Error): ...
class QueueRemovedError(Error): ...
class ExclusiveHeldError(Error): ...
class ClosedError(Error): ...

class Message(bytes):
    delivery: int
    def __new__(cls, data: bytes, delivery: int) -> Message: ...

class Packed(NamedTuple):
    data: bytes
    sizes: list[int]
    deliveries: list[int]

class Received(int):
    delivery: int
    def __new__(cls, size: int, delivery: int) -> Received: ...

class Client:
    def __init__(
        self,
        broker: str | None = ...,
        *,
        broker_owner: str | None = ...,
        program: str | None = ...,
        wait: str = ...,
        spin_us: int = ...,
    ) -> None: ...
    @property
    def broker_name(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    def queue(self, name: str) -> Queue: ...
    def topic(self, name: str) -> Topic: ...
    def subscribe(self, name: str, history: int = ..., timeout: float | None = ...) -> Subscription: ...
    def stats(self) -> _BrokerStats: ...
    def close(self) -> None: ...
    def __enter__(self) -> Client: ...
    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None: ...

class Queue:
    name: str
    capacity: int
    max_message_size: int
    at_least_once: bool
    def send(self, data: _BytesLike, timeout: float | None = ...) -> None: ...
    def try_send(self, data: _BytesLike) -> bool: ...
    def send_batch(self, messages: Iterable[_BytesLike], timeout: float | None = ...) -> int: ...
    def send_packed(self, data: _BytesLike, sizes: Iterable[int], timeout: float | None = ...) -> int: ...
    def receive(self, timeout: float | None = ...) -> bytes: ...
    def try_receive(self) -> bytes | None: ...
    def receive_into(self, buffer: bytearray | memoryview, timeout: float | None = ...) -> int: ...
    def receive_batch(self, max_count: int = ..., timeout: float | None = ...) -> list[bytes]: ...
    def receive_packed(self, max_count: int = ..., timeout: float | None = ...) -> Packed: ...
    def acknowledge(self, delivery: Message | Received | int) -> None: ...
    def acknowledge_batch(self, deliveries: Iterable[Message | Received | int]) -> int: ...
    async def receive_async(self, timeout: float | None = ...) -> bytes: ...

class Topic:
    name: str
    capacity: int
    max_message_size: int
    history: int
    def publish(self, data: _BytesLike, timeout: float | None = ...) -> None: ...
    def loan(self, size: int | None = ..., timeout: float | None = ...) -> Loan: ...

class Loan:
    @property
    def data(self) -> memoryview: ...
    @property
    def capacity(self) -> int: ...
    def resize(self, size: int) -> memoryview: ...
    def publish(self) -> None: ...
    def cancel(self) -> None: ...
    def __enter__(self) -> memoryview: ...
    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None: ...

class View:
    @property
    def data(self) -> memoryview: ...
    @property
    def released(self) -> bool: ...
    def __len__(self) -> int: ...
    def tobytes(self) -> bytes: ...
    def release(self) -> None: ...
    def __enter__(self) -> memoryview: ...
    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None: ...

class Subscription:
    topic: str
    max_message_size: int
    @property
    def received(self) -> int: ...
    @property
    def lost(self) -> int: ...
    @property
    def active(self) -> bool: ...
    def receive(self, timeout: float | None = ...) -> bytes: ...
    def try_receive(self) -> bytes | None: ...
    def receive_into(self, buffer: bytearray | memoryview, timeout: float | None = ...) -> int: ...
    def read(self, timeout: float | None = ...) -> View: ...
    def try_read(self) -> View | None: ...
    def unsubscribe(self) -> None: ...
    def close(self) -> None: ...
    async def receive_async(self, timeout: float | None = ...) -> bytes: ...
    def __iter__(self) -> Iterator[bytes]: ...
    def __next__(self) -> bytes: ...
    def __aiter__(self) -> AsyncIterator[bytes]: ...
    async def __anext__(self) -> bytes: ...
    def __enter__(self) -> Subscription: ...
    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None: ...
