"""The disturbance each contingency brings, as operators define it.

* **Unit trip** (``"infeed-loss"``): the unit leaves the model (inertia, damping, governor)
  and its dispatched output ``P_g`` is lost at its terminal bus: the step ``-P_g`` there,
  carried to the remaining machines by the Kron factors of the post-trip network
  (:func:`netcoh.analysis.nadir_sets.eliminate_node`). On the ``"case"`` model (lossy AC
  network) the step is the tripped grid's :meth:`netcoh.grids.Grid.disturbance`, as in
  :mod:`netcoh.validate`: the lossy network's injection map, the unit's lost reactive output
  and the event's actual losses from the post-trip AC power flow
  (:func:`netcoh.grids.case_model.case_injection` with ``losses="secant"``); the machines
  then make up ``P_g`` plus the change of the network's losses.
* **Branch outage that splits the grid** (``"island-imbalance"``): at the instant of the
  outage the branch stops carrying its pre-outage flow, so the bus at each end keeps the
  power it sent into the branch: the bus-level step ``u = P_from e_from + P_to e_to`` (from
  the power flow). Each island with machines gets its share; an island without machines
  is lost load, named in the note. An outage that cuts off only machine-free buses is the
  same: the rest of the grid loses that load.
* **Branch outage that keeps the grid whole** (``"reference-incident"``): the post-outage
  network is screened against the reference incident, a set of losses of size ``B`` MW
  (:func:`incident_size`): ``"budget"`` (the default) is "any loss of generation up to
  ``B`` MW in total, each unit at most its dispatch", ``"single"`` is "the loss of any one
  unit's dispatch, capped at ``B``" (:data:`INCIDENTS`).

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

from ..exceptions import InputError

__all__ = ["Event", "operator_events", "incident_size", "separated_note", "INCIDENTS"]

#: Reference incidents: ``"budget"`` (any generation loss up to ``B`` in total, each unit at
#: most its dispatch; the conservative set of the requirements) and ``"single"`` (the loss
#: of any one unit's dispatch, capped at ``B``; the credible single-infeed loss).
INCIDENTS = ("budget", "single")


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
    caps : ndarray or None
        The reference incident's caps on the system's inputs (p.u.), where they are not the
        dispatch of its machines (the full model's mechanical-power inputs).
    lost_pu : float or None
        The generation the event loses (p.u.), where ``-sum(u)`` does not say it (the full
        model's ``"trip"`` input is a unit step).

    Examples
    --------
    >>> import netcoh.grids as grids
    >>> from netcoh.screening import Contingency, ScreeningContext
    >>> ctx = ScreeningContext.from_grid(grids.load("kundur", warn=False))
    >>> (event,), note = operator_events(ctx, Contingency("machine", "G4"))
    >>> event.kind, event.labels, event.system.n, event.u.shape
    ('infeed-loss', ('G1', 'G2', 'G3'), 3, (3,))
    """

    system: object
    labels: tuple
    u: np.ndarray | None
    kind: str
    caps: np.ndarray | None = None
    lost_pu: float | None = None


def separated_note(note: str, events) -> str:
    """``note`` extended by the machines of ``events[1:]``, the islands not screened.

    Examples
    --------
    >>> separated_note("2 island(s)", [None, Event(None, ("G9",), None, "island-imbalance")])
    '2 island(s); screened the main island; separated: G9'
    """
    cut = [m for ev in events[1:] for m in ev.labels]
    if not cut:
        return note
    shown = ", ".join(cut[:6]) + (", ..." if len(cut) > 6 else "")
    return f"{note}; screened the main island; separated: {shown}"


