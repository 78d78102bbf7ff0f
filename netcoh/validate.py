"""Validation against an independent nonlinear simulator: ANDES load steps vs netcoh's prediction.

For an ANDES case, :func:`validate` applies a small load step in ANDES's time-domain
simulation and compares every machine's frequency with netcoh's exact linear step response of
the same data (:func:`netcoh.step_response`): trajectories, centre-of-inertia (COI) frequency,
each machine's nadir and its time, and RoCoF. ANDES (GPL-3.0, extra ``validate``) runs as an
external reference only; nothing of it is copied.

ANDES settings (the pitfalls of ``docs/validation.rst``): loads kept at constant power in the
time domain (``PQ.config``: ``p2p = 1, p2i = p2z = 0, q2q = 1, q2i = q2z = 0``; the default
converts them to constant impedance, which both hides a ``Ppf`` step and adds voltage relief),
``TDS.config.criteria = 0`` (no stop on the angle-separation criterion), fixed step
``t_step_s`` (default 1/120 s), the case's own timed events (``Toggle``/``Fault``/``Alter``)
removed, the step applied as ``PQ.Ppf += delta_p`` at ``t_event_s``.

netcoh's side (per unit on the case base, frequency deviation in p.u. of ``f_hz``): machines
from :func:`netcoh.grids.andes.from_andes`; the input is a power injection, so a load increase
``+P`` is ``u = -P``. Two network linearisations are compared:

* ``"lossless"``: :meth:`netcoh.grids.Grid.to_system` (``dP/dtheta`` at the operating point with
  conductances dropped and voltage magnitudes fixed; a load-bus step reaches the machines
  through the Kron factors);
* ``"ac"``: :func:`ac_network`: the full AC power-flow Jacobian with machine EMFs ``E'`` behind
  ``r_a + j x'_d`` held constant and constant-``P, Q`` loads, bus angles *and voltage
  magnitudes* eliminated, losses kept. Its machine-angle sensitivity ``K`` has zero row sums
  but is slightly non-symmetric (losses); netcoh's symmetric model uses ``(K + K^T)/2`` and the
  exact input map ``-dPe/dP_bus`` (which carries the marginal losses of the step).

Examples
--------
>>> import numpy as np
>>> from netcoh.validate import frequency_metrics
>>> t = np.linspace(0.0, 10.0, 1001)
>>> y = -1e-3 * np.sin(np.pi * t / 10.0)[:, None]          # one "machine", nadir at 5 s
>>> m = frequency_metrics(t, y, f_hz=50.0, rocof_window_s=0.5)
>>> float(m["nadir_hz"][0]), float(m["t_nadir_s"][0])
(-0.05, 5.0)
"""

from __future__ import annotations

import functools
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from .analysis.time import step_response
from .exceptions import InputError, SolverError
from .grids import andes as _an
from .grids import case_model as _case
from .grids.case_model import ACNetwork, _ybus, ac_network  # noqa: F401  (public here too)
from .grids.grid import Grid
from .network.system import NetworkSystem, reduced_system

__all__ = ["ACNetwork", "ac_network", "build_system", "injection", "andes_variant",
           "simulate_andes", "frequency_metrics", "ValidationResult", "validate", "MODELS",
           "NETWORKS", "PQ_CONSTANT_POWER"]

MODELS = ("swing", "swing_turbine", "governor")   # of the deprecated build_system
NETWORKS = ("ac", "lossless")
PQ_CONSTANT_POWER = {"p2p": 1.0, "p2i": 0.0, "p2z": 0.0, "q2q": 1.0, "q2i": 0.0, "q2z": 0.0}
_DROP_GROUPS = ("TimedEvent",)
_CLASSICAL_DROP = ("Exciter", "PSS")


