"""Frequency metrics of one contingency from the exact response to its worst disturbance.

Given the modal model ``S(t) = S0 + Re(P diag(phi(t)) Q)`` of the post-contingency network
(:func:`netcoh.analysis.nadir.build_modal_model`, the one the nadir search used) and the worst
step ``u`` found by :func:`~netcoh.analysis.nadir.worst_case_nadir`, every quantity below is
the exact linear response, evaluated where it is needed (no ODE solver):

* centre-of-inertia (COI) frequency ``sum_i w_i omega_i`` with ``w_i = m_i / sum m`` (``m_i
  = 2 H_i S_i / S_base``, i.e. weights ``H_i S_i``); its nadir (grid of 20 ms, refined
  between grid points, and the steady state) and time;
* quasi-steady-state deviation: the COI at ``t = inf`` (all buses share it);
* RoCoF as grid codes measure it, the frequency change over a sliding 500 ms window divided
  by 0.5 s: of the COI (window start every 20 ms) and of every bus (every 50 ms), the
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

__all__ = ["frequency_metrics", "ROCOF_WINDOW_S"]

#: RoCoF measurement window of grid codes (s).
ROCOF_WINDOW_S = 0.5


def _phi_steps(model, t0: float, dt: float, count: int, C=None) -> np.ndarray:
    """``model.phi(t) @ C`` on ``t = t0 + dt * arange(count)`` for ``C`` (K, m), complex;
    ``phi(t)`` (count, K) itself without ``C``.

    For sums of exponentials ``phi_k(t) = res_k exp(p_k t) + const_k`` (one pole per
    mode), ``exp(p (a B + b) dt) = exp(p a B dt) exp(p b dt)`` with ``B ~ sqrt(count)``:
    ``exp`` on ``2 sqrt(count)`` points, and for each column of ``C`` one product of the
    ``(A, K)`` and ``(K, B)`` factors, so ``phi(t)`` itself (count, K) is not formed. Other
    models (or a mismatch with ``model.phi`` at the first points) use ``model.phi``.
    """
    t = t0 + dt * np.arange(count)
    poles, res, const = (getattr(model, k, None) for k in ("poles", "res", "const"))
    if poles is None or res is None or const is None or np.ndim(poles) != 2 \
            or np.shape(poles)[1] != 1 or np.shape(res) != np.shape(poles) or count < 16:
        return model.phi(t) if C is None else model.phi(t) @ C
    p, r = poles[:, 0], res[:, 0]
    B = int(np.ceil(np.sqrt(count)))
    A = -(-count // B)
    inner = np.exp(np.outer(p, dt * np.arange(B)))                         # (K, B)
    outer = np.exp(np.outer(t0 + dt * B * np.arange(A), p)) * r[None, :]     # (A, K)
    if C is None:
        out = (outer[:, None, :] * inner.T[None, :, :]).reshape(-1, p.size)[:count] + const[None, :]
        head = model.phi(t[:2])
    else:
        C = np.asarray(C)
        out = np.empty((A, B, C.shape[1]), dtype=complex)
        for j in range(C.shape[1]):                      # a few columns: one product each
            out[:, :, j] = (outer * C[:, j]) @ inner
        out = out.reshape(-1, C.shape[1])[:count] + (const @ C)[None, :]
        head = model.phi(t[:2]) @ C
    if not np.iscomplexobj(head):
        out = out.real
    if not np.allclose(out[:2], head, rtol=1e-12, atol=1e-12 * max(np.abs(head).max(), 1e-300)):
        return model.phi(t) if C is None else model.phi(t) @ C
    return out


def _peak(model, coef, s0, t: np.ndarray, y: np.ndarray, n_fine: int = 33):
    """Largest ``|y|`` on the grid, refined on a fine grid between its neighbours."""
    j = int(np.argmax(np.abs(y)))
    a, b = t[max(j - 1, 0)], t[min(j + 1, t.size - 1)]
    best_v, best_t = float(abs(y[j])), float(t[j])
    if b > a:
        tt = np.linspace(a, b, n_fine)
        yy = np.abs(np.real(model.phi(tt) @ coef) + s0)
        k = int(np.argmax(yy))
        if yy[k] > best_v:
            best_v, best_t = float(yy[k]), float(tt[k])
    return best_v, best_t


def _window_rocof(y: np.ndarray, dt: float, window: float) -> np.ndarray:
    """Largest ``|y(t + window) - y(t)| / window`` over window starts, per column."""
    k = int(round(window / dt))
    if y.shape[0] <= k:
        return np.abs(y[-1] - y[0]) / window
    return np.abs(y[k:] - y[:-k]).max(axis=0) / window


def frequency_metrics(system, model, u, *, bus_index: int, time_s: float,
                      hz_per_unit: float | None = None,
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
    window_s : float
        RoCoF window (s).

    Returns
    -------
    dict
        ``coi_nadir_hz``, ``coi_time_s`` (``inf`` when the COI only settles),
        ``rocof_hz_per_s`` (COI), ``local_rocof_hz_per_s``, ``rocof_bus`` (label),
        ``qss_hz``, and ``trajectory``: ``{"t_s", "coi_hz", "worst_bus_hz"}`` (deviations in
        Hz, 1-D float arrays of a few hundred samples: 20 ms steps over the first seconds,
        then geometric to the settling time).
    """
    u = np.asarray(u, dtype=float)
    scale = float(system.f_hz if hz_per_unit is None else hz_per_unit)
    w = np.asarray(system.inertia_weights, dtype=float)
    qu = model.Q @ u
    coef_c = (w @ model.P) * qu                    # COI = Re(phi(t) . coef_c) + w.S0.u
    coef_w = model.P[bus_index] * qu               # the worst bus
    s0u = None if model.S0 is None else model.S0 @ u
    s0_c = 0.0 if s0u is None else float(w @ s0u)
    s0_w = 0.0 if s0u is None else float(s0u[bus_index])
    pinf = model.phi_inf()
    with np.errstate(invalid="ignore"):
        coi_inf = float(np.real(np.sum(np.where(coef_c != 0, pinf * coef_c, 0.0)))) + s0_c
    decay = model.decay
    settle = 5.0 / decay if np.isfinite(decay) and decay > 0 else 60.0
    t_fin = float(time_s) if np.isfinite(time_s) else 0.0
    # one grid: 20 ms steps over the first seconds, then geometric to the settling time;
    # and every bus on 50 ms steps up to past the local nadir (at least 2 s)
    dt_u = 0.02
    t_u = np.arange(0.0, max(5.0, 2.0 * t_fin) + window_s + 1e-9, dt_u)
    t_end = float(np.clip(settle, 1.5 * t_u[-1], 1e4))
    t_geo = np.geomspace(t_u[-1], t_end, 120)[1:]
    t_c = np.concatenate([t_u, t_geo])
    t_l = np.arange(0.0, float(np.clip(1.5 * t_fin, 2.0, 10.0)) + window_s + 1e-9, 0.05)
    # the uniform grids by products of exponentials (same values to rounding)
    coefs = np.column_stack([coef_c, coef_w])
    Y_c = np.real(np.concatenate([_phi_steps(model, 0.0, dt_u, t_u.size, coefs),
                                  model.phi(t_geo) @ coefs]))
    y_c = Y_c[:, 0] + s0_c
    coi_v, coi_t = _peak(model, coef_c, s0_c, t_c, y_c)
    if np.isfinite(coi_inf) and abs(coi_inf) >= coi_v * (1 - 1e-9):
        coi_v, coi_t = abs(coi_inf), float("inf")
    rocof = float(_window_rocof(y_c[:t_u.size, None], dt_u, window_s)[0])
    y_l = model.shapes_product(_phi_steps(model, 0.0, 0.05, t_l.size) * qu[None, :])
    if s0u is not None:
        y_l = y_l + s0u[None, :]
    loc = _window_rocof(y_l, 0.05, window_s)
    return _pack_metrics(t_c, y_c, lambda keep: Y_c[keep, 1] + s0_w,
                        coi_v=coi_v, coi_t=coi_t, coi_inf=coi_inf, rocof=rocof, local=loc,
                        labels=system.labels, time_s=time_s, t_end=t_end, scale=scale)


def _pack_metrics(t_c, y_c, worst_bus, *, coi_v, coi_t, coi_inf, rocof, local, labels,
                 time_s, t_end, scale) -> dict:
    """The dict of :func:`frequency_metrics` from the computed pieces (p.u.; ``scale``: Hz
    per unit); the stored trajectory runs to three times the later nadir (at least 10 s),
    or to ``t_end`` when the COI only settles. ``worst_bus(keep)`` gives the worst bus's
    response on ``t_c[keep]``."""
    j = int(np.argmax(local))
    shown = [x for x in (time_s, coi_t) if np.isfinite(x)]
    t_show = t_end if not np.isfinite(coi_t) else float(np.clip(3.0 * max(shown), 10.0, t_end))
    keep = t_c <= t_show * (1 + 1e-12)
    traj = {"t_s": t_c[keep].copy(), "coi_hz": y_c[keep] * scale,
            "worst_bus_hz": worst_bus(keep) * scale}
    return {"coi_nadir_hz": coi_v * scale, "coi_time_s": coi_t, "rocof_hz_per_s": rocof * scale,
            "local_rocof_hz_per_s": float(local[j]) * scale, "rocof_bus": labels[j],
            "qss_hz": abs(coi_inf) * scale, "trajectory": traj}
