"""The transports compared, each as a pair of functions run in the producer
and the consumer process: prepare(done) sets the end up (attach, connect)
and returns the loop to time, so that setting up is not timed.

Every producer sends `count` messages taken in turn from `payloads` (a
power-of-two number of distinct messages, each starting with its index);
every consumer compares each message it receives, in full, with the one
that should come next: a message lost, duplicated, reordered or altered
stops the run. The consumer returns the seconds from the end of its
warm-up to its last message, and how many messages came in that time. A producer returns only once its consumer set
`done`: ZeroMQ drops the tail of an ipc:// socket closed right after
sending (docs/benchmarks.md), and waiting costs the others nothing.
"""

import multiprocessing
import time

BATCH = 256  # most messages in one shmq batch
BATCH_BYTES = 256 * 1024  # most payload bytes in one shmq batch
DEPTH = 4096  # messages a queue holds, for every transport that has a depth
DONE_TIMEOUT = 300  # seconds a producer waits for its consumer

context = multiprocessing.get_context("fork")


class Mismatch(Exception):
    pass


def batch_for(size):
    """Messages per shmq batch for payloads of `size` bytes: the largest
    power of two up to BATCH whose payloads fit in BATCH_BYTES (256 of 64 B,
    64 of 4 KiB). A call from Python costs about a microsecond, whatever it
    carries, so small messages need many a call; big batches of big messages
    only push the copies out of the caches (256 of 4 KiB ran at 0.6x the rate
    of 64; docs/benchmarks.md). A power of two divides the message count."""
    batch = BATCH
    while batch > 1 and batch * size > BATCH_BYTES:
        batch //= 2
    return batch


def send_each(send, count, payloads):
    mask = len(payloads) - 1
    for index in range(count):
        send(payloads[index & mask])


def receive_each(receive, count, payloads, warmup):
    """receive() `count` times, checking each message; the seconds after
    the warm-up, and the messages received in them."""
    mask = len(payloads) - 1
    for index in range(count):
        if index == warmup:
            began = time.perf_counter()
        if receive() != payloads[index & mask]:
            raise Mismatch(f"message {index} is not the one sent")
    return time.perf_counter() - began, count - warmup


def one_by_one(connect_producer, connect_consumer):
    """A transport whose ends send and receive one message per call:
    connect_*() returns (send or receive, close)."""

    def producer(done):
        send, close = connect_producer()

        def run(count, payloads, warmup):
            send_each(send, count, payloads)
            done.wait(DONE_TIMEOUT)
            close()
        return run

    def consumer(done):
        receive, close = connect_consumer()

        def run(count, payloads, warmup):
            timed = receive_each(receive, count, payloads, warmup)
            done.set()
            close()
            return timed
        return run

    return producer, consumer


def shmq_queue(broker, queue, wait):
    def connect():
        import shmq
        client = shmq.Client(broker, wait=wait)
        return client.queue(queue), client.close

    def producer():
        handle, close = connect()
        return handle.send, close

    def consumer():
        handle, close = connect()
        return handle.receive, close

    return one_by_one(producer, consumer)


def shmq_queue_in_batches(broker, queue, wait, pack, send, receive):
    """Batches of up to batch_for(size) messages: pack(messages) makes what
    send(handle, batch) sends, receive(handle, most) returns up to `most` as
    (bytes back to back, sizes). The consumer checks a batch at once: each
    message's size, and the batch's bytes against the stream sent."""

    def producer(done):
        import shmq
        client = shmq.Client(broker, wait=wait)
        handle = client.queue(queue)

        def run(count, payloads, warmup):
            batch = batch_for(len(payloads[0]))
            batches = [pack(payloads[start:start + batch]) for start in range(0, len(payloads), batch)]
            mask = len(batches) - 1
            for index in range(count // batch):
                send(handle, batches[index & mask])
            done.wait(DONE_TIMEOUT)
            client.close()
        return run

    def consumer(done):
        import shmq
        client = shmq.Client(broker, wait=wait)
        handle = client.queue(queue)

        def run(count, payloads, warmup):
            size, mask = len(payloads[0]), len(payloads) - 1
            most = batch_for(size)
            stream = b"".join(payloads) * 2  # any batch fits from any start
            received = 0
            began = None
            while received < count:
                if began is None and received >= warmup:
                    began, untimed = time.perf_counter(), received
                data, sizes = receive(handle, most)
                start = (received & mask) * size
                if sizes.count(size) != len(sizes) or data != stream[start:start + len(data)]:
                    raise Mismatch(f"messages {received}-{received + len(sizes) - 1} are not the ones sent")
                received += len(sizes)
            if received != count:
                raise Mismatch(f"{received} messages received, {count} sent")
            timed = time.perf_counter() - began, count - untimed
            done.set()
            client.close()
            return timed
        return run

    return producer, consumer


def shmq_queue_batched(broker, queue, wait):
    """send_batch and receive_batch: a bytes object per message."""

    def receive(handle, most):
        batch = handle.receive_batch(most)
        return b"".join(batch), list(map(len, batch))

    return shmq_queue_in_batches(broker, queue, wait, list, lambda handle, batch: handle.send_batch(batch), receive)


def shmq_queue_packed(broker, queue, wait):
    """send_packed and receive_packed: the messages of a batch back to back
    in one bytes object with their sizes, no Python object per message on
    either side."""
    return shmq_queue_in_batches(broker, queue, wait, lambda messages: (b"".join(messages), list(map(len, messages))),
                                 lambda handle, batch: handle.send_packed(*batch),
                                 lambda handle, most: handle.receive_packed(most)[:2])


def mp_queue():
    channel = context.Queue(maxsize=DEPTH)
    return one_by_one(lambda: (channel.put, channel.close), lambda: (channel.get, channel.close))


def mp_pipe():
    receiving, sending = context.Pipe(duplex=False)
    return one_by_one(lambda: (sending.send_bytes, sending.close), lambda: (receiving.recv_bytes, receiving.close))


def zmq_push_pull(directory):
    # A fresh path per run: a producer could connect to the stale socket file
    # of the previous run's consumer and never reach the new one.
    address = f"ipc://{directory}/bench-{time.monotonic_ns()}.ipc"

    def end(kind, attach):
        import zmq
        zmq_context = zmq.Context()
        socket = zmq_context.socket(kind)
        socket.setsockopt(zmq.SNDHWM, DEPTH)
        socket.setsockopt(zmq.RCVHWM, DEPTH)
        attach(socket)

        def close():
            socket.close(linger=0)  # the producer closes only after its consumer had every message
            zmq_context.term()
        return socket, close

    def producer():
        import zmq
        socket, close = end(zmq.PUSH, lambda socket: socket.connect(address))
        return socket.send, close

    def consumer():
        import zmq
        socket, close = end(zmq.PULL, lambda socket: socket.bind(address))
        return socket.recv, close

    return one_by_one(producer, consumer)
