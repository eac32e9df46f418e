"""Where a Python message's time goes, in the benchmark's own process: what
every message pays at least once per side (a Python method call, a C call
through cffi), and each side of shmq's per-message path at 64 B with no
other process and no waiting. Explains the ratios; not a target."""

import time

from transports import batch_for

BATCH = batch_for(64)  # the benchmark's batches of 64 B messages


def call_floor_ns(libshmq, calls=1_000_000):
    """Nanoseconds per call of a Python method that does nothing and of a C
    function that does nothing (shmq_version) through the compiled module
    and through cffi's ABI mode. The best of 3 runs."""
    from cffi import FFI

    from shmq._native import compiled, lib

    abi = FFI()
    abi.cdef("const char* shmq_version(void);")
    abi_lib = abi.dlopen(str(libshmq))

    class Handle:
        def method(self):
            pass

    def timed(function):
        best = float("inf")
        for _ in range(3):
            began = time.perf_counter()
            for _ in range(calls):
                function()
            best = min(best, time.perf_counter() - began)
        return best / calls * 1e9

    floors = {"Python method call": timed(Handle().method), "C call, cffi ABI mode": timed(abi_lib.shmq_version)}
    if compiled:
        floors["C call, compiled module (API mode)"] = timed(lib.shmq_version)
    return floors


def per_message_ns(broker, queue_name, rounds=50):
    """Nanoseconds per message of Queue.send and Queue.receive, of the bare
    C calls they make (try_send; try_receive + the copy into bytes), of
    send_batch and receive_batch, of send_packed and receive_packed and of
    the bare C calls these two make (what is left is the binding's share): the
    best of `rounds` rounds of filling the queue and draining it."""
    import shmq
    from shmq._native import ffi, lib

    client = shmq.Client(broker)
    queue = client.queue(queue_name)
    handle, capacity, message = queue._handle, queue.capacity, bytes(64)
    buffer, size, delivery = ffi.new("char[]", queue.max_message_size), ffi.new("size_t *"), ffi.new("uint64_t *")

    def c_send():
        for _ in range(capacity):
            lib.shmq_queue_try_send(handle, message, 64)

    def c_receive():
        for _ in range(capacity):
            lib.shmq_queue_try_receive(handle, buffer, queue.max_message_size, size, delivery)
            ffi.unpack(buffer, size[0])

    def py_send():
        for _ in range(capacity):
            queue.send(message)

    def py_receive():
        for _ in range(capacity):
            queue.receive()

    batch = [message] * BATCH

    def py_send_batch():
        for _ in range(capacity // BATCH):
            queue.send_batch(batch)

    def py_receive_batch():
        for _ in range(capacity // BATCH):
            queue.receive_batch(BATCH)

    packed, sizes = message * BATCH, [len(message)] * BATCH
    lengths, sent = ffi.new("size_t[]", sizes), ffi.new("size_t *")
    received_sizes, received, total = ffi.new("size_t[]", BATCH), ffi.new("size_t *"), ffi.new("size_t *")
    batch_buffer = ffi.new("char[]", BATCH * queue.max_message_size)

    def c_send_packed():
        for _ in range(capacity // BATCH):
            lib.shmq_queue_send_packed_checked(handle, packed, len(packed), lengths, BATCH, sent, 0)

    def c_receive_packed():
        for _ in range(capacity // BATCH):
            lib.shmq_queue_receive_packed_total(handle, batch_buffer, len(batch_buffer), received_sizes, ffi.NULL,
                                                BATCH, received, total, 0)

    def py_send_packed():
        for _ in range(capacity // BATCH):
            queue.send_packed(packed, sizes)

    def py_receive_packed():
        for _ in range(capacity // BATCH):
            queue.receive_packed(BATCH)

    best = {}
    for _ in range(rounds):
        for name, fill, drain in (("C call", c_send, c_receive), ("shmq.Queue", py_send, py_receive),
                                  (f"shmq.Queue, batches of {BATCH},", py_send_batch, py_receive_batch),
                                  (f"C call, packed batches of {BATCH},", c_send_packed, c_receive_packed),
                                  (f"shmq.Queue, packed batches of {BATCH},", py_send_packed, py_receive_packed)):
            for side, run in (("send", fill), ("receive", drain)):
                began = time.perf_counter()
                run()
                elapsed = (time.perf_counter() - began) / capacity * 1e9
                best[f"{name} {side}"] = min(best.get(f"{name} {side}", elapsed), elapsed)
    client.close()
    return best
