"""The two ways the package reaches libshmq (shmq/_native.py): the compiled
module, and cffi's ABI mode; messages pass between processes using each."""

import os
import subprocess
import sys
import textwrap
import time

import pytest

import shmq
from conftest import ABI_LIBRARY

LIMIT = 60.0  # seconds: generous, the machine may be busy


@pytest.mark.skipif(not os.environ.get("SHMQ_TEST_EXPECT_COMPILED"),
                    reason="SHMQ_TEST_EXPECT_COMPILED is set where the compiled module was built (ctest)")
def test_the_compiled_module_is_the_one_in_use():
    assert shmq._native.compiled


ABI_PROCESS = textwrap.dedent("""
    import sys
    import shmq
    client = shmq.Client(sys.argv[1])
    client.queue("work").send(b"from the ABI mode, compiled=%d" % shmq._native.compiled)
    jobs = client.queue("jobs")
    reply = jobs.receive(timeout=60)
    jobs.acknowledge(reply)
    print(reply.decode(), flush=True)
""")


def test_the_abi_mode_exchanges_messages_with_this_process(client, broker):
    work = client.queue("work")
    environment = dict(os.environ, SHMQ_LIBRARY=ABI_LIBRARY, PYTHONPATH=os.pathsep.join(sys.path))
    child = subprocess.Popen([sys.executable, "-c", ABI_PROCESS, broker], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=environment)
    try:
        deadline = time.monotonic() + LIMIT
        while (message := work.try_receive()) is None and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        if message is not None:
            client.queue("jobs").send(b"and back")
        output, errors = child.communicate(timeout=LIMIT)
    finally:
        child.kill()
    assert child.returncode == 0, errors
    assert message == b"from the ABI mode, compiled=0"
    assert output == b"and back\n"
