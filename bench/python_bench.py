#!/usr/bin/env python3
"""Python transports compared: messages per second from one Python process
to another, at 64 B and 4 KiB, for shmq (one message per call, and batches)
against multiprocessing.Queue, multiprocessing.Pipe and pyzmq ipc:// PUSH/PULL;
and the time of a zero-copy read of a 4 MiB topic message against a 64 B one.

Started by bench/run.sh after the C++ comparison; it starts its own shmqd.
Usage: python_bench.py --build BUILD_DIR [--output FILE.md] [--messages N]
"""

import argparse
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
SIZES = (64, 4096)
BATCH = 64
STUCK = 300  # seconds after which a transport counts as failed
CONFIG = """\
broker:
  name: {name}
queues:
  - name: bench
    capacity: 4096
    max_message_size: 4KiB
topics:
  - name: small
    capacity: 64
    max_message_size: 64
  - name: large
    capacity: 4
    max_message_size: 4MiB
"""
context = multiprocessing.get_context("fork")


# ---- one producer, one consumer per transport. Each side is a function
# that prepares (attaches, connects) and returns the loop to time, so that
# setting up is not timed.

def shmq_queue(broker, batched):
    def open_queue():
        import shmq
        return shmq.Client(broker).queue("bench")

    def producer():
        queue = open_queue()

        def run(count, message):
            if batched:
                batch = [message] * BATCH
                for _ in range(count // BATCH):
                    queue.send_batch(batch)
            else:
                for _ in range(count):
                    queue.send(message)
        return run

    def consumer():
        queue = open_queue()

        def run(count):
            received = 0
            while received < count:
                if batched:
                    received += len(queue.receive_batch(BATCH))
                else:
                    queue.receive()
                    received += 1
        return run

    return producer, consumer


def mp_queue():
    channel = context.Queue(maxsize=4096)

    def producer():
        def run(count, message):
            for _ in range(count):
                channel.put(message)
        return run

    def consumer():
        def run(count):
            for _ in range(count):
                channel.get()
        return run

    return producer, consumer


def mp_pipe():
    receiving, sending = context.Pipe(duplex=False)

    def producer():
        def run(count, message):
            for _ in range(count):
                sending.send_bytes(message)
        return run

    def consumer():
        def run(count):
            for _ in range(count):
                receiving.recv_bytes()
        return run

    return producer, consumer


def zmq_push_pull(directory):
    # A fresh path per run: a producer could connect to the stale socket file
    # of the previous run's consumer and never reach the new one.
    address = f"ipc://{directory}/bench-{time.monotonic_ns()}.ipc"

    def producer():
        import zmq
        context = zmq.Context()
        socket = context.socket(zmq.PUSH)
        socket.connect(address)

        def run(count, message):
            for _ in range(count):
                socket.send(message)
            # A multiprocessing child ends with os._exit: without term() the
            # messages still queued in zmq's I/O thread would be lost.
            socket.close(linger=-1)
            context.term()
        return run

    def consumer():
        import zmq
        socket = zmq.Context.instance().socket(zmq.PULL)
        socket.bind(address)

        def run(count):
            for _ in range(count):
                socket.recv()
        return run

    return producer, consumer


def _run(prepare, ready, start, *arguments):
    run = prepare()
    ready.set()
    start.wait()
    run(*arguments)


def messages_per_second(transport, count, size):
    """Starts the consumer and the producer, releases them together once
    both are set up, and times until the consumer has them all."""
    producer, consumer = transport
    message = bytes(size)
    ready = [context.Event(), context.Event()]
    start = context.Event()
    receiving = context.Process(target=_run, args=(consumer, ready[0], start, count))
    sending = context.Process(target=_run, args=(producer, ready[1], start, count, message))
    # The consumer first, so that a zmq producer connects to a bound socket.
    receiving.start()
    ready[0].wait(60)
    sending.start()
    ready[1].wait(60)
    time.sleep(0.2)  # a zmq connect completes
    began = time.perf_counter()
    start.set()
    receiving.join(STUCK)
    elapsed = time.perf_counter() - began
    sending.join(STUCK)
    for process in (receiving, sending):
        if process.is_alive():
            process.kill()
            process.join()
    if receiving.exitcode != 0 or sending.exitcode != 0:
        raise RuntimeError(f"a benchmark process failed or was stuck for {STUCK} s")
    return count / elapsed


def _publish(broker, topic, count, ready, start):
    import shmq
    publisher = shmq.Client(broker).topic(topic)
    ready.set()
    start.wait()
    for _ in range(count):
        with publisher.loan() as buffer:
            buffer[0] = 1  # zero copy: the message is written in place, only touched here


def zero_copy_read_seconds(broker, topic, count):
    """Seconds per message a subscriber spends on read() + touching the
    first and last byte + release, while another process publishes loans."""
    import shmq
    subscription = shmq.Client(broker).subscribe(topic)
    ready, start = context.Event(), context.Event()
    publisher = context.Process(target=_publish, args=(broker, topic, count, ready, start))
    publisher.start()
    ready.wait(60)
    began = time.perf_counter()
    start.set()
    for _ in range(count):
        with subscription.read() as data:
            data[0], data[-1]
    elapsed = time.perf_counter() - began
    publisher.join(60)
    subscription.unsubscribe()
    return elapsed / count


def start_broker(build, directory):
    name = f"python-bench-{os.getpid()}"
    config = Path(directory) / "shmqd.yaml"
    config.write_text(CONFIG.format(name=name))
    broker = subprocess.Popen([str(build / "daemon" / "shmqd"), "--config", str(config)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import shmq
    deadline = time.monotonic() + 30
    while True:
        try:
            shmq.Client(name).close()
            return name, broker
        except shmq.NotFoundError:
            if time.monotonic() > deadline or broker.poll() is not None:
                raise SystemExit("python_bench: shmqd did not start")
            time.sleep(0.05)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, default=REPOSITORY / "build-bench")
    parser.add_argument("--output", type=Path)
    parser.add_argument("--messages", type=int, default=200_000)
    options = parser.parse_args()
    # Stopped (e.g. by timeout): still stop the broker, in the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("python_bench: terminated"))
    count = options.messages // BATCH * BATCH
    os.environ.setdefault("SHMQ_LIBRARY", str(options.build / "client" / "libshmq.so"))
    sys.path.insert(0, str(REPOSITORY / "python"))
    try:
        import zmq  # noqa: F401
        have_zmq = True
    except ImportError:
        have_zmq = False

    lines = []
    with tempfile.TemporaryDirectory(prefix="shmq-python-bench-") as directory:
        broker_name, broker = start_broker(options.build, directory)
        try:
            transports = {
                "shmq queue": lambda: shmq_queue(broker_name, batched=False),
                f"shmq queue, batches of {BATCH}": lambda: shmq_queue(broker_name, batched=True),
                "multiprocessing.Queue": mp_queue,
                "multiprocessing.Pipe": mp_pipe,
            }
            if have_zmq:
                transports["pyzmq ipc PUSH/PULL"] = lambda: zmq_push_pull(directory)
            rates = {}
            for size in SIZES:
                for transport, make in transports.items():
                    try:
                        rates[transport, size] = messages_per_second(make(), count, size)
                    except RuntimeError as error:
                        print(f"python_bench: {transport} at {size} B: {error}", file=sys.stderr)
                        rates[transport, size] = float("nan")
            lines += [f"Python, one process to another, {count} messages (messages per second):", "",
                      "| transport | " + " | ".join(f"{size} B" for size in SIZES) + " |",
                      "|---|" + "---:|" * len(SIZES)]
            for transport in transports:
                lines.append(f"| {transport} | " + " | ".join(f"{rates[transport, size]:,.0f}" for size in SIZES)
                             + " |")
            peers = [name for name in transports if not name.startswith("shmq")]
            best = max(peers, key=lambda name: rates[name, 64] if rates[name, 64] == rates[name, 64] else 0)
            ratio = rates["shmq queue", 64] / rates[best, 64]
            lines += ["", f"shmq queue at 64 B: {ratio:.1f}x the best peer ({best}); target: at least 5x"
                      + ("" if have_zmq else " (pyzmq not installed: python3-zmq)")]
            reads = max(count // 20, 100)
            small = zero_copy_read_seconds(broker_name, "small", reads)
            large = zero_copy_read_seconds(broker_name, "large", reads)
            lines += [f"zero-copy read: 64 B {small * 1e6:.1f} µs, 4 MiB {large * 1e6:.1f} µs per message: "
                      f"{large / small:.1f}x; target: at most 2x"]
        finally:
            broker.send_signal(signal.SIGTERM)
            broker.wait(30)
    text = "\n".join(lines) + "\n"
    print(text)
    if options.output:
        options.output.write_text(text)


if __name__ == "__main__":
    main()
