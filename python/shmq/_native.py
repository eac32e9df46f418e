"""libshmq's C API (shmq/shmq.h) for the rest of the package: `ffi` and `lib`.

Two ways to reach it, the same declarations (see _declarations):
- the compiled module shmq._native_api (cffi's API mode, built with the
  package by setup.py, or by CMake for the tests and the benchmark): a call
  costs less than through the ABI mode (a no-op call, measured once: 93
  against 266 ns; see docs/benchmarks.md), and in Python the call is much of
  what a message costs;
- cffi's ABI mode (dlopen at import), when the module was not built or when
  SHMQ_LIBRARY names another libshmq to load.
`compiled` says which one this process uses.
"""

import importlib
import os
from pathlib import Path

from ._declarations import declarations, header_path


def _abi_mode():
    from cffi import FFI

    library = os.environ.get("SHMQ_LIBRARY")
    if not library:
        packaged = Path(__file__).resolve().parent / "libshmq.so.0"
        # Installed by the Debian package python3-shmq: the system's libshmq0.
        library = str(packaged) if packaged.is_file() else "libshmq.so.0"
    abi_ffi = FFI()
    abi_ffi.cdef(declarations(header_path().read_text()))
    try:
        return abi_ffi, abi_ffi.dlopen(library)
    except OSError as error:
        raise ImportError(
            f"shmq: cannot load {library} ({error}): install libshmq0 or the package (pip install ./python), "
            "or set SHMQ_LIBRARY to the path of a built libshmq.so"
        ) from error


def _compiled_module():
    """shmq._native_api, or None when it was not built or SHMQ_LIBRARY asks
    for another library. A module that is there but fails to load (e.g. its
    libshmq is missing) raises: falling back would hide a broken install."""
    if os.environ.get("SHMQ_LIBRARY"):
        return None
    # import_module, not `from . import`: inside the package's own import,
    # the latter reports a missing module as a plain ImportError, which
    # cannot be told apart from a module that is there but broken.
    try:
        return importlib.import_module(__package__ + "._native_api")
    except ModuleNotFoundError as missing:
        if missing.name != __package__ + "._native_api":
            raise
        return None


_module = _compiled_module()
if _module is not None:
    ffi, lib, compiled = _module.ffi, _module.lib, True
else:
    (ffi, lib), compiled = _abi_mode(), False
