"""The search behind :func:`~netcoh.analysis.nadir.worst_case_nadir`.

Given a modal model ``S(t) = S0 + Re(P diag(phi(t)) Q)`` (:mod:`.nadir_modes`) and a
disturbance set (:mod:`.nadir_sets`), :class:`Search` evaluates the grid table
``F[i, t]`` -- in full, or entry by entry where certified bounds cannot rule an entry out
-- and :func:`search` refines the best grid points by Brent's method and certifies, with
bounds on ``dF/dt`` and ``d^2F/dt^2`` on every grid interval, that nothing between grid
points is worse.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
from scipy.optimize import minimize_scalar

from .nadir_sets import BudgetBox, NormBall, _knapsack

__all__ = ["Search", "search", "time_grid", "grid_table", "above_level"]


class Search:
    """Grid table, Brent refinement and certification for one modal model and set.

    Parameters
    ----------
    model : ModalModel
        ``S(t) = S0 + Re(P diag(phi(t)) Q)`` from
        :func:`~netcoh.analysis.nadir.build_modal_model`.
    dset : NormBall, BudgetBox or UnitTrips
        The disturbance set (its ``value`` is ``F`` for rows of ``S``).
    rtol : float
        Relative tolerance of the refinement and the certificate.
    full_table : bool
        Compute every entry of the grid table (True) or only those certified bounds
        cannot rule out (False).

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> from netcoh.analysis.nadir import build_modal_model
    >>> from netcoh.analysis.nadir_sets import NormBall
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(3),
    ...                                       nodal=nc.nodal.swing(1.0, 1.0, n=3))
    >>> engine = Search(build_modal_model(sys)[0], NormBall(0.5, 2), 1e-6)
    >>> engine.table(np.array([0.0, 1.0])).shape          # F[bus, t]
    (3, 2)
    """

    def __init__(self, model, dset, rtol, full_table: bool = True):
        self.model, self.dset, self.rtol = model, dset, rtol
        self.absP = np.abs(model.P)
        # proportional models have Q = P^T: no second n x n array
        absQ = self.absP.T if getattr(model, "scale", None) is not None else np.abs(model.Q)
        # sup over the set of |Q_k . u| (bounds every mode's contribution)
        self.w = _bound_weights(dset, absQ)
        # buses that cannot matter are screened out by certified bounds (bound_table); with
        # one input column (a given step) the exact table costs what the bounds cost
        self.prunable = not full_table and model.Q.shape[1] > 1
        self.tight = (isinstance(dset, NormBall) and dset.p == 2
                      and getattr(model, "scale", None) is not None and model.S0 is None)
        # lightest machines treated exactly by the tight bound: it costs n^2 |J| per time,
        # and beyond a few dozen machines a larger J rules out hardly any more entries
        # (5,000 machines: 220 entries evaluated with |J| = 32, 189 with n/16 = 312, at
        # a tenth of the cost), so |J| stays bounded and the search O(n^2) per time
        self.light = int(min(model.n - 1, max(8, min(model.n // 16, 32))))
        self.S0_value = None if model.S0 is None else _bound_weights(dset, np.abs(model.S0))

    def value(self, bus, t):
        """``F`` at pairs ``(bus[p], t[p])``."""
        return self.dset.value(self.model.rows(bus, t))

    def table(self, t):
        """The full grid table ``F[bus, t]``, shape (n, T)."""
        return grid_table(self.model, self.dset, t)

    def pruned_table(self, t, floor: float):
        """Grid table with exact entries only where needed.

        Every (bus, time) gets a certified upper bound (:meth:`bound_table`); entries are
        computed exactly, largest bound first and in growing batches, until every entry
        left has a bound below the best exact value and below ``floor``. Returns ``(F, E)``:
        ``F`` holds exact values where the mask ``E`` is True and upper bounds elsewhere.
        """
        ph = self.model.phi(t)
        F = self.bound_table(t, ph, level=np.inf)         # the mode-sum bound only
        E = np.zeros(F.shape, dtype=bool)
        best, tightened = -np.inf, not self.tight
        batch = int(np.clip(4 * t.size, 32, 256))
        rounds = 0
        while True:
            if not tightened and np.isfinite(best):
                # the tight bound costs n^2 |J| per time: only where the cheap one is high
                G = self.bound_table(t, ph, level=min(best, floor))
                F = np.where(E, F, np.minimum(F, G))
                tightened = True
            bi, bj = np.nonzero(~E & (F > min(best, floor)))
            if bi.size == 0:
                break
            if rounds >= 2 and tightened and bi.size > 0.5 * F.size >= 10_000:
                # two batches in, the bounds still rule out too little of a large table
                # (loose mode sums): the whole table in blocks costs less than entry by
                # entry, and needs no grid refinement
                return self.table(t), np.ones(F.shape, dtype=bool)
            rounds += 1
            pick = np.argsort(-F[bi, bj], kind="stable")[:batch]
            bi, bj = bi[pick], bj[pick]
            F[bi, bj] = self.pair_values(bi, t[bj])
            E[bi, bj] = True
            best = max(best, float(F[bi, bj].max()))
            batch *= 4
        return F, E

    def pair_values(self, bus, t, chunk_bytes: float = 6.4e7):
        """``F`` at pairs ``(bus[p], t[p])``, in chunks that bound the memory."""
        bus, t = np.asarray(bus, dtype=int), np.asarray(t, dtype=float)
        out = np.empty(bus.size)
        step = max(1, int(chunk_bytes // (16 * max(self.model.n, 1))))
        for a in range(0, bus.size, step):
            out[a:a + step] = self.value(bus[a:a + step], t[a:a + step])
        return out

    def bound_table(self, t, ph=None, level: float = -np.inf):
        """Certified upper bounds of ``F`` on ``t`` for every bus, shape (n, T).

        The sum over modes of ``|P_ik| |phi_k(t)| ||Q_k||_D`` (triangle inequality), taken
        both from zero and from the steady state (``S(t) = S(inf) + Re(P (phi(t) -
        phi(inf)) Q)``: tight early and late respectively); for 2-norm balls and
        proportional models also :meth:`ModalModel.row_norm_bound`, at the times where the
        first bound exceeds ``level``.
        """
        ph = self.model.phi(t) if ph is None else ph
        F = self.absP @ (np.abs(ph) * self.w[None]).T
        if self.S0_value is not None:
            F += self.S0_value[:, None]
        late = self._late_bound(ph)
        if late is not None:
            np.minimum(F, late, out=F)
        F *= 1.0 + 1e-12
        if self.tight:
            cols = np.flatnonzero(np.any(F > level, axis=0))
            if cols.size:
                tight = self.model.row_norm_bound(t[cols], self.light, ph[cols])
                F[:, cols] = np.minimum(F[:, cols], self.dset.rho * tight)
        return F

    @cached_property
    def _steady(self):
        """``(phi(inf), F at t = inf)`` when the steady state is finite, else None."""
        pinf = self.model.phi_inf()
        if not np.all(np.isfinite(pinf)):
            return None
        Sinf = self.model.rows_at_inf()
        if not np.all(np.isfinite(Sinf)):
            return None
        return pinf, _row_values(self.dset, Sinf)

    def _late_bound(self, ph):
        if self._steady is None:
            return None
        pinf, vinf = self._steady
        return self.absP @ (np.abs(ph - pinf[None]) * self.w[None]).T + vinf[:, None]

    def brent(self, i, a, b):
        """Best ``(t, F)`` of bus ``i`` on ``[a, b]`` (bounded Brent, end points included).

        For a set whose worst disturbance is a vertex (everything but the 2-norm ball) the
        maximiser rarely changes inside the interval, and ``F`` is then the response to
        that one step, ``|S(t)[i, :] u|``, which costs ``K`` operations per time instead
        of a row of ``S`` and the set's support value. Brent runs on it, and the exact
        ``F`` at its optimum must match it (same maximiser there); otherwise Brent runs
        on ``F`` itself.
        """
        if b <= a:
            return a, float(self.value([i], [a])[0])
        opts = {"xatol": 1e-10 * max(1.0, b)}
        fixed = self._fixed_step(i, 0.5 * (a + b))
        if fixed is not None:
            res = minimize_scalar(lambda x: -fixed(x), bounds=(a, b), method="bounded",
                                  options=opts)
            t = float(res.x)
            v = float(self.value([i], [t])[0])
            if abs(v + float(res.fun)) > 1e-12 * abs(v):
                fixed = None                 # the maximiser changes inside: Brent on F
        if fixed is None:
            res = minimize_scalar(lambda x: -self.value([i], [x])[0], bounds=(a, b),
                                  method="bounded", options=opts)
            t, v = float(res.x), float(-res.fun)
        for x, vx in zip((a, b), self.value([i, i], [a, b])):   # Brent skips the end points
            if vx > v:
                t, v = x, float(vx)
        return t, v

    def _fixed_step(self, i, t0):
        """``t -> |S(t)[i, :] u|`` for the set's maximiser ``u`` of bus ``i`` at ``t0``,
        or None for a 2-norm ball (its maximiser turns with the row)."""
        if isinstance(self.dset, NormBall) and self.dset.p == 2:
            return None
        m = self.model
        u = np.asarray(self.dset.maximiser(m.rows([i], [t0])[0]), dtype=float)
        pq = m.P[i] * (m.Q @ u)                                      # (K,)
        s0 = 0.0 if m.S0 is None else float(m.S0[i] @ u)
        return lambda x: abs(float(np.real(m.phi(np.array([x]))[0] @ pq)) + s0)

    def interval_bounds(self, bus, a, b, Fa, Fb):
        """Upper bound of ``F_bus`` on ``[a, b]`` from ``F(a), F(b)`` and derivative bounds."""
        d = b - a
        B1 = self.model.bound(a, b, 1) * self.w[None]
        B2 = self.model.bound(a, b, 2) * self.w[None]
        ap = self.absP[bus]
        K1 = np.einsum("pk,pk->p", ap, B1)
        K2 = np.einsum("pk,pk->p", ap, B2)
        return np.minimum(0.5 * (Fa + Fb) + 0.5 * K1 * d, np.maximum(Fa, Fb) + K2 * d * d / 8)

    def slopes(self, t):
        """Derivative bounds ``(K1, K2)`` of every bus on every grid interval, (n, T-1) each
        (the last grid's are kept: the certification asks again for the same grid)."""
        known = self.__dict__.get("_slopes")
        if known is not None and np.array_equal(known[0], t):
            return known[1], known[2]
        a, b = t[:-1], t[1:]
        B1 = (self.model.bound(a, b, 1) * self.w[None]).T      # (K, T-1)
        B2 = (self.model.bound(a, b, 2) * self.w[None]).T
        K1, K2 = self.absP @ B1, self.absP @ B2
        K1.setflags(write=False)
        K2.setflags(write=False)
        self._slopes = (np.array(t, dtype=float), K1, K2)
        return K1, K2

    @staticmethod
    def grid_bounds(t, F, K1, K2):
        """Upper bounds for every (bus, grid interval) of ``F``, shape like ``K1``."""
        d = np.diff(t)
        Fa, Fb = F[:, :-1], F[:, 1:]
        return np.minimum(0.5 * (Fa + Fb) + 0.5 * K1 * d, np.maximum(Fa, Fb) + K2 * d * d / 8)


def _bound_weights(dset, abs_rows):
    """``sup_{u in set} |q . u|`` bounds for non-negative rows ``|q|``: the set's own
    ``bound_weights`` when it has one, else its value. A budget box's value of a
    non-negative row is the knapsack of the row itself (its negative has nothing to
    gain), so only that one is bounded (a few greedy passes, the rest of the budget at
    the last unit's value)."""
    if hasattr(dset, "bound_weights"):
        return dset.bound_weights(abs_rows)
    if isinstance(dset, BudgetBox):
        return _knapsack(abs_rows, dset.cap, dset.budget, exact=False)
    return dset.value(abs_rows)


def _row_values(dset, rows):
    """``dset.value(rows)``, evaluated once when every row is the same (the steady state
    of a network whose buses all settle together, ``S(inf) = 1 1^T / sum_i 1/g_i(0)``)."""
    if rows.shape[0] > 1 and np.array_equal(rows, np.broadcast_to(rows[:1], rows.shape)):
        return np.full(rows.shape[0], float(dset.value(rows[:1])[0]))
    return dset.value(rows)


def grid_table(model, dset, t):
    """The full grid table ``F[bus, t]`` of a modal model and a disturbance set.

    Parameters
    ----------
    model : ModalModel
        ``S(t) = S0 + Re(P diag(phi(t)) Q)``.
    dset : NormBall, BudgetBox, FixedStep or LinearSet
        The disturbance set (its ``value`` is ``F`` for rows of ``S``).
    t : ndarray (T,)
        Times (s).

    Returns
    -------
    ndarray (n, T)
        ``F[i, k]``: the worst deviation of bus ``i`` at ``t[k]`` over the set.

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> from netcoh.analysis.nadir import build_modal_model
    >>> from netcoh.analysis.nadir_sets import NormBall
    >>> sys = nc.NetworkSystem.from_laplacian(nc.laplacian.complete(3),
    ...                                       nodal=nc.nodal.swing(1.0, 1.0, n=3))
    >>> grid_table(build_modal_model(sys)[0], NormBall(0.5, 2), np.array([0.0, 1.0])).shape
    (3, 2)
    """
    n = model.n
    F = np.empty((n, t.size))
    for sl, S in model.table_chunks(t):
        F[:, sl] = dset.value(S.reshape(-1, S.shape[-1])).reshape(-1, n).T
    return F


def _refine_bound_grid(engine, t, F, E, ub, level, max_rounds: int = 12):
    """Add grid points where entries known only by their bound keep intervals open.

    Between grid points ``F`` is bounded through derivative bounds, whose contribution
    shrinks with the interval; on a coarse grid they keep many buses open that a finer
    grid rules out by the cheap bound alone. Intervals above ``level`` with an endpoint
    known only by its bound are halved (the bound on the new points is cheap) until few
    buses have such intervals. Returns the refined ``(t, F, E, ub)``.
    """
    n = F.shape[0]
    few = max(8, n // 64)
    budget = 8 * t.size
    for _ in range(max_rounds):
        hot = (ub > level) & ~(E[:, :-1] & E[:, 1:])
        need = np.any(hot, axis=1)
        if need.sum() <= few:
            break
        cols = np.flatnonzero(np.any(hot[need], axis=0))
        if cols.size > budget:
            break
        budget -= cols.size
        tnew = 0.5 * (t[cols] + t[cols + 1])
        order = np.argsort(np.concatenate([t, tnew]), kind="stable")
        t = np.concatenate([t, tnew])[order]
        F = np.concatenate([F, engine.bound_table(tnew)], axis=1)[:, order]
        E = np.concatenate([E, np.zeros((n, tnew.size), dtype=bool)], axis=1)[:, order]
        ub = engine.grid_bounds(t, F, *engine.slopes(t))
    return t, F, E, ub


def search(engine: Search, t: np.ndarray, n_refine: int, floor: float = np.inf,
           max_rounds: int = 40, max_open: int = 2_000_000):
    """Supremum of ``F`` over buses and ``[t[0], t[-1]]``, refined and certified.

    Parameters
    ----------
    engine : Search
        Model, set and tolerance.
    t : ndarray (T,)
        Seed time grid.
    n_refine : int
        Best buses of the grid whose maximum is refined by Brent's method.
    floor : float
        With pruning, entries above ``floor`` are always computed (threshold flags).
    max_rounds, max_open : int
        Limits of the interval bisection that certifies the result.

    Returns
    -------
    tuple
        ``(F, E, grid_value, value, bus, time, upper)``: the grid table on ``t`` (bounds
        where ``E`` is False; ``E`` is None for a full table), the grid maximum, the
        refined supremum with its bus and time, and the certified upper bound.

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> from netcoh.analysis.nadir import build_modal_model
    >>> from netcoh.analysis.nadir_sets import NormBall
    >>> L = 50.0 * nc.laplacian.complete(4)
    >>> sys = nc.NetworkSystem.from_laplacian(L, nodal=nc.nodal.swing(2.0, 1.0, n=4))
    >>> engine = Search(build_modal_model(sys)[0], NormBall(0.5, 2), 1e-6)
    >>> F, E, grid, value, bus, time, upper = search(engine, time_grid(0.1, 2.0, False), 4)
    >>> bool(grid <= value <= upper <= value * (1 + 1e-6))
    True
    """
    t_seed = t
    if engine.prunable:
        F, E = engine.pruned_table(t, floor)
    else:
        F, E = engine.table(t), None
    n, T = F.shape
    Fx = F if E is None else np.where(E, F, -np.inf)        # exact values only
    jmax = np.argmax(Fx, axis=1)
    per_bus = Fx[np.arange(n), jmax]
    order = np.argsort(-per_bus)[:n_refine]
    order = order[np.isfinite(per_bus[order])]
    grid_value = float(per_bus.max())
    if T < 2:
        i = int(order[0])
        return F, E, grid_value, float(per_bus[i]), i, float(t[0]), float(per_bus[i])
    # upper bounds of every (bus, grid interval) from the grid values and derivative bounds
    K1, K2 = engine.slopes(t)
    ub = engine.grid_bounds(t, F, K1, K2)
    best_v, best_i, best_t = -np.inf, 0, 0.0
    for i in order:
        if ub[i].max() <= best_v * (1 + engine.rtol):
            continue                  # certified not to beat the best: no need to refine
        j = jmax[i]
        a, b = t[max(j - 1, 0)], t[min(j + 1, T - 1)]
        tt, v = engine.brent(int(i), a, b)
        if v > best_v:
            best_v, best_i, best_t = v, int(i), tt
    # certification: refine the intervals that could still beat the best
    tol = engine.rtol * abs(best_v) + 1e-300
    F_out, E_out = F, E
    if E is not None:
        t, F, E, ub = _refine_bound_grid(engine, t, F, E, ub, best_v + tol)
        # endpoints known only by their bound of intervals that could still win: compute
        # them (the bounds only shrink, so no other interval opens)
        hot = ub > best_v + tol
        miss = np.zeros(E.shape, dtype=bool)
        miss[:, :-1] |= hot
        miss[:, 1:] |= hot
        miss &= ~E
        if miss.any():
            bi, bj = np.nonzero(miss)
            F[bi, bj] = engine.pair_values(bi, t[bj])
            E[bi, bj] = True
            rows = np.unique(bi)
            K1, K2 = engine.slopes(t)
            ub[rows] = engine.grid_bounds(t, F[rows], K1[rows], K2[rows])
        seed = np.isin(t, t_seed)
        F_out, E_out = F[:, seed], E[:, seed]
    bi, bj = np.nonzero(ub > best_v + tol)
    a, b = t[bj], t[bj + 1]
    Fa, Fb = F[bi, bj], F[bi, bj + 1]
    open_ub = ub[bi, bj]
    rounds = 0
    while bi.size and rounds < max_rounds and bi.size <= max_open:
        rounds += 1
        mid = 0.5 * (a + b)
        Fm = engine.value(bi, mid)
        k = int(np.argmax(Fm))
        if Fm[k] > best_v:
            tt, v = engine.brent(int(bi[k]), a[k], b[k])
            if v > best_v:
                best_v, best_i, best_t = v, int(bi[k]), tt
            tol = engine.rtol * abs(best_v)
        bi2 = np.concatenate([bi, bi])
        a2 = np.concatenate([a, mid])
        b2 = np.concatenate([mid, b])
        Fa2 = np.concatenate([Fa, Fm])
        Fb2 = np.concatenate([Fm, Fb])
        u2 = engine.interval_bounds(bi2, a2, b2, Fa2, Fb2)
        keep = u2 > best_v + tol
        bi, a, b, Fa, Fb, open_ub = bi2[keep], a2[keep], b2[keep], Fa2[keep], Fb2[keep], u2[keep]
    upper = max(best_v, float(open_ub.max())) if bi.size else best_v
    return F_out, E_out, grid_value, best_v, best_i, best_t, upper


def above_level(engine: Search, t: np.ndarray, F: np.ndarray, E, level: float,
                known: np.ndarray, max_rounds: int = 40) -> np.ndarray:
    """Buses whose supremum of ``F`` over ``[t[0], t[-1]]`` exceeds ``level`` (threshold flags).

    A bus is above the level when a value computed for it is (``known``, e.g. its best grid
    value, or a point found by bisection); it is below when the bounds of every grid
    interval (:meth:`Search.grid_bounds`, from the grid values and derivative bounds) are
    at most ``level (1 + rtol)``. The intervals left open are halved until each bus is
    decided; a bus still open after ``max_rounds`` halvings is counted above (its
    supremum could not be shown below the level).

    Parameters
    ----------
    engine : Search
        Model, set and tolerance of the search.
    t : ndarray (T,)
        The grid of ``F``.
    F : ndarray (n, T)
        Grid values; upper bounds where ``E`` is False.
    E : ndarray (n, T) of bool or None
        Which entries of ``F`` are exact (None: all).
    level : float
        The threshold (in the units of ``F``).
    known : ndarray (n,)
        Values each bus is known to reach (``-inf`` if none).
    max_rounds : int
        Limit of the halvings.

    Returns
    -------
    ndarray (n,) of bool

    Examples
    --------
    >>> import numpy as np, netcoh as nc
    >>> from netcoh.analysis.nadir import build_modal_model
    >>> from netcoh.analysis.nadir_sets import NormBall
    >>> sys = nc.NetworkSystem.from_laplacian(50.0 * nc.laplacian.complete(2),
    ...                                       nodal=nc.nodal.swing([1.0, 3.0], [2.0, 6.0]))
    >>> engine = Search(build_modal_model(sys)[0], NormBall(1.0, 2), 1e-9)
    >>> t = time_grid(0.5, 4.0, False)
    >>> F = engine.table(t)
    >>> grid = F.max(axis=1)                  # bus 0 dips deeper between grid points
    >>> bool(grid[0] < 0.1794), above_level(engine, t, F, None, 0.1794, grid).tolist()
    (True, [True, False])
    """
    above = np.asarray(known, dtype=float) > level
    if t.size < 2:
        return above
    K1, K2 = engine.slopes(t)
    ub = engine.grid_bounds(t, F, K1, K2)
    bar = level * (1 + engine.rtol)
    bi, bj = np.nonzero((ub > bar) & ~above[:, None])
    a, b = t[bj], t[bj + 1]
    Fa, Fb = F[bi, bj], F[bi, bj + 1]
    rounds = 0
    while bi.size and rounds < max_rounds:
        rounds += 1
        mid = 0.5 * (a + b)
        Fm = engine.value(bi, mid)
        above[bi[Fm > level]] = True
        bi2 = np.concatenate([bi, bi])
        a2, b2 = np.concatenate([a, mid]), np.concatenate([mid, b])
        Fa2, Fb2 = np.concatenate([Fa, Fm]), np.concatenate([Fm, Fb])
        keep = (engine.interval_bounds(bi2, a2, b2, Fa2, Fb2) > bar) & ~above[bi2]
        bi, a, b, Fa, Fb = bi2[keep], a2[keep], b2[keep], Fa2[keep], Fb2[keep]
    above[bi] = True                     # undecided: not shown below the level
    return above


def time_grid(dt: float, H: float, auto: bool, max_uniform: int = 1000) -> np.ndarray:
    """Uniform ``dt`` grid on ``[0, H]``; with an automatic horizon, uniform for the first
    ``max_uniform`` steps and geometrically spaced after (the certificate covers any grid).

    Parameters
    ----------
    dt : float
        Step (s).
    H : float
        Horizon (s); the grid ends at or just past it.
    auto : bool
        Whether the horizon was chosen automatically (geometric tail allowed).
    max_uniform : int
        Uniform steps before the geometric tail.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> time_grid(0.25, 1.0, False).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    N = max(1, int(np.ceil(H / dt - 1e-9)))
    if not auto or N <= max_uniform:
        return dt * np.arange(N + 1)
    head = dt * np.arange(max_uniform + 1)
    tail = np.geomspace(head[-1], H, max_uniform + 1)[1:]
    return np.concatenate([head, tail])
