"""Grid cases: shipped dynamic cases, JSON case files, pandapower nets -> :class:`Grid`.

>>> import netcoh as nc
>>> nc.grids.available()
('case145', 'gb', 'ieee39', 'kundur')
>>> nc.grids.load("ieee39").to_system().n
10

The case format, units and the provenance and licence of every shipped case are documented
in ``grids/README.md`` and in the user guide (``docs/grids.rst``). Data that the source does
not hold (e.g. inertia of pandapower networks) is synthesised by a stated rule, recorded in
``Grid.provenance["synthesised"]`` and announced by
:class:`~netcoh.exceptions.SynthesizedDataWarning`.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from importlib import resources
from pathlib import Path

import numpy as np

from .._util import atomic_write_text
from .._validation import as_bool, as_output_path
from ..exceptions import (
    CaseFileError,
    DisconnectedError,
    InputError,
    NetcohTypeError,
    SolverError,
    SynthesizedDataWarning,
)
from . import synth
from .andes import from_andes
from .assembly import BusNetwork
from .grid import Grid, Island, default_model
from .schema import FORMAT, FORMAT_VERSION, RECORD_FIELDS, validate_case

__all__ = ["Grid", "Island", "BusNetwork", "available", "load", "save", "from_pandapower",
           "from_andes", "synth", "case_path", "default_model"]

_DATA = "data"


def _data_dir() -> Path:
    return Path(str(resources.files(__package__).joinpath(_DATA)))


def available() -> tuple:
    """Names of the shipped cases (``netcoh/grids/data/*.json``), sorted.

    Returns
    -------
    tuple of str
        The case names :func:`load` accepts.

    Examples
    --------
    >>> import netcoh as nc
    >>> "ieee39" in nc.grids.available()
    True
    """
    return tuple(sorted(p.stem for p in _data_dir().glob("*.json")))


def case_path(name: str) -> Path:
    """Path of the shipped case ``name``.

    Parameters
    ----------
    name : str
        One of :func:`available`, e.g. ``"kundur"``.

    Returns
    -------
    pathlib.Path
        The ``netcoh/grids/data/<name>.json`` file inside the installed package.

    Examples
    --------
    >>> case_path("kundur").name
    'kundur.json'
    """
    if name not in available():
        raise InputError(f"`name` must be one of the shipped cases {available()}, got {name!r}")
    return _data_dir() / f"{name}.json"


def _is_pandapower_net(obj) -> bool:
    return type(obj).__name__ == "pandapowerNet"


def _machine_table(recs, base_mva: float) -> dict:
    """Normalise machine records to the case base (see Grid)."""
    cols = {c: [] for c in ("id", "bus", "pandapower_element", "inertia_s", "damping_pu",
                            "droop_gain_pu", "turbine_tau_s", "transient_reactance_pu",
                            "rating_mva", "p_mw", "q_mvar", "vm_pu", "slack", "in_service")}
    for r in recs:
        b = r["base_mva"] or base_mva
        k = b / base_mva
        cols["id"].append(r["id"])
        cols["bus"].append(r["bus"])
        cols["pandapower_element"].append(r["pandapower_element"])
        cols["inertia_s"].append(r["inertia_s"] if r["inertia_s"] is not None
                                 else 2.0 * r["inertia_h_s"] * k)
        cols["damping_pu"].append(r["damping_pu"] * k)
        cols["droop_gain_pu"].append(k / r["droop_r_pu"] if r["droop_r_pu"] else math.nan)
        cols["turbine_tau_s"].append(r["turbine_tau_s"] if r["turbine_tau_s"] else math.nan)
        xd = r["transient_reactance_pu"]
        cols["transient_reactance_pu"].append(xd / k if xd else math.nan)
        cols["rating_mva"].append(r["rating_mva"] if r["rating_mva"] else math.nan)
        for c in ("p_mw", "q_mvar", "vm_pu", "slack", "in_service"):
            cols[c].append(r[c])
    return cols


def _columns(recs, table: str) -> dict:
    return {c: [r[c] for r in recs] for c in RECORD_FIELDS[table] if c != "id"} | {
        "id": [r["id"] for r in recs]}


def _grid_from_doc(doc: dict, fname: str, source: str) -> Grid:
    base = doc["base_mva"]
    prov = dict(doc["provenance"])
    if doc["topology"] == "inline":
        buses = _columns(doc["buses"], "buses")
        buses = {k: buses[k] for k in ("id", "base_kv", "vm_pu", "va_deg")}
        branches = {k: v for k, v in _columns(doc["branches"], "branches").items()}
        loads = _columns(doc["loads"], "loads")
        shunts = _columns(doc["shunts"], "shunts")
        machines = _machine_table(doc["machines"], base)
        grid = Grid(name=doc["name"], title=doc["title"], base_mva=base, f_hz=doc["f_hz"],
                    tables={"buses": buses, "branches": branches, "machines": machines,
                            "loads": loads, "shunts": shunts},
                    provenance=prov, topology="inline", source=source)
        vm, va = grid.tables["buses"]["vm_pu"], grid.tables["buses"]["va_deg"]
        if not (np.all(np.isfinite(vm)) and np.all(np.isfinite(va))):
            _check_connected(doc, fname)
            try:
                with np.errstate(all="ignore"):
                    grid = grid.solve_power_flow()
            except SolverError as exc:
                raise CaseFileError(
                    f"{fname}: operating point: the AC power flow must converge, got: {exc} "
                    "(check loads p_mw/q_mvar, machines p_mw and branch impedances, or give "
                    "every bus vm_pu and va_deg)") from exc
            grid = Grid(name=grid.name, title=grid.title, base_mva=base, f_hz=grid.f_hz,
                        tables=grid.tables, provenance=prov, topology="inline", source=source)
        return grid
    from .pp_bridge import shipped_tables
    fn = doc["topology"]["pandapower"]
    tables = shipped_tables(fn, where=f"{fname}: topology")
    return _grid_from_net(tables, doc["machines"], fname, doc["name"], doc["title"], base,
                          doc["f_hz"], prov, {"pandapower": fn}, source)


def _grid_from_net(t, recs, fname, name, title, base, f_hz, prov, topology, source):
    if abs(t["base_mva"] - base) > 1e-9 * base:
        raise CaseFileError(f"{fname}: base_mva: must equal the pandapower net's sn_mva "
                            f"{t['base_mva']:g}, got {base:g}")
    ops = {e: (bus, p, q, vm, slack) for e, bus, p, q, vm, slack in t["machine_ops"]}
    seen = set()
    for k, r in enumerate(recs):
        el = r["pandapower_element"]
        if el not in ops:
            raise CaseFileError(f"{fname}: machines[{k}].pandapower_element: must name an "
                                f"in-service machine of the pandapower network, got {el!r}")
        if el in seen:
            raise CaseFileError(f"{fname}: machines[{k}].pandapower_element: must be unique, "
                                f"got duplicate {el!r}")
        seen.add(el)
        bus, p, q, vm, slack = ops[el]
        if r["bus"] != bus:
            raise CaseFileError(f"{fname}: machines[{k}].bus: must be {bus!r} (the bus of "
                                f"{el} in the pandapower network), got {r['bus']!r}")
        r.update(p_mw=p, q_mvar=q, vm_pu=vm, slack=slack)
    missing = [e for e in ops if e not in seen]
    if missing:
        raise CaseFileError(f"{fname}: machines: must hold a record for every in-service "
                            f"pandapower machine, got no record for pandapower machine(s) "
                            f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
    tables = {k: t[k] for k in ("buses", "branches", "loads", "shunts")}
    tables["machines"] = _machine_table(recs, base)
    return Grid(name=name, title=title, base_mva=base, f_hz=f_hz, tables=tables,
                provenance=prov, topology=topology, source=source)


def _warn_synthesised(grid: Grid, stacklevel: int = 3) -> None:
    syn = grid.provenance.get("synthesised") or []
    if syn:
        fields = sorted({f for item in syn for f in item["fields"]})
        warnings.warn(f"case {grid.name!r}: synthesised fields {', '.join(fields)} (not in the "
                      f"source; rules in grid.provenance['synthesised'])",
                      SynthesizedDataWarning, stacklevel=stacklevel)


def _read_json(path: Path, fname: str):
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CaseFileError(f"{fname}: must be a readable file, got the error "
                            f"{exc.strerror or type(exc).__name__!r}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CaseFileError(f"{fname}: must be UTF-8 encoded JSON, got byte "
                            f"0x{data[exc.start]:02x} at position {exc.start}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CaseFileError(f"{fname}: must be valid JSON, got an error at line {exc.lineno} "
                            f"column {exc.colno}: {exc.msg}") from exc
    except RecursionError as exc:
        raise CaseFileError(f"{fname}: must be valid JSON of moderate depth, got nesting too "
                            "deep to parse") from exc


def _check_connected(doc: dict, fname: str) -> None:
    """Every bus of an inline case reachable through in-service branches (the AC power flow
    solved at load time needs one network); raise DisconnectedError naming the components."""
    ids = [b["id"] for b in doc["buses"]]
    pos = {b: i for i, b in enumerate(ids)}
    on = [br for br in doc["branches"] if br["in_service"]]
    if len(ids) < 2:
        return
    f = [pos[br["from_bus"]] for br in on]
    t = [pos[br["to_bus"]] for br in on]
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    A = sp.coo_matrix((np.ones(len(f)), (f, t)), shape=(len(ids), len(ids)))
    ncomp, lab = connected_components(A, directed=False)
    if ncomp == 1:
        return
    comps = sorted(([ids[i] for i in np.flatnonzero(lab == c)] for c in range(ncomp)),
                   key=lambda c: -len(c))
    touched = set(f) | set(t)
    isolated = [f"buses[{i}] {b!r}" for i, b in enumerate(ids) if i not in touched]
    shown = "; ".join("{" + ", ".join(c[:8]) + (", ..." if len(c) > 8 else "") + "}"
                      for c in comps[:6])
    extra = f" (no in-service branch at {', '.join(isolated[:5])})" if isolated else ""
    raise DisconnectedError(
        f"{fname}: branches: must connect every bus (the AC power flow is solved at load "
        f"time), got {ncomp} components: {shown}{extra}", components=comps)


def load(source, machines=None, *, name: str | None = None, warn: bool = True) -> Grid:
    """Load a grid: a shipped case name, a JSON case file, or a pandapower net.

    Parameters
    ----------
    source : str, path-like or pandapowerNet
        ``"ieee39"``, ``"kundur"``, ``"gb"``, ``"case145"`` (see :func:`available`), a path to a
        ``netcoh-grid`` JSON file, or a pandapower network (topology + AC power flow from
        ``pandapower.runpp``; the net is not modified).
    machines : list of dict or pandas.DataFrame, optional
        Only for a pandapower net: machine records (schema of ``grids/README.md``, each with
        ``pandapower_element`` such as ``"gen:3"``). Default: synthesised by
        :func:`netcoh.grids.synth.sized_machines` (typical data by unit size, with a
        warning).
    name : str, optional
        Case name for a pandapower net (default ``"pandapower"``).
    warn : bool
        Emit :class:`~netcoh.exceptions.SynthesizedDataWarning` when the case holds
        synthesised data (default True).

    Returns
    -------
    Grid
        The case: buses, branches, machines and loads on the case base, with its
        provenance.

    Raises
    ------
    CaseFileError
        Malformed file, naming file, record and field; nothing is returned half-built.

    Examples
    --------
    >>> import netcoh as nc
    >>> g = nc.grids.load("kundur")
    >>> g.n_machines, g.base_mva, g.f_hz
    (4, 100.0, 60.0)
    """
    warn = as_bool(warn, "warn")
    if name is not None and not isinstance(name, str):
        raise NetcohTypeError(f"`name` must be a string or None, got {type(name).__name__}")
    if machines is not None and not _is_pandapower_net(source):
        raise InputError("`machines` must be None unless `source` is a pandapower net (a case "
                         f"file holds its machines), got {type(machines).__name__}")
    if _is_pandapower_net(source):
        from .pp_bridge import tables_from_pandapower
        if machines is None:
            recs, syn = synth.sized_machines(source)
        else:
            if hasattr(machines, "to_dict"):
                # a cell a record leaves out is NaN in a table: the field is absent there
                machines = [{k: v for k, v in rec.items()
                             if not (isinstance(v, float) and v != v)}
                            for rec in machines.to_dict(orient="records")]
            recs, syn = list(machines), []
        doc = validate_case({"format": FORMAT, "format_version": FORMAT_VERSION,
                             "name": name or "pandapower", "base_mva": float(source.sn_mva),
                             "f_hz": float(source.f_hz), "topology": {"pandapower": "<net>"},
                             "machines": recs,
                             "provenance": {"source": "pandapower net passed to load()",
                                            "licence": "as of the source network",
                                            "synthesised": syn}}, "machines")
        grid = _grid_from_net(tables_from_pandapower(source), doc["machines"], "machines",
                              doc["name"], "", doc["base_mva"], doc["f_hz"], doc["provenance"],
                              {"pandapower": "<net>"}, "pandapower net")
    elif isinstance(source, (str, os.PathLike)):
        if isinstance(source, str) and source in available():
            path = case_path(source)
            fname = f"grids/{source}.json"
        else:
            path = Path(source)
            fname = str(source)
            if not path.exists():
                raise InputError(f"`source` must be a shipped case {available()} or an existing "
                                 f"file, got {str(source)!r}")
            if path.is_dir():
                raise InputError(f"`source` must be a case file, got the folder {str(source)!r}")
        doc = validate_case(_read_json(path, fname), fname)
        grid = _grid_from_doc(doc, fname, str(path))
    else:
        raise NetcohTypeError(f"`source` must be a case name, a path or a pandapower net, "
                              f"got {type(source).__name__}")
    if warn:
        _warn_synthesised(grid)
    return grid


def from_pandapower(net, machines=None, *, name: str | None = None, warn: bool = True) -> Grid:
    """Same as :func:`load` for a pandapower net (kept as an explicit entry point).

    Parameters
    ----------
    net : pandapowerNet
        Network topology and set-points; the AC operating point comes from
        ``pandapower.runpp`` on a copy, so ``net`` is not modified.
    machines : list of dict or pandas.DataFrame, optional
        Machine records (schema of ``grids/README.md``, each with ``pandapower_element``
        such as ``"gen:3"``). Default: synthesised by
        :func:`netcoh.grids.synth.sized_machines`.
    name : str, optional
        Case name (default ``"pandapower"``).
    warn : bool, default True
        Emit :class:`~netcoh.exceptions.SynthesizedDataWarning` when machine data is
        synthesised.

    Returns
    -------
    Grid
        The net as a grid case (the net itself is not modified).

    Examples
    --------
    >>> import pandapower.networks as pn, netcoh as nc
    >>> g = nc.grids.from_pandapower(pn.case9(), warn=False)
    >>> g.n_machines, g.machines.id.tolist()
    (3, ['gen:0', 'gen:1', 'ext_grid:0'])
    """
    if not _is_pandapower_net(net):
        raise NetcohTypeError(f"`net` must be a pandapower net, got {type(net).__name__}")
    grid = load(net, machines, name=name, warn=False)
    if warn:
        _warn_synthesised(grid)
    return grid


def _num(x):
    x = float(x)
    return None if not math.isfinite(x) else x


def to_document(grid: Grid) -> dict:
    """The ``netcoh-grid`` JSON document of a grid (inline topology, case-base machine data)."""
    T = grid.tables

    def rows(table, fields, conv=None):
        out = []
        cols = T[table]
        for k in range(len(cols["id"])):
            rec = {}
            for f in fields:
                v = cols[f][k]
                if isinstance(v, (np.bool_, bool)):
                    rec[f] = bool(v)
                elif isinstance(v, str) or v is None:
                    if v is not None:
                        rec[f] = v
                else:
                    val = _num(v)
                    if val is not None:
                        rec[f] = val
            if conv:
                conv(rec)
            out.append(rec)
        return out

    def mconv(rec):
        g = rec.pop("droop_gain_pu", None)
        if g:
            rec["droop_r_pu"] = 1.0 / g
        rec.pop("pandapower_element", None)

    machines = rows("machines", ("id", "bus", "pandapower_element", "rating_mva", "inertia_s",
                                 "damping_pu", "droop_gain_pu", "turbine_tau_s",
                                 "transient_reactance_pu", "p_mw", "q_mvar", "vm_pu", "slack",
                                 "in_service"), mconv)
    prov = dict(grid.provenance)
    prov["edits"] = list(prov.get("edits", []))
    # a case file has exactly one in-service slack: after the slack's trip (or from a
    # pandapower net with none or several) the largest in-service unit takes the role
    live = [r for r in machines if r.get("in_service", True)]
    if live and sum(bool(r.get("slack")) for r in live) != 1:
        new = max(live, key=lambda r: (r.get("rating_mva") or 0.0, r.get("p_mw") or 0.0))
        for r in machines:
            r["slack"] = r is new
        prov["edits"].append(f"slack {new['id']} (the largest in-service unit) on saving")
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "name": grid.name,
        "title": grid.title, "base_mva": grid.base_mva, "f_hz": grid.f_hz,
        "topology": "inline",
        "provenance": prov,
        "buses": rows("buses", ("id", "base_kv", "vm_pu", "va_deg")),
        "branches": rows("branches", ("id", "from_bus", "to_bus", "r_pu", "x_pu", "b_pu",
                                      "tap_ratio", "shift_deg", "in_service")),
        "machines": machines,
        "loads": rows("loads", ("id", "bus", "p_mw", "q_mvar")),
        "shunts": rows("shunts", ("id", "bus", "g_mw", "b_mvar")),
    }


def save(grid: Grid, path) -> Path:
    """Write ``grid`` as a self-contained JSON case file (atomic: temp file + rename).

    The file holds the full topology, the operating point and the machine data on the case
    base, so :func:`load` gives back the same system. Pending :attr:`Grid.events` (machine
    trips) are not stored; the tripped machine is kept with ``in_service: false``. A file
    needs exactly one in-service slack: when the grid has none (its slack tripped) or
    several, the largest in-service unit is marked, and ``provenance["edits"]`` says so.

    Parameters
    ----------
    grid : Grid
        The grid to write (a shipped, loaded or edited one).
    path : str or path-like
        Destination file, overwritten if it exists; its folder must exist.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, netcoh as nc
    >>> g = nc.grids.load("kundur", warn=False)
    >>> p = nc.grids.save(g, pathlib.Path(tempfile.mkdtemp()) / "k.json")
    >>> g2 = nc.grids.load(p, warn=False)
    >>> bool(np.allclose(g2.to_system().laplacian, g.to_system().laplacian, rtol=1e-12))
    True
    """
    if not isinstance(grid, Grid):
        raise NetcohTypeError(f"`grid` must be a Grid, got {type(grid).__name__}")
    path = as_output_path(path, "path")
    doc = to_document(grid)
    try:
        return atomic_write_text(path, json.dumps(doc, indent=1))
    except OSError as exc:
        raise InputError(f"`path` must be writable, got {str(path)!r} "
                         f"({exc.strerror or type(exc).__name__})") from exc
