"""Memoryviews over shared memory that cannot outlive its mapping.

A memoryview (and every slice of it) holds the cffi buffer it was made from,
the buffer holds its cdata, and that cdata holds `owner` (the client's core):
so the segment stays mapped while any view of it exists, and reading one
after its message was released gives stale bytes, never a crash. The
memoryview handed out is released with its message, so using it then
raises ValueError.
"""

from ._native import ffi


def _keep(owner):
    return lambda _pointer: owner  # holds owner until the cdata is collected


def shared_memoryview(pointer, size: int, owner, writable: bool) -> memoryview:
    keeper = ffi.gc(ffi.cast("char *", pointer), _keep(owner))
    view = memoryview(ffi.buffer(keeper, size))
    return view if writable else view.toreadonly()


def release(view: memoryview, what: str) -> None:
    """Releases `view`; BufferError (with what to do) if something still
    exports it, e.g. a NumPy array made from it."""
    try:
        view.release()
    except BufferError as error:
        raise BufferError(f"{what} is still exported ({error}): drop the objects made from it first") from None
