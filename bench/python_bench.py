#!/usr/bin/env python3
"""Python transports compared: messages per second from one Python process
to another, at 64 B and 4 KiB, for shmq (one message per call, and batches)
against multiprocessing.Queue, multiprocessing.Pipe and pyzmq ipc:// PUSH/PULL;
and the time of a zero-copy read of a 4 MiB topic message against a 64 B one.

Started by bench/run.sh after the C++ comparison; it starts its own shmqd.
Usage: python_bench.py --build BUILD_DIR [--output FILE.md] [--messages N] [--rounds N]
"""

import argparse
import itertools
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


def check(data, message):
    """Every consumer checks every message it receives, the same way."""
    if data != message:
        raise SystemExit(f"python_bench: received {len(data)} bytes that are not the {len(message)} sent")


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

        def run(count, message):
            if batched:
                received = 0
                while received < count:
                    batch = queue.receive_batch(BATCH)
                    for data in batch:
                        check(data, message)
                    received += len(batch)
            else:
                for _ in range(count):
                    check(queue.receive(), message)
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
        def run(count, message):
            for _ in range(count):
                check(channel.get(), message)
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
        def run(count, message):
            for _ in range(count):
                check(receiving.recv_bytes(), message)
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

        def run(count, message):
            for _ in range(count):
                check(socket.recv(), message)
        return run

    return producer, consumer


def _run(prepare, ready, start, cpu, *arguments):
    run = prepare()
    ready.set()
    start.wait()
    began = time.process_time()  # every thread of the process: zmq's I/O thread too
    run(*arguments)
    cpu.value = time.process_time() - began