def build_system(grid: Grid, model: str = "governor", network: str = "ac", *,
                 at_limit: str = "upper") -> NetworkSystem:
    """Deprecated: use :meth:`Grid.to_system <netcoh.grids.Grid.to_system>`.

    ``("governor", "ac")`` is ``grid.to_system(model="case")``; the other combinations put a
    nodal model of :data:`MODELS` on a network of :data:`NETWORKS` for comparisons.

    Parameters
    ----------
    grid : Grid
        A grid from :func:`netcoh.grids.from_andes`.
    model : {"swing", "swing_turbine", "governor"}
        Nodal model.
    network : {"ac", "lossless"}
        :func:`ac_network`'s symmetrised Laplacian or the grid's lossless Kron reduction.
    at_limit : {"upper", "lower", "none"}
        Governors at a valve limit (see :func:`netcoh.grids.case_model.governor_nodal`).

    Returns
    -------
    NetworkSystem
        Signed where the network couples some machines positively (still PSD).

    Examples
    --------
    >>> import netcoh as nc
    >>> build_system(nc.grids.load("kundur", warn=False), "bogus")
    Traceback (most recent call last):
    ...
    netcoh.exceptions.InputError: `model` must be one of ('swing', 'swing_turbine', 'governor'), got 'bogus'
    """
    if model not in MODELS:
        raise InputError(f"`model` must be one of {MODELS}, got {model!r}")
    if network not in NETWORKS:
        raise InputError(f"`network` must be one of {NETWORKS}, got {network!r}")
    warnings.warn("netcoh.validate.build_system is deprecated; use grid.to_system() "
                  "(model='case': the case's governors on the lossy AC network)",
                  DeprecationWarning, stacklevel=2)
    if model == "governor" and network == "ac":
        return grid.to_system(model="case", at_limit=at_limit)
    if model == "governor":
        base = grid.to_system(model="swing")
        nd = _case.governor_nodal(grid, at_limit=at_limit, machines=base.labels)
    else:
        if model == "swing_turbine":
            grid = _an._drop_limited(grid, at_limit)
        base = grid.to_system(model=model)
        nd = base.nodal
    if network == "lossless":
        return reduced_system(base.laplacian, nd, base.labels)
    net = ac_network(grid)
    if tuple(base.labels) != net.machines:
        raise InputError("machine order of the AC linearisation differs from the grid's")
    return reduced_system(net.laplacian, nd, net.machines)


def injection(grid: Grid, load_steps_pu: Mapping, network: str = "ac") -> np.ndarray:
    """Input ``u`` (p.u., machine nodes) of load increases ``{bus: delta_p_pu}``.

    Parameters
    ----------
    grid : Grid
        The grid.
    load_steps_pu : mapping of str to float
        Load increase per bus id (p.u. on ``base_mva``).
    network : {"ac", "lossless"}
        ``"ac"``: ``u = -dPe = dPe/dP_bus @ delta_p`` (marginal losses included, as
        ``grid.injection_vector(..., model="case")``); ``"lossless"``: the Kron factors.

    Returns
    -------
    ndarray
        One entry per in-service machine.

    Examples
    --------
    >>> import netcoh as nc
    >>> u = injection(nc.grids.load("kundur", warn=False), {"9": 1.0}, "lossless")
    >>> round(float(u.sum()), 9)
    -1.0
    """
    if network not in NETWORKS:
        raise InputError(f"`network` must be one of {NETWORKS}, got {network!r}")
    inj = {b: -float(p) for b, p in load_steps_pu.items()}
    if network == "lossless":
        return grid.injection_vector(inj, model="swing")
    return _case.case_injection(grid, inj)


# ---------------------------------------------------------------------------------------
# ANDES side
# ---------------------------------------------------------------------------------------
def _case_key(case) -> tuple:
    """The files of ``case`` with their modification times (the key of :func:`_source`)."""
    path, extra = _an._split_case(case)
    files = (path,) if extra is None else (path, extra)
    return tuple((str(f), f.stat().st_mtime_ns) for f in files)


@functools.lru_cache(maxsize=4)
def _source(*key):
    """The parsed case (``andes.load`` without set-up), read once per process and file
    version: :func:`andes_variant` only reads it, and the screens of the full model build
    one variant per contingency."""
    files = [f for f, _ in key]
    return _an.load_andes(files[0] if len(files) == 1 else tuple(files), setup=False)


