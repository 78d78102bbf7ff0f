"""Where contingencies are evaluated: in process, in local worker processes, or on a
Dask cluster. Each runner yields lists of rows as batches complete (an empty list is a
heartbeat that lets the progress bar read the shared counter of finished contingencies).
"""

from __future__ import annotations

from collections.abc import Callable

from ..exceptions import InputError, NetcohTypeError, SolverError
from . import evaluate as _ev
from .contingencies import ScreeningContext

__all__ = ["evaluate_batch", "check_scheduler"]

_EXECUTORS = ("serial", "processes", "dask")


def evaluate_batch(ctx: ScreeningContext, batch: list, settings: dict, base_hz: float) -> list:
    """Rows for a batch of contingencies (runs in a worker)."""
    _tune_worker()
    return [_ev._evaluate(ctx, c, settings, base_hz) for c in batch]


_TUNED = []

#: glibc ``mallopt`` parameters (malloc.h) and the values set in screening workers
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD_BYTES, _TRIM_THRESHOLD_BYTES = 32 * 2**20, 128 * 2**20


def _tune_worker():
    """Once per worker process: one BLAS thread (several workers share the cores), and
    glibc's malloc thresholds raised so that numpy temporaries are reused from the heap.

    Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which turns off
    glibc's adaptive mmap threshold: every temporary over 128 KiB is then a fresh
    ``mmap`` with page faults, and a contingency took 1.6x longer (measured on GB).
    Arrays up to 32 MiB now come from the heap, and freed heap memory above 128 MiB is
    still returned to the system. Not glibc (macOS, Windows, musl): nothing to do.
    """
    if _TUNED:
        return
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        if hasattr(libc, "mallopt") and hasattr(libc, "gnu_get_libc_version"):
            libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)
            libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD_BYTES)
    except OSError:                   # no C library found by ctypes
        pass
    _TUNED.append(True)


# -- executors -------------------------------------------------------------------------------

_WORKER_CTX = {}


def _proc_init(ctx, settings, base_hz, counter=None):
    _WORKER_CTX["args"] = (ctx, settings, base_hz)
    _WORKER_CTX["counter"] = counter
    _tune_worker()


def _proc_run(batch):
    ctx, settings, base_hz = _WORKER_CTX["args"]
    counter = _WORKER_CTX.get("counter")
    rows = []
    for c in batch:
        rows.append(_ev._evaluate(ctx, c, settings, base_hz))
        if counter is not None:          # lets the parent's progress bar move per contingency
            with counter.get_lock():
                counter.value += 1
    return rows


def _run_serial(ctx, batches, settings, base_hz, n_jobs, scheduler):
    for b in batches:
        for c in b:
            yield [_ev._evaluate(ctx, c, settings, base_hz)]


def _run_processes(ctx, batches, settings, base_hz, n_jobs, scheduler):
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    counter = mp.get_context(method).Value("q", 0)
    _WORKER_CTX["in_flight"] = counter
    with ProcessPoolExecutor(max_workers=n_jobs, mp_context=mp.get_context(method),
                             initializer=_proc_init, initargs=(ctx, settings, base_hz,
                                                               counter)) as ex:
        pending = set()
        it = iter(batches)
        for b in it:          # keep at most 2 batches per worker in flight
            pending.add(ex.submit(_proc_run, b))
            if len(pending) >= 2 * n_jobs:
                break
        while pending:
            done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            if not done:
                yield []                 # heartbeat: the progress bar reads the counter
            for f in done:
                try:
                    rows = f.result()
                except BrokenProcessPool as exc:     # a worker died (killed, out of memory)
                    raise SolverError(
                        "a screening worker process died while evaluating contingencies (killed "
                        "or out of memory); the rows finished before are kept when `out` is "
                        "given, and running the same call again resumes from them") from exc
                yield rows
                nxt = next(it, None)
                if nxt is not None:
                    pending.add(ex.submit(_proc_run, nxt))


def check_scheduler(scheduler) -> None:
    """Raise :class:`~netcoh.exceptions.InputError` when ``scheduler`` is a string that is
    not a Dask address (``"tcp://host:port"``, or ``"host:port"`` for TCP), before any work.

    Parameters
    ----------
    scheduler : str, dask.distributed.Client or None
        The ``scheduler`` argument of a sweep; only strings are checked.

    Returns
    -------
    None

    Examples
    --------
    >>> check_scheduler("tcp://127.0.0.1:8786")
    >>> check_scheduler("my-cluster")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    netcoh.exceptions.InputError: `scheduler` must be a Dask scheduler address such as ...
    """
    if not isinstance(scheduler, str):
        return
    try:
        from distributed.comm import parse_address
        from distributed.comm.addressing import parse_host_port
    except ImportError:            # reported when the sweep needs dask.distributed
        return
    try:
        scheme, loc = parse_address(scheduler)
        if scheme in ("tcp", "tls", "ws", "wss"):
            parse_host_port(loc)
    except (ValueError, TypeError) as exc:
        raise InputError(f"`scheduler` must be a Dask scheduler address such as "
                         f"'tcp://127.0.0.1:8786', got {scheduler!r} ({exc})") from None


def _dask_client(scheduler, n_jobs):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise InputError("executor='dask' needs dask.distributed: pip install 'netcoh[dask]'") from exc
    if scheduler is None:
        cluster = LocalCluster(n_workers=n_jobs, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        return Client(cluster), True
    if isinstance(scheduler, Client):
        return scheduler, False
    if isinstance(scheduler, str):
        check_scheduler(scheduler)
        try:
            return Client(scheduler, timeout="20s"), True
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler!r}: {exc}") from exc
    raise NetcohTypeError(f"`scheduler` must be None, an address 'tcp://host:port' or a "
                          f"dask.distributed.Client, got {type(scheduler).__name__}")


def _dask_batches(batches, threads):
    """``batches`` split so that each of the cluster's ``threads`` worker threads gets at
    least four (the default size counts this machine's cores, and a cluster can have many
    more); never merged, so a smaller requested size is kept."""
    if len(batches) >= 4 * max(threads, 1):
        return batches
    items = [c for b in batches for c in b]
    size = max(1, -(-len(items) // (4 * max(threads, 1))))
    if size >= max((len(b) for b in batches), default=0):
        return batches
    return [items[i:i + size] for i in range(0, len(items), size)]


def _run_dask(ctx, batches, settings, base_hz, n_jobs, scheduler):
    from dask.distributed import as_completed

    client, own = _dask_client(scheduler, n_jobs)
    try:
        batches = _dask_batches(batches, sum(client.nthreads().values()))
        [ctx_f] = client.scatter([ctx], broadcast=True)
        futs = [client.submit(evaluate_batch, ctx_f, b, settings, base_hz, pure=False)
                for b in batches]
        for f in as_completed(futs):
            yield f.result()
    finally:
        if own:
            cluster = getattr(client, "cluster", None)
            client.close()
            if cluster is not None:
                cluster.close()


_RUNNERS: dict[str, Callable] = {"serial": _run_serial, "processes": _run_processes,
                                 "dask": _run_dask}


