"""General linear disturbance sets: losses in a polytope, one LP per (bus, time) candidate.

``LinearSet`` holds losses ``p`` (injection ``u = -p``) with ``0 <= p <= cap`` and linear
constraints ``A p <= b`` -- per-unit caps, a total budget, area budgets such as "at most
X MW in area A, Y MW in total". The worst deviation of a row ``s`` of the step-response
matrix is the support value ``max(max_p s.p, max_p -s.p)``, an LP solved with cvxpy (one
compiled parametric problem, re-solved per row); with only caps and one total budget the LP
is a fractional knapsack, solved exactly in closed form for all rows at once (no LP). The
nadir search calls it only for the
(bus, time) candidates that certified bounds cannot rule out: its mode bounds use the LP
values of ``|Q_k|`` (one LP per mode). Solutions are remembered: every LP leaves a vertex
``p`` (a lower bound ``s.p`` for any row) and its dual ``y >= 0`` (an upper bound
``b.y + cap.max(s - A^T y, 0)`` by weak duality); a row whose bounds meet is decided
without an LP, so neighbouring candidates (Brent steps, bisection midpoints) rarely need
one.

Examples
--------
>>> import numpy as np
>>> box = LinearSet([1.0, 1.0, 1.0], budget=1.5, groups=[([0, 1], 0.5)])
>>> box.value(np.array([[1.0, 2.0, 0.5]])).round(6).tolist()     # 0.5 on bus 1, 1 on bus 2
[1.5]
"""

from __future__ import annotations

import numpy as np

from .._validation import as_nonnegative
from ..exceptions import InputError, SolverError
from .nadir_sets import BudgetBox

__all__ = ["LinearSet"]


def _closed_form(cap, A, b):
    """A :class:`BudgetBox` equal to ``{0 <= p <= cap, A p <= b}`` when the constraints are
    at most one total budget ``sum p <= B`` (rows of ones) and limits that cannot bind, else
    None."""
    B = np.inf
    for row, lim in zip(A, b):
        if np.all(row == 1.0):
            B = min(B, float(lim))
        elif np.all(row >= 0) and row @ cap <= lim:
            continue                       # never binds inside the box
        else:
            return None
    if B <= 0:
        return None                        # the set is {0}; the LP path handles it
    return BudgetBox(cap, B if np.isfinite(B) else None)