def andes_variant(case, *, classical: bool, step_buses=(), trips=(), t_trip_s: float = 1.0):
    """A fresh, set-up ``andes.System`` of ``case`` prepared for a comparison.

    Copies every device through ANDES's own ``System.add`` (the case file is read by
    ``andes.load``), drops the case's timed events, with ``classical=True`` turns every
    ``GENROU`` into a ``GENCLS`` with the same inertia, damping, ``x'_d`` and ``r_a`` and drops
    exciters and stabilisers, adds a zero ``PQ`` load at each step bus that has none, and a
    ``Toggle`` at ``t_trip_s`` for each machine or line id in ``trips``.

    Parameters
    ----------
    case : str or path-like
        ANDES case file or shipped name.
    classical : bool
        Build the classical variant.
    step_buses : sequence of str
        Buses that will receive a load step.
    trips : sequence of str
        Machine (``GENROU``/``GENCLS``) or line ids to disconnect.
    t_trip_s : float
        Time of the trips (s).

    Returns
    -------
    andes.System
        Set up, with constant-power loads (:data:`PQ_CONSTANT_POWER`).

    Examples
    --------
    >>> ss = andes_variant("kundur/kundur_full.xlsx", classical=True)
    >>> ss.GENCLS.n, ss.GENROU.n
    (4, 0)
    """
    andes = _an._andes()
    src = _source(*_case_key(case))
    ss = andes.System(default_config=True, no_output=True)
    has_pq = set()
    machine_model = {}
    for name, mdl in src.models.items():
        if mdl.n == 0 or mdl.group in _DROP_GROUPS:
            continue
        if classical and mdl.group in _CLASSICAL_DROP:
            continue
        target = "GENCLS" if classical and name == "GENROU" else name
        keep = set(getattr(ss, target).params) - {"ue", "subidx"}
        for r in mdl.as_df(vin=True).to_dict(orient="records"):
            ss.add(target, {k: v for k, v in r.items() if k in keep})
            if name == "PQ":
                has_pq.add(str(r["bus"]))
            if name in (*_an.MACHINE_MODELS, "Line"):
                machine_model[str(r["idx"])] = (target, r["idx"])
    for b in step_buses:
        if str(b) not in has_pq:
            bus = next(x for x in src.Bus.idx.v if str(x) == str(b))
            ss.add("PQ", {"idx": f"netcoh_step_{b}", "bus": bus, "p0": 0.0, "q0": 0.0})
    for k, mid in enumerate(trips):
        if str(mid) not in machine_model:
            raise InputError(f"`trips` must name machines or lines of {case}, got {mid!r}")
        model, idx = machine_model[str(mid)]
        ss.add("Toggle", {"idx": f"netcoh_trip_{k}", "model": model, "dev": idx,
                          "t": float(t_trip_s)})
    if not ss.setup():
        raise SolverError(f"{case}: ANDES setup of the comparison variant failed")
    for k, v in PQ_CONSTANT_POWER.items():
        setattr(ss.PQ.config, k, v)
    return ss


def _run_event(case, load_steps_mw, trips, classical, t_end_s, t_step_s, t_event_s):
    buses = [str(b) for b in load_steps_mw]
    ss = andes_variant(case, classical=classical, step_buses=buses, trips=trips,
                       t_trip_s=t_event_s)
    tds = ss.TDS.config
    tds.criteria, tds.tstep, tds.no_tqdm, tds.fixt = 0, float(t_step_s), 1, 1
    ss.PFlow.run()
    if not ss.PFlow.converged:
        raise SolverError(f"{case}: ANDES power flow did not converge")
    grid = _an.from_andes(ss)
    base = grid.base_mva
    pq_bus = [str(b) for b in ss.PQ.bus.v]
    tds.tf = float(t_event_s)
    ss.TDS.run()
    for b, p_mw in load_steps_mw.items():
        k = pq_bus.index(str(b))
        ss.PQ.set("Ppf", ss.PQ.idx.v[k], float(ss.PQ.Ppf.v[k]) + float(p_mw) / base,
                  base="device")
    tds.tf = float(t_event_s + t_end_s)
    ss.TDS.run()
    return ss, grid


