"""The result of :func:`~netcoh.analysis.nadir.worst_case_nadir`.

The search rules most buses out by certified bounds and evaluates only the entries of the
bus-by-time table that could still hold the worst case. The whole table, and each bus's
worst deviation derived from it, is computed from the stored search on first access (or
during the search with ``full_table=True``), so the answer itself costs only what it needs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .._util import readonly as _readonly
from .nadir_search import grid_table

__all__ = ["NadirResult"]


def bus_summary(F, t, steady, best_i: int, best_v: float):
    """Worst grid value of every bus and its time, with the steady state and the supremum.

    Parameters
    ----------
    F : ndarray (n, T)
        The grid table.
    t : ndarray (T,)
        The grid (s).
    steady : ndarray (n,) or None
        ``F`` at ``t = inf`` when the steady state was searched.
    best_i : int
        The worst bus.
    best_v : float
        Its certified supremum (at least its grid maximum).

    Returns
    -------
    (ndarray, ndarray)
        ``per_bus`` and ``per_bus_time`` (``inf`` where the steady state is the worst).

    Examples
    --------
    >>> import numpy as np
    >>> F = np.array([[0.0, 2.0, 1.0], [0.0, 1.0, 3.0]])
    >>> pb, pt = bus_summary(F, np.array([0.0, 0.5, 1.0]), None, 1, 3.5)
    >>> pb.tolist(), pt.tolist()
    ([2.0, 3.5], [0.5, 1.0])
    """
    n = F.shape[0]
    jmax = np.argmax(F, axis=1)
    per_bus = F[np.arange(n), jmax]
    per_bus_time = np.asarray(t, dtype=float)[jmax]
    if steady is not None:
        per_bus_time = np.where(steady > per_bus, np.inf, per_bus_time)
        per_bus = np.maximum(per_bus, steady)
    per_bus[best_i] = max(per_bus[best_i], best_v)
    return per_bus, per_bus_time


class _Tables(ABC):
    """``table``, ``per_bus`` and ``per_bus_time`` of a result, each made on first use.

    ``evaluated`` marks the table entries the search evaluated exactly; ``partial`` holds
    ``(per_bus, per_bus_time)`` as far as those entries decide them (NaN elsewhere).
    """

    def __init__(self, evaluated, partial, full_table=None):
        self.evaluated = _readonly(evaluated)
        self._partial = partial
        if full_table is not None:
            self.__dict__["table"] = _readonly(full_table)

    @abstractmethod
    def compute_table(self):
        """The whole table ``F[bus, t]``."""

    @abstractmethod
    def summary(self):
        """``(per_bus, per_bus_time)`` from the whole table."""

    @cached_property
    def table(self):
        return _readonly(self.compute_table())

    @cached_property
    def _per_bus(self):
        pb, pt = self._partial
        if np.isnan(pb).any():          # some bus is not decided by the evaluated entries
            pb, pt = self.summary()
        return _readonly(pb), _readonly(pt)


class SearchTables(_Tables):
    """Tables of one search: the full table is ``grid_table(model, dset, t)``.

    Only the modal model and the set are kept (not the search's bound arrays); once the
    table is computed, or when it was given, not even those.
    """

    def __init__(self, model, dset, t, steady, best_i, best_v, evaluated, partial,
                 full_table=None):
        super().__init__(evaluated, partial, full_table)
        self._source = None if full_table is not None else (model, dset)
        self._t, self._steady = t, steady
        self._best = (int(best_i), float(best_v))

    def compute_table(self):
        model, dset = self._source
        F = grid_table(model, dset, self._t)
        self._source = None
        return F

    def summary(self):
        return bus_summary(self.table, self._t, self._steady, *self._best)


class EmbeddedTables(_Tables):
    """Tables of a post-trip network placed in the full node set (NaN at the tripped node)."""

    def __init__(self, inner: _Tables, keep, n: int):
        self._inner, self._keep, self._n = inner, np.asarray(keep), int(n)
        pb, pt = inner._partial
        super().__init__(self._embed(inner.evaluated, 0, fill=False),
                         (self._embed(pb, 0), self._embed(pt, 0)))

    def _embed(self, a, axis, fill=np.nan):
        a = np.asarray(a)
        shape = list(a.shape)
        shape[axis] = self._n
        out = np.full(shape, fill, dtype=a.dtype if fill is False else float)
        idx = [slice(None)] * len(shape)
        idx[axis] = self._keep
        out[tuple(idx)] = a
        return out

    def compute_table(self):
        return self._embed(self._inner.table, 0)

    def summary(self):
        pb, pt = self._inner._per_bus
        return self._embed(pb, 0), self._embed(pt, 0)


@dataclass(frozen=True, eq=False)
class NadirResult:
    """Worst-case nadir of a network (see :func:`worst_case_nadir`).

    Attributes
    ----------
    value : float
        Worst ``|omega_i(t)|`` in the system's output unit (p.u. frequency for grids).
    value_hz : float
        The same in Hz.
    bus, bus_index : str, int
        The worst bus (label and position).
    time : float
        Time of the nadir in s (``inf`` when the supremum is the steady state).
    disturbance : ndarray (n,)
        A worst step injection (feasible; ``||u|| = rho`` for norm balls).
    times : ndarray (T,)
        The time grid.
    table : ndarray (n, T)
        ``F[i, t]``: worst deviation of bus ``i`` at grid time ``t`` over the set. The
        search evaluates only the entries that can hold the worst case (``evaluated``);
        the whole table is computed from the stored search on first access, unless
        ``full_table=True`` computed it during the search.
    per_bus : ndarray (n,)
        Worst deviation of each bus over the grid (and the steady state when searched);
        like ``table``, computed on first access when the search did not decide it.
    per_bus_time : ndarray (n,)
        Grid time of each bus's worst deviation.
    evaluated : ndarray of bool (n, T)
        Table entries the search evaluated; the others were ruled out by a certified
        upper bound below the worst value (all True with ``full_table=True``).
    trajectory : ndarray (T, n)
        ``omega(t)`` of every bus under ``disturbance``.
    upper_bound : float
        Certified upper bound on the supremum over the searched time range.
    certified : bool
        Whether ``upper_bound <= value (1 + rtol)``.
    horizon : float
        End of the searched window (s).
    grid_value : float
        Maximum of :attr:`table` (the grid-only answer of EPSR24 Algorithm 1).
    labels : tuple of str
        Bus labels.
    disturbance_set : str
        Description of the disturbance set.
    method : str
        ``"modal"`` (proportional closed form), ``"statespace"`` (eigendecomposition of
        the realisation) or ``"timedomain"`` (sparse propagation over the window).
    f_hz : float
        Nominal frequency.
    hz_per_unit : float
        Hz per unit of the system's output.
    threshold_hz : float or None
        Flagging threshold.
    flagged : tuple of str
        Buses whose worst deviation exceeds ``threshold_hz``.

    Examples
    --------
    >>> import netcoh as nc
    >>> sys = nc.NetworkSystem.from_laplacian(50.0 * nc.laplacian.complete(4),
    ...                                       nodal=nc.nodal.swing(2.0, 1.0, n=4))
    >>> res = nc.worst_case_nadir(sys, rho=0.5, f_hz=50.0)
    >>> res.value, res.value_hz      # p.u. and Hz: every bus settles 0.25 p.u. low
    (0.25, 12.5)
    >>> res.to_frame().columns.tolist()
    ['bus', 'worst', 'worst_hz', 'time_s', 'flagged']
    """

    value: float
    value_hz: float
    bus: str
    bus_index: int
    time: float
    disturbance: np.ndarray
    times: np.ndarray
    trajectory: np.ndarray
    upper_bound: float
    certified: bool
    horizon: float
    grid_value: float
    labels: tuple
    disturbance_set: str
    method: str
    f_hz: float
    hz_per_unit: float
    threshold_hz: float | None
    flagged: tuple
    # the bus-by-time table and the per-bus summaries (computed on first use); an
    # argument (private) so that dataclasses.replace keeps it
    _tables: _Tables = field(default=None, repr=False, kw_only=True)

    def __post_init__(self):
        for name in ("disturbance", "times", "trajectory"):
            getattr(self, name).setflags(write=False)

    def _search_tables(self) -> _Tables:
        if self._tables is None:
            raise AttributeError("this NadirResult was built without its search, so it has no "
                                 "table; results of worst_case_nadir carry it")
        return self._tables

    @property
    def table(self) -> np.ndarray:
        """``F[bus, t]`` on :attr:`times` (computed on first access after a pruned search)."""
        return self._search_tables().table

    @property
    def evaluated(self) -> np.ndarray:
        """Entries of ``table`` the search evaluated (the rest were bounded out)."""
        return self._search_tables().evaluated

    @property
    def per_bus(self) -> np.ndarray:
        """Worst deviation of each bus over the grid and, when searched, the steady state."""
        return self._search_tables()._per_bus[0]

    @property
    def per_bus_time(self) -> np.ndarray:
        """Grid time of each bus's worst deviation (``inf``: the steady state)."""
        return self._search_tables()._per_bus[1]

    @property
    def per_bus_hz(self) -> np.ndarray:
        """:attr:`per_bus` in Hz."""
        return self.per_bus * self.hz_per_unit

    @property
    def margin_hz(self) -> float:
        """``threshold_hz - value_hz`` (NaN without a threshold; negative = violation)."""
        return float("nan") if self.threshold_hz is None else self.threshold_hz - self.value_hz

    def to_frame(self):
        """One row per bus: worst deviation on the grid (unit and Hz), its grid time, and
        the flag of :attr:`flagged` (the supremum over the window, between grid points too,
        so a bus may be flagged with a grid value just below the threshold)."""
        import pandas as pd

        flagged = set(self.flagged)
        return pd.DataFrame({
            "bus": list(self.labels),
            "worst": self.per_bus,
            "worst_hz": self.per_bus_hz,
            "time_s": self.per_bus_time,
            "flagged": np.array([b in flagged for b in self.labels], dtype=bool),
        })

    def table_frame(self):
        """``F[bus, t]`` as a DataFrame (buses as rows, times in s as columns)."""
        import pandas as pd

        return pd.DataFrame(self.table, index=pd.Index(self.labels, name="bus"),
                            columns=pd.Index(self.times, name="t_s"))

    def plot(self, ax=None, top: int = 5):
        """``F_i(t)`` in Hz of the ``top`` worst buses, the nadir and the threshold.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on (new figure if None).
        top : int
            Number of buses drawn.
        """
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(6.4, 4.0))
        order = np.argsort(-self.per_bus)[:top]
        for i in order:
            ax.plot(self.times, self.table[i] * self.hz_per_unit, lw=1.0, label=f"bus {self.labels[i]}")
        if np.isfinite(self.time):
            ax.plot([self.time], [self.value_hz], "k*", ms=9, label="worst nadir")
        if self.threshold_hz is not None:
            ax.axhline(self.threshold_hz, color="r", ls="--", lw=0.8, label="threshold")
        ax.set_xlabel("time (s)")
        ax.set_ylabel("worst |Δf| (Hz)")
        ax.set_title(f"worst-case nadir {self.value_hz:.4g} Hz at bus {self.bus}")
        ax.legend(fontsize="small")
        return ax

    def plot_trajectory(self, ax=None):
        """``Δf_i(t)`` of every bus (Hz) under the worst disturbance.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on (new figure if None).
        """
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(6.4, 4.0))
        ax.plot(self.times, self.trajectory * self.hz_per_unit, lw=0.6, color="0.6")
        ax.plot(self.times, self.trajectory[:, self.bus_index] * self.hz_per_unit, lw=1.6,
                color="C3", label=f"bus {self.bus}")
        ax.set_xlabel("time (s)")
        ax.set_ylabel("Δf (Hz)")
        ax.legend(fontsize="small")
        return ax


