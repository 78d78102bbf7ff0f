"""``screen_contingencies``: frequency security of every N-1 contingency of a grid.

Each contingency is evaluated on its post-contingency network with the disturbance it
brings (:mod:`netcoh.screening.events`): a unit trip loses the unit's dispatch, a split
leaves each island its imbalance over the cut, an outage that keeps the grid whole is
screened against the reference incident (or, with ``disturbance="ball"``, every
contingency against the paper's norm ball). The worst local nadir is the certified
:func:`~netcoh.analysis.nadir.worst_case_nadir` over the disturbance (set); the other
metrics come from the exact response to the worst disturbance
(:func:`netcoh.screening.metrics.frequency_metrics`).

The keys of the rows are listed in ``netcoh.screening.evaluate``; the runners are in
``netcoh.screening.executors``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable

import numpy as np

from .._validation import as_bool, as_int, as_norm, as_real
from ..exceptions import InputError, NetcohTypeError
from .contingencies import ScreeningContext, contingency_list
from .evaluate import ROW_KEYS, _nadir_kwargs, _set_for
from .events import INCIDENTS, incident_size
from .executors import _EXECUTORS, _RUNNERS, _WORKER_CTX, _run_serial, check_scheduler, evaluate_batch
from .full_model import FULL, case_file, full_system, unit_caps
from .limits import frequency_limits
from .metrics import ROCOF_WINDOW_S
from .results import COLUMNS, ResultStore, ScreeningResult, assemble, normalise, private_of, rank

__all__ = ["screen_contingencies", "evaluate_batch", "ROW_KEYS"]

_SEMANTICS = ("operator", "ball")


def screen_contingencies(grid, contingencies="n-1", *, disturbance: str | None = None,
                         incident: str = "budget", incident_mw: float | None = None,
                         incident_set=None,
                         rho: float | None = None, norm=2,
                         dt: float = 0.01, horizon: float | None = None,
                         threshold_hz="auto", limits=None,
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
    * an outage that keeps the grid whole is screened against the reference incident
      (``"reference-incident"``): by default (``incident="budget"``) any loss of generation
      up to ``incident_mw`` in total, each unit at most its dispatch; with
      ``incident="single"`` the loss of any one unit's dispatch, capped at ``incident_mw``.

    The worst local nadir is :func:`~netcoh.analysis.nadir.worst_case_nadir` (certified
    supremum over buses and time, over the set for the reference incident); COI nadir,
    RoCoF and quasi-steady state come from the exact response to the worst disturbance.
    A contingency that fails is recorded with its error; the sweep goes on. The keys of the
    rows are listed in ``netcoh.screening.evaluate``.

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
    incident : {"budget", "single"}
        The reference incident (``disturbance="operator"`` only).
        ``"budget"`` (default; the conservative set of the product requirements): any loss
        of generation up to ``B`` MW in total, each unit at most its dispatch
        (``netcoh.analysis.nadir_sets.BudgetBox``); its worst case may spread ``B``
        over several small units that then swing against the grid. ``"single"``: the
        credible single-infeed loss of grid codes (GB SQSS style), the loss of any one
        unit's dispatch, capped at ``B``
        (``netcoh.analysis.nadir_sets.SingleInfeedLoss``); never worse than
        ``"budget"``.
    incident_mw : float, optional
        Size ``B`` of the reference incident in MW. Default: the largest dispatch of a
        generating unit. A pandapower ``ext_grid`` (the case's modelled external infeed,
        the slack of the power flow, whose output is solved rather than dispatched) sets
        ``B`` only when the case has no other unit with a positive dispatch; a slack that is
        a unit of the case (a shipped or ANDES case's slack generator) counts as any unit.
        ``settings["incident_unit"]`` and ``settings["incident_basis"]`` say which unit sets
        ``B`` and why.
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
        state; ``"north_america"``: 0.5 Hz nadir; ``"gb"``: 0.5 Hz, 1 Hz/s, 0.5 Hz;
        ``"gb_infrequent"``: 0.8 Hz; ``"auto"``, the default: ``"north_america"`` for a
        60 Hz grid, else ``"continental_europe"``) or a nadir limit in Hz (see
        :mod:`netcoh.screening.limits`).
    limits : str, dict or FrequencyLimits, optional
        Overrides of the limits (``{"nadir_hz", "rocof_hz_per_s", "qss_hz"}``).
    rocof_window_s : float
        RoCoF measurement window (grid codes: 0.5 s).
    model, flow
        Passed to :meth:`Grid.to_system` (default :func:`netcoh.grids.grid.default_model`;
        ``"swing"`` is the paper's model) and the flow model (``"ac"``/``"dc"``).
        ``model="full"`` (grids from :func:`netcoh.grids.from_andes`, operator disturbances)
        screens every contingency on the exact linearisation of the ANDES case, exciters
        and stabilisers included (:mod:`netcoh.screening.full_model`; about a second per
        contingency).
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
        One row per contingency, worst first (the keys of the row contract of
        ``netcoh.screening.evaluate`` that are table columns), the intact network's worst
        case over the same set, and the settings.

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
    if not isinstance(incident, str) or incident not in INCIDENTS:
        raise InputError(f"`incident` must be one of {INCIDENTS}, got {incident!r}")
    if incident != "budget" and disturbance == "ball":
        raise InputError(f"`incident` chooses the reference incident of disturbance='operator', "
                         f"got incident={incident!r} with disturbance='ball'")
    if incident != "budget" and incident_set is not None:
        raise InputError(f"`incident_set` replaces the reference incident: leave `incident` at "
                         f"'budget', got incident={incident!r} with an incident_set")
    if disturbance != "ball" and rho is not None:
        raise InputError(f"`rho` must come with disturbance='ball' (it sizes the norm ball), "
                         f"got rho={rho!r} with disturbance={disturbance!r}")
    if scheduler is not None:
        check_scheduler(scheduler)
        executor = "dask"
    merge_equivalent = as_bool(merge_equivalent, "merge_equivalent")
    if islands not in ("main", "all"):
        raise InputError(f"`islands` must be 'main' or 'all', got {islands!r}")
    if executor not in _EXECUTORS:
        raise InputError(f"`executor` must be one of {_EXECUTORS}, got {executor!r}")
    n_jobs = (os.cpu_count() or 1) if n_jobs is None else as_int(n_jobs, "n_jobs", minimum=1)
    lim = frequency_limits(threshold_hz, limits, f_hz=grid.f_hz)
    window = float(rocof_window_s)
    if not (np.isfinite(window) and window > 0):
        raise InputError(f"`rocof_window_s` must be positive, got {rocof_window_s!r}")
    model = default_model(grid) if model is None else model
    full = model == FULL
    if full:
        if disturbance == "ball":
            raise InputError("`model='full'` screens operator events (its inputs are buses, "
                             "not machines): leave disturbance='operator'")
        if islands != "main":
            raise InputError("`model='full'` screens the main island only: leave "
                             "islands='main'")
        full_case = case_file(grid)
    conts = contingency_list(grid, contingencies)
    _stage(progress, f"power flow and network model of {grid.name}")
    ctx = ScreeningContext.from_grid(grid, model="case" if full else model, flow=flow)
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
        B, unit, basis = incident_size(grid, ctx, incident_mw)
        settings.update(incident="set" if incident_set is not None else incident,
                        incident_mw=B, incident_unit=unit, incident_basis=basis,
                        incident_set=None if incident_set is None else
                        getattr(incident_set, "description", str(incident_set)))
    nadir_settings = dict(settings)
    if disturbance != "ball":
        nadir_settings.update(incident_caps=caps, incident_pu=B / grid.base_mva,
                              incident_set=incident_set)
    base_kind = "ball" if disturbance == "ball" else "reference-incident"
    _stage(progress, "intact network")
    if full:
        nadir_settings.update(case_file=full_case)
        base_system = full_system(full_case, mechanical=True)
        base_set = _set_for(nadir_settings, base_kind, n=base_system.n_inputs,
                            caps=unit_caps(ctx, base_system))
    else:
        base_system = ctx.base_system()
        base_set = _set_for(nadir_settings, base_kind, n=base_system.n)
    base = worst_case_nadir(base_system, threshold_hz=lim.nadir_hz, disturbance_set=base_set,
                            **_nadir_kwargs(nadir_settings))
    store = ResultStore(out, settings, resume) if out is not None else None
    done_rows, extras = store.load() if store is not None else (normalise(rank_empty()), {})
    done = set(done_rows["contingency"])
    todo = [c for c in conts if c.name not in done]
    # one evaluation per distinct network, over the whole list so that a resumed run picks the
    # same representative (and copies its stored row) as an uninterrupted one
    reps, copies = _representatives(ctx, conts, disturbance) if merge_equivalent else (conts, {})
    n_networks = len(reps)              # the sweep's, resumed ones included: same on a resume
    stored = done_rows.set_index("contingency", drop=False) if len(done_rows) else None
    rows = []
    for r in [c for c in reps if c.name in done]:
        missing = [c for c in copies.get(r.name, ()) if c.name not in done]
        if missing:
            row = dict(stored.loc[r.name].to_dict(), **_private_row(extras[r.name]))
            rows.extend(_with_copies(ctx, [row], {r.name: missing})[1:])
    if rows and store is not None:
        store.append(rows)
    reps = _twins_together(ctx, [c for c in reps if c.name not in done])
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
                                         networks_evaluated=n_networks))


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


def _twins_together(ctx: ScreeningContext, reps: list) -> list:
    """The evaluations in an order that puts each outage cutting one machine off alone
    right after that machine's trip: both leave the same network, and in one batch (one
    worker) its modal model is computed once."""
    trips = {c.id for c in reps if c.kind == "machine"}
    twins: dict = {}
    for c in reps:
        m = ctx.cut_off_machine(c.id) if c.kind == "branch" and c.id in ctx.branches else None
        if m in trips:
            twins.setdefault(m, []).append(c)
    if not twins:
        return reps
    moved = {c.name for v in twins.values() for c in v}
    out = []
    for c in reps:
        if c.name in moved:
            continue
        out.append(c)
        if c.kind == "machine":
            out.extend(twins.get(c.id, ()))
    return out


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