def simulate_andes(case, load_steps_mw: Mapping | None = None, *, trips=(),
                   classical: bool = False, t_end_s: float = 20.0, t_step_s: float = 1 / 120,
                   t_event_s: float = 1.0):
    """ANDES run of a load step and/or machine trips: returns ``(grid, t, omega_dev, info)``.

    Parameters
    ----------
    case : str or path-like
        ANDES case file or shipped name.
    load_steps_mw : mapping, optional
        Load increase per bus id (MW).
    trips : sequence of str
        Machine or line ids disconnected (ANDES ``Toggle``) at ``t_event_s``.
    classical : bool
        Run the classical variant (see :func:`andes_variant`) instead of the case as given.
    t_end_s, t_step_s, t_event_s : float
        Simulated time after the event, ANDES's fixed step and the event time (s).

    Returns
    -------
    tuple
        ``grid`` (:func:`~netcoh.grids.andes.from_andes` of the simulated system at its
        power-flow operating point, before the event), ``t`` (s, from the event),
        ``omega_dev`` (p.u., one column per in-service machine of ``grid`` in table order,
        deviation from the pre-event value; a tripped machine's column is its free-running
        speed) and ``info`` (settings, wall time).

    Notes
    -----
    ANDES's fixed-step Newton iteration occasionally fails at one particular step size
    (ieee39_full with constant-power loads stops at t = 1.008 s with h = 1/120 s but runs with
    1/100 or 1/240 s); the run is then repeated with ``0.8 h`` and ``0.5 h`` and the step used
    is reported in ``info["t_step_s"]``.

    Examples
    --------
    >>> sorted(PQ_CONSTANT_POWER)[:2]        # the loads ANDES keeps at constant power
    ['p2i', 'p2p']
    >>> grid, t, w, info = simulate_andes("kundur/kundur_full.xlsx", {"9": 27.3})  # doctest: +SKIP
    """
    load_steps_mw = dict(load_steps_mw or {})
    trips = tuple(str(x) for x in trips)
    if not load_steps_mw and not trips:
        raise InputError("give `load_steps_mw` or `trips` (nothing happens otherwise)")
    tic = time.perf_counter()
    tried = []
    for h in (t_step_s, 0.8 * t_step_s, 0.5 * t_step_s):
        ss, grid = _run_event(case, load_steps_mw, trips, classical, t_end_s, h, t_event_s)
        t_all = np.asarray(ss.dae.ts.t, dtype=float)
        tried.append(h)
        if t_all.size and t_all[-1] >= t_event_s + t_end_s - 1e-6:
            break
    else:
        raise SolverError(f"{case}: ANDES time-domain simulation stopped at "
                          f"t = {t_all[-1] if t_all.size else 0:.3f} s with steps "
                          f"{', '.join(f'{h:.4g}' for h in tried)} s")
    wall = time.perf_counter() - tic
    omega_idx = np.concatenate([np.asarray(getattr(ss, m).omega.a, dtype=int)
                                for m in _an.MACHINE_MODELS if getattr(ss, m).n])
    ids = [str(i) for m in _an.MACHINE_MODELS if getattr(ss, m).n for i in getattr(ss, m).idx.v]
    M = grid.tables["machines"]
    order = [ids.index(str(i)) for i in M["id"][M["in_service"]]]
    W = np.asarray(ss.dae.ts.x, dtype=float)[:, omega_idx[order]]
    sel = np.flatnonzero(t_all >= t_event_s - 1e-9)
    _, first = np.unique(np.round(t_all[sel] - t_event_s, 9), return_index=True)
    sel = sel[first]
    t = np.maximum(t_all[sel] - t_event_s, 0.0)
    t[0] = 0.0
    w = W[sel] - W[sel][0]
    info = {"andes_version": _an._andes().__version__, "wall_s": wall, "t_step_s": tried[-1],
            "steps_tried_s": tuple(tried), "criteria": 0, "pq_config": dict(PQ_CONSTANT_POWER),
            "classical": classical, "trips": trips,
            "machine_models": sorted({m for m in _an.MACHINE_MODELS if getattr(ss, m).n})}
    return grid, t, w, info


# ---------------------------------------------------------------------------------------
# Metrics and result
# ---------------------------------------------------------------------------------------
def frequency_metrics(t, y, *, f_hz: float, rocof_window_s: float = 0.5, sign: float = -1.0):
    """Nadir (Hz), its time (s) and RoCoF (Hz/s) of each column of ``y`` (p.u. deviations).

    The nadir is the extreme of ``sign * y`` (``sign = -1``: the minimum, for load increases);
    RoCoF is the mean slope over the first ``rocof_window_s`` after the step,
    ``f_hz (y(T) - y(0)) / T`` (linear interpolation at ``T``).
    """
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    k = np.argmax(sign * y, axis=0)
    cols = np.arange(y.shape[1])
    T = float(rocof_window_s)
    yT = np.array([np.interp(T, t, y[:, j]) for j in cols])
    return {"nadir_hz": f_hz * y[k, cols], "t_nadir_s": t[k],
            "rocof_hz_s": f_hz * (yT - y[0]) / T}


