#!/usr/bin/env python3
"""The Python comparison: messages per second from one Python process to
another, 64 B and 4 KiB, shmq's Python package (queues) against
multiprocessing.Queue, multiprocessing.Pipe and pyzmq ipc:// PUSH/PULL; and
the zero-copy read of a 4 MiB topic message against a 64 B one.

Run by bench/run.sh after the C++ driver, whose results.md and results.json
it adds to; alone: python3 bench/python/bench.py --build BUILD_DIR (with
shmqd and shmq_python_native built there). It starts its own shmqd and uses
the package as a user would: the source tree's python/ with the build's
compiled module (as tests/python/CMakeLists.txt sets them up).
"""

import argparse
import importlib.util
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cffi

import call_costs
import measure
import report
import transports
import zero_copy

REPOSITORY = Path(__file__).resolve().parents[2]
SIZES = (64, 4096)
LARGE = 4 << 20
WAIT = "spin_then_block"  # shmq's default wait strategy, the one a user gets
TARGET_RATIO = 5.0  # shmq at least 5x the best peer at 64 B
TARGET_FLAT = 2.0  # a 4 MiB zero-copy read at most 2x a 64 B one
DISTURBED_SHARE = 0.05  # as the C++ driver: a run in which others took more of the CPUs is disturbed
# A queue per payload size, its max_message_size the payload's, as the C++
# driver sizes its queues (and as a user would size one for such messages): a
# slot holds max_message_size, so 64 B messages in a 4 KiB queue would each
# sit on a page of their own (docs/benchmarks.md, "Python").
QUEUE = """\
  - name: {name}
    capacity: {depth}
    max_message_size: {size}
"""
# The same queue declared for one producer and one consumer, as a user whose
# queue has one process at each end would declare it: the claim then writes
# the slot once (docs/benchmarks.md, "Single producer, single consumer").
SINGLE_QUEUE = QUEUE + """\
    producers: single
    consumers: single
"""
CONFIG = """\
broker:
  name: {name}
queues:
{queues}topics:
  - name: small
    capacity: 64
    max_message_size: 64
  - name: large
    capacity: 4
    max_message_size: 4MiB
"""


def queue_for(size, single=False):
    return f"bench-{size}" + ("-single" if single else "")


def start_broker(build, directory):
    name = f"python-bench-{os.getpid()}"
    config = Path(directory) / "shmqd.yaml"
    queues = "".join(template.format(name=queue_for(size, single), depth=transports.DEPTH, size=size)
                     for size in SIZES for template, single in ((QUEUE, False), (SINGLE_QUEUE, True)))
    config.write_text(CONFIG.format(name=name, queues=queues))
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
                broker.kill()
                raise SystemExit("python bench: shmqd did not start")
            time.sleep(0.05)


def configurations(broker, directory, have_zmq):
    """(transport, mode, is shmq, factory of the transport's two ends for a payload size)."""
    found = [
        ("shmq", WAIT, True, lambda size: transports.shmq_queue(broker, queue_for(size), WAIT)),
        ("shmq", f"{WAIT}+batch", True, lambda size: transports.shmq_queue_batched(broker, queue_for(size), WAIT)),
        ("shmq", f"{WAIT}+packed", True, lambda size: transports.shmq_queue_packed(broker, queue_for(size), WAIT)),
        ("shmq", f"{WAIT}+single", True, lambda size: transports.shmq_queue(broker, queue_for(size, True), WAIT)),
        ("shmq", f"{WAIT}+packed+single", True,
         lambda size: transports.shmq_queue_packed(broker, queue_for(size, True), WAIT)),
        ("multiprocessing.Queue", "blocking", False, lambda size: transports.mp_queue()),
        ("multiprocessing.Pipe", "blocking", False, lambda size: transports.mp_pipe()),
    ]
    if have_zmq:
        found.append(("pyzmq", "ipc push/pull", False, lambda size: transports.zmq_push_pull(directory)))
    return found


