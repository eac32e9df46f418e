"""Awaiting a blocking wait without blocking the event loop or busy-waiting.

The wait runs in the loop's default executor (a worker thread, with the GIL
released while it sleeps in shared memory), in slices (see _waiting): when the
awaiting task is cancelled, the worker notices within one slice and ends. A
message the worker took just as the task was cancelled is not lost: `rescue`
hands it back to its handle, which returns it from its next receive.
"""

import asyncio
import threading


async def wait_in_thread(blocking, rescue, executor=None):
    """Runs blocking(should_stop) in a worker thread of `executor` (None:
    the loop's default) and returns its result."""
    loop = asyncio.get_running_loop()
    stop = threading.Event()
    future = loop.run_in_executor(executor, blocking, stop.is_set)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        stop.set()

        def hand_back(done):
            if not done.cancelled() and done.exception() is None and done.result() is not None:
                rescue(done.result())

        future.add_done_callback(hand_back)
        raise
