"""Grid tables (frozen column arrays), islands and injection checks used by :class:`Grid`.

Examples
--------
>>> from netcoh.grids.tables import TABLE_COLUMNS
>>> TABLE_COLUMNS["loads"]
('id', 'bus', 'p_mw', 'q_mvar')
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from ..exceptions import InputError, NetcohTypeError

__all__ = ["TABLE_COLUMNS", "Island"]

TABLE_COLUMNS = {
    "buses": ("id", "base_kv", "vm_pu", "va_deg"),
    "branches": ("id", "from_bus", "to_bus", "r_pu", "x_pu", "b_pu", "tap_ratio", "shift_deg",
                 "in_service"),
    "machines": ("id", "bus", "pandapower_element", "inertia_s", "damping_pu", "droop_gain_pu",
                 "turbine_tau_s", "transient_reactance_pu", "rating_mva", "p_mw", "q_mvar",
                 "vm_pu", "slack", "in_service"),
    "loads": ("id", "bus", "p_mw", "q_mvar"),
    "shunts": ("id", "bus", "g_mw", "b_mvar"),
}
_STR_COLS = {"id", "from_bus", "to_bus", "bus", "pandapower_element"}
_BOOL_COLS = {"in_service", "slack"}


def _freeze_table(name: str, cols: Mapping) -> Mapping[str, np.ndarray]:
    out = {}
    n = None
    for c in TABLE_COLUMNS[name]:
        v = cols[c]
        if c in _STR_COLS:
            arr = np.array([None if x is None else str(x) for x in v], dtype=object)
        elif c in _BOOL_COLS:
            arr = np.array(v, dtype=bool)
        else:
            arr = np.array([np.nan if x is None else x for x in v], dtype=float)
        if n is not None and arr.shape[0] != n:
            raise InputError(f"table `{name}` column `{c}` has {arr.shape[0]} rows, expected {n}")
        n = arr.shape[0]
        arr.setflags(write=False)
        out[c] = arr
    return MappingProxyType(out)


@dataclass(frozen=True)
class Island:
    """One connected part of a grid (buses joined by in-service branches).

    Attributes
    ----------
    index : int
        Island number (0 = the island with most machines).
    buses, machines : tuple of str
        Bus and in-service machine ids in the island.

    Examples
    --------
    >>> import netcoh as nc
    >>> grid = nc.grids.load("kundur").remove_branch("L7-8a").remove_branch("L7-8b")
    >>> [isl.machines for isl in grid.islands()]
    [('G3', 'G4'), ('G1', 'G2')]
    """

    index: int
    buses: tuple
    machines: tuple

    def __str__(self) -> str:
        show = ", ".join(self.machines[:5]) + (", ..." if len(self.machines) > 5 else "")
        return (f"island {self.index}: {len(self.buses)} buses, {len(self.machines)} machines"
                + (f" ({show})" if self.machines else " (no machine: de-energised)"))


def _plain(obj):
    """Deep copy of nested read-only mappings as plain dicts."""
    if isinstance(obj, Mapping):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_plain(v) for v in obj)
    return obj


def _check_injections(bus_p_pu, bidx) -> dict:
    """``{bus id: finite p}`` from a mapping; names the bad key or value."""
    if not isinstance(bus_p_pu, Mapping):
        raise NetcohTypeError(f"`bus_p_pu` must be a mapping {{bus id: p}}, got "
                              f"{type(bus_p_pu).__name__}")
    out = {}
    for b, p in bus_p_pu.items():
        if str(b) not in bidx:
            raise InputError(f"`bus_p_pu` keys must be bus ids, got {b!r}")
        if isinstance(p, (bool, np.bool_)) or not isinstance(p, numbers.Real) \
                or not math.isfinite(p):
            raise InputError(f"`bus_p_pu` values must be finite numbers (p.u.), got {p!r} for "
                             f"bus {b!r}")
        out[b] = float(p)
    return out
