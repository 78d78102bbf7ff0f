"""Screening results: the ranked table, the worst disturbances and the trajectories."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..exceptions import InputError
from .columns import COLUMNS, STATUSES, STORED_COLUMNS, normalise, rank
from .store import EXTRA_COLUMNS, ResultStore, private_of

__all__ = ["ScreeningResult", "ResultStore", "COLUMNS", "STORED_COLUMNS", "STATUSES", "assemble",
           "MARGINS", "broken_limits"]

#: The limit each margin column checks, as the reports name it.
MARGINS = {"margin_hz": "nadir", "rocof_margin_hz_per_s": "RoCoF",
           "qss_margin_hz": "quasi-steady"}


def broken_limits(table: pd.DataFrame) -> pd.Series:
    """The limits each row breaks (negative margins), named as in :data:`MARGINS`.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows with the margin columns.

    Returns
    -------
    pandas.Series of str
        ``"nadir"``, ``"quasi-steady"``, ``"nadir, RoCoF"``, ...; empty for a row within
        every limit (or without margins).

    Examples
    --------
    >>> t = pd.DataFrame({"margin_hz": [0.1, -0.2], "rocof_margin_hz_per_s": [None, None],
    ...                   "qss_margin_hz": [-0.01, -0.05]})
    >>> list(broken_limits(t))
    ['quasi-steady', 'nadir, quasi-steady']
    """
    names = []
    for c, name in MARGINS.items():
        col = table[c] if c in table else pd.Series(np.nan, index=table.index)
        names.append(np.where(pd.to_numeric(col, errors="coerce").to_numpy(float) < 0, name, ""))
    return pd.Series([", ".join(x for x in row if x) for row in zip(*names)],
                     index=table.index, dtype=object)


def _no_frame(columns) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=float if c not in ("contingency", "machine") else object)
                         for c in columns})


DISTURBANCE_COLUMNS = ["contingency", "machine", "p_mw"]
TRAJECTORY_COLUMNS = ["contingency", "t_s", "coi_hz", "worst_bus_hz"]


def assemble(table: pd.DataFrame, extras: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Long tables of the worst disturbances and the trajectories, in the table's order.

    Parameters
    ----------
    table : pandas.DataFrame
        Ranked rows (their ``contingency`` column gives the order).
    extras : dict
        ``{contingency: private data}`` as :func:`~netcoh.screening.store.private_of` gives.

    Returns
    -------
    tuple of pandas.DataFrame
        ``disturbances`` (columns ``contingency, machine, p_mw``: the MW each unit loses in
        the contingency's worst disturbance) and ``trajectories`` (``contingency, t_s,
        coi_hz, worst_bus_hz``: frequency deviation of the centre of inertia and of the
        worst bus, Hz).

    Examples
    --------
    >>> t = pd.DataFrame({"contingency": ["a"]})
    >>> d, tr = assemble(t, {"a": private_of({"_disturbance_mw": {"G1": -5.0}})})
    >>> d.values.tolist(), len(tr)
    ([['a', 'G1', -5.0]], 0)
    """
    names, dist_m, dist_p = [], [], []
    tn, ts, tc, tw = [], [], [], []
    for c in table["contingency"]:
        e = extras.get(c)
        if not e:
            continue
        names += [c] * len(e["_dist_names"])
        dist_m += list(e["_dist_names"])
        dist_p += list(e["_dist_mw"])
        tn += [c] * len(e["_t_s"])
        ts += list(e["_t_s"])
        tc += list(e["_coi_hz"])
        tw += list(e["_worst_bus_hz"])
    dist = pd.DataFrame({"contingency": pd.Series(names, dtype=object),
                         "machine": pd.Series(dist_m, dtype=object),
                         "p_mw": pd.Series(dist_p, dtype=float)})
    traj = pd.DataFrame({"contingency": pd.Series(tn, dtype=object),
                         "t_s": pd.Series(ts, dtype=float), "coi_hz": pd.Series(tc, dtype=float),
                         "worst_bus_hz": pd.Series(tw, dtype=float)})
    return dist, traj


def _f(v) -> float | None:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


