"""Worst-case nadir of a general linear model without an eigenvector basis.

The modal search needs ``A = W diag(mu) W^{-1}`` with a usable ``W``. The full linear model
of a large case can be stable yet nearly defective (equal time constants in chains of lags
give Jordan-like blocks; ``wecc_full``'s eigenvector condition number is about ``1e18``), and
:func:`~netcoh.analysis.modal_statespace.lti_modes` then refuses it. This module searches such
a model with the eigen-free search of :mod:`.nadir_timedomain` instead (grid table, Brent
refinement, bisection of every interval that could still beat the best): the rows of the
step-response matrix ``S(t) = D + C A^{-1}(e^{At} - I) B`` follow from the adjoint system.
A linear model's matrices are dense and small next to a network's sparse realisation, so
the adjoint is advanced by the exact step ``e^{A h}`` (computed once per step length) in the
coordinates of a Lyapunov function, where the adjoint state's norm never grows; that norm
bounds the rows' first and second derivatives on every step, which certifies the
supremum between samples as the Taylor terms do in :mod:`.nadir_timedomain`.

An automatic horizon (``horizon=None``) is covered window after window (continued from the
stored states; each ends where the decay of the bound so far predicts it suffices, between
1.25 and 2 times the time searched) until a bound of everything after the
last window falls below the worst value found. That bound needs no eigenvectors either
(:class:`LyapunovTail`): with ``Y`` the solution of the Lyapunov equation
``A^T Y + Y A = -I`` of the adjoint system (checked positive definite), ``||e^{A tau} z||_Y``
never grows, so each row's distance from its steady state after the window is bounded by
the ``Y``-norm of its adjoint state at the window's end, which the propagation already
holds.

Threshold flags are decided by each output's supremum, as on the time-domain path of
networks: every window passes the level to :func:`.timedomain_search`, which flags an
output when a value computed for it passes the level and clears it when the bounds of its
intervals are below it; with an automatic horizon the steady state and the tail bound
decide the time after the last window (:func:`_flags_after`).
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg as la

from .._util import readonly
from ..exceptions import AccuracyWarning
from .nadir_adjoint import AdjointRows
from .nadir_result import NadirResult, SearchTables, bus_summary
from .nadir_search import time_grid
from .nadir_sets import NormBall
from .nadir_timedomain import _unit_sup, input_map, timedomain_search
from .time import simulate_lti

__all__ = ["lti_timedomain_nadir", "LyapunovTail"]

#: longest automatic horizon (s), as the modal search's
_MAX_HORIZON_S = 1e4


class _Realised:
    """What :class:`~netcoh.analysis.nadir_adjoint.AdjointRows` reads of a network,
    for a general linear model: its realisation and number of outputs."""

    def __init__(self, model):
        self._real = model.realization()
        self.n = model.n

    def _build_realization(self, grounded: bool = False):
        return self._real


class _DenseRows(AdjointRows):
    """:class:`~netcoh.analysis.nadir_adjoint.AdjointRows` with dense products: a linear
    model's matrices are dense (its algebraic variables were eliminated), where BLAS beats
    sparse products and their per-call overhead."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.A = self.A.toarray()
        self.Bt = self.Bt.toarray()

    def _scaled(self, delta: float):
        return self.A * delta


def _lyapunov_factor(A):
    """``L`` with ``L L^T = Y``, ``A^T Y + Y A = -I``, or None when the computed ``Y`` is not
    positive definite or ``A^T Y + Y A`` not negative definite (Cholesky, to rounding).
    Then ``||L^T e^{A tau} z||`` never grows with ``tau``."""
    Y = la.solve_continuous_lyapunov(A.T, -np.eye(A.shape[0]))
    Y = 0.5 * (Y + Y.T)
    Res = A.T @ Y + Y @ A
    try:
        L = la.cholesky(Y, lower=True)
        la.cholesky(-0.5 * (Res + Res.T), lower=True)
    except la.LinAlgError:
        return None
    return L


