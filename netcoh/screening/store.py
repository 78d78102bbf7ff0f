"""Incremental, resumable storage of screening rows: exact round trip, validated on resume.

A store is a results file (``.csv`` or ``.parquet``), its settings file ``<file>.meta.json``
and, during a run, a folder ``<file>.parts/`` of atomically written Parquet parts. Each
contingency's worst disturbance and trajectories are kept beside its row (in the parts, then in
``<file>.extra.parquet``), so a resumed run has everything an uninterrupted one has.

Guarantees, whatever point a run is killed at:

- floats round-trip exactly (CSV cells are the shortest repr of the float, read back with
  :func:`float`; Parquet is binary), so a resumed run writes the same bytes as one that
  was not interrupted;
- every resumed row is validated: a torn line, a non-numeric cell, an unknown status, a
  duplicated contingency or a row without its stored trajectories is recomputed;
- the settings live with the data: a missing, damaged or different settings file refuses to
  resume (one line naming the file), rather than mixing two runs;
- a damaged store (random bytes, a truncated part) is reported in one line, never a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .._util import atomic_write_bytes, atomic_write_text
from ..exceptions import InputError, NetcohWarning
from .columns import BOOL_COLUMNS, FLOAT_COLUMNS, INT_COLUMNS, STATUSES, STORED_COLUMNS, normalise

__all__ = ["ResultStore", "private_of", "EXTRA_COLUMNS"]

#: Columns of the private data kept for each contingency (Parquet list columns).
EXTRA_COLUMNS = ["_dist_names", "_dist_mw", "_t_s", "_coi_hz", "_worst_bus_hz"]
_HINT = "use resume=False (command line: --no-resume) or another path"


def private_of(row: dict) -> dict:
    """The private data of a row as plain lists (worst disturbance in MW, trajectories).

    Parameters
    ----------
    row : dict
        A row as the screening loop returns it, with optional ``_disturbance_mw`` (dict
        name -> MW) and ``_trajectory`` (dict of 1-D arrays ``t_s``, ``coi_hz``,
        ``worst_bus_hz``).

    Returns
    -------
    dict
        Keys :data:`EXTRA_COLUMNS`; empty lists where the row has no such data.

    Examples
    --------
    >>> private_of({"_disturbance_mw": {"G1": -50.0}})["_dist_mw"]
    [-50.0]
    """
    dist = row.get("_disturbance_mw") or {}
    traj = row.get("_trajectory") or {}

    def arr(key):
        v = traj.get(key)
        return [] if v is None else [float(x) for x in np.ravel(v)]

    t, coi, wb = arr("t_s"), arr("coi_hz"), arr("worst_bus_hz")
    if not (len(t) == len(coi) == len(wb)):
        t, coi, wb = [], [], []
    return {"_dist_names": [str(k) for k in dist], "_dist_mw": [float(v) for v in dist.values()],
            "_t_s": t, "_coi_hz": coi, "_worst_bus_hz": wb}


def _extras_frame(rows: list) -> pd.DataFrame:
    recs = [dict(contingency=str(r["contingency"]), **private_of(r)) for r in rows]
    return pd.DataFrame(recs, columns=["contingency", *EXTRA_COLUMNS])


def _to_parquet(df: pd.DataFrame) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df.reset_index(drop=True), preserve_index=False)
    buf = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(None), buf)
    return buf.getvalue()


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pandas()


def _csv_text(df: pd.DataFrame, header: bool) -> str:
    """Rows as CSV; floats as their shortest round-trip repr (pandas' default)."""
    out = df.reindex(columns=STORED_COLUMNS)
    return out.to_csv(index=False, header=header, lineterminator="\n")


class ResultStore:
    """Append-only, resumable storage of screening rows (see the module notes).

    Parameters
    ----------
    path : str or os.PathLike
        Results file: ``.parquet`` for Parquet, anything else for CSV.
    settings : dict
        JSON-able settings of the run; resuming with different settings is refused.
    resume : bool
        Keep the rows already stored (True) or start over (False).

    Examples
    --------
    >>> import os, tempfile
    >>> s = ResultStore(os.path.join(tempfile.mkdtemp(), "r.csv"), {"rho": 0.5})
    >>> s.load()[0].empty
    True
    """

    def __init__(self, path, settings: dict, resume: bool = True):
        self.path = Path(path)
        self.parquet = self.path.suffix == ".parquet"
        self.meta = self.path.with_name(self.path.name + ".meta.json")
        self.parts = self.path.with_name(self.path.name + ".parts")
        self.extra = self.path.with_name(self.path.name + ".extra.parquet")
        if self.path.is_dir():
            raise InputError(f"`out` must be a file path (.csv or .parquet), got the directory "
                             f"{str(self.path)!r}")
        _make_parent(self.path.parent)
        self.key = json.loads(json.dumps(settings, default=str))
        if self._exists() and resume:
            self._check_meta()
        elif self._exists():
            self._clear()
        atomic_write_text(self.meta, json.dumps(self.key, indent=1))
        self._count = 0
        if self.parts.exists():
            nums = [int(p.name[5:11]) for p in self.parts.glob("*-*.parquet")
                    if p.name[5:11].isdigit()]
            self._count = max(nums, default=0)

    # -- settings ----------------------------------------------------------------------------
    def _exists(self) -> bool:
        return self.path.exists() or self.parts.exists() or self.extra.exists()

    def _check_meta(self) -> None:
        if not self.meta.exists():
            raise InputError(f"cannot resume {self.path}: its settings file {self.meta.name} is "
                             f"missing, so the stored rows may come from other settings; {_HINT}")
        try:
            old = json.loads(self.meta.read_text(encoding="utf-8"))
            if not isinstance(old, dict):
                raise ValueError("not a JSON object")
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot resume {self.path}: its settings file {self.meta.name} is "
                             f"damaged ({type(exc).__name__}); {_HINT}") from None
        if old != self.key:
            diff = sorted(k for k in set(old) | set(self.key) if old.get(k) != self.key.get(k))
            raise InputError(f"cannot resume {self.path}: it was written with different "
                             f"settings ({', '.join(diff)}); {_HINT}")

    def _clear(self) -> None:
        if self.parts.exists():
            for p in self.parts.iterdir():
                p.unlink()
            self.parts.rmdir()
        for p in (self.path, self.extra):
            if p.exists():
                p.unlink()

    # -- reading -----------------------------------------------------------------------------
    def load(self) -> tuple[pd.DataFrame, dict]:
        """The valid rows stored so far and their private data.

        Returns
        -------
        tuple of (pandas.DataFrame, dict)
            Normalised rows (one per contingency) and ``{contingency: private data}``.
            Rows that are torn, non-numeric, duplicated or lack their private data are left
            out (they are recomputed) and the store is rewritten without them.
        """
        extras = self._load_extras()
        if self.parquet:
            df, notes = self._load_parquet_rows(extras)
        else:
            df, notes = self._load_csv_rows()
        df, more = _valid(df, extras)
        notes += more
        if notes:
            warnings.warn(f"resuming {self.path}: " + "; ".join(notes) + " (recomputed)",
                          NetcohWarning, stacklevel=3)
            self._rewrite(df, extras)
        return df, {c: extras[c] for c in df["contingency"]}

    def _load_extras(self) -> dict:
        files = [self.extra] if self.extra.exists() else []
        if self.parts.exists():
            files += sorted(self.parts.glob("extra-*.parquet")) + \
                sorted(self.parts.glob("part-*.parquet"))
        out = {}
        for f in files:
            try:
                df = _read_parquet(f)
                sub = df[["contingency", *EXTRA_COLUMNS]]
            except Exception:         # damaged: its rows lack private data and are recomputed
                continue
            for rec in sub.to_dict("records"):
                out[str(rec["contingency"])] = {k: [*rec[k]] for k in EXTRA_COLUMNS}
        return out

    def _load_parquet_rows(self, extras) -> tuple[pd.DataFrame, list]:
        frames, notes = [], []
        parts = sorted(self.parts.glob("part-*.parquet")) if self.parts.exists() else []
        for f in parts:
            try:
                frames.append(_read_parquet(f))
            except Exception as exc:
                notes.append(f"part {f.name} is damaged ({type(exc).__name__})")
                f.unlink()
        if self.path.exists():
            try:
                frames.insert(0, _read_parquet(self.path))
            except Exception as exc:
                raise InputError(f"cannot resume {self.path}: it is not a readable Parquet file "
                                 f"({type(exc).__name__}); {_HINT}") from None
        frames = [f.reindex(columns=STORED_COLUMNS) for f in frames]
        return (pd.concat(frames, ignore_index=True) if frames else _empty()), notes

    def _load_csv_rows(self) -> tuple[pd.DataFrame, list]:
        if not self.path.exists():
            return _empty(), []
        try:
            text = self.path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"cannot resume {self.path}: it is not a netcoh results file (not "
                             f"UTF-8 text); {_HINT}") from None
        notes = []
        if text and not text.endswith("\n"):
            text = text[: text.rfind("\n") + 1]
            notes.append("a torn last line")
        lines = list(csv.reader(io.StringIO(text)))
        if not lines:
            return _empty(), notes
        if lines[0] != STORED_COLUMNS:
            raise InputError(f"cannot resume {self.path}: its header is not that of a netcoh "
                             f"results file ({len(lines[0])} columns, first "
                             f"{','.join(lines[0][:3])[:40]!r}); {_HINT}")
        good = [r for r in lines[1:] if len(r) == len(STORED_COLUMNS)]
        if len(good) < len(lines) - 1:
            notes.append(f"{len(lines) - 1 - len(good)} row(s) with a wrong number of cells")
        df = pd.DataFrame(good, columns=STORED_COLUMNS, dtype=object)
        return df, notes

    def _rewrite(self, df: pd.DataFrame, extras: dict) -> None:
        """Replace the store by its valid rows (atomically), before new rows are appended."""
        self.parts.mkdir(exist_ok=True)
        self._count += 1
        ext = pd.DataFrame([dict(contingency=c, **extras[c]) for c in df["contingency"]],
                           columns=["contingency", *EXTRA_COLUMNS])
        if self.parquet:
            whole = pd.concat([df.reset_index(drop=True), ext[EXTRA_COLUMNS]], axis=1)
            atomic_write_bytes(self.parts / f"part-{self._count:06d}.parquet", _to_parquet(whole))
            for p in list(self.parts.glob("*.parquet")):
                if p.name != f"part-{self._count:06d}.parquet":
                    p.unlink()
            for p in (self.path, self.extra):
                if p.exists():
                    p.unlink()
            return
        atomic_write_bytes(self.parts / f"extra-{self._count:06d}.parquet", _to_parquet(ext))
        for p in list(self.parts.glob("*.parquet")):
            if p.name != f"extra-{self._count:06d}.parquet":
                p.unlink()
        if self.extra.exists():
            self.extra.unlink()
        atomic_write_text(self.path, _csv_text(df, header=True))

    # -- writing -----------------------------------------------------------------------------
    def append(self, rows: list) -> None:
        """Store a batch of rows (private data first, so a stored row always has it).

        Parameters
        ----------
        rows : list of dict
            Rows as the screening loop returns them.
        """
        if not rows:
            return
        df = pd.DataFrame(rows).reindex(columns=STORED_COLUMNS)
        ext = _extras_frame(rows)
        self.parts.mkdir(exist_ok=True)
        self._count += 1
        if self.parquet:
            whole = pd.concat([normalise(df).reset_index(drop=True), ext[EXTRA_COLUMNS]], axis=1)
            atomic_write_bytes(self.parts / f"part-{self._count:06d}.parquet", _to_parquet(whole))
            return
        atomic_write_bytes(self.parts / f"extra-{self._count:06d}.parquet", _to_parquet(ext))
        header = not self.path.exists() or self.path.stat().st_size == 0
        data = _csv_text(normalise(df), header=header)
        with open(self.path, "a", encoding="utf-8", newline="") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    def finalise(self, table: pd.DataFrame, extras: dict) -> None:
        """Write the ranked table and the private data, then remove the parts.

        Parameters
        ----------
        table : pandas.DataFrame
            The ranked rows (columns :data:`~netcoh.screening.results.COLUMNS`).
        extras : dict
            ``{contingency: private data}`` for every row of ``table``.
        """
        table = table.reset_index(drop=True).reindex(columns=STORED_COLUMNS)
        ext = pd.DataFrame([dict(contingency=c, **extras.get(c, private_of({})))
                            for c in table["contingency"]], columns=["contingency", *EXTRA_COLUMNS])
        atomic_write_bytes(self.extra, _to_parquet(ext))
        if self.parquet:
            atomic_write_bytes(self.path, _to_parquet(table))
        else:
            atomic_write_text(self.path, _csv_text(table, header=True))
        if self.parts.exists():
            for p in self.parts.iterdir():
                p.unlink()
            self.parts.rmdir()


