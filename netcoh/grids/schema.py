"""Validation of netcoh grid case files (JSON, format ``netcoh-grid`` version 1).

The schema is documented in ``grids/README.md``. Every problem is reported as
:class:`~netcoh.exceptions.CaseFileError` naming the file, the record and the field, e.g.
``grids/x.json: machines[3].inertia_s: must be > 0, got 0``. Validation runs completely
before anything is built, so a bad file never yields a half-built :class:`~netcoh.grids.Grid`.

Examples
--------
>>> from netcoh.grids.schema import validate_case
>>> validate_case({"format": "netcoh-grid"}, "x.json")
Traceback (most recent call last):
...
netcoh.exceptions.CaseFileError: x.json: format_version: must be given (required field), got nothing
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..exceptions import CaseFileError

__all__ = ["FORMAT", "FORMAT_VERSION", "validate_case", "RECORD_FIELDS", "RANGES"]

FORMAT = "netcoh-grid"
FORMAT_VERSION = 1

# field -> (kind, required, default). kinds: str, num (finite float), pos (>0), nonneg (>=0),
# nonzero (!=0), bool, int
RECORD_FIELDS: dict[str, dict[str, tuple[str, bool, object]]] = {
    "buses": {
        "id": ("str", True, None),
        "base_kv": ("pos", False, None),
        "vm_pu": ("pos", False, None),
        "va_deg": ("num", False, None),
    },
    "branches": {
        "id": ("str", True, None),
        "from_bus": ("str", True, None),
        "to_bus": ("str", True, None),
        "r_pu": ("num", False, 0.0),    # negative in some three-winding equivalents
        "x_pu": ("nonzero", True, None),
        "b_pu": ("num", False, 0.0),
        "tap_ratio": ("pos", False, 1.0),
        "shift_deg": ("num", False, 0.0),
        "in_service": ("bool", False, True),
    },
    "machines": {
        "id": ("str", True, None),
        "bus": ("str", True, None),
        "pandapower_element": ("str", False, None),
        "base_mva": ("pos", False, None),
        "rating_mva": ("pos", False, None),
        "inertia_s": ("pos", False, None),
        "inertia_h_s": ("pos", False, None),
        "damping_pu": ("nonneg", True, None),
        "droop_r_pu": ("pos", False, None),
        "turbine_tau_s": ("pos", False, None),
        "transient_reactance_pu": ("pos", False, None),
        "p_mw": ("num", False, 0.0),
        "q_mvar": ("num", False, 0.0),
        "vm_pu": ("pos", False, 1.0),
        "slack": ("bool", False, False),
        "in_service": ("bool", False, True),
    },
    "loads": {
        "id": ("str", True, None),
        "bus": ("str", True, None),
        "p_mw": ("num", True, None),
        "q_mvar": ("num", False, 0.0),
    },
    "shunts": {
        "id": ("str", True, None),
        "bus": ("str", True, None),
        "g_mw": ("num", False, 0.0),
        "b_mvar": ("num", False, 0.0),
    },
}

# Plausible ranges of the numbers (of their magnitude for signed quantities): a typo such as
# 1e300 or 1e-300 is reported here, naming the field, rather than breaking the power flow or
# overflowing to inf when the per-unit conversions multiply the values.
_MW = (0.0, 1e7)            # |p|, |q|, shunts: up to 10 TW
_PU = (0.0, 1e6)            # |r|, |b| per unit
_TIME = (1e-6, 1e6)         # inertia and time constants, s
RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "top": {"base_mva": (1e-3, 1e7), "f_hz": (1.0, 1e3)},
    "buses": {"base_kv": (1e-3, 1e4), "vm_pu": (1e-3, 10.0), "va_deg": (0.0, 1e4)},
    "branches": {"r_pu": _PU, "x_pu": (1e-6, 1e6), "b_pu": _PU, "tap_ratio": (1e-3, 1e3),
                 "shift_deg": (0.0, 360.0)},
    "machines": {"base_mva": (1e-3, 1e7), "rating_mva": (1e-3, 1e7), "inertia_s": _TIME,
                 "inertia_h_s": _TIME, "damping_pu": (0.0, 1e6), "droop_r_pu": _TIME,
                 "turbine_tau_s": _TIME, "transient_reactance_pu": (1e-6, 1e6), "p_mw": _MW,
                 "q_mvar": _MW, "vm_pu": (1e-3, 10.0)},
    "loads": {"p_mw": _MW, "q_mvar": _MW},
    "shunts": {"g_mw": _MW, "b_mvar": _MW},
}

_TOP_REQUIRED = ("format", "format_version", "name", "base_mva", "f_hz", "topology",
                 "machines", "provenance")
_TOP_FIELDS = _TOP_REQUIRED + ("title", "buses", "branches", "loads", "shunts")
_PROVENANCE_REQUIRED = ("source", "licence", "synthesised")


def _fail(prefix: str, field: str, msg: str):
    """``prefix`` is ``"file: "`` or ``"file: table[k]."``; the field follows directly."""
    raise CaseFileError(f"{prefix}{field}: {msg}")


def _check_value(kind: str, value, where: str, field: str, limits=None):
    if kind == "str":
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            _fail(where, field, f"must be a string, got {value!r}")
        return str(value)
    if kind == "bool":
        if not isinstance(value, bool):
            _fail(where, field, f"must be true or false, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail(where, field, f"must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        _fail(where, field, f"must be finite, got {value!r}")
    if kind == "pos" and not value > 0:
        _fail(where, field, f"must be > 0, got {value:g}")
    if kind == "nonneg" and not value >= 0:
        _fail(where, field, f"must be >= 0, got {value:g}")
    if kind == "nonzero" and value == 0:
        _fail(where, field, "must be non-zero (a zero reactance is a short circuit), got 0")
    if limits is not None:
        lo, hi = limits
        size = abs(value)
        if size > hi or (size < lo and not (kind in ("nonneg", "num") and size == 0)):
            what = "magnitude" if kind in ("num", "nonzero") else "value"
            rng = f"at most {hi:g}" if lo == 0 else f"in [{lo:g}, {hi:g}]"
            _fail(where, field, f"must have a {what} {rng}, got {value:g}")
    return value


def _records(doc: Mapping, table: str, fname: str, required: bool) -> list[dict]:
    if table not in doc:
        if required:
            _fail(f"{fname}: ", table, "must be given (required field), got nothing")
        return []
    rows = doc[table]
    if not isinstance(rows, list):
        _fail(f"{fname}: ", table, f"must be a list of records, got {type(rows).__name__}")
    spec = RECORD_FIELDS[table]
    limits = RANGES.get(table, {})
    out, seen = [], set()
    for k, row in enumerate(rows):
        where = f"{fname}: {table}[{k}]."
        if not isinstance(row, Mapping):
            raise CaseFileError(f"{fname}: {table}[{k}]: must be an object, "
                                f"got {type(row).__name__}")
        unknown = sorted(set(row) - set(spec))
        if unknown:
            _fail(where, unknown[0], f"must be one of the fields {', '.join(spec)}, "
                  f"got an unknown field")
        rec = {}
        for field, (kind, req, default) in spec.items():
            if field in row and row[field] is not None:
                rec[field] = _check_value(kind, row[field], where, field, limits.get(field))
            elif req:
                _fail(where, field, "must be given (required field), got nothing")
            else:
                rec[field] = default
        if rec["id"] in seen:
            _fail(where, "id", f"must be unique in {table}, got duplicate id {rec['id']!r}")
        seen.add(rec["id"])
        out.append(rec)
    return out


def validate_case(doc, fname: str) -> dict:
    """Check a parsed case document and return it normalised (defaults filled in).

    Parameters
    ----------
    doc : object
        The parsed JSON document.
    fname : str
        File name used in error messages.

    Returns
    -------
    dict
        ``{"name", "title", "base_mva", "f_hz", "topology", "buses", "branches", "machines",
        "loads", "shunts", "provenance"}`` with every record completed by its defaults.
        For a pandapower topology (``{"pandapower": "GBnetwork"}``) the tables ``buses``,
        ``branches``, ``loads`` and ``shunts`` are empty and the machine buses are checked
        later, against the pandapower network.

    Raises
    ------
    CaseFileError
        Naming the file, the record and the field of the first problem found.
    """
    if not isinstance(doc, Mapping):
        raise CaseFileError(f"{fname}: must hold a JSON object at the top level, "
                            f"got {type(doc).__name__}")
    for key in _TOP_REQUIRED:
        if key not in doc:
            _fail(f"{fname}: ", key, "must be given (required field), got nothing")
    # a misspelt table ("load" for "loads") would otherwise be dropped without a word
    unknown = sorted(str(k) for k in doc if k not in _TOP_FIELDS)
    if unknown:
        _fail(f"{fname}: ", unknown[0], f"must be one of the top-level fields "
              f"{', '.join(_TOP_FIELDS)}, got an unknown field")
    if doc["format"] != FORMAT:
        _fail(f"{fname}: ", "format", f"must be {FORMAT!r}, got {doc['format']!r}")
    if type(doc["format_version"]) is not int or doc["format_version"] != FORMAT_VERSION:
        _fail(f"{fname}: ", "format_version",
              f"must be {FORMAT_VERSION} (the version this netcoh reads), "
              f"got {doc['format_version']!r}")
    out = {
        "name": _check_value("str", doc["name"], f"{fname}: ", "name"),
        "title": str(doc.get("title", "")),
        "base_mva": _check_value("pos", doc["base_mva"], f"{fname}: ", "base_mva",
                                 RANGES["top"]["base_mva"]),
        "f_hz": _check_value("pos", doc["f_hz"], f"{fname}: ", "f_hz", RANGES["top"]["f_hz"]),
    }
    topo = doc["topology"]
    if topo == "inline":
        inline = True
    elif isinstance(topo, Mapping) and isinstance(topo.get("pandapower"), str):
        inline = False
    else:
        _fail(f"{fname}: ", "topology",
              f'must be "inline" or {{"pandapower": "<function name>"}}, got {topo!r}')
    out["topology"] = "inline" if inline else dict(topo)

    prov = doc["provenance"]
    if not isinstance(prov, Mapping):
        _fail(f"{fname}: ", "provenance", f"must be an object, got {type(prov).__name__}")
    for key in _PROVENANCE_REQUIRED:
        if key not in prov:
            _fail(f"{fname}: ", f"provenance.{key}", "must be given (required field), got nothing")
    syn = prov["synthesised"]
    if not isinstance(syn, list):
        _fail(f"{fname}: ", "provenance.synthesised", "must be a list of {fields, rule} objects, "
              f"got {type(syn).__name__}")
    for k, item in enumerate(syn):
        if not (isinstance(item, Mapping) and isinstance(item.get("fields"), list)
                and isinstance(item.get("rule"), str)):
            _fail(f"{fname}: ", f"provenance.synthesised[{k}]",
                  f'must be an object {{"fields": [...], "rule": "..."}}, got {item!r}')
    out["provenance"] = dict(prov)

    for table in ("buses", "branches", "loads", "shunts"):
        out[table] = _records(doc, table, fname, required=inline and table in
                              ("buses", "branches"))
        if not inline and out[table]:
            _fail(f"{fname}: ", table, "must be absent when the topology comes from pandapower, "
                  f"got {len(out[table])} records")
    out["machines"] = _records(doc, "machines", fname, required=True)
    if not out["machines"]:
        _fail(f"{fname}: ", "machines", "must hold at least one machine, got none")

    for k, m in enumerate(out["machines"]):
        where = f"{fname}: machines[{k}]."
        if (m["inertia_s"] is None) == (m["inertia_h_s"] is None):
            _fail(where, "inertia_s", "must be given instead of inertia_h_s or not at all (exactly "
                  "one of inertia_s, m on the case base, or inertia_h_s, H on the machine's "
                  f"base_mva), got {'both' if m['inertia_s'] is not None else 'neither'}")
        if not inline and m["pandapower_element"] is None:
            _fail(where, "pandapower_element", "must be given for a pandapower topology (e.g. "
                  "'gen:3' or 'ext_grid:0'), got nothing")

    if inline:
        buses = {b["id"] for b in out["buses"]}
        for table, fields in (("branches", ("from_bus", "to_bus")), ("machines", ("bus",)),
                              ("loads", ("bus",)), ("shunts", ("bus",))):
            for k, rec in enumerate(out[table]):
                for field in fields:
                    if rec[field] not in buses:
                        raise CaseFileError(f"{fname}: {table}[{k}].{field}: must name a bus of "
                                            f"the buses table, got unknown bus {rec[field]!r}")
        for k, br in enumerate(out["branches"]):
            if br["from_bus"] == br["to_bus"]:
                raise CaseFileError(f"{fname}: branches[{k}].to_bus: must differ from "
                                    f"from_bus, got {br['to_bus']!r} twice")
        slack = [m["id"] for m in out["machines"] if m["slack"] and m["in_service"]]
        if len(slack) != 1:
            _fail(f"{fname}: ", "machines",
                  f"must mark exactly one in-service machine with slack=true, got {len(slack)}")
    return out