def _ro(a):
    a = np.array(a, dtype=float)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class ValidationResult:
    """ANDES trajectories and netcoh predictions of one load-step scenario.

    Attributes
    ----------
    case : str
    classical : bool
        True if ANDES ran the classical (GENCLS) variant.
    load_steps_mw : mapping
        Load increase per bus (MW).
    f_hz : float
    t : ndarray (k,)
        Time since the step (s).
    labels : tuple of str
        Machine ids.
    inertia_s : ndarray (n,)
        ``m_i`` (COI weights).
    andes : ndarray (k, n)
        ANDES machine speed deviations (p.u.).
    predictions : mapping str -> ndarray (k, n)
        netcoh step responses, keyed by :meth:`Grid.to_system <netcoh.grids.Grid.to_system>`
        model (``"case"``, ``"swing_turbine"``, ...).
    settings : mapping
        ANDES version, step size used, load conversion, ANDES wall time ``wall_s`` (time-domain
        runs) and netcoh's ``netcoh_s`` (all predictions), ``asymmetry_K`` of the AC network.
    rocof_window_s : float
        RoCoF window (s).
    trips : tuple of str
        Machines disconnected at the event (their columns are not in ``andes``).
    """

    case: str
    classical: bool
    load_steps_mw: Mapping
    f_hz: float
    t: np.ndarray
    labels: tuple
    inertia_s: np.ndarray
    andes: np.ndarray
    predictions: Mapping
    settings: Mapping = field(default_factory=dict)
    rocof_window_s: float = 0.5
    trips: tuple = ()

    def __post_init__(self):
        for name in ("t", "inertia_s", "andes"):
            object.__setattr__(self, name, _ro(getattr(self, name)))
        object.__setattr__(self, "predictions",
                           MappingProxyType({k: _ro(v) for k, v in self.predictions.items()}))
        object.__setattr__(self, "load_steps_mw", MappingProxyType(dict(self.load_steps_mw)))
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))

    def coi(self, y) -> np.ndarray:
        """Centre-of-inertia average ``sum m_i y_i / sum m_i`` of ``(k, n)`` trajectories."""
        return np.asarray(y) @ (self.inertia_s / self.inertia_s.sum())

    @property
    def sign(self) -> float:
        """-1 when the event lowers frequency (load increase, trip), else +1."""
        return -1.0 if self.trips or sum(self.load_steps_mw.values()) >= 0 else 1.0

    @property
    def event(self) -> str:
        """Short description: ``"load +27.3 MW @ 9"``, ``"trip GENROU_2"``."""
        parts = [f"load {p:+.4g} MW @ {b}" for b, p in self.load_steps_mw.items()]
        parts += [f"trip {m}" for m in self.trips]
        return ", ".join(parts)

    def to_frame(self):
        """One row per model and node (machines and ``"COI"``) with metrics and errors.

        Errors are relative: ``nadir_err = |nadir_netcoh - nadir_andes| / |nadir_andes|``,
        ``rocof_err`` likewise, ``traj_err = max_t |y_netcoh - y_andes| / max_t |y_andes|``
        and ``traj_rms_err = rms_t(y_netcoh - y_andes) / rms_t(y_andes)`` (over the simulated
        window).

        Returns
        -------
        pandas.DataFrame
            Columns ``model, node``, the nadir, its time and RoCoF of ANDES and netcoh, and
            the errors.
        """
        import pandas as pd

        rows = []
        a_all = np.column_stack([self.andes, self.coi(self.andes)])
        nodes = list(self.labels) + ["COI"]
        ma = frequency_metrics(self.t, a_all, f_hz=self.f_hz, sign=self.sign,
                               rocof_window_s=self.rocof_window_s)
        peak = np.abs(a_all).max(axis=0)
        for key, y in self.predictions.items():
            y_all = np.column_stack([y, self.coi(y)])
            mn = frequency_metrics(self.t, y_all, f_hz=self.f_hz, sign=self.sign,
                                   rocof_window_s=self.rocof_window_s)
            traj = np.abs(y_all - a_all).max(axis=0) / peak
            rms = np.sqrt(np.mean((y_all - a_all) ** 2, axis=0) / np.mean(a_all ** 2, axis=0))
            for j, node in enumerate(nodes):
                rows.append({
                    "model": key, "node": node,
                    "nadir_hz_andes": ma["nadir_hz"][j], "nadir_hz_netcoh": mn["nadir_hz"][j],
                    "nadir_err": abs(mn["nadir_hz"][j] - ma["nadir_hz"][j]) / abs(ma["nadir_hz"][j]),
                    "t_nadir_s_andes": ma["t_nadir_s"][j], "t_nadir_s_netcoh": mn["t_nadir_s"][j],
                    "rocof_hz_s_andes": ma["rocof_hz_s"][j],
                    "rocof_hz_s_netcoh": mn["rocof_hz_s"][j],
                    "rocof_err": abs(mn["rocof_hz_s"][j] - ma["rocof_hz_s"][j])
                    / abs(ma["rocof_hz_s"][j]),
                    "traj_err": traj[j], "traj_rms_err": rms[j]})
        return pd.DataFrame(rows)

    def summary(self):
        """Per model: worst machine nadir / trajectory error, COI nadir / RoCoF / trajectory error."""
        df = self.to_frame()
        df["t_nadir_diff_s"] = (df.t_nadir_s_netcoh - df.t_nadir_s_andes).abs()
        mach = df[df.node != "COI"].groupby("model", sort=False)
        coi = df[df.node == "COI"].set_index("model")
        out = mach.agg(max_nadir_err=("nadir_err", "max"), max_traj_err=("traj_err", "max"),
                       max_traj_rms_err=("traj_rms_err", "max"),
                       max_t_nadir_diff_s=("t_nadir_diff_s", "max"))
        out["coi_nadir_err"] = coi["nadir_err"]
        out["coi_rocof_err"] = coi["rocof_err"]
        out["coi_traj_err"] = coi["traj_err"]
        out["coi_traj_rms_err"] = coi["traj_rms_err"]
        out.insert(0, "case", self.case)
        out.insert(1, "machines", "GENCLS" if self.classical else "detailed")
        out.insert(2, "event", self.event)
        return out.reset_index()

    def plot(self, path=None, models=None):
        """Overlay ANDES (solid) and netcoh (dashed) per machine, plus the COI; save to ``path``."""
        import matplotlib.pyplot as plt

        models = list(models or [k for k in self.predictions if k == "case"]
                      or list(self.predictions)[:1])
        fig, axes = plt.subplots(1 + len(models), 1, figsize=(8, 3 + 2.6 * len(models)),
                                 sharex=True)
        axes = np.atleast_1d(axes)
        f = self.f_hz
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        for ax, key in zip(axes[:-1], models):
            y = self.predictions[key]
            for j, lab in enumerate(self.labels):
                c = colors[j % len(colors)]
                ax.plot(self.t, f * self.andes[:, j], color=c, lw=1.2, label=lab)
                ax.plot(self.t, f * y[:, j], color=c, lw=1.2, ls="--")
            ax.set_ylabel("machine df (Hz)")
            ax.set_title(f"{self.case} ({'GENCLS' if self.classical else 'detailed'}): "
                         f"ANDES solid, netcoh {key} dashed", fontsize=9)
        ax = axes[-1]
        ax.plot(self.t, f * self.coi(self.andes), color="k", lw=2, label="ANDES")
        for key in self.predictions:
            ax.plot(self.t, f * self.coi(self.predictions[key]), ls="--", lw=1.2, label=key)
        ax.set_ylabel("COI df (Hz)")
        ax.set_xlabel("time after the load step (s)")
        ax.legend(fontsize=7, ncol=2)
        axes[0].legend(fontsize=7, ncol=5)
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=110)
            plt.close(fig)
        return fig


