"""Small helpers shared by every layer: read-only array copies and atomic file writes.

Imports nothing from netcoh, so any module may use it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["readonly", "atomic_write_bytes", "atomic_write_text"]

# the process's file-creation mask, read once at import (os.umask can only be read by setting
# it): files written through a temporary file get the mode an ordinary open() would give
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def readonly(a, dtype=None) -> np.ndarray:
    """A copy of ``a`` (as ``dtype`` when given) with ``writeable=False``.

    Frozen results hold such copies, so neither the caller's array nor the result can be
    changed through the other.

    Parameters
    ----------
    a : array_like
    dtype : data-type, optional
        Converted to this type; by default the type of ``a`` is kept.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> r = readonly([1, 2], float)
    >>> r.tolist(), r.flags.writeable
    ([1.0, 2.0], False)
    """
    out = np.array(a, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    A reader never sees a half-written file, and a failure leaves any previous file intact.

    Parameters
    ----------
    path : str or os.PathLike
    data : bytes

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import os, tempfile
    >>> p = atomic_write_bytes(os.path.join(tempfile.mkdtemp(), "x.bin"), b"abc")
    >>> p.read_bytes()
    b'abc'
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)           # mkstemp makes 0600; outputs are shared
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path, text: str) -> Path:
    """UTF-8 text version of :func:`atomic_write_bytes`.

    Parameters
    ----------
    path : str or os.PathLike
    text : str

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import os, tempfile
    >>> atomic_write_text(os.path.join(tempfile.mkdtemp(), "x.txt"), "hi").read_text()
    'hi'
    """
    return atomic_write_bytes(path, text.encode("utf-8"))


def threaded_in_order(fn, items, workers: int | None = None):
    """``fn(item)`` for every item, on up to ``workers`` threads, yielded in item order.

    At most ``workers`` results are computed ahead of the consumer (their memory is
    bounded), and whatever the consumer does with a result runs in order, so a search that
    refines block after block gives the same digits for any number of threads. ``workers``
    defaults to the number of CPUs, at most 8; with one, ``fn`` runs in the caller's thread.

    Examples
    --------
    >>> list(threaded_in_order(lambda x: x * x, range(5), workers=3))
    [0, 1, 4, 9, 16]
    """
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    items = list(items)
    workers = int(min(len(items), workers if workers else min(8, os.cpu_count() or 1)))
    if workers <= 1:
        for item in items:
            yield fn(item)
        return
    pool = ThreadPoolExecutor(workers)
    try:
        pending = deque(pool.submit(fn, item) for item in items[:workers])
        nxt = workers
        while pending:
            out = pending.popleft().result()
            if nxt < len(items):
                pending.append(pool.submit(fn, items[nxt]))
                nxt += 1
            yield out
    finally:
        pool.shutdown(cancel_futures=True)