class LinearSet:
    """Losses ``p`` with ``0 <= p <= cap``, ``sum p <= budget`` and group limits; ``u = -p``.

    Parameters
    ----------
    cap : array_like (n,)
        Largest loss of each node (p.u.; a unit's dispatch).
    budget : float, optional
        Total loss (p.u.).
    groups : list of (indices, limit), optional
        Area budgets: ``sum_{j in indices} p_j <= limit`` (indices are node positions).
    A, b : array_like, optional
        Further constraints ``A p <= b`` (``A`` of shape (m, n)).

    Examples
    --------
    >>> s = LinearSet([0.2, 0.3], budget=0.4)
    >>> s.maximiser(np.array([1.0, 2.0])).round(6).tolist()     # u = -p, 0.3 first
    [-0.1, -0.3]
    """

    def __init__(self, cap, budget=None, groups=None, A=None, b=None):
        self.cap = np.asarray(as_nonnegative(cap, "cap"), dtype=float).ravel()
        n = self.cap.size
        rows, rhs = [], []
        if budget is not None:
            if not (np.isfinite(budget) and budget > 0):
                raise InputError(f"`budget` must be positive, got {budget!r}")
            rows.append(np.ones(n))
            rhs.append(float(budget))
        for idx, lim in groups or ():
            r = np.zeros(n)
            try:
                r[np.asarray(idx, dtype=int)] = 1.0
            except (IndexError, ValueError) as exc:
                raise InputError(f"`groups` indices must be node positions below {n}, got "
                                 f"{idx!r}") from exc
            if not (np.isfinite(lim) and lim >= 0):
                raise InputError(f"`groups` limits must be non-negative, got {lim!r}")
            rows.append(r)
            rhs.append(float(lim))
        if A is not None:
            A = np.atleast_2d(np.asarray(A, dtype=float))
            b = np.atleast_1d(np.asarray(b, dtype=float))
            if A.shape[1] != n or b.shape != (A.shape[0],):
                raise InputError(f"`A` must be (m, {n}) and `b` (m,), got {A.shape} and "
                                 f"{b.shape}")
            rows.extend(A)
            rhs.extend(b)
        self.A = np.array(rows).reshape(-1, n)
        self.b = np.array(rhs, dtype=float)
        self._prob = None
        self._V = np.zeros((1, n))                   # vertices found (p = 0 is one)
        self._Y = np.zeros((1, self.A.shape[0]))     # dual solutions (y = 0: the box)
        self.n_lp = 0
        #: relative gap below which cached bounds decide a row (the LP solver's accuracy)
        self.rtol = 1e-7
        #: caps and at most one total budget: the LP is a fractional knapsack, solved in
        #: closed form (sorting) for all rows at once; None when other constraints exist
        self._box = _closed_form(self.cap, self.A, self.b)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_prob"] = None              # compiled cvxpy problems stay in their process
        return state

    @property
    def description(self) -> str:
        return f"0 <= p <= cap with {self.A.shape[0]} linear constraint(s) (u = -p)"

    def _problem(self):
        if self._prob is None:
            import cvxpy as cp

            n = self.cap.size
            p = cp.Variable(n)
            s = cp.Parameter(n)
            cons = [p >= 0, p <= self.cap]
            if self.A.shape[0]:
                cons.append(self.A @ p <= self.b)
            self._prob = (cp.Problem(cp.Maximize(s @ p), cons), s, p, cons)
        return self._prob

    def _support(self, s: np.ndarray):
        """``(max_p s.p, argmax)`` by the LP; the vertex and the dual are remembered."""
        if not np.any(s > 0):
            return 0.0, np.zeros_like(s)
        prob, par, p, cons = self._problem()
        par.value = s
        try:
            val = prob.solve()
        except Exception as exc:             # cvxpy raises its own SolverError
            raise SolverError(f"the disturbance LP failed: {exc}") from exc
        if prob.status not in ("optimal", "optimal_inaccurate"):
            raise SolverError(f"the disturbance LP is {prob.status}")
        self.n_lp += 1
        x = np.clip(np.asarray(p.value, dtype=float), 0.0, self.cap)
        self._V = np.vstack([self._V, x])
        if self.A.shape[0]:
            y = np.maximum(np.asarray(cons[2].dual_value, dtype=float).ravel(), 0.0)
            self._Y = np.vstack([self._Y, y])
        else:
            self._Y = np.vstack([self._Y, np.zeros((1, 0))])
        return max(float(val), float(s @ x)), x

    def _bounds(self, S: np.ndarray):
        """Lower and upper bounds of ``max_p s.p`` for the rows of ``S`` from the caches."""
        lo = np.maximum((S @ self._V.T).max(axis=1), 0.0)
        up = np.full(S.shape[0], np.inf)
        AtY = self._Y @ self.A                        # (k, n)
        by = self._Y @ self.b
        for j in range(AtY.shape[0]):
            up = np.minimum(up, by[j] + np.maximum(S - AtY[j], 0.0) @ self.cap)
        return lo, up

    def _signed(self, S: np.ndarray):
        """``max_p s.p`` for every row: from the caches where the bounds meet (to the LP
        solver's accuracy), else by an LP whose vertex and dual then bound the others."""
        lo, up = self._bounds(S)
        tol = self.rtol * np.maximum(np.abs(up), 1e-300)
        open_ = up - lo > tol
        while open_.any():
            i = int(np.flatnonzero(open_)[np.argmax((up - lo)[open_])])
            v, x = self._support(S[i])
            lo[i] = up[i] = v
            lo = np.maximum(lo, S @ x)
            if self.A.shape[0]:
                y = self._Y[-1]
                up = np.minimum(up, y @ self.b + np.maximum(S - y @ self.A, 0.0) @ self.cap)
            open_ = (up - lo > tol) & (np.arange(S.shape[0]) != i) & open_
        if self._V.shape[0] > 4000:                     # keep the caches small
            self._V, self._Y = self._V[-2000:], self._Y[-2000:]
        return lo

    def inputs(self):
        """Only nodes that can lose power matter: ``("cols", J, set on J)`` (see
        ``netcoh.analysis.nadir_inputs.restrict``), or None when every node can."""
        J = np.flatnonzero(self.cap > 0)
        if J.size == 0 or J.size == self.cap.size:
            return None
        sub = LinearSet(self.cap[J], A=self.A[:, J], b=self.b)
        sub.rtol = self.rtol
        return "cols", J, sub

    def value(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=float)
        if self._box is not None:
            return self._box.value(rows)
        flat = rows.reshape(-1, rows.shape[-1])
        out = np.maximum(self._signed(flat), self._signed(-flat))
        return out.reshape(rows.shape[:-1])

    def bound_weights(self, abs_rows: np.ndarray) -> np.ndarray:
        """``sup |q . u|`` over the set for non-negative rows: the LP value itself."""
        return self.value(abs_rows)

    def maximiser(self, s: np.ndarray) -> np.ndarray:
        """``u = -p`` with ``|s . u|`` largest (the sign that makes it a dip first)."""
        if self._box is not None:
            return self._box.maximiser(np.asarray(s, dtype=float))
        vp, xp = self._support(s)
        vm, xm = self._support(-s)
        return -(xp if vp >= vm else xm)

    def norm_of(self, u: np.ndarray) -> float:
        return float(np.sum(-u))
