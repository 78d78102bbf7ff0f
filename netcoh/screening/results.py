"""Screening results: the ranked table and its incremental, resumable storage."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._util import atomic_write_bytes, atomic_write_text
from ..exceptions import InputError

__all__ = ["ScreeningResult", "ResultStore", "COLUMNS"]

#: Columns of a screening table, in order.
COLUMNS = ["contingency", "kind", "element", "worst_bus", "nadir_pu", "nadir_hz", "time_s",
           "margin_hz", "delta_hz", "certified", "islands", "island_info", "method", "warning",
           "error", "elapsed_s"]


def rank(df: pd.DataFrame) -> pd.DataFrame:
    """Worst first; failed contingencies last; ties by name (deterministic)."""
    df = df.copy()
    df["_failed"] = df["error"].fillna("").astype(str) != ""
    df = df.sort_values(["_failed", "nadir_hz", "contingency"], ascending=[True, False, True],
                        na_position="last", kind="mergesort")
    df = df.drop(columns="_failed").reset_index(drop=True)
    df.index = pd.RangeIndex(1, len(df) + 1, name="rank")
    return df


@dataclass(frozen=True, eq=False)
class ScreeningResult:
    """Ranked worst-case nadir of every contingency (see :func:`screen_contingencies`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per contingency, worst first (columns
        ``netcoh.screening.results.COLUMNS``); use :meth:`to_frame`.
    base : NadirResult
        The intact network's worst-case nadir.
    settings : dict
        Case, disturbance set, time grid, threshold and executor used.

    Examples
    --------
    >>> import netcoh as nc
    >>> report = nc.screen_contingencies(nc.grids.load("kundur"), "machines", executor="serial")
    >>> report.summary()["evaluated"], report.summary()["failed"]
    (4, 0)
    >>> report.to_frame()["contingency"].str.startswith("machine:").tolist()
    [True, True, True, True]
    """

    table: pd.DataFrame
    base: object
    settings: dict

    def to_frame(self) -> pd.DataFrame:
        """A copy of the ranked table."""
        return self.table.copy()

    @property
    def worst(self) -> pd.Series:
        """The worst successful contingency's row."""
        ok = self.table[self.table["error"].fillna("") == ""]
        if ok.empty:
            raise InputError("no contingency was evaluated successfully")
        return ok.iloc[0]

    @property
    def failed(self) -> pd.DataFrame:
        """Rows of the contingencies that raised an error."""
        return self.table[self.table["error"].fillna("") != ""]

    @property
    def violations(self) -> pd.DataFrame:
        """Rows whose nadir exceeds the threshold (negative margin)."""
        return self.table[self.table["margin_hz"] < 0]

    def summary(self) -> dict:
        """Counts, the worst contingency and the settings, as a JSON-ready dict."""
        ok = self.table[self.table["error"].fillna("") == ""]
        out = {"contingencies": int(len(self.table)), "evaluated": int(len(ok)),
               "failed": int(len(self.table) - len(ok)),
               "base_nadir_hz": float(self.base.value_hz), "base_worst_bus": self.base.bus,
               "violations": int((ok["margin_hz"] < 0).sum()),
               "unstable": int((ok["method"] == "unstable").sum())}
        if len(ok):
            w = ok.iloc[0]
            out.update(worst_contingency=str(w["contingency"]), worst_bus=str(w["worst_bus"]),
                       worst_nadir_hz=float(w["nadir_hz"]), worst_time_s=float(w["time_s"]))
        out["settings"] = self.settings
        return out

    def plot(self, ax=None, top: int = 20):
        """Horizontal bars of the ``top`` worst contingencies (Hz), threshold dashed.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on (new figure if None).
        top : int
            Number of contingencies drawn.
        """
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(6.4, 0.25 * min(top, len(self.table)) + 1.5))
        ok = self.table[self.table["error"].fillna("") == ""].head(top)
        vals = ok["nadir_hz"].to_numpy(dtype=float)
        finite = np.isfinite(vals)
        # unstable outcomes (no bound on the dip) reach past the largest finite bar
        thr = self.settings.get("threshold_hz")
        span = max([self.base.value_hz, *vals[finite], *([thr] if thr is not None else [])]) * 1.15
        width = np.where(finite, vals, span)
        colors = np.where(finite, "C0", "C3")
        names = ok["contingency"].astype(str).to_numpy()
        ax.barh(names[::-1], width[::-1], color=colors[::-1])
        for y in np.flatnonzero(~finite[::-1]):
            ax.text(span, y, " unstable", va="center", ha="left", fontsize="small", color="C3")
        ax.axvline(self.base.value_hz, color="k", lw=0.8, label="intact network")
        if thr is not None:
            ax.axvline(thr, color="r", ls="--", lw=0.8, label="threshold")
        ax.set_xlabel("worst-case nadir |Δf| (Hz)")
        ax.legend(fontsize="small")
        return ax