class _ExpmRows(_DenseRows):
    """Adjoint rows advanced by the exact step ``e^{A h}`` (one product per step instead of
    a Taylor polynomial of degree about ``||A|| h``), in coordinates ``v = L^T z`` where
    ``L`` is the Lyapunov factor of :func:`_lyapunov_factor`: there ``||v||`` never grows,
    so on ``[a, a + h]`` (``r' = B v``, ``v' = A v``, ``u2 = sup ||u||_2`` over the set)

    ``||r''||_D <= ||B A||_2 ||v(a)|| u2``, ``||r'||_D <= min(||B||_2 ||v(a)|| u2,
    ||B v(a)||_D + h sup||r''||_D)``.

    These bounds are looser than the Taylor terms', so the search bisects more intervals
    near the worst value, but each step costs one product. Without a Lyapunov factor
    (:attr:`contractive` False) the Taylor steps are used."""

    def __init__(self, *args, set_sup2: float, **kwargs):
        super().__init__(*args, **kwargs)
        self._steps: dict[float, tuple] = {}
        L = _lyapunov_factor(self.A) if self.N else None
        self.contractive = L is not None
        if not self.contractive:
            return
        # v = L^T z: A -> L^T A L^-T, B -> B L^-T, z(0) -> L^T z(0)
        Linv_t = la.solve_triangular(L, np.eye(self.N), lower=True, check_finite=False).T
        self.A = L.T @ self.A @ Linv_t
        self.Bt = self.Bt @ Linv_t
        self._coef = None                       # B no longer picks states
        self.Z0 = L.T @ self.Z0.toarray()
        P = self.A
        self.norm1 = float(np.abs(P).sum(axis=0).max())
        d = []
        for p in range(2, 6):
            P = P @ self.A
            if p >= 4:
                d.append(float(np.abs(P).sum(axis=0).max()) ** (1.0 / p))
        self.alpha = min(self.norm1, max(d))
        self._scaled_cache = {}
        # B A^{-1} (r, N): the integral of a step is B A^{-1} (e^{A h} - I) v
        self._BAinv = la.solve(self.A.T, self.Bt.T, check_finite=False).T
        self._k2 = float(np.linalg.norm(self.Bt @ self.A, 2)) * set_sup2 * (1.0 + 1e-9)
        self._k1 = float(np.linalg.norm(self.Bt, 2)) * set_sup2 * (1.0 + 1e-9)

    def start(self, buses):
        if not self.contractive:
            return super().start(buses)
        buses = np.asarray(buses, dtype=int)
        return self.Z0[:, buses].copy(), np.ascontiguousarray(self.D[buses].T)

    def _step(self, h: float):
        """``(e^{A h}, B A^{-1}(e^{A h} - I))``, cached for the few step lengths in use."""
        out = self._steps.get(h)
        if out is None:
            if len(self._steps) > 32:
                self._steps.clear()
            E = la.expm(self.A * h)
            out = self._steps[h] = (E, self._BAinv @ (E - np.eye(self.N)))
        return out

    def advance(self, Z, R, h: float, bounds: bool = False):
        if not self.contractive or h <= 0 or not self.N:
            return super().advance(Z, R, h, bounds)
        if not bounds and float(h) not in self._steps:
            # a few columns over a short time (Brent's evaluations): the Taylor polynomial's
            # m s products of (N, b) cost less than the exponential's dozen of (N, N)
            m, sub = self._plan(float(h))
            if m * sub * Z.shape[1] < 10 * self.N:
                return super().advance(Z, R, h)
        E, BP = self._step(float(h))
        Zn = E @ Z
        Rn = R + BP @ Z
        if not bounds:
            return Zn, Rn
        w = np.sqrt(np.einsum("ij,ij->j", Z, Z))
        K2 = self._k2 * w
        K1 = np.minimum(self._k1 * w, self.termvalue(self.Bt @ Z) + h * K2)
        return Zn, Rn, np.array([self.F(R), self.F(Rn)]), K1[None], K2[None], float(h)


