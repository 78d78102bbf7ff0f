"""The outages to screen: one :class:`Contingency` per branch or machine of a grid.

:func:`contingency_list` reads them from the grid's tables (a preset such as ``"n-1"`` or
a list of names) and checks each names an in-service element; what an outage does to the
network is built by :class:`netcoh.screening.ScreeningContext`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from ..exceptions import InputError, NetcohTypeError, NetcohWarning

__all__ = ["Contingency", "contingency_list"]


@dataclass(frozen=True, order=True)
class Contingency:
    """One outage.

    Attributes
    ----------
    kind : {"branch", "machine"}
        Element type.
    id : str
        Branch or machine id of the grid.

    Examples
    --------
    >>> import netcoh as nc
    >>> c = nc.Contingency("machine", "G1")
    >>> c.name
    'machine:G1'
    """

    kind: str
    id: str

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.id}"

    def __str__(self) -> str:
        return self.name


def contingency_list(grid, spec="n-1") -> list:
    """Contingencies of ``grid`` from a preset or a list.

    Parameters
    ----------
    grid : netcoh.grids.Grid
        The intact grid.
    spec : str or list
        ``"n-1"`` (every in-service branch, then every in-service machine),
        ``"branches"``, ``"machines"``, or a list of :class:`Contingency`, ``"branch:ID"`` /
        ``"machine:ID"`` strings, or bare ids (branch ids first, then machine ids).

    Returns
    -------
    list of Contingency
        The outages: for a preset, branches first in the grid's table order; for a list,
        in its order, each once (a repeat is dropped with a warning).

    Examples
    --------
    >>> import netcoh as nc
    >>> grid = nc.grids.load("kundur")
    >>> [c.name for c in nc.contingency_list(grid, "machines")]
    ['machine:G1', 'machine:G2', 'machine:G3', 'machine:G4']
    """
    B, M = grid.tables["branches"], grid.tables["machines"]
    branches = [str(x) for x in B["id"][B["in_service"]]]
    machines = [str(x) for x in M["id"][M["in_service"]]]
    if isinstance(spec, str):
        key = spec.lower().replace("_", "-")
        if key in ("n-1", "n1"):
            return [Contingency("branch", b) for b in branches] + \
                   [Contingency("machine", m) for m in machines]
        if key in ("branches", "n-1-branches", "lines"):
            return [Contingency("branch", b) for b in branches]
        if key in ("machines", "trips", "n-1-machines", "units"):
            return [Contingency("machine", m) for m in machines]
        spec = [s.strip() for s in spec.split(",") if s.strip()]
        if not spec:
            raise InputError("`contingencies` must be 'n-1', 'branches', 'machines' or a list, "
                             "got ''")
    try:
        items = list(spec)
    except TypeError:
        raise NetcohTypeError(f"`contingencies` must be a preset name or a list, got "
                              f"{type(spec).__name__}") from None
    bset, mset = set(branches), set(machines)
    out = []
    for it in items:
        if isinstance(it, Contingency):
            c = it
        else:
            s = str(it)
            kind, _, ident = s.partition(":")
            if kind in ("branch", "machine") and ident:
                c = Contingency(kind, ident)
            elif s in bset:
                c = Contingency("branch", s)
            elif s in mset:
                c = Contingency("machine", s)
            else:
                raise InputError(f"`contingencies` must name in-service branches or machines, "
                                 f"got unknown element {s!r}")
        if (c.kind == "branch" and c.id not in bset) or (c.kind == "machine" and c.id not in mset):
            raise InputError(f"`contingencies` must name in-service branches or machines, got "
                             f"unknown or out-of-service {c.kind} {c.id!r}")
        out.append(c)
    unique = list(dict.fromkeys(out))
    if len(unique) < len(out):
        again = sorted({c.name for i, c in enumerate(out) if c in out[:i]})
        warnings.warn(f"contingencies listed more than once are screened once: "
                      f"{', '.join(again)}", NetcohWarning, stacklevel=2)
        out = unique
    if not out:
        raise InputError("`contingencies` must hold at least one contingency, got none")
    return out
