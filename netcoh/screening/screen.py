"""``screen_contingencies``: the worst-case nadir of every N-1 contingency of a grid."""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable

import numpy as np

from .._validation import as_bool, as_int
from ..exceptions import InputError, NetcohTypeError, UnstableError
from .contingencies import Contingency, ScreeningContext, contingency_list
from .results import COLUMNS, ResultStore, ScreeningResult, normalise, rank

__all__ = ["screen_contingencies", "evaluate_batch"]

_EXECUTORS = ("serial", "processes", "dask")


def _nadir_kwargs(settings: dict) -> dict:
    return {k: settings[k] for k in ("rho", "norm", "dt", "horizon", "f_hz", "threshold_hz",
                                     "rtol")}


def _evaluate(ctx: ScreeningContext, cont: Contingency, settings: dict, base_hz: float) -> dict:
    from ..analysis.nadir import worst_case_nadir

    t0 = time.perf_counter()
    row = dict.fromkeys(COLUMNS, "")
    row.update(contingency=cont.name, kind=cont.kind, element=cont.id, islands=0,
               certified=False, nadir_pu=np.nan, nadir_hz=np.nan, time_s=np.nan,
               margin_hz=np.nan, delta_hz=np.nan)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            systems, note = ctx.systems(cont)
            n_islands = len(systems)
            # by default the grid goes on in its largest island; the machines cut off from it
            # are lost to it (as in a unit trip) and their own small islands are not screened
            systems, note = ctx.select_islands(systems, note, settings.get("islands", "main"))
            best = None
            for system, _ in systems:
                if system.n == 1 and system.nodal.params.get("d") is not None \
                        and float(system.nodal.params["d"][0]) == 0:
                    raise InputError("an island of one undamped machine")
                # only the worst bus matters here: buses that cannot win are ruled out by a
                # certified bound instead of being computed (same value, bus and certificate)
                kw = dict(_nadir_kwargs(settings), threshold_hz=None, full_table=False)
                res = worst_case_nadir(system, **kw)
                if best is None or res.value > best.value:
                    best = res
        row.update(worst_bus=best.bus, nadir_pu=best.value, nadir_hz=best.value_hz,
                   time_s=best.time, certified=best.certified, islands=n_islands,
                   island_info=note, method=best.method, delta_hz=best.value_hz - base_hz)
        thr = settings["threshold_hz"]
        row["margin_hz"] = thr - best.value_hz if thr is not None else np.nan
        row["warning"] = " | ".join(sorted({str(w.message).split(";")[0] for w in caught}))
    except UnstableError as exc:      # a result, not a failure: the dip has no bound
        thr = settings["threshold_hz"]
        row.update(nadir_pu=np.inf, nadir_hz=np.inf, delta_hz=np.inf, certified=True,
                   margin_hz=-np.inf if thr is not None else np.nan, method="unstable",
                   warning=f"unstable: {exc}")
    except Exception as exc:          # recorded, the sweep goes on
        row["error"] = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    row["elapsed_s"] = time.perf_counter() - t0
    return row


def evaluate_batch(ctx: ScreeningContext, batch: list, settings: dict, base_hz: float) -> list:
    """Rows for a batch of contingencies (runs in a worker)."""
    _tune_worker()
    return [_evaluate(ctx, c, settings, base_hz) for c in batch]


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


def _proc_init(ctx, settings, base_hz):
    _WORKER_CTX["args"] = (ctx, settings, base_hz)
    _tune_worker()


def _proc_run(batch):
    ctx, settings, base_hz = _WORKER_CTX["args"]
    return [_evaluate(ctx, c, settings, base_hz) for c in batch]


def _run_serial(ctx, batches, settings, base_hz, n_jobs, scheduler):
    for b in batches:
        yield [_evaluate(ctx, c, settings, base_hz) for c in b]


def _run_processes(ctx, batches, settings, base_hz, n_jobs, scheduler):
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(max_workers=n_jobs, mp_context=mp.get_context(method),
                             initializer=_proc_init, initargs=(ctx, settings, base_hz)) as ex:
        pending = set()
        it = iter(batches)
        for b in it:          # keep at most 2 batches per worker in flight
            pending.add(ex.submit(_proc_run, b))
            if len(pending) >= 2 * n_jobs:
                break
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                yield f.result()
                nxt = next(it, None)
                if nxt is not None:
                    pending.add(ex.submit(_proc_run, nxt))


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
        try:
            return Client(scheduler, timeout="20s"), True
        except OSError as exc:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler!r}: {exc}") from exc
    raise NetcohTypeError(f"`scheduler` must be None, an address 'tcp://host:port' or a "
                          f"dask.distributed.Client, got {type(scheduler).__name__}")