class _Resumed:
    """``rows`` whose start is the stored state at a later time (searching ``[a, b]``)."""

    def __init__(self, rows, Z, R):
        self._rows, self._Z, self._R = rows, Z, R
        self.Z0 = Z                     # the search's ordering of buses reads it

    def __getattr__(self, name):
        return getattr(self._rows, name)

    def start(self, buses):
        buses = np.asarray(buses, dtype=int)
        return self._Z[:, buses].copy(), np.ascontiguousarray(self._R[:, buses])


class LyapunovTail:
    """Bound of ``S(t) - S(inf)`` after a time ``a`` from the adjoint states at ``a``.

    In the coordinates of ``rows`` (:class:`~netcoh.analysis.nadir_adjoint.AdjointRows`:
    ``z' = A z``, ``r' = B z``, balanced), ``r_i(t) - r_i(inf) = B A^{-1} e^{A (t - a)} z_i(a)``.
    With ``Y = L L^T`` solving ``A^T Y + Y A = -I`` (checked positive definite, and
    ``A^T Y + Y A`` negative definite, by Cholesky), ``||L^T e^{A tau} z||`` never grows, so
    for every ``t >= a`` and ``u`` in the set

    ``|(r_i(t) - r_i(inf)) . u| <= ||L^T z_i(a)|| sup_u ||L^{-1} A^{-T} B^T u||``.

    Parameters
    ----------
    rows : AdjointRows
        The propagator (dense or sparse ``A`` and ``Bt``).

    Attributes
    ----------
    steady : ndarray (n, r)
        The rows of ``S(inf)`` (``r_i(0) - B A^{-1} z_i(0)``).
    ok : bool
        Whether the Lyapunov solution checked out (else :meth:`bound` is infinite).

    Examples
    --------
    >>> import control, numpy as np
    >>> from netcoh.analysis.lti import as_lti
    >>> from netcoh.analysis.nadir_sets import NormBall
    >>> m = as_lti(control.ss([[-1.0, 1.0], [0.0, -1.0]], [[0.0], [1.0]], [[1.0, 0.0]], [[0.0]]))
    >>> rows = _DenseRows(_Realised(m), value=NormBall(1.0, 2).value, unit_sup=1.0)
    >>> tail = LyapunovTail(rows)
    >>> tail.steady.round(12).tolist()                  # C (-A)^-1 B
    [[1.0]]
    >>> Z, R = rows.advance(*rows.start([0]), 3.0)     # |S(t) - S(inf)| = (1 + t) e^{-t}
    >>> bool((1 + 3.0) * np.exp(-3.0) <= tail.bound(Z, NormBall(1.0, 2))[0])
    True
    """

    def __init__(self, rows):
        A = rows.A.toarray() if hasattr(rows.A, "toarray") else np.asarray(rows.A)
        Bt = rows.Bt.toarray() if hasattr(rows.Bt, "toarray") else np.asarray(rows.Bt)
        Z0 = rows.Z0.toarray() if hasattr(rows.Z0, "toarray") else np.asarray(rows.Z0)
        N = A.shape[0]
        lu = la.lu_factor(A, check_finite=False)
        self.steady = (rows.D.T - Bt @ la.lu_solve(lu, Z0, check_finite=False)).T
        # coordinates where ||z|| never grows already (_ExpmRows): L = I
        self._L = np.eye(N) if getattr(rows, "contractive", False) else _lyapunov_factor(A)
        self.ok = self._L is not None
        if not self.ok:
            return
        # G = L^-1 A^-T B^T (N, r)
        self._G = la.solve_triangular(
            self._L, la.lu_solve(lu, Bt.T, trans=1, check_finite=False), lower=True,
            check_finite=False)

    def bound(self, Z, sset) -> np.ndarray:
        """Per bus (columns of ``Z``, the adjoint states at ``a``): an upper bound of
        ``sup_{t >= a} sup_u |(r_i(t) - r_i(inf)) . u|``."""
        if not self.ok:
            return np.full(Z.shape[1], np.inf)
        w = np.linalg.norm(self._L.T @ Z, axis=0)
        return w * _set_sup(sset, self._G) * (1.0 + 1e-9)      # rounding of the solves


