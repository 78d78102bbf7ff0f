"""Disturbance sets of the worst-case nadir problem and their support functions.

For a row ``s = S(t)[i, :]`` of the step-response matrix the worst deviation of bus ``i``
at time ``t`` over a set ``U`` of step disturbances is the support value
``max_{u in U} |s . u|``. Every set here evaluates it for many rows at once and returns a
maximiser:

* :class:`NormBall` -- ``||u|| <= rho`` for the 2-, infinity- or 1-norm: ``rho ||s||_D``
  with the dual norm (EPSR24 Lemma 2 / Theorem 1);
* :class:`BudgetBox` -- per-bus losses ``0 <= p_j <= pbar_j`` with ``sum p_j <= budget``
  (injection ``u = -p``): a fractional knapsack, solved in closed form by sorting;
* :class:`SingleInfeedLoss` -- the loss of any one unit's output, capped at a budget:
  the finite set ``{-min(pbar_j, B) e_j}`` of the budget box's single-unit vertices (the
  network keeps every machine; screening's credible reference incident);
* :class:`UnitTrips` -- the discrete set of single-unit trips ``u = -P_k e_{bus(k)}``, each
  on its own post-trip network (:func:`~netcoh.analysis.nadir.worst_case_nadir`);
* :class:`FixedStep` -- one given step ``u`` (a contingency whose disturbance is known:
  a unit's lost infeed, an island's imbalance): ``|s . u|``;
* :class:`LinearSet` (in :mod:`.nadir_polytope`) -- a general polytope of losses, an LP per
  row.

:func:`eliminate_node` gives the network after a unit leaves it (the tripped machine's node
becomes a passive bus) and where its lost output lands.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_float_array, as_nonnegative, as_positive
from ..exceptions import InputError

__all__ = ["NormBall", "BudgetBox", "SingleInfeedLoss", "UnitTrips", "FixedStep", "coordinate_sups",
           "eliminate_node"]


class NormBall:
    """``{u : ||u||_p <= rho}`` with ``p`` in {2, inf, 1}.

    Parameters
    ----------
    rho : float
        Radius (p.u.).
    norm : {2, numpy.inf, 1}
        The norm ``p``; the support value of a row ``s`` is ``rho ||s||_D`` with the dual
        norm ``D``.

    Examples
    --------
    >>> import numpy as np
    >>> ball = NormBall(0.5, 2)
    >>> rows = np.array([[3.0, -4.0], [1.0, 0.0]])
    >>> ball.description, ball.value(rows).tolist()          # rho ||s||_2
    ('||u||_2 <= 0.5', [2.5, 0.5])
    >>> u = ball.maximiser(rows[0])
    >>> u.tolist(), float(rows[0] @ u)                       # the dip reaches the value
    ([-0.3, 0.4], -2.5)
    >>> NormBall(0.5, np.inf).value(rows).tolist()           # rho ||s||_1
    [3.5, 0.5]
    """

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


def _knapsack(rows: np.ndarray, cap: np.ndarray, budget: float, exact: bool = True) -> np.ndarray:
    """``max { s . p : 0 <= p <= cap, sum p <= budget }`` for each row ``s`` (vectorised).

    With ``exact=False`` an upper bound: after the passes over each row's best units, the
    budget left is valued at the last unit taken (no unit left is worth more).
    """
    pos = np.maximum(rows, 0.0)
    if not np.isfinite(budget) or budget >= cap.sum():
        return pos @ cap
    shape = pos.shape[:-1]
    pos = pos.reshape(-1, pos.shape[-1])
    n = pos.shape[1]
    out = np.zeros(pos.shape[0])
    left = np.full(pos.shape[0], float(budget))
    every = np.arange(pos.shape[0])
    # the budget is usually spent on one or two units (a grid's largest infeed against
    # units of similar size): take each row's best unit a few times over (a pass each;
    # a row whose budget is spent takes nothing more)
    for _ in range(min(n, 3)):
        j = np.argmax(pos, axis=1)
        v = pos[every, j]
        take = np.minimum(cap[j], left)
        out += v * take
        left -= take
        left[v <= 0] = 0.0
        if not np.any(left > 0):
            return out.reshape(shape)
        pos[every, j] = 0.0                           # taken (pos is this function's own)
    if not exact:
        return (out + left * v).reshape(shape)
    live = np.flatnonzero(left > 0)
    pos, left = pos[live], left[live]
    m = min(n, 16)
    if m < n:
        # the rest of the budget over each row's m best (a partial sort, O(n)); rows whose
        # m best cannot spend it are sorted in full
        top = np.argpartition(-pos, m - 1, axis=1)[:, :m]
        rest = _fill(np.take_along_axis(pos, top, axis=1), cap[top], left)
        short = cap[top].sum(axis=1) < left
        if short.any():
            rest[short] = _fill(pos[short], np.broadcast_to(cap, pos[short].shape), left[short])
    else:
        rest = _fill(pos, np.broadcast_to(cap, pos.shape), left)
    out[live] += rest
    return out.reshape(shape)


def _fill(vals: np.ndarray, caps: np.ndarray, budget) -> np.ndarray:
    """Greedy fill of ``budget`` (per row, or one for all) over each row's items, best
    value first."""
    order = np.argsort(-vals, axis=1, kind="stable")
    vals = np.take_along_axis(vals, order, axis=1)
    caps = np.take_along_axis(caps, order, axis=1)
    before = np.cumsum(caps, axis=1) - caps
    amount = np.clip(np.reshape(budget, (-1, 1)) - before, 0.0, caps)
    return np.einsum("ij,ij->i", vals, amount)


def _caps(pbar, n):
    """Per-bus loss bounds: non-negative, one per bus (a scalar expands to ``n`` buses)."""
    cap = as_nonnegative(pbar, "bounds")
    if cap.ndim == 0 and n is not None:
        cap = np.full(n, float(cap))
    if cap.ndim != 1 or (n is not None and cap.size != n):
        raise InputError(f"`bounds` must have one value per bus ({n}), got shape {cap.shape}")
    return cap


class BudgetBox:
    """Losses ``0 <= p_j <= pbar_j`` with ``sum_j p_j <= budget``; the injection is ``u = -p``.

    Parameters
    ----------
    pbar : array_like (n,) or float
        Output each node can lose (p.u.); a scalar with ``n`` gives every node the same.
    budget : float, optional
        Total loss ``sum p_j`` at most (p.u.); default ``sum pbar``.
    n : int, optional
        Number of nodes (checks the length of ``pbar``, or expands a scalar).

    Examples
    --------
    The worst loss fills the most sensitive buses first (a fractional knapsack):

    >>> import numpy as np
    >>> box = BudgetBox([1.0, 2.0, 0.0], budget=2.5)
    >>> s = np.array([0.1, 0.3, 9.0])            # bus 2 has nothing to lose
    >>> box.value(s[None]).tolist()              # 2.0 at bus 1, the last 0.5 at bus 0
    [0.65]
    >>> u = box.maximiser(s)
    >>> float(s @ u), box.norm_of(u)
    (-0.65, 2.5)
    """

    def __init__(self, pbar, budget=None, n: int | None = None):
        cap = _caps(pbar, n)
        self.cap = cap.astype(float)
        self.budget = float(cap.sum()) if budget is None else float(as_positive(budget, "rho"))

    @property
    def description(self) -> str:
        return f"0 <= p_j <= pbar_j, sum p <= {self.budget:g} (u = -p)"

    def inputs(self):
        """Only nodes that can lose power matter: ``("cols", J, set on J)`` (see
        ``netcoh.analysis.nadir_inputs.restrict``), or None when every node can."""
        J = np.flatnonzero(self.cap > 0)
        if J.size == 0 or J.size == self.cap.size:
            return None
        return "cols", J, BudgetBox(self.cap[J], self.budget)

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


class SingleInfeedLoss:
    """The loss of any one unit's output, at most ``budget``: ``{-min(pbar_j, B) e_j}``.

    The credible single-infeed incident of grid codes (GB SQSS: the loss of the largest
    infeed): exactly one unit loses its output ``pbar_j`` (its dispatch), capped at the
    budget ``B``, while the network keeps every machine. It is the set of the single-unit
    vertices of :class:`BudgetBox` ``(pbar, B)``, so its worst case is never worse than the
    budget box's, which may spread ``B`` over several units. The support value of a row
    ``s`` is ``max_j |s_j| min(pbar_j, B)``; only the columns of units with ``pbar_j > 0``
    matter (:meth:`inputs`).

    Parameters
    ----------
    pbar : array_like (n,) or float
        Output each node can lose (p.u.; zero for a node without a unit); a scalar with
        ``n`` gives every node the same.
    budget : float, optional
        Cap ``B`` on a single loss (p.u.); default no cap (each unit's full output).
    n : int, optional
        Number of nodes (checks the length of ``pbar``, or expands a scalar).

    Examples
    --------
    >>> import numpy as np
    >>> inc = SingleInfeedLoss([3.0, 1.0, 0.0], budget=2.0)
    >>> inc.cap.tolist()                                     # capped at the budget
    [2.0, 1.0, 0.0]
    >>> rows = np.array([[0.1, 0.5, 9.0], [0.4, -0.1, 0.0]])
    >>> inc.value(rows).tolist()                             # max_j |s_j| min(pbar_j, B)
    [0.5, 0.8]
    >>> inc.maximiser(rows[0]).tolist()
    [0.0, -1.0, 0.0]
    """

    def __init__(self, pbar, budget=None, n: int | None = None):
        cap = _caps(pbar, n)
        self.budget = np.inf if budget is None else float(as_positive(budget, "budget"))
        self.cap = np.minimum(cap.astype(float), self.budget)
        if not np.any(self.cap > 0):
            raise InputError("`bounds` must give at least one unit a positive output to lose, "
                             f"got {cap.tolist() if cap.size <= 8 else 'all zero'}")

    @property
    def description(self) -> str:
        units = int(np.count_nonzero(self.cap > 0))
        cap = "" if not np.isfinite(self.budget) else f", each at most {self.budget:g}"
        return f"loss of one unit's output ({units} units{cap}; u = -min(pbar_j, B) e_j)"

    def inputs(self):
        """Only the units matter: ``("cols", J, set on J)`` (see
        ``netcoh.analysis.nadir_inputs.restrict``), or None when every node has one."""
        J = np.flatnonzero(self.cap > 0)
        if J.size == self.cap.size:
            return None
        return "cols", J, SingleInfeedLoss(self.cap[J], self.budget)

    def value(self, rows: np.ndarray) -> np.ndarray:
        return (np.abs(rows) * self.cap).max(axis=-1)

    def maximiser(self, s: np.ndarray) -> np.ndarray:
        """The worst single loss ``-min(pbar_j, B) e_j`` for the row ``s``."""
        j = int(np.argmax(np.abs(s) * self.cap))
        u = np.zeros(self.cap.shape)
        u[j] = -self.cap[j]
        return u

    def norm_of(self, u: np.ndarray) -> float:
        return float(np.sum(-u))


class UnitTrips:
    """Single-unit trips: unit ``k`` at bus ``bus[k]`` losing ``p[k]``; injection ``-p[k] e_bus``.

    Each trip is evaluated on its own post-trip network by
    :func:`~netcoh.analysis.nadir.worst_case_nadir`; on one network the set's support
    value is that of the largest unit per bus.

    Parameters
    ----------
    trips : dict or array_like (n,)
        ``{bus label or index: p}`` (a list of values for several units at one bus), or the
        output lost by a trip at each bus (zero: no unit), p.u.
    n : int
        Number of nodes.
    labels : sequence of str
        Node labels.

    Examples
    --------
    >>> import numpy as np
    >>> trips = UnitTrips({"b": 1.5, "c": [0.5, 2.0]}, 3, ("a", "b", "c"))
    >>> trips.description, trips.bus.tolist(), trips.cap.tolist()
    ('single-unit trips (3 units)', [1, 2, 2], [0.0, 1.5, 2.0])
    >>> trips.maximiser(np.array([0.1, 0.4, 0.2])).tolist()   # 1.5 x 0.4 beats 2.0 x 0.2
    [0.0, -1.5, 0.0]
    """

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


class FixedStep:
    """A single known step injection ``u`` (p.u.), whose dip is ``F = |s^T u|``.

    Parameters
    ----------
    u : array_like (n,)
        The injection (a loss of generation ``P`` at node ``j`` is ``u_j = -P``).

    Examples
    --------
    >>> import numpy as np
    >>> FixedStep([-1.0, 0.0]).value(np.array([[0.5, 2.0], [-0.25, 1.0]])).tolist()
    [0.5, 0.25]
    """

    def __init__(self, u):
        self.u = np.asarray(as_float_array(u, "disturbance"), dtype=float).ravel()
        if not np.all(np.isfinite(self.u)):
            raise InputError("`disturbance` must be finite")

    @property
    def description(self) -> str:
        return f"step of {float(self.u.sum()):+.6g} p.u. net"

    def value(self, rows: np.ndarray) -> np.ndarray:
        return np.abs(rows @ self.u)

    def bound_weights(self, abs_rows: np.ndarray) -> np.ndarray:
        """``sup |q . u|`` bounds for non-negative rows ``|q|``: ``|q| . |u|``."""
        return abs_rows @ np.abs(self.u)

    def inputs(self):
        """One direction: ``("matrix", u[:, None], the unit step)`` (see
        ``netcoh.analysis.nadir_inputs.restrict``)."""
        if self.u.size == 1:
            return None
        return "matrix", self.u[:, None], FixedStep([1.0])

    def maximiser(self, s: np.ndarray) -> np.ndarray:
        return self.u.copy()

    def norm_of(self, u: np.ndarray) -> float:
        return float(np.abs(u).sum())


def coordinate_sups(value, r: int) -> np.ndarray:
    """``sup_u |u_j|`` over a set for each of its ``r`` variables: ``value(e_j)``, from the
    set's functional (512 unit rows at a time).

    Examples
    --------
    >>> coordinate_sups(SingleInfeedLoss([1.0, 3.0]).value, 2).tolist()
    [1.0, 3.0]
    """
    out = np.empty(r)
    for a in range(0, r, 512):
        k = min(r, a + 512) - a
        E = np.zeros((k, r))
        E[np.arange(k), a + np.arange(k)] = 1.0
        out[a:a + k] = np.asarray(value(E), dtype=float)
    return out


def eliminate_node(L: np.ndarray, k: int):
    """The network without the machine at node ``k``, and where an injection at ``k`` goes.

    A tripped machine leaves its node behind as a passive bus: the Schur complement of
    ``L`` on the other nodes, ``L' = L_-k,-k - L_-k,k L_k,-k / L_kk``. For a machine
    behind its transient reactance this equals removing the machine (the node hangs on one
    branch and carries no power), so ``L'`` is the post-trip network, and its lost output
    ``-P`` at its terminal bus reaches the other machines as ``-P c`` with the Kron factors
    ``c = -L_-k,k / L_kk`` (``sum c = 1``).

    Parameters
    ----------
    L : ndarray (n, n)
        Laplacian of the (Kron-reduced) network.
    k : int
        Node of the tripped machine.

    Returns
    -------
    (ndarray (n-1, n-1), ndarray (n-1,))
        The post-trip Laplacian (exact zero row sums) and the factors ``c``.

    Examples
    --------
    >>> import numpy as np
    >>> L = np.array([[2.0, -1, -1], [-1, 2, -1], [-1, -1, 2]])
    >>> Lr, c = eliminate_node(L, 0)
    >>> Lr.tolist(), c.tolist()
    ([[1.5, -1.5], [-1.5, 1.5]], [0.5, 0.5])
    """
    L = np.asarray(L.toarray() if hasattr(L, "toarray") else L, dtype=float)
    n = L.shape[0]
    keep = np.delete(np.arange(n), k)
    lkk = L[k, k]
    if not lkk > 0:
        raise InputError(f"node {k} has no connection to the network; it cannot be tripped")
    col = L[keep, k]
    Lr = L[np.ix_(keep, keep)] - np.outer(col, col) / lkk
    Lr = 0.5 * (Lr + Lr.T)
    off = Lr - np.diag(np.diag(Lr))
    Lr = off - np.diag(off.sum(axis=1))
    return Lr, -col / lkk