def _make_parent(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise InputError(f"`out` must be a path in a folder, got {str(folder)!r} under a regular "
                         "file") from None
    except PermissionError:
        raise InputError(f"`out` must be a writable path, got {str(folder)!r} (permission "
                         "denied)") from None


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in STORED_COLUMNS})


def _cell_float(v) -> float:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return math.nan
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        return float(v)
    s = str(v).strip()
    return math.nan if s == "" else float(s)        # ValueError if not a number


def _valid(df: pd.DataFrame, extras: dict) -> tuple[pd.DataFrame, list]:
    """Keep the rows that parse, are unique and have private data; say what was dropped."""
    notes = []
    if df.empty:
        return normalise(df), notes
    keep = np.ones(len(df), bool)
    bad_cells = 0
    for i, rec in enumerate(df.to_dict("records")):
        try:
            name = str(rec["contingency"] if rec["contingency"] is not None else "")
            if not name or name == "nan":
                raise ValueError("no contingency name")
            for c in FLOAT_COLUMNS:
                if c in rec:
                    _cell_float(rec[c])
            for c in INT_COLUMNS:
                v = _cell_float(rec[c])
                if not (math.isfinite(v) and v == int(v)):
                    raise ValueError(c)
            for c in BOOL_COLUMNS:
                if str(rec[c]) not in ("True", "False"):
                    raise ValueError(c)
            status = rec.get("status")
            if status not in (None, "") and not (isinstance(status, float) and math.isnan(status)) \
                    and str(status) not in STATUSES:
                raise ValueError("status")
        except (ValueError, TypeError):
            keep[i] = False
            bad_cells += 1
    if bad_cells:
        notes.append(f"{bad_cells} row(s) with an invalid cell")
    names = df["contingency"].astype(str)
    dup = names.duplicated(keep=False).to_numpy() & keep
    if dup.any():
        notes.append(f"{int(dup.sum())} duplicated row(s)")
        keep &= ~dup
    orphan = keep & ~names.isin(list(extras)).to_numpy()
    if orphan.any():
        notes.append(f"{int(orphan.sum())} row(s) without their stored trajectories")
        keep &= ~orphan
    return normalise(df[keep].reset_index(drop=True)), notes
