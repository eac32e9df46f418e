"""A real shmqd per test, started from the build tree (or $SHMQD) with a
configuration written here, and stopped with SIGTERM afterwards."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

_repository = Path(__file__).resolve().parents[2]
_build = Path(os.environ.get("SHMQ_BUILD_DIR", _repository / "build"))
SHMQD = os.environ.get("SHMQD", str(_build / "daemon" / "shmqd"))
SHMQ_CLI = os.environ.get("SHMQ_CLI", str(_build / "cli" / "shmq"))
# The build's libshmq, for the ABI mode (test_native).
ABI_LIBRARY = os.environ.get("SHMQ_ABI_LIBRARY", str(_build / "client" / "libshmq.so"))
# SHMQ_TEST_INSTALLED=1 tests the installed package (pip install ./python)
# instead of the source tree with the build's compiled module (or, when the
# build has none, the build's libshmq through the ABI mode).
if not os.environ.get("SHMQ_TEST_INSTALLED"):
    sys.path.insert(0, str(_repository / "python"))
    if list((_build / "python" / "shmq").glob("_native_api*.so")):
        sys.path.insert(1, str(_build / "python"))
    elif "SHMQ_LIBRARY" not in os.environ and Path(ABI_LIBRARY).exists():
        os.environ["SHMQ_LIBRARY"] = ABI_LIBRARY

import shmq  # noqa: E402

CONFIG = """\
broker:
  name: {name}
queues:
  - name: work
    capacity: 256
    max_message_size: 4KiB
  - name: jobs
    capacity: 16
    max_message_size: 256
    delivery: at_least_once
    ack_timeout_ms: 300
  - name: ticks
    capacity: 16
    max_message_size: 64
    producers: single
    consumers: single
topics:
  - name: prices
    capacity: 64
    max_message_size: 256
    history: 4
  - name: frames
    capacity: 4
    max_message_size: 4MiB
"""

READY_WITHIN = 30.0  # seconds: generous, the machine may be busy


@pytest.fixture
def broker(tmp_path):
    """The name of a running broker with the queues and topics of CONFIG."""
    name = f"py-test-{os.getpid()}-{time.monotonic_ns() % 10**9}"
    config = tmp_path / "shmqd.yaml"
    config.write_text(CONFIG.format(name=name))
    log = open(tmp_path / "shmqd.log", "wb")
    process = subprocess.Popen([SHMQD, "--config", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + READY_WITHIN
        while True:
            if process.poll() is not None:
                pytest.fail("shmqd exited early: " + (tmp_path / "shmqd.log").read_text())
            try:
                shmq.Client(name).close()
                break
            except shmq.NotFoundError:
                if time.monotonic() > deadline:
                    pytest.fail("shmqd was not ready in time: " + (tmp_path / "shmqd.log").read_text())
                time.sleep(0.05)
        yield name
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(READY_WITHIN)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def client(broker):
    with shmq.Client(broker, program="pytest") as attached:
        yield attached
