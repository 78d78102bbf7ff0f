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

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from .analysis.time import step_response
from .exceptions import InputError, NetcohTypeError, SolverError
from .grids import andes as _an
from .grids.grid import Grid
from .network.system import NetworkSystem

__all__ = ["ACNetwork", "ac_network", "build_system", "injection", "andes_variant",
           "simulate_andes", "frequency_metrics", "ValidationResult", "validate", "MODELS",
           "NETWORKS", "PQ_CONSTANT_POWER"]

MODELS = ("swing", "swing_turbine", "governor")
NETWORKS = ("ac", "lossless")
PQ_CONSTANT_POWER = {"p2p": 1.0, "p2i": 0.0, "p2z": 0.0, "q2q": 1.0, "q2i": 0.0, "q2z": 0.0}
_DROP_GROUPS = ("TimedEvent",)
_CLASSICAL_DROP = ("Exciter", "PSS")


# ---------------------------------------------------------------------------------------
# Full AC linearisation of a grid (machines behind r_a + j x'_d, constant-PQ loads)
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ACNetwork:
    """Linearised AC network of a grid at its operating point.

    Attributes
    ----------
    sensitivity : ndarray (nm, nm)
        ``K = dPe/d(delta)`` (p.u. power per rad, case base), zero row sums, non-symmetric when
        the network has losses.
    injection : ndarray (nm, nb)
        ``dPe/dP_bus``: change of machine electrical outputs per unit *injection* at each bus.
    laplacian : ndarray (nm, nm)
        ``Omega_0 (K + K^T)/2`` with exact zero row sums (``L_B`` convention of the grids).
    asymmetry : float
        ``||K - K^T||_max / ||K||_max``.
    machines, buses : tuple of str
    """

    sensitivity: np.ndarray
    injection: np.ndarray
    laplacian: np.ndarray
    asymmetry: float
    machines: tuple
    buses: tuple


def _ybus(grid: Grid, nm: int, bidx: dict) -> np.ndarray:
    T, base = grid.tables, grid.base_mva
    R = T["branches"]
    N = nm + len(bidx)
    Y = np.zeros((N, N), dtype=complex)
    on = R["in_service"]
    f = nm + np.array([bidx[b] for b in R["from_bus"][on]], dtype=int)
    t = nm + np.array([bidx[b] for b in R["to_bus"][on]], dtype=int)
    ys = 1.0 / (R["r_pu"][on] + 1j * R["x_pu"][on])
    a = R["tap_ratio"][on] * np.exp(1j * np.radians(R["shift_deg"][on]))
    bc = 0.5j * R["b_pu"][on]
    np.add.at(Y, (f, f), (ys + bc) / np.abs(a) ** 2)
    np.add.at(Y, (t, t), ys + bc)
    np.add.at(Y, (f, t), -ys / np.conj(a))
    np.add.at(Y, (t, f), -ys / a)
    S = T["shunts"]
    if len(S["id"]):
        k = nm + np.array([bidx[b] for b in S["bus"]], dtype=int)
        np.add.at(Y, (k, k), (S["g_mw"] - 1j * S["b_mvar"]) / base)
    return Y


