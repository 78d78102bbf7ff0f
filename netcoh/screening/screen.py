"""``screen_contingencies``: frequency security of every N-1 contingency of a grid.

Each contingency is evaluated on its post-contingency network with the disturbance it
brings (:mod:`netcoh.screening.events`): a unit trip loses the unit's dispatch, a split
leaves each island its imbalance over the cut, an outage that keeps the grid whole is
screened against the reference incident (or, with ``disturbance="ball"``, every
contingency against the paper's norm ball). The worst local nadir is the certified
:func:`~netcoh.analysis.nadir.worst_case_nadir` over the disturbance (set); the other
metrics come from the exact response to the worst disturbance
(:func:`netcoh.screening.metrics.frequency_metrics`).

Row contract
------------
Every evaluated contingency gives one ``dict`` with these keys (units in the names;
frequency values are magnitudes of the deviation from nominal):

==========================  ===================================================================
``contingency``             ``"branch:<id>"`` or ``"machine:<id>"``
``kind``, ``element``       ``"branch"``/``"machine"`` and the element id
``from_bus``, ``to_bus``    bus ids of the branch ends (a machine: its bus twice)
``lost_mw``                 net generation deficit applied, MW (``-sum(u)``; negative: surplus,
                            e.g. load lost with a cut-off island); unit trip: its dispatch
``disturbance``             ``"infeed-loss"``, ``"island-imbalance"``, ``"reference-incident"``
                            or ``"ball"``
``nadir_hz``, ``nadir_pu``  worst local deviation (certified supremum over buses and time)
``worst_bus``, ``time_s``   where and when (``inf``: the settled value)
``coi_nadir_hz``            centre-of-inertia nadir (weights ``H_i S_i``) and its time
``coi_time_s``
``rocof_hz_per_s``          COI RoCoF over a 500 ms sliding window (``rocof_window_s``)
``local_rocof_hz_per_s``    largest RoCoF of any bus over the same window, at ``rocof_bus``
``rocof_bus``
``qss_hz``                  quasi-steady-state deviation (COI at ``t = inf``)
``margin_hz``               limit minus value for the nadir, the COI RoCoF and the
``rocof_margin_hz_per_s``   quasi-steady state (NaN where no limit is set; negative =
``qss_margin_hz``           violation)
``status``                  ``"ok"``, ``"violation"``, ``"unstable"`` (the linearised
                            post-contingency grid is unstable: nadir ``inf``),
                            ``"model-invalid"`` (an artefact of Kron reduction through
                            negative-reactance branches: no valid nadir, NaN) or ``"failed"``
``certified``, ``method``   certificate and modal method of the nadir search
``islands``, ``island_info``  islands with machines after the outage; note on islands, lost
                            load, de-energised buses and shared networks
``delta_hz``                ``nadir_hz`` minus the intact network's
``warning``, ``error``      warnings raised; the error of a failed contingency
``elapsed_s``               evaluation time
``_disturbance_mw``         private: ``{machine id: MW lost}`` of the worst disturbance (a
                            unit trip: ``{unit: dispatch}``); positive = generation lost
``_trajectory``             private: ``{"t_s", "coi_hz", "worst_bus_hz"}`` 1-D float arrays
                            (deviations in Hz, about 300 samples)
==========================  ===================================================================

The two private keys are not table columns; the result store writes them separately.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable

import numpy as np

from .._validation import as_bool, as_int, as_norm, as_real
from ..exceptions import InputError, NetcohTypeError, SolverError, UnstableError
from .contingencies import Contingency, ScreeningContext, contingency_list
from .events import Event, operator_events
from .limits import FrequencyLimits, frequency_limits
from .metrics import ROCOF_WINDOW_S, frequency_metrics
from .results import COLUMNS, ResultStore, ScreeningResult, assemble, normalise, private_of, rank

__all__ = ["screen_contingencies", "evaluate_batch", "ROW_KEYS"]

_EXECUTORS = ("serial", "processes", "dask")
_SEMANTICS = ("operator", "ball")

#: Keys of every row dict (see the module docstring), private ones last.
ROW_KEYS = ("contingency", "kind", "element", "from_bus", "to_bus", "lost_mw", "disturbance",
            "nadir_hz", "worst_bus", "time_s", "coi_nadir_hz", "coi_time_s", "rocof_hz_per_s",
            "local_rocof_hz_per_s", "rocof_bus", "qss_hz", "margin_hz",
            "rocof_margin_hz_per_s", "qss_margin_hz", "status", "certified", "islands",
            "island_info", "method", "elapsed_s", "error", "warning", "nadir_pu", "delta_hz",
            "_disturbance_mw", "_trajectory")
_NAN_KEYS = ("lost_mw", "nadir_hz", "time_s", "coi_nadir_hz", "coi_time_s", "rocof_hz_per_s",
             "local_rocof_hz_per_s", "qss_hz", "margin_hz", "rocof_margin_hz_per_s",
             "qss_margin_hz", "nadir_pu", "delta_hz")


def _nadir_kwargs(settings: dict) -> dict:
    return {k: settings[k] for k in ("dt", "horizon", "f_hz", "rtol")}


def _limits(settings: dict) -> FrequencyLimits:
    lim = settings["limits"]
    return lim if isinstance(lim, FrequencyLimits) else FrequencyLimits(**lim)


def _set_for(settings: dict, kind: str, u=None, n: int | None = None):
    """The set a screened island is evaluated on (see :func:`screen_contingencies`)."""
    from ..analysis.nadir_sets import BudgetBox, FixedStep, NormBall

    if kind == "ball":
        return NormBall(settings["rho"], np.inf if settings["norm"] == "inf" else settings["norm"])
    if kind == "reference-incident":
        given = settings.get("incident_set")
        if given is not None:
            return given
        return BudgetBox(settings["incident_caps"], settings["incident_pu"], n)
    return FixedStep(u)


def _empty_row(ctx, cont) -> dict:
    row = dict.fromkeys(ROW_KEYS, "")
    row.update(dict.fromkeys(_NAN_KEYS, np.nan))
    fb, tb = ctx.ends.get(cont.name, ("", ""))
    row.update(contingency=cont.name, kind=cont.kind, element=cont.id, from_bus=fb, to_bus=tb,
               islands=0, certified=False, status="failed", _disturbance_mw={},
               _trajectory={})
    return row


def _select(events: list, note: str, islands: str):
    if len(events) <= 1 or islands == "all":
        return events, note
    cut = [m for ev in events[1:] for m in ev.labels]
    shown = ", ".join(cut[:6]) + (", ..." if len(cut) > 6 else "")
    return events[:1], f"{note}; screened the main island; separated: {shown}"


def _evaluate(ctx: ScreeningContext, cont: Contingency, settings: dict, base_hz: float) -> dict:
    from ..analysis.nadir import build_modal_model, worst_case_nadir

    t0 = time.perf_counter()
    row = _empty_row(ctx, cont)
    system = None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if settings["disturbance"] == "ball":
                systems, note = ctx.systems(cont)
                events = [Event(s, lab, None, "ball") for s, lab in systems]
            else:
                events, note = operator_events(ctx, cont)
            n_islands = len(events)
            # by default the grid goes on in its largest island; the machines cut off from it
            # are lost to it (as in a unit trip) and their own small islands are not screened
            events, note = _select(events, note, settings.get("islands", "main"))
            best = None
            for ev in events:
                system = ev.system
                if system.n == 1 and system.nodal.params.get("d") is not None \
                        and float(system.nodal.params["d"][0]) == 0:
                    raise InputError("an island of one undamped machine")
                model, _ = build_modal_model(system)
                dset = _set_for(settings, ev.kind, ev.u, system.n)
                # only the worst bus matters here: buses that cannot win are ruled out by a
                # certified bound instead of being computed (same value, bus and certificate)
                res = worst_case_nadir(system, disturbance_set=dset, model=model,
                                       full_table=False, **_nadir_kwargs(settings))
                if best is None or res.value > best[0].value:
                    best = (res, ev, model)
            res, ev, model = best
            system = ev.system
            met = frequency_metrics(system, model, res.disturbance, bus_index=res.bus_index,
                                    time_s=res.time, hz_per_unit=res.hz_per_unit,
                                    window_s=settings["rocof_window_s"])
        u = np.asarray(res.disturbance)
        base_mva = ctx.base_mva
        if ev.kind == "infeed-loss" and len(events) == 1 and cont.kind == "machine":
            dist = {cont.id: float(-u.sum() * base_mva)}
        else:
            dist = {lab: float(-x * base_mva) for lab, x in zip(system.labels, u) if x != 0}
        margins = _limits(settings).margins(res.value_hz, met["rocof_hz_per_s"], met["qss_hz"])
        row.update(worst_bus=res.bus, nadir_pu=res.value, nadir_hz=res.value_hz,
                   time_s=res.time, certified=res.certified, islands=n_islands,
                   island_info=note, method=res.method, delta_hz=res.value_hz - base_hz,
                   lost_mw=float(-u.sum() * base_mva), disturbance=ev.kind,
                   coi_nadir_hz=met["coi_nadir_hz"], coi_time_s=met["coi_time_s"],
                   rocof_hz_per_s=met["rocof_hz_per_s"],
                   local_rocof_hz_per_s=met["local_rocof_hz_per_s"], rocof_bus=met["rocof_bus"],
                   qss_hz=met["qss_hz"], margin_hz=margins[0], rocof_margin_hz_per_s=margins[1],
                   qss_margin_hz=margins[2],
                   status="violation" if np.nanmin([*margins, np.inf]) < 0 else "ok",
                   _disturbance_mw=dist, _trajectory=met["trajectory"])
        row["warning"] = " | ".join(sorted({str(w.message).split(";")[0] for w in caught}))
    except UnstableError as exc:      # a result, not a failure: the dip has no bound
        signed = "negative" in str(exc) or (system is not None and system.signed)
        if signed:    # Kron reduction through negative reactances: the model, not the grid
            row.update(status="model-invalid", method="model-invalid", certified=False,
                       warning=f"model-invalid: {exc}")
        else:
            lim = _limits(settings)
            row.update(nadir_pu=np.inf, nadir_hz=np.inf, delta_hz=np.inf, certified=True,
                       margin_hz=-np.inf if lim.nadir_hz is not None else np.nan,
                       method="unstable", status="unstable", warning=f"unstable: {exc}")
    except Exception as exc:          # recorded, the sweep goes on
        row["error"] = f"{type(exc).__name__}: {exc}".replace("\n", " ")
        row["status"] = "failed"
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


def _proc_init(ctx, settings, base_hz, counter=None):
    _WORKER_CTX["args"] = (ctx, settings, base_hz)
    _WORKER_CTX["counter"] = counter
    _tune_worker()


def _proc_run(batch):
    ctx, settings, base_hz = _WORKER_CTX["args"]
    counter = _WORKER_CTX.get("counter")
    rows = []
    for c in batch:
        rows.append(_evaluate(ctx, c, settings, base_hz))
        if counter is not None:          # lets the parent's progress bar move per contingency
            with counter.get_lock():
                counter.value += 1
    return rows


def _run_serial(ctx, batches, settings, base_hz, n_jobs, scheduler):
    for b in batches:
        for c in b:
            yield [_evaluate(ctx, c, settings, base_hz)]


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


def screen_contingencies(grid, contingencies="n-1", *, disturbance: str | None = None,
                         incident_mw: float | None = None, incident_set=None,
                         rho: float | None = None, norm=2,
                         dt: float = 0.01, horizon: float | None = None,
                         threshold_hz="continental_europe", limits=None,
                         rocof_window_s: float = ROCOF_WINDOW_S, model: str | None = None,
                         flow: str = "ac", islands: str = "main", executor: str = "processes",
                         n_jobs: int | None = None,
                         scheduler=None, out=None, resume: bool = True, batch_size: int | None = None,
                         merge_equivalent: bool = True,
                         rtol: float = 1e-6, progress: bool | Callable = False) -> ScreeningResult:
    """Frequency security of every contingency of a grid, ranked worst first.

    Each contingency (branch outage or unit trip) is applied to the intact grid, the
    post-contingency network model is rebuilt -- by a rank-one update of the Kron-reduced
    Laplacian where the outage keeps the grid in one piece, island by island when it splits
    it -- and evaluated with the disturbance it brings (``disturbance="operator"``):

    * a unit trip removes the unit and loses its dispatched output at its bus
      (``"infeed-loss"``);
    * an outage that splits the grid leaves each island the power that flowed over the cut
      before the outage (``"island-imbalance"``; machine-free islands are lost load);
    * an outage that keeps the grid whole is screened against the reference incident:
      any loss of generation up to ``incident_mw`` in total, each unit at most its dispatch
      (``"reference-incident"``).

    The worst local nadir is :func:`~netcoh.analysis.nadir.worst_case_nadir` (certified
    supremum over buses and time, over the set for the reference incident); COI nadir,
    RoCoF and quasi-steady state come from the exact response to the worst disturbance.
    A contingency that fails is recorded with its error; the sweep goes on. The keys of the
    rows are listed in this module's docstring.

    Parameters
    ----------
    grid : netcoh.grids.Grid or str
        The case (a shipped case name or file is loaded with :func:`netcoh.grids.load`).
    contingencies : {"n-1", "branches", "machines"} or list
        Preset or a list of :class:`Contingency` / ``"branch:ID"`` / ``"machine:ID"`` / ids.
    disturbance : {"operator", "ball"}, optional
        Operator semantics (above; the default) or the paper's norm ball ``||u||_norm <= rho``
        for every contingency (a unit trip still removes the unit). Giving ``rho`` alone
        selects the ball. The ball is not a MW
        budget: its net power can reach ``rho sqrt(n)`` (2-norm), ``rho n`` (inf-norm) or
        ``rho`` (1-norm) p.u.; ``settings["ball_net_mw"]`` states it.
    incident_mw : float, optional
        Total loss ``B`` of the reference incident in MW; default the largest single
        infeed of the case (the largest dispatch).
    incident_set : set, optional
        Replaces the reference incident by another set of
        :mod:`netcoh.analysis.nadir_sets` over the machines (e.g. a
        :class:`~netcoh.analysis.nadir_polytope.LinearSet` with area budgets).
    rho, norm
        Radius (p.u. on the case base, default 0.5) and norm of the ball
        (``disturbance="ball"`` only).
    dt, horizon, rtol
        Time search, as in :func:`~netcoh.analysis.nadir.worst_case_nadir`.
    threshold_hz : float, str or None
        Preset of limits (``"continental_europe"``: 0.8 Hz nadir, 0.2 Hz quasi-steady
        state; ``"gb"``: 0.5 Hz, 1 Hz/s, 0.5 Hz; ``"gb_infrequent"``: 0.8 Hz) or a nadir
        limit in Hz (see :mod:`netcoh.screening.limits`).
    limits : str, dict or FrequencyLimits, optional
        Overrides of the limits (``{"nadir_hz", "rocof_hz_per_s", "qss_hz"}``).
    rocof_window_s : float
        RoCoF measurement window (grid codes: 0.5 s).
    model, flow
        Passed to :meth:`Grid.to_system` (default :func:`netcoh.grids.grid.default_model`;
        ``"swing"`` is the paper's model) and the flow model (``"ac"``/``"dc"``).
    islands : {"main", "all"}
        When an outage splits the machines into islands: ``"main"`` (default) screens the
        island with the most machines, the grid an operator goes on running, and lists the
        separated machines in ``island_info``; ``"all"`` reports the worst island, however
        small.
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
        Evaluate each distinct post-contingency network and disturbance once (default).
        Outages in series (a line and its transformer) leave the same reduced network and,
        when screened against the same set, get the same row, with ``same network as ...``
        in ``island_info`` (see :meth:`ScreeningContext.network_keys`).
    progress : bool or callable
        ``True`` shows a tqdm progress bar; a callable gets ``(done, total)`` as contingencies
        complete, and, if it has a ``stage`` method, ``stage(text)`` at each stage (power flow,
        intact network, contingencies).

    Returns
    -------
    ScreeningResult
        One row per contingency, worst first (the keys of the row contract in this module's
        docstring that are table columns), the intact network's worst case over the same set,
        and the settings.

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
    >>> df = res.to_frame()
    >>> df[["contingency", "islands"]].values.tolist()
    [['machine:G4', 1], ['branch:L7-8a', 1]]
    """
    from .. import grids as _grids
    from ..analysis.nadir import worst_case_nadir
    from ..grids.grid import default_model

    norm = as_norm(norm, "norm")
    if rho is not None:
        rho = as_real(rho, "rho", low=0.0, low_open=True)
    dt = as_real(dt, "dt", low=0.0, low_open=True)
    if horizon is not None:
        horizon = as_real(horizon, "horizon", low=0.0, low_open=True)
    rtol = as_real(rtol, "rtol", low=0.0, high=1.0, low_open=True, high_open=True)
    if incident_mw is not None:
        incident_mw = as_real(incident_mw, "incident_mw", low=0.0, low_open=True)
    rocof_window_s = as_real(rocof_window_s, "rocof_window_s", low=0.0, low_open=True)
    resume = as_bool(resume, "resume")
    if not (isinstance(progress, bool) or callable(progress)):
        raise NetcohTypeError(f"`progress` must be True, False or a callable (done, total), got "
                              f"{progress!r}")
    if out is not None and not isinstance(out, (str, os.PathLike)):
        raise NetcohTypeError(f"`out` must be a file path, got {type(out).__name__}")
    if isinstance(grid, str) and grid not in _grids.available() and not os.path.exists(grid):
        raise InputError(f"`grid` must be a shipped case {_grids.available()} or an existing "
                         f"file, got {grid!r}")
    if isinstance(grid, (str, os.PathLike)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            grid = _grids.load(grid)
    if not isinstance(grid, _grids.Grid):
        raise NetcohTypeError(f"`grid` must be a netcoh.grids.Grid or a case name, got "
                              f"{type(grid).__name__}")
    if disturbance is None:
        disturbance = "operator" if rho is None else "ball"
    if disturbance not in _SEMANTICS:
        raise InputError(f"`disturbance` must be one of {_SEMANTICS}, got {disturbance!r}")
    if disturbance != "ball" and rho is not None:
        raise InputError(f"`rho` must come with disturbance='ball' (it sizes the norm ball), "
                         f"got rho={rho!r} with disturbance={disturbance!r}")
    if scheduler is not None:
        executor = "dask"
    merge_equivalent = as_bool(merge_equivalent, "merge_equivalent")
    if islands not in ("main", "all"):
        raise InputError(f"`islands` must be 'main' or 'all', got {islands!r}")
    if executor not in _EXECUTORS:
        raise InputError(f"`executor` must be one of {_EXECUTORS}, got {executor!r}")
    n_jobs = (os.cpu_count() or 1) if n_jobs is None else as_int(n_jobs, "n_jobs", minimum=1)
    lim = frequency_limits(threshold_hz, limits)
    window = float(rocof_window_s)
    if not (np.isfinite(window) and window > 0):
        raise InputError(f"`rocof_window_s` must be positive, got {rocof_window_s!r}")
    model = default_model(grid) if model is None else model
    conts = contingency_list(grid, contingencies)
    _stage(progress, f"power flow and network model of {grid.name}")
    ctx = ScreeningContext.from_grid(grid, model=model, flow=flow)
    settings = {"case": grid.name, "disturbance": disturbance, "dt": float(dt),
                "horizon": None if horizon is None else float(horizon),
                "f_hz": float(grid.f_hz), "threshold_hz": lim.nadir_hz,
                "limits": {"nadir_hz": lim.nadir_hz, "rocof_hz_per_s": lim.rocof_hz_per_s,
                           "qss_hz": lim.qss_hz},
                "limits_name": lim.name, "rocof_window_s": window, "model": model,
                "flow": flow, "islands": islands, "rtol": float(rtol)}
    if disturbance == "ball":
        rho = 0.5 if rho is None else float(rho)
        nrm = norm if norm in (1, 2) else "inf"
        n = len(ctx.labels)
        net = {2: rho * np.sqrt(n), 1: rho, "inf": rho * n}[nrm]
        settings.update(rho=rho, norm=nrm, ball_net_mw=float(net * grid.base_mva))
    else:
        caps = np.maximum(ctx.dispatch, 0.0)
        B = float(caps.max() * grid.base_mva) if incident_mw is None else float(incident_mw)
        if not (np.isfinite(B) and B > 0):
            raise InputError(f"`incident_mw` must be positive, got {incident_mw!r}")
        settings.update(incident_mw=B,
                        incident_set=None if incident_set is None else
                        getattr(incident_set, "description", str(incident_set)))
    nadir_settings = dict(settings)
    if disturbance != "ball":
        nadir_settings.update(incident_caps=caps, incident_pu=B / grid.base_mva,
                              incident_set=incident_set)
    base_kind = "ball" if disturbance == "ball" else "reference-incident"
    _stage(progress, "intact network")
    base_system = ctx.base_system()
    base = worst_case_nadir(base_system, threshold_hz=lim.nadir_hz,
                            disturbance_set=_set_for(nadir_settings, base_kind, n=base_system.n),
                            **_nadir_kwargs(nadir_settings))
    store = ResultStore(out, settings, resume) if out is not None else None
    done_rows, extras = store.load() if store is not None else (normalise(rank_empty()), {})
    done = set(done_rows["contingency"])
    todo = [c for c in conts if c.name not in done]
    # one evaluation per distinct network, over the whole list so that a resumed run picks the
    # same representative (and copies its stored row) as an uninterrupted one
    reps, copies = _representatives(ctx, conts, disturbance) if merge_equivalent else (conts, {})
    stored = done_rows.set_index("contingency", drop=False) if len(done_rows) else None
    rows = []
    for r in [c for c in reps if c.name in done]:
        missing = [c for c in copies.get(r.name, ()) if c.name not in done]
        if missing:
            row = dict(stored.loc[r.name].to_dict(), **_private_row(extras[r.name]))
            rows.extend(_with_copies(ctx, [row], {r.name: missing})[1:])
    if rows and store is not None:
        store.append(rows)
    reps = [c for c in reps if c.name not in done]
    copies = {k: [c for c in v if c.name not in done] for k, v in copies.items()}
    workers = 1 if executor == "serial" else n_jobs
    if batch_size is None:
        batch_size = int(np.clip(np.ceil(len(reps) / (16 * workers)), 1, 64))
    batch_size = as_int(batch_size, "batch_size", minimum=1)
    batches = [reps[i:i + batch_size] for i in range(0, len(reps), batch_size)]
    bar = None
    _stage(progress, f"{len(conts)} contingencies ({len(todo)} to evaluate)")
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(conts), initial=len(conts) - len(todo) + len(rows), unit="cont",
                   desc=f"screening {grid.name}")
    run = _RUNNERS[executor]
    if executor == "processes" and (workers == 1 or len(batches) <= 1):
        run = _run_serial
    _WORKER_CTX.pop("in_flight", None)
    n_done, n_evaluated = len(conts) - len(todo) + len(rows), 0
    try:
        for out_rows in run(ctx, batches, nadir_settings, base.value_hz, workers, scheduler):
            n_evaluated += len(out_rows)
            out_rows = _with_copies(ctx, out_rows, copies)
            rows.extend(out_rows)
            if store is not None:
                store.append(out_rows)
            counter = _WORKER_CTX.get("in_flight")
            busy = max(counter.value - n_evaluated, 0) if counter is not None else 0
            now = min(len(conts) - len(todo) + len(rows) + busy, len(conts))
            if now > n_done:
                if bar is not None:
                    bar.update(now - n_done)
                elif callable(progress):
                    progress(now, len(conts))
                n_done = now
    finally:
        if bar is not None:
            bar.close()
    import pandas as pd

    wanted = {c.name for c in conts}
    new = normalise(pd.DataFrame(rows, columns=COLUMNS)) if rows else done_rows.iloc[:0]
    parts = [x for x in (done_rows[done_rows["contingency"].isin(wanted)], new) if len(x)]
    table = pd.concat(parts, ignore_index=True) if parts else new
    table = rank(table)
    extras.update({r["contingency"]: private_of(r) for r in rows})
    if store is not None:
        store.finalise(table, extras)
    disturbances, trajectories = assemble(table, extras)
    return ScreeningResult(table=table, base=base, disturbances=disturbances,
                           trajectories=trajectories,
                           settings=dict(settings, executor=executor, n_jobs=workers,
                                         contingencies=len(conts),
                                         merge_equivalent=merge_equivalent,
                                         networks_evaluated=len(reps)))


def _representatives(ctx: ScreeningContext, todo: list, disturbance: str = "ball"):
    """One contingency per distinct post-contingency network and disturbance, and the
    others by it."""
    keys = ctx.network_keys(todo)
    if disturbance != "ball":
        # a split or a cut-off load brings its own imbalance: never shared
        for i, c in enumerate(todo):
            if c.kind == "branch" and ctx.branches.get(c.id, ("", "", 0, ""))[3] != "":
                keys[i] = c.name
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
            fb, tb = ctx.ends.get(c.name, ("", ""))
            out.append(dict(r, contingency=c.name, kind=c.kind, element=c.id, elapsed_s=0.0,
                            from_bus=fb, to_bus=tb,
                            island_info=f"{own}; {note}" if own else note))
    return out


def _stage(progress, text: str) -> None:
    """Tell a progress reporter which stage the screening is in (``progress.stage(text)``)."""
    stage = getattr(progress, "stage", None)
    if callable(stage):
        stage(text)


def _private_row(extra: dict) -> dict:
    """A stored row's private data back in the screening loop's form."""
    return {"_disturbance_mw": dict(zip(extra["_dist_names"], extra["_dist_mw"])),
            "_trajectory": {"t_s": np.asarray(extra["_t_s"]), "coi_hz": np.asarray(extra["_coi_hz"]),
                            "worst_bus_hz": np.asarray(extra["_worst_bus_hz"])}}


def rank_empty():
    import pandas as pd

    return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
