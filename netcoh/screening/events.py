"""The disturbance each contingency brings, as operators define it.

* **Unit trip** (``"infeed-loss"``): the unit leaves the model (inertia, damping, governor)
  and its dispatched output ``P_g`` is lost at its terminal bus: the step ``-P_g`` there,
  carried to the remaining machines by the Kron factors of the post-trip network
  (:func:`netcoh.analysis.nadir_sets.eliminate_node`).
* **Branch outage that splits the grid** (``"island-imbalance"``): at the instant of the
  outage the branch stops carrying its pre-outage flow, so the bus at each end keeps the
  power it sent into the branch: the bus-level step ``u = P_from e_from + P_to e_to`` (from
  the power flow). Each island with machines gets its share; an island without machines
  is lost load, named in the note. An outage that cuts off only machine-free buses is the
  same: the rest of the grid loses that load.
* **Branch outage that keeps the grid whole** (``"reference-incident"``): the post-outage
  network is screened against the reference incident, a set of losses (by default "any
  loss of generation up to ``B`` MW in total, each unit at most its dispatch").

Examples
--------
>>> import netcoh.grids as grids
>>> from netcoh.screening import Contingency, ScreeningContext
>>> ctx = ScreeningContext.from_grid(grids.load("kundur", warn=False))
>>> events, note = operator_events(ctx, Contingency("machine", "G4"))
>>> [(e.kind, round(-float(e.u.sum()) * ctx.base_mva, 1)) for e in events]
[('infeed-loss', 700.0)]
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.sparse.csgraph import connected_components

from ..exceptions import InputError

__all__ = ["Event", "operator_events"]


class Event(NamedTuple):
    """One island's post-contingency system and its disturbance.

    Attributes
    ----------
    system : NetworkSystem
        The post-contingency network (one island).
    labels : tuple of str
        Its machines.
    u : ndarray or None
        The step injection on its machines (p.u.); None for the reference incident.
    kind : str
        ``"infeed-loss"``, ``"island-imbalance"`` or ``"reference-incident"``.
    """

    system: object
    labels: tuple
    u: np.ndarray | None
    kind: str


def _branch_injection(ctx, bid):
    if bid not in ctx.flows:
        raise InputError("island imbalances need the power flow of the case (an AC operating "
                         "point); use disturbance='ball' or solve the power flow")
    p, q, _, _ = ctx.branches[bid]
    pf, pt = ctx.flows[bid]
    inj = np.zeros(ctx.L.shape[0])
    inj[p] += pf
    inj[q] += pt
    return inj


def _dead_end(ctx, p, q):
    """The end of a bridge on the machine-free side."""
    L = ctx.L.tolil(copy=True)
    L[p, q] = 0.0
    L[q, p] = 0.0
    _, lab = connected_components(L.tocsr() != 0, directed=False)
    has_machine = np.zeros(lab.max() + 1, dtype=bool)
    has_machine[lab[: ctx.nm]] = True
    return q if has_machine[lab[p]] else p


def operator_events(ctx, cont):
    """The post-contingency islands and their disturbances (see the module docstring).

    Parameters
    ----------
    ctx : ScreeningContext
        The intact grid's context (carries the dispatch and the branch flows).
    cont : Contingency
        The outage.

    Returns
    -------
    (list of Event, str)
        One event per island with machines (the one with the most machines first), and a
        note on islands, de-energised buses and lost load.
    """
    c = ctx._cached()
    red = c["red"]
    if cont.kind == "machine":
        if cont.id not in ctx.machines:
            raise InputError(f"unknown machine {cont.id!r}")
        k, q, w = ctx.machines[cont.id]
        lost = float(ctx.dispatch[k])
        systems, note = ctx.systems(cont)
        if len(systems) == 1:
            system, labels = systems[0]
            keep = np.delete(np.arange(ctx.nm), k)
            factors = -red[keep, k] / red[k, k]
            return [Event(system, labels, -lost * factors, "infeed-loss")], note
        inj = np.zeros(ctx.L.shape[0])
        inj[q] -= lost
        parts, note = ctx._islands(k, q, w, drop=k, inj=inj)
        return [Event(s, lab, u, "infeed-loss") for s, lab, u in parts], note
    if cont.id not in ctx.branches:
        raise InputError(f"unknown branch {cont.id!r}")
    p, q, w, status = ctx.branches[cont.id]
    if status.startswith("dead:"):
        inj = _branch_injection(ctx, cont.id)
        dead = _dead_end(ctx, p, q)
        live = q if dead == p else p
        u = np.zeros(ctx.nm)
        if live < ctx.nm:
            u[live] += inj[live]
        else:
            b = np.zeros(ctx.L.shape[0] - ctx.nm)
            b[live - ctx.nm] = inj[live]
            u -= c["Lke"] @ c["lu"].solve(b)
        note = (f"{int(status[5:])} bus(es) de-energised (lost load "
                f"{-inj[dead] * ctx.base_mva:.4g} MW)")
        return [Event(ctx.base_system(), ctx.labels, u, "island-imbalance")], note
    systems, note = ctx.systems(cont)
    if len(systems) == 1:
        system, labels = systems[0]
        return [Event(system, labels, None, "reference-incident")], note
    inj = _branch_injection(ctx, cont.id)
    parts, note = ctx._islands(p, q, w, drop=None, inj=inj)
    return [Event(s, lab, u, "island-imbalance") for s, lab, u in parts], note
