"""Waiting in slices, so that Python stays responsive during a blocking call.

cffi releases the GIL around every C call, so other threads run while one
waits. A wait longer than SLICE is cut into calls of at most SLICE: between
two of them the interpreter runs its signal handlers (Ctrl-C raises
KeyboardInterrupt within SLICE + the call's own return, well under 100 ms)
and the caller may notice it should stop (a closed handle, a cancelled
asyncio task).
"""

import time

from ._errors import Status

SLICE = 0.05  # seconds
_SLICE_NS = int(SLICE * 1e9)


def wait_sliced(call, timeout, should_stop=None):
    """Calls call(timeout_ns) until it returns something other than TIMEOUT,
    or `timeout` seconds have passed (None: wait forever; 0: one try).
    should_stop() (if given) is asked between slices: when true, the wait
    ends with TIMEOUT."""
    if timeout is not None and timeout <= 0:
        return call(0)
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        if deadline is None:
            slice_ns = _SLICE_NS
        else:
            slice_ns = min(_SLICE_NS, max(0, int((deadline - time.monotonic()) * 1e9)))
        status = call(slice_ns)
        if status != Status.TIMEOUT:
            return status
        if deadline is not None and time.monotonic() >= deadline:
            return status
        if should_stop is not None and should_stop():
            return status
