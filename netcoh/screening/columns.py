"""The columns of a screening table, their types, and the ranking (worst first)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["COLUMNS", "STORED_COLUMNS", "STATUSES", "normalise", "rank"]

#: Columns of a screening table, in order. Frequencies are deviations from nominal in Hz
#: (positive = a dip), RoCoF in Hz/s, margins = limit - value (negative: the limit is broken).
COLUMNS = ["contingency", "kind", "element", "from_bus", "to_bus", "lost_mw", "disturbance",
           "nadir_hz", "worst_bus", "time_s", "coi_nadir_hz", "coi_time_s", "rocof_hz_per_s",
           "local_rocof_hz_per_s", "rocof_bus", "qss_hz", "margin_hz", "rocof_margin_hz_per_s",
           "qss_margin_hz", "status", "certified", "islands", "island_info", "method", "warning",
           "error", "nadir_pu", "delta_hz", "elapsed_s"]

#: Columns written to results files: all but ``elapsed_s`` (the CPU time of one run), so
#: that the files are a function of the inputs only and a resumed run writes the same bytes.
STORED_COLUMNS = [c for c in COLUMNS if c != "elapsed_s"]

FLOAT_COLUMNS = ["lost_mw", "nadir_hz", "time_s", "coi_nadir_hz", "coi_time_s", "rocof_hz_per_s",
                 "local_rocof_hz_per_s", "qss_hz", "margin_hz", "rocof_margin_hz_per_s",
                 "qss_margin_hz", "nadir_pu", "delta_hz", "elapsed_s"]
INT_COLUMNS = ["islands"]
BOOL_COLUMNS = ["certified"]
STR_COLUMNS = [c for c in COLUMNS if c not in FLOAT_COLUMNS + INT_COLUMNS + BOOL_COLUMNS]

#: Outcome of a contingency, worst first within the ranking of evaluated rows.
STATUSES = ("violation", "unstable", "ok", "model-invalid", "failed")


def _float(v) -> float:
    """Exact conversion: Python's ``float`` parses the shortest repr back bit for bit."""
    if v is None:
        return math.nan
    if isinstance(v, (float, np.floating, int, np.integer)) and not isinstance(v, bool):
        return float(v)
    s = str(v).strip()
    if not s:
        return math.nan
    try:
        return float(s)
    except ValueError:
        return math.nan


def _status(row) -> str:
    """The status of a row that carries none (rows from before statuses were recorded)."""
    if row["error"]:
        return "failed"
    if row["method"] == "unstable":
        return "unstable"
    margins = [row[c] for c in ("margin_hz", "rocof_margin_hz_per_s", "qss_margin_hz")]
    return "violation" if any(m < 0 for m in margins if not math.isnan(m)) else "ok"


def normalise(df: pd.DataFrame) -> pd.DataFrame:
    """A table with every column of :data:`COLUMNS` in its type (missing ones filled).

    Parameters
    ----------
    df : pandas.DataFrame
        Rows from the screening loop or read back from storage (strings accepted).

    Returns
    -------
    pandas.DataFrame
        Floats (NaN where missing), ``islands`` int, ``certified`` bool, the rest str;
        ``status`` derived from the error, method and margins where it is empty.

    Examples
    --------
    >>> float(normalise(pd.DataFrame({"contingency": ["x"], "nadir_hz": ["0.1"]})).nadir_hz[0])
    0.1
    """
    df = df.reindex(columns=COLUMNS).reset_index(drop=True)
    out = {}
    for c in FLOAT_COLUMNS:
        out[c] = pd.Series([_float(v) for v in df[c]], dtype=float)
    isl = [_float(v) for v in df["islands"]]
    out["islands"] = pd.Series([int(v) if math.isfinite(v) else 0 for v in isl], dtype=int)
    out["certified"] = pd.Series([bool(v) if isinstance(v, (bool, np.bool_)) else str(v) == "True"
                                  for v in df["certified"]], dtype=bool)
    for c in STR_COLUMNS:
        out[c] = pd.Series(["" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
                            for v in df[c]], dtype=object)
    res = pd.DataFrame(out, columns=COLUMNS)
    if len(res):
        missing = res["status"] == ""
        if missing.any():
            res.loc[missing, "status"] = [_status(r) for _, r in res[missing].iterrows()]
    return res


def rank(df: pd.DataFrame) -> pd.DataFrame:
    """Worst first: evaluated rows by nadir, then model-invalid, then failed; ties by name.

    Parameters
    ----------
    df : pandas.DataFrame
        A normalised table.

    Returns
    -------
    pandas.DataFrame
        The rows in ranking order, indexed by rank from 1.

    Examples
    --------
    >>> t = normalise(pd.DataFrame({"contingency": ["a", "b"], "nadir_hz": [0.1, 0.3]}))
    >>> rank(t).contingency.tolist()
    ['b', 'a']
    """
    df = df.copy()
    df["_group"] = df["status"].isin(["model-invalid", "failed"]).astype(int) + \
        (df["status"] == "failed").astype(int)
    df = df.sort_values(["_group", "nadir_hz", "contingency"], ascending=[True, False, True],
                        na_position="last", kind="mergesort")
    df = df.drop(columns="_group").reset_index(drop=True)
    df.index = pd.RangeIndex(1, len(df) + 1, name="rank")
    return df