def _run_dask(ctx, batches, settings, base_hz, n_jobs, scheduler):
    from dask.distributed import as_completed

    client, own = _dask_client(scheduler, n_jobs)
    try:
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


def screen_contingencies(grid, contingencies="n-1", *, rho: float = 0.5, norm=2,
                         dt: float = 0.01, horizon: float | None = None,
                         threshold_hz="continental_europe", model: str = "swing_turbine",
                         flow: str = "ac", islands: str = "main", executor: str = "processes",
                         n_jobs: int | None = None,
                         scheduler=None, out=None, resume: bool = True, batch_size: int | None = None,
                         merge_equivalent: bool = True,
                         rtol: float = 1e-6, progress: bool | Callable = False) -> ScreeningResult:
    """Worst-case frequency nadir of every contingency of a grid, ranked worst first.

    Each contingency (branch outage or machine trip) is applied to the intact grid and the
    post-contingency network model is rebuilt -- by a rank-one update of the Kron-reduced
    Laplacian where the outage keeps the grid in one piece, island by island when it splits
    it -- and :func:`~netcoh.analysis.nadir.worst_case_nadir` is evaluated on it (the worst
    island counts). A contingency that fails is recorded with its error; the sweep goes on.

    Parameters
    ----------
    grid : netcoh.grids.Grid or str
        The case (a shipped case name or file is loaded with :func:`netcoh.grids.load`).
    contingencies : {"n-1", "branches", "machines"} or list
        Preset or a list of :class:`Contingency` / ``"branch:ID"`` / ``"machine:ID"`` / ids.
    rho, norm, dt, horizon, rtol
        Disturbance set ``||u||_norm <= rho`` (p.u. on the case base) and time search, as in
        :func:`~netcoh.analysis.nadir.worst_case_nadir`.
    threshold_hz : float, str or None
        Limit for the margin column (presets ``"continental_europe"`` 0.8 Hz, ``"gb"`` 0.5 Hz).
    model, flow
        Passed to :meth:`Grid.to_system` (``"swing_turbine"``, the default: governors give the
        dip and recovery operators look for; or ``"swing"``, the paper's model, whose nadir is
        often the settled value) and the flow model (``"ac"``/``"dc"``).
    islands : {"main", "all"}
        When an outage splits the machines into islands: ``"main"`` (default) screens the
        island with the most machines, the grid an operator goes on running, and lists the
        separated machines in ``island_info`` (to the main island they are lost units, as in
        a unit trip); ``"all"`` reports the worst island, however small (a single machine cut
        off by its step-up transformer then carries the whole disturbance set).
    executor : {"processes", "serial", "dask"}
        Local worker processes (default, ``n_jobs`` = all cores), in-process, or a Dask cluster.
    n_jobs : int, optional
        Workers for ``"processes"`` and for a local Dask cluster.
    scheduler : str or dask.distributed.Client, optional
        Dask scheduler address (``"tcp://host:8786"``) or client; implies ``executor="dask"``.
    out : path, optional
        Results file, written incrementally: ``.csv`` (appended and flushed per batch) or
        ``.parquet`` (one part file per batch, merged at the end). With ``resume=True`` the
        contingencies already stored are skipped, so an interrupted run continues where it
        stopped; the settings must match.
    resume : bool
        Continue from the results in ``out`` (default); False starts over.
    batch_size : int, optional
        Contingencies per task (default: about 16 tasks per worker, so that no worker idles
        long at the end of the sweep; at most 64).
    merge_equivalent : bool
        Evaluate each distinct post-contingency network once (default). Outages in series
        (a line and its transformer), or that only cut off machine-free buses, leave the
        same reduced network -- about a third of GB's N-1 -- and get the same row, with
        ``same network as ...`` in ``island_info``. Equal to 1e-9 relative to an
        evaluation of each (see :meth:`ScreeningContext.network_keys`).
    progress : bool or callable
        ``True`` shows a tqdm progress bar; a callable gets ``(done, total)`` after each batch.

    Returns
    -------
    ScreeningResult
        One row per contingency, worst first: the worst bus, its nadir and time, the
        margin to the threshold, the islands and a note; plus the intact network's result.

    See Also
    --------
    netcoh.worst_case_nadir : The worst-case nadir of one network.
    netcoh.contingency_list : The contingencies a specification stands for.

    Examples
    --------
    >>> import warnings, netcoh.grids as grids
    >>> from netcoh.screening import screen_contingencies
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     g = grids.load("kundur")
    >>> res = screen_contingencies(g, ["L7-8a", "G4"], executor="serial")
    >>> res.to_frame()[["contingency", "islands"]].values.tolist()
    [['machine:G4', 1], ['branch:L7-8a', 1]]
    """
    from .. import grids as _grids
    from ..analysis.nadir import _threshold, worst_case_nadir

    if isinstance(grid, (str, os.PathLike)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            grid = _grids.load(grid)
    if not isinstance(grid, _grids.Grid):
        raise NetcohTypeError(f"`grid` must be a netcoh.grids.Grid or a case name, got "
                              f"{type(grid).__name__}")
    if scheduler is not None:
        executor = "dask"
    merge_equivalent = as_bool(merge_equivalent, "merge_equivalent")
    if islands not in ("main", "all"):
        raise InputError(f"`islands` must be 'main' or 'all', got {islands!r}")
    if executor not in _EXECUTORS:
        raise InputError(f"`executor` must be one of {_EXECUTORS}, got {executor!r}")
    n_jobs = (os.cpu_count() or 1) if n_jobs is None else as_int(n_jobs, "n_jobs", minimum=1)
    thr = _threshold(threshold_hz)
    conts = contingency_list(grid, contingencies)
    settings = {"case": grid.name, "rho": float(rho), "norm": norm if norm in (1, 2) else "inf",
                "dt": float(dt), "horizon": None if horizon is None else float(horizon),
                "f_hz": float(grid.f_hz), "threshold_hz": thr, "model": model, "flow": flow,
                "islands": islands,
                "rtol": float(rtol)}
    nadir_settings = dict(settings, norm=np.inf if settings["norm"] == "inf" else norm)
    ctx = ScreeningContext.from_grid(grid, model=model, flow=flow)
    base = worst_case_nadir(ctx.base_system(), **_nadir_kwargs(nadir_settings))
    store = ResultStore(out, settings, resume) if out is not None else None
    done_rows = normalise(store.load()) if store is not None else normalise(rank_empty())
    done = set(done_rows["contingency"])
    todo = [c for c in conts if c.name not in done]
    reps, copies = _representatives(ctx, todo) if merge_equivalent else (todo, {})
    workers = 1 if executor == "serial" else n_jobs
    if batch_size is None:
        batch_size = int(np.clip(np.ceil(len(reps) / (16 * workers)), 1, 64))
    batch_size = as_int(batch_size, "batch_size", minimum=1)
    batches = [reps[i:i + batch_size] for i in range(0, len(reps), batch_size)]
    rows = []
    bar = None
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(conts), initial=len(conts) - len(todo), unit="cont",
                   desc=f"screening {grid.name}")
    run = _RUNNERS[executor]
    if executor == "processes" and (workers == 1 or len(batches) <= 1):
        run = _run_serial
    try:
        for out_rows in run(ctx, batches, nadir_settings, base.value_hz, workers, scheduler):
            out_rows = _with_copies(ctx, out_rows, copies)
            rows.extend(out_rows)
            if store is not None:
                store.append(out_rows)
            if bar is not None:
                bar.update(len(out_rows))
            elif callable(progress):
                progress(len(conts) - len(todo) + len(rows), len(conts))
    finally:
        if bar is not None:
            bar.close()
    import pandas as pd

    wanted = {c.name for c in conts}
    new = normalise(pd.DataFrame(rows, columns=COLUMNS)) if rows else done_rows.iloc[:0]
    table = pd.concat([done_rows[done_rows["contingency"].isin(wanted)], new], ignore_index=True)
    table = rank(table)
    if store is not None:
        store.finalise(table)
    return ScreeningResult(table=table, base=base,
                           settings=dict(settings, executor=executor, n_jobs=workers,
                                         contingencies=len(conts),
                                         merge_equivalent=merge_equivalent,
                                         networks_evaluated=len(reps)))


def _representatives(ctx: ScreeningContext, todo: list):
    """One contingency per distinct post-contingency network, and the others by it."""
    keys = ctx.network_keys(todo)
    first: dict = {}
    reps, copies = [], {}
    for c, k in zip(todo, keys):
        if k in first:
            copies.setdefault(first[k].name, []).append(c)
        else:
            first[k] = c
            reps.append(c)
    return reps, copies


def _with_copies(ctx: ScreeningContext, rows: list, copies: dict) -> list:
    """The rows, each followed by the rows of the contingencies that share its network."""
    out = []
    for r in rows:
        out.append(r)
        for c in copies.get(r["contingency"], ()):
            status = ctx.branches[c.id][3] if c.kind == "branch" else ""
            own = f"{int(status[5:])} bus(es) de-energised" if status.startswith("dead:") \
                else r["island_info"]
            note = f"same network as {r['contingency']}"
            out.append(dict(r, contingency=c.name, kind=c.kind, element=c.id, elapsed_s=0.0,
                            island_info=f"{own}; {note}" if own else note))
    return out


def rank_empty():
    import pandas as pd

    return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