def default_load_step(grid: Grid, fraction: float = 0.01) -> dict:
    """``{bus: fraction * total load (MW)}`` at the bus with the largest load.

    Parameters
    ----------
    grid : Grid
        A grid with loads.
    fraction : float
        Step size relative to the total (positive) load.

    Returns
    -------
    dict
        One entry: bus id -> load increase in MW.

    Examples
    --------
    >>> import netcoh as nc
    >>> default_load_step(nc.grids.load("kundur", warn=False))
    {'9': 27.34}
    """
    L = grid.tables["loads"]
    if not len(L["id"]):
        raise InputError(f"grid {grid.name!r} has no loads; give `load_steps_mw`")
    p = np.asarray(L["p_mw"], dtype=float)
    return {str(L["bus"][int(np.argmax(p))]): float(fraction * p[p > 0].sum())}


def _prediction(grid: Grid, model: str, load_steps_pu: Mapping, trips, t, at_limit):
    """netcoh's response of ``model`` to the event, machines of the post-event grid."""
    g = grid
    for mid in trips:
        g = g.trip_machine(mid)
    if model == "swing_turbine":
        g = _an._drop_limited(g, at_limit)
    sysm = g.to_system(model=model, at_limit=at_limit) if model == "case" else \
        g.to_system(model=model)
    p_inj = {b: -float(p) for b, p in load_steps_pu.items()}
    q_inj = {}
    for ev in g.events:
        p_inj[ev["bus"]] = p_inj.get(ev["bus"], 0.0) - ev["p_pu"]
        k = list(grid.tables["machines"]["id"]).index(ev["machine"])
        q_inj[ev["bus"]] = q_inj.get(ev["bus"], 0.0) - \
            float(grid.tables["machines"]["q_mvar"][k]) / grid.base_mva
    if model == "case":
        u = _case.case_injection(g, p_inj, bus_q_pu=q_inj, losses="secant")
    else:
        u = g.injection_vector(p_inj, model=model)
    return sysm, step_response(sysm, u, t).outputs