def ac_network(grid: Grid) -> ACNetwork:
    """Full AC linearisation (angles and voltage magnitudes) onto a grid's machines.

    Each in-service machine is an EMF ``E' = V + (r_a + j x'_d) conj(S/V)`` of constant
    magnitude (classical model; ``r_a`` from ``provenance["andes"]["machines"]`` when the grid
    came from ANDES, else 0); loads and shunts are constant power / constant admittance. The
    bus angles and voltage magnitudes are eliminated from the linearised power-flow equations
    (``Delta P = Delta Q = 0`` at buses without an injection change), which gives the machines'
    electrical-power sensitivities to their rotor angles and to bus injections.

    Examples
    --------
    >>> import netcoh as nc
    >>> from netcoh.validate import ac_network
    >>> net = ac_network(nc.grids.load("kundur", warn=False))
    >>> net.laplacian.shape, bool(abs(net.laplacian.sum(axis=1)).max() < 1e-8)
    ((4, 4), True)
    """
    if not isinstance(grid, Grid):
        raise NetcohTypeError(f"`grid` must be a Grid, got {type(grid).__name__}")
    T, base = grid.tables, grid.base_mva
    B, M = T["buses"], T["machines"]
    bus_ids = tuple(B["id"])
    bidx = {b: i for i, b in enumerate(bus_ids)}
    mon = np.flatnonzero(M["in_service"])
    nm, nb = mon.size, len(bus_ids)
    xd = M["transient_reactance_pu"][mon]
    if not np.all(np.isfinite(xd)):
        raise InputError("ac_network needs `transient_reactance_pu` for every machine")
    vm, va = B["vm_pu"], np.radians(B["va_deg"])
    if not (np.all(np.isfinite(vm)) and np.all(np.isfinite(va))):
        raise InputError("grid has no AC operating point; call grid.solve_power_flow()")
    ra_of = {r["id"]: r["ra_pu"] for r in grid.provenance.get("andes", {}).get("machines", [])}
    ra = np.array([ra_of.get(str(i), 0.0) for i in M["id"][mon]])
    V = vm * np.exp(1j * va)
    mb = np.array([bidx[b] for b in M["bus"][mon]], dtype=int)
    z = ra + 1j * xd
    S = (M["p_mw"][mon] + 1j * M["q_mvar"][mon]) / base
    E = V[mb] + z * np.conj(S / V[mb])
    Y = _ybus(grid, nm, bidx)
    m = np.arange(nm)
    y = 1.0 / z
    Y[m, m] += y
    np.add.at(Y, (nm + mb, nm + mb), y)
    Y[m, nm + mb] -= y
    Y[nm + mb, m] -= y
    Vall = np.concatenate([E, V])
    I = Y @ Vall
    dS_da = 1j * Vall[:, None] * np.conj(np.diag(I) - Y * Vall[None, :])
    U = Vall / np.abs(Vall)
    dS_dm = Vall[:, None] * np.conj(Y * U[None, :]) + np.diag(np.conj(I) * U)
    b = np.arange(nm, nm + nb)
    Jmm = dS_da[np.ix_(m, m)].real
    Jmx = np.hstack([dS_da[np.ix_(m, b)].real, dS_dm[np.ix_(m, b)].real])
    Jbm = np.vstack([dS_da[np.ix_(b, m)].real, dS_da[np.ix_(b, m)].imag])
    Jbx = np.block([[dS_da[np.ix_(b, b)].real, dS_dm[np.ix_(b, b)].real],
                    [dS_da[np.ix_(b, b)].imag, dS_dm[np.ix_(b, b)].imag]])
    rhs = np.hstack([Jbm, np.eye(2 * nb)[:, :nb]])
    try:
        X = np.linalg.solve(Jbx, rhs)
    except np.linalg.LinAlgError as exc:
        raise SolverError("singular network Jacobian at the operating point (islanded buses "
                          "or voltage collapse)") from exc
    K = Jmm - Jmx @ X[:, :nm]
    inj = Jmx @ X[:, nm:]
    scale = max(np.abs(K).max(), 1e-300)
    Ls = 0.5 * (K + K.T)
    Ls = Ls - np.diag(np.diag(Ls))
    Ls = Ls - np.diag(Ls.sum(axis=1))
    Ls *= 2.0 * np.pi * grid.f_hz
    for a in (K, inj, Ls):
        a.setflags(write=False)
    return ACNetwork(K, inj, Ls, float(np.abs(K - K.T).max() / scale),
                     tuple(str(i) for i in M["id"][mon]), bus_ids)


def build_system(grid: Grid, model: str = "governor", network: str = "ac", *,
                 at_limit: str = "upper") -> NetworkSystem:
    """netcoh's model of an ANDES grid: nodal ``model`` (see :data:`MODELS`) on a ``network``.

    ``network="ac"`` uses :func:`ac_network`'s symmetrised Laplacian, ``"lossless"`` the grid's
    own :meth:`~netcoh.grids.Grid.to_system` (Kron-reduced onto the machines).
    """
    if model not in MODELS:
        raise InputError(f"`model` must be one of {MODELS}, got {model!r}")
    if network not in NETWORKS:
        raise InputError(f"`network` must be one of {NETWORKS}, got {network!r}")
    sysm = _an.to_system(grid, model, at_limit=at_limit)
    if network == "ac":
        net = ac_network(grid)
        if tuple(sysm.labels) != net.machines:
            raise InputError("machine order of the AC linearisation differs from the grid's")
        sysm = dataclasses.replace(sysm, laplacian=net.laplacian)
    return sysm


