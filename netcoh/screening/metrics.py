"""Frequency metrics of one contingency from the exact response to its worst disturbance.

Given the modal model ``S(t) = S0 + Re(P diag(phi(t)) Q)`` of the post-contingency network
(:func:`netcoh.analysis.nadir.build_modal_model`, the one the nadir search used) and the worst
step ``u`` found by :func:`~netcoh.analysis.nadir.worst_case_nadir`, every quantity below is
the exact linear response, evaluated where it is needed (no ODE solver):

* centre-of-inertia (COI) frequency ``sum_i w_i omega_i`` with ``w_i = m_i / sum m`` (``m_i
  = 2 H_i S_i / S_base``, i.e. weights ``H_i S_i``); its nadir (grid of 10 ms, refined by
  Brent's method, and the steady state) and time;
* quasi-steady-state deviation: the COI at ``t = inf`` (all buses share it);
* RoCoF as grid codes measure it, the frequency change over a sliding 500 ms window divided
  by 0.5 s: of the COI (window start every 10 ms) and of every bus (every 50 ms), the
  largest magnitude;
* a stored trajectory of the COI and of the worst bus (a few hundred samples).

All values are magnitudes in Hz (a dip and a rise count alike); the trajectory keeps signs.

Examples
--------
>>> import numpy as np, netcoh as nc
>>> from netcoh.analysis.nadir import build_modal_model
>>> sys = nc.NetworkSystem.from_laplacian(50 * nc.laplacian.complete(3),
...                                       nodal=nc.nodal.swing([2.0, 4.0, 6.0], 1.0), f_hz=50.0)
>>> model, _ = build_modal_model(sys)
>>> m = frequency_metrics(sys, model, np.array([-0.1, 0.0, 0.0]), bus_index=0, time_s=0.2)
>>> round(m["qss_hz"], 6)                       # 0.1 p.u. / (sum d = 3) * 50 Hz
1.666667
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar

__all__ = ["frequency_metrics", "ROCOF_WINDOW_S"]

#: RoCoF measurement window of grid codes (s).
ROCOF_WINDOW_S = 0.5


def _combo(model, a: np.ndarray, u: np.ndarray):
    """``t -> a . S(t) u`` (vectorised in ``t``) and its value at infinity."""
    coef = (a @ model.P) * (model.Q @ u)
    s0 = 0.0 if model.S0 is None else float(a @ model.S0 @ u)

    def f(t):
        return np.real(model.phi(np.atleast_1d(np.asarray(t, dtype=float))) @ coef) + s0

    pinf = model.phi_inf()
    with np.errstate(invalid="ignore"):
        at_inf = float(np.real(np.sum(np.where(coef != 0, pinf * coef, 0.0)))) + s0
    return f, at_inf


def _peak(f, t: np.ndarray, y: np.ndarray):
    """Largest ``|f|`` on the grid, refined by Brent between the neighbours: ``(value, time)``."""
    j = int(np.argmax(np.abs(y)))
    a, b = t[max(j - 1, 0)], t[min(j + 1, t.size - 1)]
    best_v, best_t = float(abs(y[j])), float(t[j])
    if b > a:
        res = minimize_scalar(lambda x: -abs(float(f(x)[0])), bounds=(a, b), method="bounded",
                              options={"xatol": 1e-6})
        if -res.fun > best_v:
            best_v, best_t = float(-res.fun), float(res.x)
    return best_v, best_t


def _window_rocof(y: np.ndarray, dt: float, window: float) -> np.ndarray:
    """Largest ``|y(t + window) - y(t)| / window`` over window starts, per column."""
    k = int(round(window / dt))
    if y.shape[0] <= k:
        return np.abs(y[-1] - y[0]) / window
    return np.abs(y[k:] - y[:-k]).max(axis=0) / window


def frequency_metrics(system, model, u, *, bus_index: int, time_s: float,
                      hz_per_unit: float | None = None, n_samples: int = 301,
                      window_s: float = ROCOF_WINDOW_S) -> dict:
    """COI nadir, quasi-steady state, COI and local RoCoF, and trajectories under step ``u``.

    Parameters
    ----------
    system : NetworkSystem
        The post-contingency network (its ``inertia_weights`` give the COI).
    model : ModalModel
        Its modal model (from :func:`~netcoh.analysis.nadir.build_modal_model`).
    u : ndarray (n,)
        The step injection (p.u.).
    bus_index : int
        The worst bus (its trajectory is stored).
    time_s : float
        Time of the worst local nadir (``inf``: the settled value); sets the horizons.
    hz_per_unit : float, optional
        Hz per unit of the output; default ``system.f_hz`` (outputs in p.u.).
    n_samples : int
        Samples of the stored trajectories.
    window_s : float
        RoCoF window (s).

    Returns
    -------
    dict
        ``coi_nadir_hz``, ``coi_time_s`` (``inf`` when the COI only settles),
        ``rocof_hz_per_s`` (COI), ``local_rocof_hz_per_s``, ``rocof_bus`` (label),
        ``qss_hz``, and ``trajectory``: ``{"t_s", "coi_hz", "worst_bus_hz"}`` (deviations in
        Hz, 1-D float arrays).
    """
    u = np.asarray(u, dtype=float)
    scale = float(system.f_hz if hz_per_unit is None else hz_per_unit)
    if not np.isfinite(scale):
        scale = float("nan")
    w = np.asarray(system.inertia_weights, dtype=float)
    coi, coi_inf = _combo(model, w, u)
    e = np.zeros(system.n)
    e[bus_index] = 1.0
    worst, _ = _combo(model, e, u)
    decay = model.decay
    settle = 5.0 / decay if np.isfinite(decay) and decay > 0 else 60.0
    t_fin = float(time_s) if np.isfinite(time_s) else 0.0
    # COI on a 10 ms grid over the first seconds, then geometric to the settling time
    t_fine = np.arange(0.0, max(5.0, 2.0 * t_fin) + window_s + 1e-9, 0.01)
    t_end = float(np.clip(settle, t_fine[-1] * 1.5, 1e4))
    t_c = np.concatenate([t_fine, np.geomspace(t_fine[-1], t_end, 200)[1:]])
    y_c = coi(t_c)
    coi_v, coi_t = _peak(coi, t_c, y_c)
    if np.isfinite(coi_inf) and abs(coi_inf) >= coi_v * (1 - 1e-9):
        coi_v, coi_t = abs(coi_inf), float("inf")
    rocof = float(_window_rocof(y_c[:t_fine.size, None], 0.01, window_s)[0])
    # every bus: windows starting every 50 ms, up to past the nadir (at least 2 s)
    t_l = np.arange(0.0, float(np.clip(1.5 * t_fin, 2.0, 10.0)) + window_s + 1e-9, 0.05)
    y_l = model.response(u, t_l)
    loc = _window_rocof(y_l, 0.05, window_s)
    j = int(np.argmax(loc))
    # stored trajectories: long enough for the COI and the local nadir to show
    shown = [x for x in (time_s, coi_t) if np.isfinite(x)]
    t_show = float(np.clip(3.0 * max(shown, default=0.0), 10.0, 600.0))
    if not np.isfinite(coi_t):
        t_show = float(np.clip(settle, 10.0, 600.0))
    t_s = np.linspace(0.0, t_show, int(n_samples))
    traj = {"t_s": t_s, "coi_hz": coi(t_s) * scale, "worst_bus_hz": worst(t_s) * scale}
    return {"coi_nadir_hz": coi_v * scale, "coi_time_s": coi_t, "rocof_hz_per_s": rocof * scale,
            "local_rocof_hz_per_s": float(loc[j]) * scale, "rocof_bus": system.labels[j],
            "qss_hz": abs(coi_inf) * scale, "trajectory": traj}
