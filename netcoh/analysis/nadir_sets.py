"""Disturbance sets of the worst-case nadir problem and their support functions.

For a row ``s = S(t)[i, :]`` of the step-response matrix the worst deviation of bus ``i``
at time ``t`` over a set ``U`` of step disturbances is the support value
``max_{u in U} |s . u|``. Every set here evaluates it for many rows at once and returns a
maximiser:

* :class:`NormBall` -- ``||u|| <= rho`` for the 2-, infinity- or 1-norm: ``rho ||s||_D``
  with the dual norm (EPSR24 Lemma 2 / Theorem 1);
* :class:`BudgetBox` -- per-bus losses ``0 <= p_j <= pbar_j`` with ``sum p_j <= budget``
  (injection ``u = -p``): a fractional knapsack, solved in closed form by sorting;
* :class:`UnitTrips` -- the discrete set of single-unit trips ``u = -P_k e_{bus(k)}``.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_float_array, as_nonnegative, as_positive
from ..exceptions import InputError

__all__ = ["NormBall", "BudgetBox", "UnitTrips"]


class NormBall:
    """``{u : ||u||_p <= rho}`` with ``p`` in {2, inf, 1}."""

    def __init__(self, rho, norm):
        self.rho = float(as_positive(rho, "rho"))
        if norm in (2, "2", 2.0):
            self.p = 2
        elif norm in (np.inf, "inf", "Inf", float("inf")):
            self.p = np.inf
        elif norm in (1, "1", 1.0):
            self.p = 1
        else:
            raise InputError(f"`norm` must be 2, 1 or numpy.inf, got {norm!r}")

    @property
    def description(self) -> str:
        name = {2: "2", 1: "1", np.inf: "inf"}[self.p]
        return f"||u||_{name} <= {self.rho:g}"

    def value(self, rows: np.ndarray) -> np.ndarray:
        if self.p == 2:
            return self.rho * np.sqrt(np.einsum("...j,...j->...", rows, rows))
        if self.p == np.inf:
            return self.rho * np.abs(rows).sum(axis=-1)
        return self.rho * np.abs(rows).max(axis=-1)

    def maximiser(self, s: np.ndarray) -> np.ndarray:
        """``u`` in the set with ``s . u = -value(s)`` (the deviation is a dip)."""
        if self.p == 2:
            nrm = np.linalg.norm(s)
            return -self.rho * s / nrm if nrm > 0 else np.full(s.shape, -self.rho / np.sqrt(s.size))
        if self.p == np.inf:
            return -self.rho * np.where(s >= 0, 1.0, -1.0)
        u = np.zeros_like(s)
        j = int(np.argmax(np.abs(s)))
        u[j] = -self.rho * (1.0 if s[j] >= 0 else -1.0)
        return u

    def norm_of(self, u: np.ndarray) -> float:
        return float(np.linalg.norm(u, self.p))


def _knapsack(rows: np.ndarray, cap: np.ndarray, budget: float) -> np.ndarray:
    """``max { s . p : 0 <= p <= cap, sum p <= budget }`` for each row ``s`` (vectorised)."""
    pos = np.maximum(rows, 0.0)
    if not np.isfinite(budget) or budget >= cap.sum():
        return pos @ cap
    order = np.argsort(-pos, axis=-1, kind="stable")
    vals = np.take_along_axis(pos, order, axis=-1)
    caps = cap[order]
    before = np.cumsum(caps, axis=-1) - caps
    amount = np.clip(budget - before, 0.0, caps)
    return np.einsum("...j,...j->...", vals, amount)


class BudgetBox:
    """Losses ``0 <= p_j <= pbar_j`` with ``sum_j p_j <= budget``; the injection is ``u = -p``."""

    def __init__(self, pbar, budget=None, n: int | None = None):
        cap = as_nonnegative(pbar, "bounds")
        if cap.ndim == 0 and n is not None:
            cap = np.full(n, float(cap))
        if cap.ndim != 1 or (n is not None and cap.size != n):
            raise InputError(f"`bounds` must have one value per bus ({n}), got shape {cap.shape}")
        self.cap = cap.astype(float)
        self.budget = float(cap.sum()) if budget is None else float(as_positive(budget, "rho"))

    @property
    def description(self) -> str:
        return f"0 <= p_j <= pbar_j, sum p <= {self.budget:g} (u = -p)"

    def upper(self, rows: np.ndarray) -> np.ndarray:
        """Cheap bound ``min(sum |s_j| pbar_j, budget * max |s_j|)`` on :meth:`value`."""
        a = np.abs(rows)
        return np.minimum(a @ self.cap, self.budget * a.max(axis=-1))

    def value(self, rows: np.ndarray) -> np.ndarray:
        return np.maximum(_knapsack(rows, self.cap, self.budget),
                          _knapsack(-rows, self.cap, self.budget))

    def maximiser(self, s: np.ndarray) -> np.ndarray:
        best, u_best = -1.0, None
        for sign in (1.0, -1.0):        # p maximising (sign s).p; injection u = -p
            v = sign * s
            order = np.argsort(-np.maximum(v, 0.0), kind="stable")
            p = np.zeros_like(s)
            left = self.budget
            for j in order:
                if v[j] <= 0 or left <= 0:
                    break
                p[j] = min(self.cap[j], left)
                left -= p[j]
            val = float(v @ p)
            if val > best + 1e-15 * abs(best):
                best, u_best = val, -p
        return u_best

    def norm_of(self, u: np.ndarray) -> float:
        return float(np.sum(-u))


class UnitTrips:
    """Single-unit trips: unit ``k`` at bus ``bus[k]`` losing ``p[k]``; injection ``-p[k] e_bus``."""

    def __init__(self, trips, n: int, labels):
        pos = {lab: i for i, lab in enumerate(labels)}
        if isinstance(trips, dict):
            items = list(trips.items())
        else:
            arr = as_float_array(trips, "trips")
            if arr.shape != (n,):
                raise InputError(f"`trips` must be a dict {{bus: p}} or one value per bus ({n}), "
                                 f"got shape {arr.shape}")
            items = [(labels[i], arr[i]) for i in range(n) if arr[i] > 0]
        if not items:
            raise InputError("`trips` must name at least one unit with positive power")
        bus, p = [], []
        for k, v in items:
            if isinstance(k, (int, np.integer)) and str(k) not in pos:
                idx = int(k)
            elif str(k) in pos:
                idx = pos[str(k)]
            else:
                raise InputError(f"`trips` names an unknown bus {k!r}")
            vals = np.atleast_1d(as_positive(v, f"trips[{k!r}]"))
            bus.extend([idx] * vals.size)
            p.extend(vals.tolist())
        self.bus = np.asarray(bus, dtype=int)
        self.p = np.asarray(p, dtype=float)
        # only the largest unit per bus can be the worst trip
        self.cap = np.zeros(n)
        np.maximum.at(self.cap, self.bus, self.p)

    @property
    def description(self) -> str:
        return f"single-unit trips ({self.p.size} units)"

    def value(self, rows: np.ndarray) -> np.ndarray:
        return (np.abs(rows) * self.cap).max(axis=-1)

    def maximiser(self, s: np.ndarray) -> np.ndarray:
        j = int(np.argmax(np.abs(s) * self.cap))
        u = np.zeros_like(s)
        u[j] = -self.cap[j]
        return u

    def norm_of(self, u: np.ndarray) -> float:
        return float(np.abs(u).max())
