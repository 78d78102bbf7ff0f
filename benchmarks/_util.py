"""Timing and memory helpers for the benchmark scripts (not part of the package)."""

from __future__ import annotations

import resource
import time
import tracemalloc
from contextlib import contextmanager


@contextmanager
def measure(label: str, store: dict):
    """Record wall time (s) and traced peak memory (MiB) of the block into ``store[label]``."""
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        yield
    finally:
        dt = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        store[label] = {"seconds": dt, "peak_mib": peak / 2**20}


def best_of(fn, repeat: int = 3, clock=time.perf_counter):
    """Minimum time of ``repeat`` calls by ``clock`` (wall time by default;
    ``time.process_time`` for the CPU time of the process) and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = clock()
        out = fn()
        best = min(best, clock() - t0)
    return best, out


def max_rss_mib() -> float:
    """Peak resident set size of this process so far (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
