"""Loads libshmq and declares its C API (shmq/shmq.h) to cffi.

The declarations are read from the header itself, so they cannot drift from
the library: comments and preprocessor lines are stripped, which leaves plain
C declarations that cffi's ABI mode understands.
"""

import os
import re
from pathlib import Path

from cffi import FFI

_here = Path(__file__).resolve().parent
_source_tree = _here.parent.parent  # python/shmq -> the repository


def _header_text() -> str:
    for candidate in (_here / "shmq.h", _source_tree / "client" / "include" / "shmq" / "shmq.h"):
        if candidate.is_file():
            return candidate.read_text()
    raise ImportError("shmq: shmq.h not found next to the package nor in the source tree")


def _declarations(header: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", header, flags=re.S)
    text = re.sub(r"#ifdef __cplusplus.*?#endif", "", text, flags=re.S)
    # The export macro (shmq/export.h) is the library's business, not cffi's.
    text = re.sub(r"\bSHMQ_API\s+", "", text)
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def _library_path() -> str:
    explicit = os.environ.get("SHMQ_LIBRARY")
    if explicit:
        return explicit
    packaged = _here / "libshmq.so.0"
    if packaged.is_file():
        return str(packaged)
    # Installed by the Debian package python3-shmq: the system's libshmq0.
    return "libshmq.so.0"


def _load():
    path = _library_path()
    try:
        return ffi.dlopen(path)
    except OSError as error:
        raise ImportError(
            f"shmq: cannot load {path} ({error}): install libshmq0 or the package (pip install ./python), "
            "or set SHMQ_LIBRARY to the path of a built libshmq.so"
        ) from error


ffi = FFI()
ffi.cdef(_declarations(_header_text()))
lib = _load()