def injection(grid: Grid, load_steps_pu: Mapping, network: str = "ac") -> np.ndarray:
    """Input ``u`` (p.u., machine nodes) of load increases ``{bus: delta_p_pu}``.

    ``network="ac"``: ``u = -dPe = dPe/dP_bus @ delta_p`` (marginal losses included);
    ``"lossless"``: :meth:`~netcoh.grids.Grid.injection_vector` of ``-delta_p``.
    """
    if network == "lossless":
        return grid.injection_vector({b: -float(p) for b, p in load_steps_pu.items()})
    if network != "ac":
        raise InputError(f"`network` must be one of {NETWORKS}, got {network!r}")
    net = ac_network(grid)
    pos = {b: k for k, b in enumerate(net.buses)}
    dp = np.zeros(len(net.buses))
    for b, p in load_steps_pu.items():
        if str(b) not in pos:
            raise InputError(f"`load_steps` names an unknown bus {b!r}")
        dp[pos[str(b)]] += float(p)
    return net.injection @ dp


# ---------------------------------------------------------------------------------------
# ANDES side
# ---------------------------------------------------------------------------------------
def andes_variant(case, *, classical: bool, step_buses=()):
    """A fresh, set-up ``andes.System`` of ``case`` prepared for a load-step comparison.

    Copies every device through ANDES's own ``System.add`` (the case file is read by
    ``andes.load``), drops timed events, with ``classical=True``
    turns every ``GENROU`` into a ``GENCLS`` with the same inertia, damping, ``x'_d`` and
    ``r_a`` and drops exciters and stabilisers, and adds a zero ``PQ`` load at each step bus
    that has none.
    """
    andes = _an._andes()
    src = _an.load_andes(case, setup=False)
    ss = andes.System(default_config=True, no_output=True)
    has_pq = set()
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
    for b in step_buses:
        if str(b) not in has_pq:
            bus = next(x for x in src.Bus.idx.v if str(x) == str(b))
            ss.add("PQ", {"idx": f"netcoh_step_{b}", "bus": bus, "p0": 0.0, "q0": 0.0})
    if not ss.setup():
        raise SolverError(f"{case}: ANDES setup of the comparison variant failed")
    for k, v in PQ_CONSTANT_POWER.items():
        setattr(ss.PQ.config, k, v)
    return ss


def _run_step(case, load_steps_mw, classical, t_end_s, t_step_s, t_event_s):
    buses = [str(b) for b in load_steps_mw]
    ss = andes_variant(case, classical=classical, step_buses=buses)
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