def record(scenario, transport, mode, size, metric, unit, values, others=()):
    """A results.json record, as the C++ driver writes them. Only verified
    runs have figures: a run whose consumer found a message missing or
    altered fails instead."""
    return {"scenario": scenario, "transport": transport, "mode": mode, "topology": "1x1", "payload_bytes": size,
            "metric": metric, "unit": unit, "depth": transports.DEPTH if scenario == "python_throughput" else 0,
            "verified": True, **report.summary(values), "others_cpu_share": list(others),
            "disturbed_repeats": sum(share > DISTURBED_SHARE for share in others)}


def measure_throughput(configs, count, repeats):
    """Every configuration once per repeat, the repeats one after the other:
    a burst of load from elsewhere hurts one repeat of many figures, not
    every repeat of one. Returns {(transport, mode, size): [(rate, cpu, others)]}
    and the failures."""
    runs, failed = {}, []
    for _ in range(repeats):
        for size in SIZES:
            for transport, mode, _, make in configs:
                try:
                    runs.setdefault((transport, mode, size), []).append(measure.run_pair(make(size), count, size))
                except measure.RunFailed as error:
                    print(f"python bench: {transport} {mode} at {size} B: {error}", file=sys.stderr)
                    failed.append({"scenario": "python_throughput", "transport": transport, "mode": mode,
                                   "topology": "1x1", "payload_bytes": size, "reason": str(error)})
    return runs, failed


