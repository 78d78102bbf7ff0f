"""AC power flow for inline cases: Newton-Raphson on the MATPOWER/pandapower branch model.

Cases whose topology comes from pandapower are solved by ``pandapower.runpp`` (see
:mod:`netcoh.grids.pp_bridge`); inline JSON cases (e.g. ``kundur``) and re-solved edited
grids use this solver, which uses the same pi-model (series ``r + jx``, total charging
``b``, off-nominal tap ``t`` and phase shift on the from side) and is checked against
``pandapower.runpp`` in the test suite. ANDES cases take ANDES's own power flow.

Why not ``pandapower.runpp`` here as well: the tables hold no reactive limits (the case
formats netcoh reads do not carry them), so pandapower's Q-limit enforcement would change
nothing, and a solve through pandapower (building a net from the tables, ``runpp``) was
measured about 5 times slower than this solver on the IEEE 39-bus grid (843 ms against
174 ms per solve, ``runpp`` alone without the conversion, numba off, shared 2-core machine).

Examples
--------
>>> import numpy as np
>>> Y = make_ybus(2, np.array([0]), np.array([1]), np.array([0.0]), np.array([0.1]),
...               np.zeros(1), np.ones(1), np.zeros(1))
>>> v = newton_raphson(Y, np.array([0, -0.5 + 0j]), np.array([1.0, 1.0]),
...                    slack=np.array([0]), pv=np.array([], int))
>>> round(float(np.degrees(np.angle(v[1]))), 3)
-2.87
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..exceptions import SolverError

__all__ = ["make_ybus", "tables_ybus", "newton_raphson"]


def make_ybus(nb, f, t, r, x, b, tap, shift_deg, gs=None, bs=None):
    """Sparse bus admittance matrix (per unit) of in-service branches and bus shunts."""
    ys = 1.0 / (r + 1j * x)
    tc = tap * np.exp(1j * np.radians(shift_deg))
    ytt = ys + 0.5j * b
    yff = ytt / (tap * tap)
    yft = -ys / np.conj(tc)
    ytf = -ys / tc
    rows = np.concatenate([f, t, f, t])
    cols = np.concatenate([f, t, t, f])
    vals = np.concatenate([yff, ytt, yft, ytf])
    Y = sp.coo_matrix((vals, (rows, cols)), shape=(nb, nb)).tocsr()
    if gs is not None:
        Y = Y + sp.diags(gs + 1j * bs)
    return Y.tocsr()


def tables_ybus(tables, base_mva: float):
    """Bus admittance matrix of a grid's tables (in-service branches and bus shunts).

    Returns ``(Y, bidx, f, t)``: the sparse ``Y`` (per unit on ``base_mva``), the position of
    each bus id, and the from/to bus positions of the in-service branches.
    """
    B, R, Sh = tables["buses"], tables["branches"], tables["shunts"]
    nb = len(B["id"])
    bidx = {b: i for i, b in enumerate(B["id"])}
    on = np.asarray(R["in_service"], dtype=bool)
    f = np.array([bidx[b] for b in R["from_bus"][on]], dtype=int)
    t = np.array([bidx[b] for b in R["to_bus"][on]], dtype=int)
    gs, bs = np.zeros(nb), np.zeros(nb)
    if len(Sh["id"]):
        ix = [bidx[b] for b in Sh["bus"]]
        np.add.at(gs, ix, Sh["g_mw"] / base_mva)
        np.add.at(bs, ix, Sh["b_mvar"] / base_mva)
    Y = make_ybus(nb, f, t, R["r_pu"][on], R["x_pu"][on], R["b_pu"][on], R["tap_ratio"][on],
                  R["shift_deg"][on], gs, bs)
    return Y, bidx, f, t


def newton_raphson(Y, s_bus, v0, *, slack, pv, tol=1e-9, max_iter=30):
    """Solve the AC power flow; return complex bus voltages.

    Parameters
    ----------
    Y : sparse complex matrix
        Bus admittance matrix (p.u.).
    s_bus : ndarray of complex
        Specified net injections ``P + jQ`` (p.u.); Q ignored at PV and slack buses.
    v0 : ndarray of complex or float
        Start voltages; magnitudes at PV/slack buses are held, the slack angle too.
    slack, pv : ndarray of int
        Slack and PV bus indices (all other buses are PQ).

    Raises
    ------
    SolverError
        If the mismatch does not fall below ``tol`` within ``max_iter`` iterations.
    """
    nb = Y.shape[0]
    v = np.asarray(v0, dtype=complex).copy()
    pq = np.setdiff1d(np.arange(nb), np.concatenate([slack, pv]))
    pvpq = np.concatenate([pv, pq])
    for _ in range(max_iter):
        mis = v * np.conj(Y @ v) - s_bus
        F = np.concatenate([mis[pvpq].real, mis[pq].imag])
        if F.size == 0 or np.max(np.abs(F)) < tol:
            return v
        ibus = Y @ v
        dS_dVa = 1j * sp.diags(v) @ np.conj(sp.diags(ibus) - Y @ sp.diags(v))
        vn = v / np.abs(v)
        dS_dVm = sp.diags(v) @ np.conj(Y @ sp.diags(vn)) + sp.diags(np.conj(ibus) * vn)
        dS_dVa, dS_dVm = sp.csr_matrix(dS_dVa), sp.csr_matrix(dS_dVm)
        J = sp.bmat([[dS_dVa[pvpq][:, pvpq].real, dS_dVm[pvpq][:, pq].real],
                     [dS_dVa[pq][:, pvpq].imag, dS_dVm[pq][:, pq].imag]]).tocsc()
        try:
            dx = spla.spsolve(J, -F)
        except RuntimeError as exc:  # pragma: no cover - singular Jacobian
            raise SolverError(f"AC power flow: singular Jacobian ({exc})") from exc
        va = np.angle(v)
        vm = np.abs(v)
        va[pvpq] += dx[: pvpq.size]
        vm[pq] += dx[pvpq.size:]
        v = vm * np.exp(1j * va)
    raise SolverError(f"AC power flow did not converge in {max_iter} iterations "
                      f"(max mismatch {np.max(np.abs(F)):.3g} p.u.); try flow='dc'")