def simulate_andes(case, load_steps_mw: Mapping, *, classical: bool = True,
                   t_end_s: float = 10.0, t_step_s: float = 1 / 120, t_event_s: float = 1.0):
    """ANDES load-step run: returns ``(grid, t, omega_dev, info)``.

    ``grid`` is :func:`~netcoh.grids.andes.from_andes` of the simulated system at its power-flow
    operating point (before the run); ``t`` (s, from the step) and ``omega_dev`` (p.u., one
    column per machine in the grid's machine order, deviation from the pre-step value).

    ANDES's fixed-step Newton iteration occasionally fails at one particular step size
    (ieee39_full with constant-power loads stops at t = 1.008 s with h = 1/120 s but runs with
    1/100 or 1/240 s); the run is then repeated with ``0.8 h`` and ``0.5 h`` and the step used
    is reported in ``info["t_step_s"]``.
    """
    tic = time.perf_counter()
    tried = []
    for h in (t_step_s, 0.8 * t_step_s, 0.5 * t_step_s):
        ss, grid = _run_step(case, load_steps_mw, classical, t_end_s, h, t_event_s)
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
            "classical": classical,
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
        netcoh step responses, keyed ``"<model>/<network>"``.
    settings : mapping
        ANDES version, step size used, load conversion, ANDES wall time ``wall_s`` (time-domain
        runs) and netcoh's ``netcoh_s`` (all predictions), ``asymmetry_K`` of the AC network.
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
        return -1.0 if sum(self.load_steps_mw.values()) >= 0 else 1.0

    def to_frame(self):
        """One row per model and node (machines and ``"COI"``) with metrics and errors.

        Errors are relative: ``nadir_err = |nadir_netcoh - nadir_andes| / |nadir_andes|``,
        ``rocof_err`` likewise, ``traj_err = max_t |y_netcoh - y_andes| / max_t |y_andes|``
        (over the simulated window).
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
                    "traj_err": traj[j]})
        return pd.DataFrame(rows)

    def summary(self):
        """Per model: worst machine nadir / trajectory error, COI nadir / RoCoF / trajectory error."""
        df = self.to_frame()
        df["t_nadir_diff_s"] = (df.t_nadir_s_netcoh - df.t_nadir_s_andes).abs()
        mach = df[df.node != "COI"].groupby("model", sort=False)
        coi = df[df.node == "COI"].set_index("model")
        out = mach.agg(max_nadir_err=("nadir_err", "max"), max_traj_err=("traj_err", "max"),
                       max_t_nadir_diff_s=("t_nadir_diff_s", "max"))
        out["coi_nadir_err"] = coi["nadir_err"]
        out["coi_rocof_err"] = coi["rocof_err"]
        out["coi_traj_err"] = coi["traj_err"]
        out.insert(0, "case", self.case)
        out.insert(1, "machines", "GENCLS" if self.classical else "detailed")
        return out.reset_index()

    def plot(self, path=None, models=None):
        """Overlay ANDES (solid) and netcoh (dashed) per machine, plus the COI; save to ``path``."""
        import matplotlib.pyplot as plt

        models = list(models or [k for k in self.predictions if k.startswith("governor/")]
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
    """``{bus: fraction * total load (MW)}`` at the bus with the largest load."""
    L = grid.tables["loads"]
    if not len(L["id"]):
        raise InputError(f"grid {grid.name!r} has no loads; give `load_steps_mw`")
    p = np.asarray(L["p_mw"], dtype=float)
    return {str(L["bus"][int(np.argmax(p))]): float(fraction * p[p > 0].sum())}


def validate(case, load_steps_mw: Mapping | None = None, *, fraction: float = 0.01,
             classical: bool = True, models=MODELS, networks=NETWORKS,
             t_end_s: float = 10.0, t_step_s: float = 1 / 120, rocof_window_s: float = 0.5,
             at_limit: str = "upper") -> ValidationResult:
    """Compare ANDES's response to a load step with netcoh's linear prediction.

    Parameters
    ----------
    case : str or path-like
        ANDES case (file or shipped name, e.g. ``"kundur/kundur_full.xlsx"``).
    load_steps_mw : mapping, optional
        Load increase per bus id (MW; positive = more load). Default: ``fraction`` of the total
        load at the bus with the largest load.
    fraction : float
        Step size relative to the total load for the default step (default 1 %).
    classical : bool
        Run ANDES's classical variant (GENROU -> GENCLS, no exciters/stabilisers) (default) or
        the case as given.
    models, networks : sequence of str
        netcoh nodal models (:data:`MODELS`) and network linearisations (:data:`NETWORKS`) to
        predict with; every combination is computed.
    t_end_s, t_step_s : float
        Simulated time after the step and ANDES's fixed step.
    rocof_window_s : float
        RoCoF window (see :func:`frequency_metrics`).
    at_limit : str
        Governors at a valve limit, see :func:`netcoh.grids.andes.governor_nodal`.

    Returns
    -------
    ValidationResult
    """
    if not (isinstance(fraction, (int, float)) and 0 < fraction < 1):
        raise InputError(f"`fraction` must be in (0, 1), got {fraction!r}")
    if load_steps_mw is None:
        g0 = _an.from_andes(case)
        load_steps_mw = default_load_step(g0, fraction)
    grid, t, w, info = simulate_andes(case, load_steps_mw, classical=classical,
                                      t_end_s=t_end_s, t_step_s=t_step_s)
    steps_pu = {b: p / grid.base_mva for b, p in load_steps_mw.items()}
    tic = time.perf_counter()
    preds = {}
    for net in networks:
        u = injection(grid, steps_pu, net)
        for model in models:
            sysm = build_system(grid, model, net, at_limit=at_limit)
            preds[f"{model}/{net}"] = step_response(sysm, u, t).outputs
    M = grid.tables["machines"]
    on = M["in_service"]
    info["netcoh_s"] = time.perf_counter() - tic
    info["asymmetry_K"] = ac_network(grid).asymmetry
    return ValidationResult(case=str(case), classical=classical, load_steps_mw=load_steps_mw,
                            f_hz=grid.f_hz, t=t, labels=tuple(M["id"][on]),
                            inertia_s=M["inertia_s"][on], andes=w, predictions=preds,
                            settings=info, rocof_window_s=rocof_window_s)
