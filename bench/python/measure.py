"""One run: a producer and a consumer process, pinned to CPUs as the C++
driver pins them (producers to CPU 0, consumers to CPU 1), released together
once both are set up; the rate counts the consumer's messages after its
warm-up. Each process also reports its CPU time (every thread: zmq's I/O
thread too), and the parent how much of the CPUs other processes took."""

import os
import time

from transports import context

STUCK = 300  # seconds after which a run counts as failed


class RunFailed(Exception):
    pass


def payloads(size, distinct=256):
    """`distinct` different messages of `size` bytes, each starting with its index."""
    pattern = bytes(range(256)) * (size // 256 + 1)
    return [(index.to_bytes(8, "little") + pattern)[:size] for index in range(distinct)]


def warmup(count):
    """Messages a consumer receives before its clock starts."""
    return min(1000, count // 10)


def pin(cpu):
    """Runs this process on `cpu` when the machine has it to give."""
    if cpu in os.sched_getaffinity(0):
        os.sched_setaffinity(0, {cpu})


def _child(prepare, cpu, ready, start, done, result, count, messages, warmup):
    pin(cpu)
    run = prepare(done)
    ready.set()
    start.wait()
    began = time.process_time()
    timed = run(count, messages, warmup)  # a consumer's (seconds, messages)
    result[0] = time.process_time() - began
    if timed:
        result[1], result[2] = timed


def busy_jiffies():
    """CPU time every process took since boot (/proc/stat), in jiffies,
    steal (the hypervisor's) left out."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    return user + nice + system + irq + softirq


def run_pair(transport, count, size):
    """Returns msg/s, CPU µs per message (both processes) and the share of
    the CPUs others took; RunFailed when a side failed or was stuck."""
    producer, consumer = transport
    messages = payloads(size)
    ready = [context.Event(), context.Event()]
    start, done = context.Event(), context.Event()
    results = [context.Array("d", 3), context.Array("d", 3)]
    receiving = context.Process(target=_child, args=(consumer, 1, ready[0], start, done, results[0], count,
                                                     messages, warmup(count)))
    sending = context.Process(target=_child, args=(producer, 0, ready[1], start, done, results[1], count,
                                                   messages, warmup(count)))
    # The consumer first, so that a zmq producer connects to a bound socket.
    receiving.start()
    ready[0].wait(60)
    sending.start()
    ready[1].wait(60)
    jiffies, began = busy_jiffies(), time.perf_counter()
    start.set()
    receiving.join(STUCK)
    sending.join(STUCK)
    elapsed = time.perf_counter() - began
    others_jiffies = busy_jiffies() - jiffies
    for process in (receiving, sending):
        if process.is_alive():
            process.kill()
            process.join()
    if receiving.exitcode != 0 or sending.exitcode != 0:
        raise RunFailed(f"the consumer exited with {receiving.exitcode}, the producer with {sending.exitcode}"
                        f" (stuck for {STUCK} s, or a message was not the one sent)")
    ours = results[0][0] + results[1][0]
    others = max(0.0, others_jiffies / os.sysconf("SC_CLK_TCK") - ours) / (elapsed * os.cpu_count())
    return results[0][2] / results[0][1], ours / count * 1e6, min(others, 1.0)