def _set_sup(sset, G):
    """An upper bound of ``sup_z ||G z||_2`` over the set of ``z``."""
    if isinstance(sset, NormBall) and sset.p == 2:
        return sset.rho * float(np.linalg.norm(G, 2)) * (1.0 + 1e-12)
    # (G z)_j <= value(G_j) row by row
    return float(np.sqrt(np.sum(np.asarray(sset.value(G), dtype=float) ** 2))) * (1.0 + 1e-12)


def _next_end(a: float, prev, cur: float, goal: float) -> float:
    """End of the next window after ``[0, a]``: where the decay of a tail bound from
    ``prev = (a0, bound at a0)`` to ``cur`` (at ``a``) predicts it reaches ``goal`` (only
    the cost depends on it), between 1.25 and 2 times ``a``."""
    H = 2.0 * a
    if prev is not None and prev[1] > cur > goal > 0:
        rate = np.log(prev[1] / cur) / (a - prev[0])
        H = float(np.clip(a + 1.1 * np.log(cur / goal) / rate, 1.25 * a, H))
    return H


def _flags_after(rows, tail, sset, Z, R, a: float, steady, above, level: float, dt: float,
                 rtol: float, workers) -> np.ndarray:
    """The threshold flags of an automatic horizon, on all of ``t >= 0``.

    ``above`` holds the buses shown above ``level`` on ``[0, a]`` (the others were shown
    below it there, to ``rtol``); ``(Z, R)`` are the states at ``a``. A bus whose steady
    state exceeds ``level`` is above (its supremum is at least its limit). A bus is below
    when its steady state plus its tail bound after ``a`` is at most ``level (1 + rtol)``.
    The buses still open are searched in further windows, alone, each ending where the
    decay of their tail bounds predicts it suffices (at most twice the time searched),
    until every bus is decided, the tail bound is unavailable, or
    :data:`_MAX_HORIZON_S` is reached; a bus left open then is counted above (it could
    not be shown below).
    """
    above = above | (steady > level)
    lim = level * (1 + rtol)
    gap = lim - steady                  # > 0 for every bus not yet above
    bound = tail.bound(Z, sset)
    idx = np.flatnonzero(~above & (bound > gap))
    Z, R = Z[:, idx], R[:, idx]
    last = None                         # (time, tail bounds of every bus there)
    while idx.size and tail.ok and a < _MAX_HORIZON_S:
        # the open bus furthest from being ruled out sets the window's end
        cur = float(np.max(bound[idx] / gap[idx]))
        was = None if last is None else (last[0], float(np.max(last[1][idx] / gap[idx])))
        H = _next_end(a, was, cur, 1.0)
        tg = time_grid(dt, H - a, False)
        span = float(tg[-1])
        *_, hit = timedomain_search(_Resumed(rows, Z, R), idx.size, tg, rtol, 1,
                                    workers=workers, level=level, refine=False)
        above[idx[hit]] = True
        Z, R = rows.advance(Z, R, span)
        last = (a, bound)
        a += span
        bound = np.full(steady.size, np.inf)
        bound[idx] = tail.bound(Z, sset)
        keep = ~above[idx] & (bound[idx] > gap[idx])
        idx, Z, R = idx[keep], Z[:, keep], R[:, keep]
    if idx.size:
        warnings.warn(f"{idx.size} output(s) could not be shown below the threshold after "
                      f"{a:g} s (the tail bound does not reach it) and are counted as flagged",
                      AccuracyWarning, stacklevel=4)
        above[idx] = True               # undecided: not shown below the level
    return above