def throughput_targets(configs, runs):
    """shmq's rate over the best peer's, within each repeat, per shmq mode and size."""
    peers = [(transport, mode) for transport, mode, is_shmq, _ in configs if not is_shmq]
    ratios = {}
    for transport, mode, is_shmq, _ in configs:
        for size in SIZES if is_shmq else ():
            mine = runs.get((transport, mode, size), [])
            within = []
            for repeat, (rate, cpu, _) in enumerate(mine):
                rivals = [runs[peer + (size,)][repeat][:2] + (peer,) for peer in peers
                          if len(runs.get(peer + (size,), [])) > repeat]
                if rivals:
                    best, best_cpu, best_peer = max(rivals)
                    within.append((rate / best, rate, best, best_peer, best_cpu / cpu))
            if within:
                within.sort()
                ratios[mode, size] = within[len(within) // 2]  # the median repeat's ratio
    targets = []
    peer_names = ", ".join(f"{transport}" + (f" {mode}" if transport == "pyzmq" else "") for transport, mode in peers)
    batch = transports.batch_for(64)
    for mode, label in ((WAIT, "one message per call"), (f"{WAIT}+batch", f"batches of {batch}"),
                        (f"{WAIT}+packed", f"packed batches of {batch}, no object per message"),
                        (f"{WAIT}+single", "one message per call, producers: single, consumers: single"),
                        (f"{WAIT}+packed+single", f"packed batches of {batch}, producers: single, "
                                                  "consumers: single")):
        name = (f"Python 64 B msg/s, shmq queue {WAIT} ({label}) >= {TARGET_RATIO:.0f}x the best of {peer_names}")
        if (mode, 64) not in ratios:
            targets.append({"target": name, "measured": "not measured", "available": False, "met": False})
            continue
        ratio, rate, best, (peer, _), cpu_ratio = ratios[mode, 64]
        measured = f"{report.ratio_text(ratio)} (shmq {report.number(rate)} msg/s vs {peer} {report.number(best)})"
        if ratio < TARGET_RATIO:
            measured += f": short by {(1 - ratio / TARGET_RATIO) * 100:.0f}%"
        # On a loaded machine the rate is the share of the CPUs the scheduler
        # gave; the CPU time per message is the transport's own cost.
        measured += f"; {peer} took {report.ratio_text(cpu_ratio)} shmq's CPU time per message"
        targets.append({"target": name, "measured": measured, "available": True, "met": ratio >= TARGET_RATIO})
    return ratios, targets


def measure_zero_copy(broker, reads, repeats):
    """Per repeat, the µs of a 64 B and of a 4 MiB zero-copy read."""
    small, large = [], []
    for _ in range(repeats):
        small.append(zero_copy.read_seconds(broker, "small", reads) * 1e6)
        large.append(zero_copy.read_seconds(broker, "large", reads) * 1e6)
    ratios = sorted(big / tiny for tiny, big in zip(small, large))
    ratio = ratios[len(ratios) // 2]
    target = {"target": f"Python zero-copy read (Subscription.read()) of a 4 MiB topic message "
                        f"<= {TARGET_FLAT:.0f}x the time of a 64 B one",
              "measured": f"{report.number(statistics.median(large))} µs / "
                          f"{report.number(statistics.median(small))} µs = {report.ratio_text(ratio)} "
                          "(median of the ratios within each repeat)",
              "available": True, "met": ratio <= TARGET_FLAT}
    return small, large, target


def section(configs, runs, ratios, small, large, floors, per_message, count, repeats):
    """results.md's Python section."""
    import shmq
    mode = "its compiled module, cffi's API mode" if shmq._native.compiled else "cffi's ABI mode"
    versions = f"Python {platform.python_version()}, cffi {cffi.__version__}"
    if importlib.util.find_spec("zmq"):
        import zmq
        versions += f", pyzmq {zmq.pyzmq_version()} (libzmq {zmq.zmq_version()})"
    batches = ", ".join(f"{transports.batch_for(size)} at {size} B" for size in SIZES)
    lines = [report.SECTION, "",
             f"Run {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}: {versions}.", "",
             f"`bench/python/bench.py`: {count} messages from one Python process (pinned to CPU 0) to another "
             f"(CPU 1), {repeats} repeat(s) of each, interleaved. The consumer compares every message in full "
             "with the one due next (each of 256 distinct payloads starts with its index): nothing lost, "
             f"duplicated, reordered or altered. msg/s counts from the end of the consumer's warm-up "
             f"({measure.warmup(count)} messages) to its last; CPU µs/msg is the CPU time of both processes, every thread, per "
             f"message. Depth {transports.DEPTH} messages where there is one (a pipe holds what its 64 KiB "
             f"buffer holds). shmq: a queue per payload size, its max_message_size the payload's; queues through the Python package ({mode}), wait strategy {WAIT}, one "
             f"`send`/`receive` per message, `send_batch`/`receive_batch` (a bytes object per message) or "
             f"`send_packed`/`receive_packed` (one bytes object and a list of sizes per batch) of up to "
             f"{batches} messages a call (transports.batch_for); `+single`: the same on a second queue per size declared "
             "`producers: single`, `consumers: single`; pyzmq: "
             "PUSH/PULL over ipc://, the producer closing only once its consumer had every message. "
             "Medians (min–max); \"x best\" is shmq's rate over the best peer's in the same repeat (median "
             "over the repeats).", "",
             "| transport | mode | " + " | ".join(f"{size} B msg/s | CPU µs/msg | x best" for size in SIZES) + " |",
             "|---|---|" + "---:|---:|---:|" * len(SIZES)]
    others = []
    for transport, config_mode, is_shmq, _ in configs:
        cells = []
        for size in SIZES:
            found = runs.get((transport, config_mode, size))
            if not found:
                cells += ["failed", "", ""]
                continue
            others += [share for _, _, share in found]
            rate = report.summary([rate for rate, _, _ in found])
            cpu = statistics.median([cpu for _, cpu, _ in found])
            ratio = ratios.get((config_mode, size)) if is_shmq else None
            cells += [report.figure_text(rate), f"{cpu:.2f}", report.ratio_text(ratio[0]) if ratio else ""]
        lines.append(f"| {transport} | {config_mode} | " + " | ".join(cells) + " |")
    lines += ["", f"Other processes took {max(others, default=0) * 100:.0f}% of the CPUs at most during a run "
                  f"(median {statistics.median(others or [0]) * 100:.0f}%); load average at the end "
                  f"{', '.join(f'{load:.1f}' for load in os.getloadavg())} on {os.cpu_count()} CPUs.", "",
              "Zero-copy read (`Subscription.read()`, first and last byte, release) of a message another process "
              f"published with a loan, only reads of messages already there timed: 64 B "
              f"{report.figure_text(report.summary(small))} µs, "
              f"4 MiB {report.figure_text(report.summary(large))} µs."]
    if floors:
        lines += ["", "Per-call floors in this process (ns per call, best of 3): "
                  + "; ".join(f"{what} {ns:.0f}" for what, ns in floors.items()) + ".",
                  "", "Each side of a 64 B message in this process alone, no waiting (ns per message, best of 50 "
                  "rounds): " + "; ".join(f"{what} {ns:.0f}" for what, ns in per_message.items()) + "."]
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, default=REPOSITORY / "build-bench", help="the build tree")
    parser.add_argument("--output-dir", type=Path, default=REPOSITORY / "bench" / "results",
                        help="where results.md and results.json are (or are made)")
    parser.add_argument("--quick", action="store_true", help="a smoke test: few messages, one repeat")
    parser.add_argument("--messages", type=int, help="messages per run (default 200000, 2000 with --quick)")
    parser.add_argument("--repeats", type=int, help="repeats of every run (default 3, 1 with --quick)")
    options = parser.parse_args()
    count = options.messages or (2000 if options.quick else 200_000)
    count = max(count // transports.BATCH, 10) * transports.BATCH  # every batch_for() divides it
    repeats = options.repeats or (1 if options.quick else 3)
    # Stopped (e.g. by timeout): still stop the broker, in the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("python bench: terminated"))
    # The package from the source tree, with the build's compiled module
    # (python/CMakeLists.txt), else cffi's ABI mode over the build's libshmq.
    sys.path[:0] = [str(REPOSITORY / "python"), str(options.build / "python")]
    if not list((options.build / "python" / "shmq").glob("_native_api*.so")):
        os.environ.setdefault("SHMQ_LIBRARY", str(options.build / "client" / "libshmq.so"))
    have_zmq = importlib.util.find_spec("zmq") is not None
    if not have_zmq:
        print("python bench: pyzmq is missing (apt-get install python3-zmq): compared without it", file=sys.stderr)

    options.output_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="shmq-python-bench-") as directory:
        broker, daemon = start_broker(options.build, directory)
        try:
            configs = configurations(broker, directory, have_zmq)
            runs, failed = measure_throughput(configs, count, repeats)
            ratios, targets = throughput_targets(configs, runs)
            small, large, flat = measure_zero_copy(broker, 64 if options.quick else 4096, repeats)
            targets.append(flat)
            floors, per_message = {}, {}
            if not options.quick:
                floors = call_costs.call_floor_ns(options.build / "client" / "libshmq.so")
                per_message = call_costs.per_message_ns(broker, queue_for(64))
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(30)

    records = []
    for transport, mode, _, _ in configs:
        for size in SIZES:
            found = runs.get((transport, mode, size))
            if found:
                others = [share for _, _, share in found]
                records.append(record("python_throughput", transport, mode, size, "msg_per_s", "msg/s",
                                      [rate for rate, _, _ in found], others))
                records.append(record("python_throughput", transport, mode, size, "cpu_us_per_msg", "us",
                                      [cpu for _, cpu, _ in found], others))
    for size, values in ((64, small), (LARGE, large)):
        records.append(record("python_zero_copy_read", "shmq", f"topic/{WAIT}+zero_copy", size, "read_us", "us",
                              values))
    settings = {"messages": count, "repeats": repeats, "quick": options.quick, "wait": WAIT,
                "batch": {str(size): transports.batch_for(size) for size in SIZES}, "depth": transports.DEPTH, "pyzmq": have_zmq}
    skipped = [] if have_zmq else [{"scenario": "python_throughput", "transport": "pyzmq", "mode": "ipc push/pull",
                                    "topology": "1x1", "payload_bytes": size, "reason": "python3-zmq is not installed"}
                                   for size in SIZES]
    report.merge_json(options.output_dir / "results.json", records, targets, failed, skipped, settings)
    lines = section(configs, runs, ratios, small, large, floors, per_message, count, repeats)
    report.merge_markdown(options.output_dir / "results.md", targets, lines)
    print("\n".join(report.target_rows(targets) + [""] + lines))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
