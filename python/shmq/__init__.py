"""shmq for Python: queues and topics of a shmq broker (shmqd) in shared memory.

    import shmq
    with shmq.Client("shmq") as client:
        orders = client.queue("orders")
        orders.send(b"hello")
        print(orders.receive(timeout=1.0))

Built on libshmq's C API (shmq/shmq.h) through cffi; see python/README.md.
"""

import pkgutil

# A CMake build puts the compiled module shmq._native_api in its own
# python/shmq/: with that python/ on sys.path, it is part of this package.
__path__ = pkgutil.extend_path(__path__, __name__)

from ._client import Client
from ._errors import (
    BrokerStoppedError,
    BufferTooSmallError,
    ClosedError,
    EmptyError,
    Error,
    ExclusiveHeldError,
    MessageTooLargeError,
    NotAcknowledgeableError,
    NotFoundError,
    QueueFullError,
    QueueRemovedError,
    Status,
    TimeoutError,
)
from ._native import ffi as _ffi
from ._native import lib as _lib
from ._queue import Message, Packed, Queue, Received
from ._subscription import Subscription, View
from ._topic import Loan, Topic

__version__ = _ffi.string(_lib.shmq_version()).decode()

__all__ = [
    "BrokerStoppedError", "BufferTooSmallError", "Client", "ClosedError", "EmptyError", "Error", "ExclusiveHeldError", "Loan",
    "Message", "MessageTooLargeError", "NotAcknowledgeableError", "NotFoundError", "Packed", "Queue", "QueueFullError",
    "QueueRemovedError", "Received", "Status", "Subscription", "TimeoutError", "Topic", "View",
]