def lti_timedomain_nadir(model, dset, *, dt: float, horizon, rtol: float, n_refine: int,
                         f_hz, scale_hz: float, threshold_hz) -> NadirResult:
    """Worst-case nadir of a general linear model by time propagation (no eigenvectors).

    Parameters
    ----------
    model : LTIModel
        A stable linear model (:func:`netcoh.analysis.lti.as_lti`).
    dset : set
        A disturbance set of :mod:`netcoh.analysis.nadir_sets` over the model's inputs.
    dt : float
        Grid step (s).
    horizon : float or None
        Window (s); None: windows of growing length until the Lyapunov bound of the rest
        (module docstring) certifies that nothing later is worse (the steady state is a
        candidate).
    rtol : float
        Relative tolerance of the certificate.
    n_refine : int
        Best outputs of each block refined by Brent's method.
    f_hz : float or None
        Nominal frequency.
    scale_hz : float
        Hz per unit of the output.
    threshold_hz : float or None
        Flagging threshold (Hz). An output is flagged when its supremum over the window
        exceeds it, between grid points too (the ``level`` of :func:`.timedomain_search`).
        With ``horizon=None`` the supremum is over all ``t >= 0``: an output whose steady
        state exceeds the threshold is flagged; one whose steady state plus its tail bound
        after the searched windows is at most the threshold (to ``rtol``) is cleared; the
        others are searched in further windows, alone, until one or the other holds. An
        output still open when the search stops (no Lyapunov function, so no tail bound, or
        the longest horizon, 1e4 s, reached) is flagged, with an ``AccuracyWarning``.

    Returns
    -------
    NadirResult
        As :func:`~netcoh.analysis.nadir.worst_case_nadir`, ``method="timedomain"``.

    Examples
    --------
    A chain of two equal lags (a defective state matrix, no eigenvector basis):

    >>> import control, numpy as np
    >>> from netcoh.analysis.lti import as_lti
    >>> from netcoh.analysis.nadir_sets import NormBall
    >>> m = as_lti(control.ss([[-1.0, 1.0], [0.0, -1.0]], [[0.0], [1.0]], [[1.0, 0.0]], [[0.0]]))
    >>> res = lti_timedomain_nadir(m, NormBall(1.0, 2), dt=0.1, horizon=None, rtol=1e-6,
    ...                            n_refine=2, f_hz=None, scale_hz=float("nan"),
    ...                            threshold_hz=None)
    >>> res.method, res.certified, round(res.value, 6), res.time   # 1 - (1 + t) e^{-t} -> 1
    ('timedomain', True, 1.0, inf)

    With a threshold (1 Hz per unit here) the output rises to 1 from below: cleared at
    1.001 Hz by its tail bound, flagged at 0.999 Hz by its steady state.

    >>> [lti_timedomain_nadir(m, NormBall(1.0, 2), dt=0.1, horizon=None, rtol=1e-6,
    ...                       n_refine=2, f_hz=1.0, scale_hz=1.0, threshold_hz=thr).flagged
    ...  for thr in (1.001, 0.999)]
    [(), ('y[0]',)]
    """
    n, r_in = model.n, model.n_inputs
    M, sset, r, cheap = input_map(dset, r_in)
    colvalue = None
    if isinstance(sset, NormBall) and sset.p == 2:
        rho = sset.rho

        def colvalue(X):
            return rho * np.sqrt(np.einsum("ij,ij->j", X, X))
    rows = _ExpmRows(_Realised(model), M, value=sset.value, unit_sup=_unit_sup(sset.value, r),
                     colvalue=colvalue, cheap=cheap, set_sup2=_set_sup(sset, np.eye(r)))
    workers = None if cheap else 1
    auto = horizon is None
    tail = LyapunovTail(rows) if auto else None
    steady = None if tail is None else np.asarray(sset.value(tail.steady), dtype=float)
    level = threshold_hz / scale_hz if threshold_hz is not None and np.isfinite(scale_hz) \
        else None
    above = np.zeros(n, dtype=bool)
    if auto:
        mu = model.eigenvalues
        dec = float(-mu.real.max()) if mu.size else 1.0
        H = float(np.clip(6.0 / dec, 1.0, 10.0))
    else:
        H = float(horizon)
    Z, R = rows.start(np.arange(n))
    a = 0.0
    Fs, ts = [], []
    best = (-np.inf, 0, 0.0)
    uppers = []
    tail_upper = np.inf
    prev = None
    while True:
        tg = time_grid(dt, H - a, False)
        span = float(tg[-1])
        srows = rows if a == 0.0 else _Resumed(rows, Z, R)
        F, _, v, i, tt, up, *flags = timedomain_search(srows, n, tg, rtol, n_refine,
                                                       workers=workers, level=level)
        if flags:
            above |= flags[0]
        if a > 0.0:
            F, tg = F[:, 1:], tg[1:]              # the window's start ends the last one
        Fs.append(F)
        ts.append(a + tg)
        uppers.append(up)
        if v > best[0]:
            best = (v, i, a + tt)
        if not auto:
            break
        Z, R = rows.advance(Z, R, span)           # the states at the window's end
        a += span
        k = int(np.argmax(steady))
        if steady[k] >= best[0] * (1 - rtol):    # approached at infinity
            best = (float(steady[k]), k, np.inf)
        tail_upper = float(np.max(steady + tail.bound(Z, sset)))
        if not tail.ok or tail_upper <= best[0] * (1 + rtol) or a >= _MAX_HORIZON_S:
            break
        # the next window: where the bound's decay so far reaches the worst value (only the
        # cost depends on it), between 1.25 and 2 times the time searched
        H = _next_end(a, prev, tail_upper, best[0])
        prev = (a, tail_upper)
    if auto and level is not None:
        above = _flags_after(rows, tail, sset, Z, R, a, steady, above, level, dt, rtol,
                             workers)
    t = np.concatenate(ts)
    F = np.concatenate(Fs, axis=1)
    best_v, best_i, best_t = best
    upper = max(uppers + [best_v] + ([tail_upper] if auto else []))
    certified = bool(upper <= best_v * (1 + rtol) * (1 + 1e-12))
    Hend = float(t[-1])
    if not certified:
        warnings.warn(f"the worst-case nadir could not be certified: value {best_v:.6g}, upper "
                      f"bound {upper:.6g}" + (f" (searched up to {Hend:g} s)" if auto else ""),
                      AccuracyWarning, stacklevel=3)
    if not auto and best_t >= Hend - 0.5 * dt:
        warnings.warn(
            f"the worst nadir is at the end of the window (t = {best_t:g} s = horizon): the true "
            "nadir may be later; increase `horizon` or use horizon=None", AccuracyWarning,
            stacklevel=3)
    if np.isfinite(best_t):
        z, rr = rows.start([best_i])
        _, rr = rows.advance(z, rr, best_t)
        s = rr[:, 0]
    else:
        s = tail.steady[best_i]
    zu = np.asarray(sset.maximiser(s), dtype=float)
    u = zu if M is None else M @ zu
    traj = simulate_lti(model.A, model.B, model.C, model.D, u, t)
    per_bus, per_bus_time = bus_summary(F, t, steady if auto else None, best_i, best_v)
    tables = SearchTables(None, None, t, steady if auto else None, best_i, best_v,
                          np.ones(F.shape, dtype=bool), (per_bus, per_bus_time), full_table=F)
    flagged = () if level is None else tuple(model.labels[k] for k in np.flatnonzero(above))
    return NadirResult(
        value=float(best_v), value_hz=float(best_v * scale_hz), bus=model.labels[best_i],
        bus_index=int(best_i), time=float(best_t), disturbance=readonly(u), times=readonly(t),
        trajectory=readonly(traj), upper_bound=float(upper), certified=certified, horizon=Hend,
        grid_value=float(F.max()), labels=model.labels, disturbance_set=dset.description,
        method="timedomain", f_hz=float("nan") if f_hz is None else float(f_hz),
        hz_per_unit=scale_hz, threshold_hz=threshold_hz, flagged=flagged, _tables=tables)