class ResultStore:
    """Append-only storage of result rows (CSV file, or a directory of Parquet parts).

    ``path`` ending in ``.parquet`` stores one part file per batch in ``<path>.parts/``
    (each written atomically) and merges them into ``path`` at :meth:`finalise`; any other
    path is a CSV file to which each batch is appended and flushed to disk. A sidecar
    ``<path>.meta.json`` records the settings; resuming with different settings is refused.
    """

    def __init__(self, path, settings: dict, resume: bool = True):
        self.path = Path(path)
        self.parquet = self.path.suffix == ".parquet"
        self.meta = self.path.with_name(self.path.name + ".meta.json")
        self.parts = self.path.with_name(self.path.name + ".parts")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        key = json.loads(json.dumps(settings, default=str))
        existing = self._exists()
        if existing and resume:
            if self.meta.exists():
                old = json.loads(self.meta.read_text())
                if old != key:
                    diff = sorted(k for k in set(old) | set(key) if old.get(k) != key.get(k))
                    raise InputError(f"cannot resume {self.path}: it was written with different "
                                     f"settings ({', '.join(diff)}); use resume=False "
                                     "(command line: --no-resume) or another path")
        elif existing:
            self._clear()
        self.meta.write_text(json.dumps(key, indent=1))
        self._count = len(list(self.parts.glob("part-*.parquet"))) if self.parquet else 0

    def _exists(self) -> bool:
        if self.parquet:
            return self.parts.exists() or self.path.exists()
        return self.path.exists()

    def _clear(self) -> None:
        if self.parquet and self.parts.exists():
            for p in self.parts.glob("*"):
                p.unlink()
        if self.path.exists():
            self.path.unlink()

    def load(self) -> pd.DataFrame:
        """Rows stored so far (an incomplete last CSV line from a crash is ignored)."""
        if self.parquet:
            files = sorted(self.parts.glob("part-*.parquet")) if self.parts.exists() else []
            frames = [pd.read_parquet(f) for f in files]
            if not frames and self.path.exists():
                frames = [pd.read_parquet(self.path)]
            return pd.concat(frames, ignore_index=True) if frames else _empty()
        if not self.path.exists():
            return _empty()
        text = self.path.read_text(encoding="utf-8")
        if text and not text.endswith("\n"):
            text = text[: text.rfind("\n") + 1]
            with open(self.path, "w", encoding="utf-8") as fh:     # drop the torn line
                fh.write(text)
        if not text.strip():
            return _empty()
        from io import StringIO

        return pd.read_csv(StringIO(text), dtype={"contingency": str, "element": str,
                                                  "worst_bus": str, "kind": str},
                           keep_default_na=True)

    def append(self, rows: list) -> None:
        if not rows:
            return
        df = pd.DataFrame(rows, columns=COLUMNS)
        if self.parquet:
            self.parts.mkdir(exist_ok=True)
            self._count += 1
            atomic_write_bytes(self.parts / f"part-{self._count:06d}.parquet",
                               df.to_parquet(index=False))
            return
        header = not self.path.exists() or self.path.stat().st_size == 0
        data = df.to_csv(index=False, header=header, float_format="%.17g")
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    def finalise(self, table: pd.DataFrame) -> None:
        """Write the ranked table (CSV rewritten atomically; Parquet parts merged)."""
        if self.parquet:
            atomic_write_bytes(self.path, table.reset_index(drop=True).to_parquet(index=False))
            for p in self.parts.glob("*"):
                p.unlink()
            self.parts.rmdir()
        else:
            atomic_write_text(self.path, table.to_csv(index=False, float_format="%.17g"))


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})


def normalise(df: pd.DataFrame) -> pd.DataFrame:
    """Column types of a table read back from storage."""
    df = df.reindex(columns=COLUMNS).copy()
    for c in ("nadir_pu", "nadir_hz", "time_s", "margin_hz", "delta_hz", "elapsed_s"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    df["islands"] = pd.to_numeric(df["islands"], errors="coerce").fillna(0).astype(int)
    df["certified"] = df["certified"].map(
        lambda v: bool(v) if isinstance(v, (bool, np.bool_)) else str(v) == "True")
    for c in ("contingency", "kind", "element", "worst_bus", "island_info", "method", "warning",
              "error"):
        df[c] = df[c].where(df[c].notna(), "").astype(str)
    return df
