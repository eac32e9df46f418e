"""The C declarations of libshmq's API, read from shmq/shmq.h itself.

Both ways of binding it use them (see _native): cffi's ABI mode at import,
and the compiled module's builder (build_native.py) at build time. Reading
the header means the declarations cannot drift from the library: comments
and preprocessor lines are stripped, which leaves plain C declarations that
cffi's cdef() understands.
"""

import re
from pathlib import Path

_here = Path(__file__).resolve().parent
_source_tree = _here.parent.parent  # python/shmq -> the repository


def header_path() -> Path:
    """shmq.h: shipped inside the installed package, else the source tree's."""
    for candidate in (_here / "shmq.h", _source_tree / "client" / "include" / "shmq" / "shmq.h"):
        if candidate.is_file():
            return candidate
    raise ImportError("shmq: shmq.h not found next to the package nor in the source tree")


def declarations(header: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", header, flags=re.S)
    text = re.sub(r"#ifdef __cplusplus.*?#endif", "", text, flags=re.S)
    # The export macro (shmq/export.h) is the library's business, not cffi's.
    text = re.sub(r"\bSHMQ_API\s+", "", text)
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