def messages_per_second(transport, count, size):
    """Starts the consumer and the producer, releases them together once
    both are set up, and times until the consumer has them all. Returns
    the messages per second, and the CPU time both processes spent per
    message (µs): on a machine shared with other work, the rate says as
    much about the other work as about the transport, the CPU time less."""
    producer, consumer = transport
    message = (bytes(range(256)) * (size // 256 + 1))[:size]
    ready = [context.Event(), context.Event()]
    start = context.Event()
    cpu = [context.Value("d", 0.0), context.Value("d", 0.0)]
    receiving = context.Process(target=_run, args=(consumer, ready[0], start, cpu[0], count, message))
    sending = context.Process(target=_run, args=(producer, ready[1], start, cpu[1], count, message))
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
    return count / elapsed, (cpu[0].value + cpu[1].value) / count * 1e6


def _publish_rounds(broker, topic, rounds, per_round, published, consumed):
    import shmq
    publisher = shmq.Client(broker).topic(topic)
    for _ in range(rounds):
        for _ in range(per_round):
            with publisher.loan() as buffer:
                buffer[0] = 1  # zero copy: the message is written in place, only touched here
        published.set()
        consumed.wait(60)
        consumed.clear()


def zero_copy_read_seconds(broker, topic, count):
    """Seconds per message a subscriber spends on read() + touching the
    first and last byte + release, for messages another process published
    with loans. The process publishes a round of as many messages as the
    topic holds, then waits: only reads of messages already there are timed,
    not the wait for the publisher (which would time the publisher)."""
    import shmq
    client = shmq.Client(broker)
    subscription = client.subscribe(topic)
    per_round = client.topic(topic).capacity
    rounds = max(count // per_round, 1)
    published, consumed = context.Event(), context.Event()
    publisher = context.Process(target=_publish_rounds,
                                args=(broker, topic, rounds, per_round, published, consumed))
    publisher.start()
    elapsed = 0.0
    for _ in range(rounds):
        if not published.wait(STUCK):
            raise RuntimeError(f"the publisher of topic {topic} was stuck for {STUCK} s")
        published.clear()
        began = time.perf_counter()
        for _ in range(per_round):
            with subscription.read() as data:
                data[0], data[-1]
        elapsed += time.perf_counter() - began
        consumed.set()
    publisher.join(60)
    subscription.unsubscribe()
    return elapsed / (rounds * per_round)


def call_floor_ns(build, calls=1_000_000):
    """Nanoseconds per call, in this process, of what every message pays at
    least once per side: a Python method call that does nothing, and a C
    function that does nothing (shmq_version) through the compiled module
    and through cffi's ABI mode. The best of 3 runs."""
    from cffi import FFI

    from shmq._native import compiled, lib

    abi = FFI()
    abi.cdef("const char* shmq_version(void);")
    abi_lib = abi.dlopen(str(build / "client" / "libshmq.so"))

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


def per_message_ns(broker, rounds=50):
    """Nanoseconds per message, in this process (no other process, no
    waiting), of each side of shmq's per-message path at 64 B: the
    package's Queue.send/receive, and the bare C calls they make through
    cffi (try_send; try_receive + the copy into bytes). The best of
    `rounds` rounds of filling the queue and draining it."""
    import shmq
    from shmq._native import ffi, lib

    queue = shmq.Client(broker).queue("bench")
    handle, capacity, message = queue._handle, queue.capacity, bytes(64)
    buffer, size, delivery = ffi.new("char[]", queue.max_message_size), ffi.new("size_t *"), ffi.new("uint64_t *")

    def c_send():
        for _ in range(capacity):
            lib.shmq_queue_try_send(handle, message, 64)

    def c_receive():
        for _ in range(capacity):
            lib.shmq_queue_try_receive(handle, buffer, 4096, size, delivery)
            ffi.unpack(buffer, size[0])

    def py_send():
        for _ in range(capacity):
            queue.send(message)

    def py_receive():
        for _ in range(capacity):
            queue.receive()

    best = {}
    for _ in range(rounds):
        for name, fill, drain in (("C call", c_send, c_receive), ("shmq.Queue", py_send, py_receive)):
            for side, run in (("send", fill), ("receive", drain)):
                began = time.perf_counter()
                run()
                elapsed = (time.perf_counter() - began) / capacity * 1e9
                best[f"{name} {side}"] = min(best.get(f"{name} {side}", elapsed), elapsed)
    return best


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
    parser.add_argument("--rounds", type=int, default=3, help="runs of every transport (the best is kept)")
    options = parser.parse_args()
    # Stopped (e.g. by timeout): still stop the broker, in the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("python_bench: terminated"))
    count = options.messages // BATCH * BATCH
    # The package from the source tree, with the build's compiled module
    # (python/CMakeLists.txt), else cffi's ABI mode over the build's libshmq.
    sys.path[:0] = [str(REPOSITORY / "python"), str(options.build / "python")]
    if not list((options.build / "python" / "shmq").glob("_native_api*.so")):
        os.environ.setdefault("SHMQ_LIBRARY", str(options.build / "client" / "libshmq.so"))
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
            # Every transport once per round, the rounds one after the other:
            # a burst of load from elsewhere then hurts one round of each, not
            # every run of one transport. The best round of each is kept.
            rates, cpu = {}, {}
            for _ in range(options.rounds):
                for size in SIZES:
                    for transport, make in transports.items():
                        try:
                            rate, seconds = messages_per_second(make(), count, size)
                        except RuntimeError as error:
                            print(f"python_bench: {transport} at {size} B: {error}", file=sys.stderr)
                            continue
                        rates[transport, size] = max(rates.get((transport, size), 0.0), rate)
                        cpu[transport, size] = min(cpu.get((transport, size), float("inf")), seconds)
            for key in itertools.product(transports, SIZES):
                rates.setdefault(key, float("nan"))
                cpu.setdefault(key, float("nan"))
            lines += [f"Python, one process to another, {count} messages, each checked by the consumer; "
                      f"the best of {options.rounds} rounds:", "",
                      "| transport | " + " | ".join(f"{size} B: msg/s | CPU µs/msg" for size in SIZES) + " |",
                      "|---|" + "---:|---:|" * len(SIZES)]
            for transport in transports:
                lines.append(f"| {transport} | " + " | ".join(
                    f"{rates[transport, size]:,.0f} | {cpu[transport, size]:.2f}" for size in SIZES) + " |")
            lines += ["", "CPU µs/msg: the CPU time of both processes (all their threads) per message."]
            import shmq

            peers = [name for name in transports if not name.startswith("shmq")]
            lines += ["", "shmq against the best peer at each size (target at 64 B: at least 5x"
                      + ("" if have_zmq else "; pyzmq not installed: python3-zmq") + "):", ""]
            for size in SIZES:
                best = max(peers, key=lambda name: rates[name, size] if rates[name, size] == rates[name, size] else 0)
                for transport in transports:
                    if transport.startswith("shmq"):
                        lines.append(f"- {size} B, {transport}: {rates[transport, size] / rates[best, size]:.1f}x "
                                     f"{best}")
            mode = "the compiled module (cffi API mode)" if shmq._native.compiled else "cffi's ABI mode"
            lines += ["", f"shmq's package reached libshmq through {mode}. Per-call floors in this process "
                      "(ns per call, best of 3):", ""]
            lines += [f"- {what}: {ns:.0f}" for what, ns in call_floor_ns(options.build).items()]
            lines += ["", "Each side of a 64 B message in this process alone (ns per message, best of 50 rounds):", ""]
            lines += [f"- {what}: {ns:.0f}" for what, ns in per_message_ns(broker_name).items()]
            reads = max(count // 20, 100)
            small = zero_copy_read_seconds(broker_name, "small", reads)
            large = zero_copy_read_seconds(broker_name, "large", reads)
            lines += ["", f"zero-copy read: 64 B {small * 1e6:.1f} µs, 4 MiB {large * 1e6:.1f} µs per message: "
                      f"{large / small:.1f}x; target: at most 2x"]
            lines += ["", f"Load average at the end: {', '.join(f'{load:.1f}' for load in os.getloadavg())} "
                      f"on {os.cpu_count()} CPUs"]
        finally:
            broker.send_signal(signal.SIGTERM)
            broker.wait(30)
    text = "\n".join(lines) + "\n"
    print(text)
    if options.output:
        options.output.write_text(text)


if __name__ == "__main__":
    main()
