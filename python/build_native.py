"""Builds shmq._native_api: libshmq's C API through cffi's API mode.

A compiled module calls into libshmq for less than cffi's ABI mode does
(see docs/benchmarks.md, "Python"), and in Python the call is much of what
a message costs. Used by setup.py (pip install ./python) and by CMake (the
module the tests use); both compile the C source emitted here and link it
with libshmq.

Usage: build_native.py OUTPUT.c    writes the module's C source
"""

import sys
from pathlib import Path

from cffi import FFI

_here = Path(__file__).resolve().parent
MODULE = "shmq._native_api"
INCLUDE_DIR = _here.parent / "client" / "include"


def _load_declarations():
    # By path: importing the shmq package would load libshmq, which the
    # build may not have yet.
    import importlib.util

    spec = importlib.util.spec_from_file_location("_shmq_declarations", _here / "shmq" / "_declarations.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.declarations((INCLUDE_DIR / "shmq" / "shmq.h").read_text())


def builder() -> FFI:
    ffi = FFI()
    ffi.cdef(_load_declarations())
    ffi.set_source(MODULE, "#include <shmq/shmq.h>", include_dirs=[str(INCLUDE_DIR)])
    return ffi


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__.strip().splitlines()[-1])
    builder().emit_c_code(sys.argv[1])


if __name__ == "__main__":
    main()