def incident_size(grid, ctx, incident_mw=None):
    """The size ``B`` of the reference incident, the unit that sets it, and why.

    By default ``B`` is the largest dispatch of a generating unit. A pandapower
    ``ext_grid`` (its ``pandapower_element`` is ``"ext_grid:<i>"``) is the case's modelled
    external infeed, the power flow's slack, whose output is solved rather than dispatched:
    it sets ``B`` only when no other unit has a positive dispatch. A slack generator of a
    shipped or ANDES case is a unit like any other.

    Parameters
    ----------
    grid : netcoh.grids.Grid
        The intact grid.
    ctx : ScreeningContext
        Its screening context (machine order and dispatch).
    incident_mw : float, optional
        ``B`` given by the user (MW); then no unit sets it.

    Returns
    -------
    (float, str or None, str)
        ``B`` in MW, the id of the unit whose dispatch it is (None when given), and a
        sentence saying why.

    Examples
    --------
    >>> import netcoh.grids as grids
    >>> from netcoh.screening import ScreeningContext
    >>> g = grids.load("kundur", warn=False)
    >>> B, unit, why = incident_size(g, ScreeningContext.from_grid(g))
    >>> round(B, 1), unit
    (719.1, 'G3')
    >>> incident_size(g, ScreeningContext.from_grid(g), 500.0)[1:]
    (None, 'given (500 MW)')
    """
    if incident_mw is not None:
        B = float(incident_mw)
        if not (np.isfinite(B) and B > 0):
            raise InputError(f"`incident_mw` must be positive, got {incident_mw!r}")
        return B, None, f"given ({B:g} MW)"
    M = grid.tables["machines"]
    element = {str(m): str(e or "") for m, e in zip(M["id"], M["pandapower_element"])}
    mw = np.asarray(ctx.dispatch, dtype=float) * ctx.base_mva
    external = np.array([element.get(m, "").startswith("ext_grid:") for m in ctx.labels])
    units = (mw > 0) & ~external
    if not units.any():
        if not np.any(mw > 0):
            raise InputError("`incident_mw` must be given: no machine of the case has a "
                             "positive dispatch, got none")
        k = int(np.argmax(mw))
        return float(mw[k]), ctx.labels[k], (
            f"largest dispatch, {ctx.labels[k]} ({mw[k]:.4g} MW); the case's only infeeds "
            "are external grids")
    k = int(np.flatnonzero(units)[np.argmax(mw[units])])
    why = f"largest dispatch of a generating unit, {ctx.labels[k]} ({mw[k]:.4g} MW)"
    big = np.flatnonzero(external & (mw > mw[k]))
    if big.size:
        names = ", ".join(f"{ctx.labels[j]} ({mw[j]:.4g} MW)" for j in big[:3])
        why += (f"; the external grid {names} is the case's modelled external infeed (the "
                "power flow's slack, output solved, not dispatched) and does not set it")
    return float(mw[k]), ctx.labels[k], why


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


def _dead_end(ctx, p, q, w):
    """The end of a bridge on the machine-free side."""
    _, _, lab = ctx._without_edge(p, q, w)
    has_machine = np.zeros(lab.max() + 1, dtype=bool)
    has_machine[lab[: ctx.nm]] = True
    return q if has_machine[lab[p]] else p


def _trip_input(grid, machine_id, labels) -> np.ndarray:
    """The input of a unit trip on the ``"case"`` model, on the machines ``labels``.

    :meth:`netcoh.grids.Grid.disturbance` of the tripped grid (lossy injection map, lost
    reactive output, the event's losses from the post-trip AC power flow), in the order of
    ``labels``.
    """
    after = grid.trip_machine(machine_id)
    u = after.disturbance(model="case")
    M = after.tables["machines"]
    ids = [str(m) for m, on in zip(M["id"], M["in_service"]) if on]
    if sorted(ids) != sorted(labels):
        raise InputError(f"the machines after tripping {machine_id!r} differ from the "
                         "screening model's; cannot map the trip's input")
    pos = {m: i for i, m in enumerate(ids)}
    return np.asarray(u, dtype=float)[[pos[m] for m in labels]]


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

    Examples
    --------
    Kundur's two areas: the line 5-6 cuts G1 off; one of the parallel lines 7-8 keeps the
    grid whole and is screened against the reference incident:

    >>> import netcoh.grids as grids
    >>> from netcoh.screening import Contingency, ScreeningContext
    >>> ctx = ScreeningContext.from_grid(grids.load("kundur", warn=False))
    >>> events, note = operator_events(ctx, Contingency("branch", "L5-6"))
    >>> note, [(e.kind, e.labels) for e in events]        # doctest: +NORMALIZE_WHITESPACE
    ('2 island(s) with [3, 1] machines',
     [('island-imbalance', ('G2', 'G3', 'G4')), ('island-imbalance', ('G1',))])
    >>> round(float(events[1].u.sum()) * ctx.base_mva, 1)  # G1 keeps what it sent: a surplus
    700.0
    >>> [(e.kind, e.u) for e in operator_events(ctx, Contingency("branch", "L7-8a"))[0]]
    [('reference-incident', None)]
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
            if ctx.event_grid is not None:
                return [Event(system, labels, _trip_input(ctx.event_grid, cont.id, labels),
                              "infeed-loss")], note
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
        dead = _dead_end(ctx, p, q, w)
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
    if status == "split":
        # the islands with their imbalances at once (``ctx.systems`` would build the same
        # islands without them first: the Schur complements twice)
        inj = _branch_injection(ctx, cont.id)
        parts, note = ctx._islands(p, q, w, drop=None, inj=inj)
        if len(parts) > 1:
            return [Event(s, lab, u, "island-imbalance") for s, lab, u in parts], note
    systems, note = ctx.systems(cont)
    if len(systems) == 1:
        system, labels = systems[0]
        return [Event(system, labels, None, "reference-incident")], note
    inj = _branch_injection(ctx, cont.id)
    parts, note = ctx._islands(p, q, w, drop=None, inj=inj)
    return [Event(s, lab, u, "island-imbalance") for s, lab, u in parts], note