@dataclass(frozen=True, eq=False)
class ScreeningResult:
    """Ranked outcome of every contingency (see :func:`screen_contingencies`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per contingency, worst first (columns
        ``netcoh.screening.results.COLUMNS``); use :meth:`to_frame`.
    base : NadirResult
        The intact network's worst case.
    settings : dict
        Case, disturbance set, time grid, limits and executor used.
    disturbances : pandas.DataFrame
        The worst disturbance of each contingency, long format: ``contingency, machine,
        p_mw`` (MW lost by each unit; empty where the screening recorded none).
    trajectories : pandas.DataFrame
        Frequency deviation after each contingency, long format: ``contingency, t_s,
        coi_hz, worst_bus_hz`` (centre of inertia and worst bus, Hz).

    Examples
    --------
    >>> t = normalise(pd.DataFrame({"contingency": ["a"], "nadir_hz": [0.3], "margin_hz": [0.5]}))
    >>> ScreeningResult(rank(t), None, {}).summary()["statuses"]["ok"]
    1
    """

    table: pd.DataFrame
    base: object
    settings: dict
    disturbances: pd.DataFrame = field(default=None)
    trajectories: pd.DataFrame = field(default=None)

    def __post_init__(self):
        if self.disturbances is None:
            object.__setattr__(self, "disturbances", _no_frame(DISTURBANCE_COLUMNS))
        if self.trajectories is None:
            object.__setattr__(self, "trajectories", _no_frame(TRAJECTORY_COLUMNS))

    def to_frame(self) -> pd.DataFrame:
        """A copy of the ranked table.

        Returns
        -------
        pandas.DataFrame
            Columns ``netcoh.screening.results.COLUMNS``, indexed by rank from 1.

        Examples
        --------
        >>> ScreeningResult(rank(normalise(pd.DataFrame())), None, {}).to_frame().shape[1]
        29
        """
        return self.table.copy()

    @property
    def evaluated(self) -> pd.DataFrame:
        """Rows with a result (status ``ok``, ``violation`` or ``unstable``)."""
        return self.table[self.table["status"].isin(["ok", "violation", "unstable"])]

    @property
    def worst(self) -> pd.Series:
        """The worst evaluated contingency's row."""
        ok = self.evaluated
        if ok.empty:
            raise InputError("no contingency was evaluated successfully")
        return ok.iloc[0]

    @property
    def failed(self) -> pd.DataFrame:
        """Rows of the contingencies that raised an error."""
        return self.table[self.table["status"] == "failed"]

    @property
    def violations(self) -> pd.DataFrame:
        """Rows that break a limit (status ``violation``) or have no bounded dip (``unstable``)."""
        return self.table[self.table["status"].isin(["violation", "unstable"])]

    def summary(self) -> dict:
        """Counts per status, the worst contingency and the settings, as a JSON-ready dict.

        Returns
        -------
        dict
            ``contingencies``, ``evaluated``, ``failed``, ``violations``, ``unstable``,
            ``model_invalid``, ``statuses`` (count of each), the intact case, the worst row
            (``worst_contingency`` with its bus, nadir, time and COI nadir), the deepest COI
            nadir and the steepest COI RoCoF over all rows with their contingencies
            (``worst_coi_nadir_hz``, ``worst_coi_contingency``, ``worst_rocof_hz_per_s``,
            ``worst_rocof_contingency``) and ``settings``; non-finite numbers are None.

        Examples
        --------
        >>> ScreeningResult(rank(normalise(pd.DataFrame())), None, {}).summary()["contingencies"]
        0
        """
        t = self.table
        counts = {s: int((t["status"] == s).sum()) for s in STATUSES}
        out = {"contingencies": int(len(t)), "evaluated": int(len(self.evaluated)),
               "failed": counts["failed"], "violations": counts["violation"],
               "unstable": counts["unstable"], "model_invalid": counts["model-invalid"],
               "statuses": counts,
               "base_nadir_hz": _f(getattr(self.base, "value_hz", None)),
               "base_worst_bus": None if self.base is None else str(self.base.bus)}
        ok = self.evaluated
        if len(ok):
            w = ok.iloc[0]
            out.update(worst_contingency=str(w["contingency"]), worst_bus=str(w["worst_bus"]),
                       worst_nadir_hz=_f(w["nadir_hz"]), worst_time_s=_f(w["time_s"]),
                       worst_contingency_coi_nadir_hz=_f(w["coi_nadir_hz"]))
            # the deepest COI nadir and the steepest RoCoF over all rows (not the same
            # contingency as the deepest local nadir in general)
            for col, key, which in (("coi_nadir_hz", "worst_coi_nadir_hz", "worst_coi_contingency"),
                                    ("rocof_hz_per_s", "worst_rocof_hz_per_s",
                                     "worst_rocof_contingency")):
                v = pd.to_numeric(ok[col], errors="coerce")
                if v.notna().any():
                    i = v.idxmax()
                    out[key], out[which] = _f(v[i]), str(ok.loc[i, "contingency"])
        out["settings"] = _jsonable(self.settings)
        return out

    def plot(self, ax=None, top: int = 20):
        """Horizontal bars of the ``top`` worst contingencies (Hz), threshold dashed.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on (new figure if None).
        top : int
            Number of contingencies drawn.

        Returns
        -------
        matplotlib.axes.Axes
            The axes drawn on.

        Examples
        --------
        >>> import matplotlib; matplotlib.use("Agg")
        >>> t = normalise(pd.DataFrame({"contingency": ["a"], "nadir_hz": [0.3]}))
        >>> ScreeningResult(rank(t), None, {"threshold_hz": 0.8}).plot().get_xlabel()
        'worst local nadir |Δf| (Hz)'
        """
        from ..plotting import plot_screening

        return plot_screening(self, ax=ax, top=top)


def _jsonable(o):
    """Strict JSON: non-finite floats become None, numpy scalars Python numbers."""
    if isinstance(o, dict):
        return {str(k): _jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_jsonable(v) for v in o]
    if isinstance(o, (bool, np.bool_)):
        return bool(o)
    if isinstance(o, (float, np.floating)):
        return float(o) if math.isfinite(o) else None
    if isinstance(o, np.integer):
        return int(o)
    if o is None or isinstance(o, (str, int)):
        return o
    return str(o)


__all__ += ["EXTRA_COLUMNS", "private_of", "normalise", "rank"]