def validate(case, load_steps_mw: Mapping | None = None, *, trips=(), fraction: float = 0.01,
             classical: bool = False, models=("case",), t_end_s: float = 20.0,
             t_step_s: float = 1 / 120, rocof_window_s: float = 0.5,
             at_limit: str = "upper") -> ValidationResult:
    """Compare ANDES's response to a load step or machine trips with netcoh's linear prediction.

    Parameters
    ----------
    case : str or path-like
        ANDES case (file or shipped name, e.g. ``"kundur/kundur_full.xlsx"``).
    load_steps_mw : mapping, optional
        Load increase per bus id (MW; positive = more load). Default when no ``trips`` are
        given: ``fraction`` of the total load at the bus with the largest load.
    trips : sequence of str
        Machine ids disconnected at the event (ANDES ``Toggle``; netcoh
        :meth:`Grid.trip_machine`, the machine's lost output as the input).
    fraction : float
        Step size relative to the total load for the default step (default 1 %).
    classical : bool
        Run ANDES's classical variant (GENROU -> GENCLS, no exciters/stabilisers) or the case
        as given (default).
    models : sequence of str
        :meth:`Grid.to_system <netcoh.grids.Grid.to_system>` models to predict with
        (``"case"``, ``"swing_turbine"``, ``"swing"``).
    t_end_s, t_step_s : float
        Simulated time after the event and ANDES's fixed step.
    rocof_window_s : float
        RoCoF window (see :func:`frequency_metrics`).
    at_limit : str
        Governors at a valve limit, see :func:`netcoh.grids.case_model.governor_nodal`.

    Returns
    -------
    ValidationResult
        ANDES's and netcoh's trajectories of the machines that stay connected.

    Examples
    --------
    >>> import netcoh as nc
    >>> step = default_load_step(nc.grids.from_andes("kundur/kundur_full.xlsx"))
    >>> {bus: round(p_mw, 2) for bus, p_mw in step.items()}   # 1 % of the load, largest bus
    {'8': 27.34}
    >>> res = validate("kundur/kundur_full.xlsx")         # doctest: +SKIP
    >>> res.summary()                                     # doctest: +SKIP
    """
    if not (isinstance(fraction, (int, float)) and 0 < fraction < 1):
        raise InputError(f"`fraction` must be in (0, 1), got {fraction!r}")
    trips = tuple(str(x) for x in trips)
    if load_steps_mw is None:
        load_steps_mw = {} if trips else default_load_step(_an.from_andes(case), fraction)
    grid, t, w, info = simulate_andes(case, load_steps_mw, trips=trips, classical=classical,
                                      t_end_s=t_end_s, t_step_s=t_step_s)
    steps_pu = {b: p / grid.base_mva for b, p in load_steps_mw.items()}
    tic = time.perf_counter()
    preds = {}
    for model in models:
        sysm, preds[model] = _prediction(grid, model, steps_pu, trips, t, at_limit)
    info["netcoh_s"] = time.perf_counter() - tic
    info["asymmetry_K"] = ac_network(grid).asymmetry
    M = grid.tables["machines"]
    on = np.flatnonzero(M["in_service"])
    keep = [k for k, i in enumerate(M["id"][on]) if str(i) not in trips]
    return ValidationResult(case=str(case), classical=classical, load_steps_mw=load_steps_mw,
                            f_hz=grid.f_hz, t=t, labels=tuple(M["id"][on][keep]),
                            inertia_s=M["inertia_s"][on][keep], andes=w[:, keep],
                            predictions=preds, settings=info, rocof_window_s=rocof_window_s,
                            trips=trips)
