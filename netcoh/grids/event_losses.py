"""Network losses of a finite event: the secant of the loss curve instead of its tangent.

The ``"case"`` model's input (:func:`netcoh.grids.case_model.case_injection`) maps a power
step at a bus onto the machines through the linearised AC network, which charges the step
with its *marginal* losses at the operating point. Network and stator copper losses are
quadratic in the transfers, so a large event (the trip of a big unit, whose output must now
come over the network from everyone else) costs more than the tangent says; without this, the
linear model of ANDES's ``ieee39_full`` settled about 2 % too high after its unit trips.

:func:`event_generation` solves the post-event steady state as an AC power flow (machines at
their voltage set-points, which the voltage regulators hold; every machine picks up its share
of the deficit in proportion to its steady-state frequency gain, governor droop plus damping)
and returns the machines' extra mechanical power, stator copper losses ``r_a |I|^2``
included. :func:`loss_curvature` is its part beyond the tangent, which
``case_injection(..., losses="secant")`` adds to the linear input (spread like the input);
for small events it vanishes.

Examples
--------
>>> import netcoh as nc
>>> g = nc.grids.load("kundur", warn=False)
>>> round(event_generation(g, {"9": -0.5}), 2) > 0.5      # 50 MW more load plus its losses
True
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .._validation import as_int, as_real
from ..exceptions import InputError, NetcohTypeError, SolverError
from .powerflow import newton_raphson, tables_ybus

__all__ = ["event_generation", "loss_curvature"]


def _participation(grid, rows) -> np.ndarray:
    """Steady-state frequency gain ``1/g_i(0)`` of each machine row (p.u./p.u.)."""
    M = grid.tables["machines"]
    gov = {g["machine"]: g for g in grid.provenance.get("andes", {}).get("governors", [])}
    w = np.zeros(rows.size)
    for k, r in enumerate(rows):
        mid = str(M["id"][r])
        w[k] = max(float(M["damping_pu"][r]), 0.0)
        g = gov.get(mid)
        if g is not None:
            if g.get("at_limit") != "upper":
                w[k] += float(g["gain_pu"])
            w[k] += float(g.get("damping_pu", 0.0))
        elif np.isfinite(M["droop_gain_pu"][r]):
            w[k] += float(M["droop_gain_pu"][r])
    if not np.any(w > 0):
        w = np.ones(rows.size)
    return w


def _check_event(grid, bus_p_pu) -> None:
    from .grid import Grid

    if not isinstance(grid, Grid):
        raise NetcohTypeError(f"`grid` must be a Grid, got {type(grid).__name__}")
    if not isinstance(bus_p_pu, Mapping):
        raise NetcohTypeError("`bus_p_pu` must be a mapping of bus id to p.u. injection, got "
                              f"{type(bus_p_pu).__name__}")
    for b, p in bus_p_pu.items():
        as_real(p, f"bus_p_pu[{b!r}]")


def event_generation(grid, bus_p_pu: Mapping, *, scale: float = 1.0, tol: float = 1e-8,
                     max_iter: int = 30) -> float:
    """Extra generation (p.u.) the machines supply in the steady state after an event.

    Parameters
    ----------
    grid : Grid
        The grid after the event (e.g. from :meth:`Grid.trip_machine`) with the pre-event
        AC operating point; machines out of service because of a recorded trip event have
        lost their output, which ``bus_p_pu`` must include (as :meth:`Grid.disturbance`
        builds it).
    bus_p_pu : mapping of str to float
        The event's injections per bus id (p.u. on ``base_mva``; a load increase or a lost
        output is negative).
    scale : float
        Solve for ``scale`` times the event (the tripped machines of ``grid`` then lose
        only that fraction of their output).
    tol : float
        Tolerance (p.u.) on the balance of the distributed deficit.
    max_iter : int
        Power flows solved at most.

    Returns
    -------
    float
        The change of the in-service machines' mechanical power ``sum_i Delta p_i``: the
        event's deficit plus the change of network losses and of the machines' stator
        copper losses ``r_a |I|^2`` (``r_a`` from ``provenance["andes"]["machines"]``), from
        AC power flows.

    Raises
    ------
    InputError
        A key of ``bus_p_pu`` is not a bus id, or the grid has no AC operating point.
    SolverError
        The post-event power flow does not converge (e.g. the event splits the grid).

    Examples
    --------
    >>> import netcoh as nc
    >>> g = nc.grids.load("kundur", warn=False)
    >>> round(event_generation(g, {"9": -1.0}), 3)          # 100 MW more load at bus 9
    1.138
    """
    _check_event(grid, bus_p_pu)
    scale = as_real(scale, "scale")
    tol = as_real(tol, "tol", low=0.0, low_open=True)
    max_iter = as_int(max_iter, "max_iter", minimum=1)
    T, base = grid.tables, grid.base_mva
    B, M, Ld = T["buses"], T["machines"], T["loads"]
    if not (np.all(np.isfinite(B["vm_pu"])) and np.all(np.isfinite(B["va_deg"]))):
        raise InputError("grid has no AC operating point; call grid.solve_power_flow()")
    bidx = {b: i for i, b in enumerate(B["id"])}
    nb = len(bidx)
    extra = np.zeros(nb)
    for b, p in bus_p_pu.items():
        if str(b) not in bidx:
            raise InputError(f"`bus_p_pu` keys must be bus ids, got {b!r}")
        extra[bidx[str(b)]] += float(scale) * float(p)
    for ev in grid.events:                 # a tripped machine's output is already absent
        if ev.get("kind") == "trip":
            extra[bidx[str(ev["bus"])]] += float(ev["p_pu"])
    Y = tables_ybus(T, base)[0]
    mon = np.flatnonzero(M["in_service"])
    mb = np.array([bidx[b] for b in M["bus"][mon]], dtype=int)
    s0 = np.zeros(nb, dtype=complex)
    if len(Ld["id"]):
        np.add.at(s0, [bidx[b] for b in Ld["bus"]], -(Ld["p_mw"] + 1j * Ld["q_mvar"]) / base)
    s0 += extra
    p0 = np.asarray(M["p_mw"][mon], dtype=float) / base
    marked = np.flatnonzero(M["slack"][mon])
    ks = int(marked[0]) if marked.size else int(np.argmax(p0))
    slack = np.array([mb[ks]])
    pv = np.setdiff1d(np.unique(mb), slack)
    v = np.asarray(B["vm_pu"], dtype=float) * np.exp(1j * np.radians(B["va_deg"]))
    w = _participation(grid, mon)
    w = w / w.sum()
    ra_of = {r["id"]: r.get("ra_pu", 0.0)
             for r in grid.provenance.get("andes", {}).get("machines", [])}
    ra = np.array([float(ra_of.get(str(i), 0.0)) for i in M["id"][mon]])
    q0 = np.asarray(M["q_mvar"][mon], dtype=float) / base
    vb0 = np.abs(v[mb])
    cu0 = ra * (p0 ** 2 + q0 ** 2) / vb0 ** 2          # stator copper losses before
    share = np.ones(mon.size)
    for b in np.unique(mb):                            # reactive sharing at a bus: by p
        here = mb == b
        pos = np.maximum(p0[here], 0.0)
        share[here] = pos / pos.sum() if pos.sum() > 0 else 1.0 / here.sum()
    lam = -float(extra.sum())              # first guess: the deficit without losses
    dcu = np.zeros(mon.size)
    for _ in range(max_iter):
        pt = p0 + w * lam - dcu                        # terminal outputs (turbines: p0 + w lam)
        s = s0.copy()
        np.add.at(s, mb, pt)
        v = newton_raphson(Y, s, v, slack=slack, pv=pv)
        inj = v * np.conj(Y @ v)
        pt[ks] = float(inj[slack[0]].real - s[slack[0]].real) + pt[ks]
        qb = inj.imag - s0.imag                        # machines' reactive output per bus
        qt = qb[mb] * share
        dcu = ra * (pt ** 2 + qt ** 2) / np.abs(v[mb]) ** 2 - cu0
        turb = pt + dcu - p0                           # turbine (mechanical) power change
        total = float(turb.sum())
        if abs(total - lam) < tol:
            return total
        lam = total
    raise SolverError(f"post-event power flow: the distributed deficit did not settle in "
                      f"{max_iter} iterations")


def loss_curvature(grid, bus_p_pu: Mapping, *, rel_step: float = 1e-3) -> float:
    """Extra generation of a finite event beyond its tangent: ``G(1) - G(0) - (G(h) - G(0))/h``.

    ``G(x)`` is :func:`event_generation` of ``x`` times the event (``G(0)``, nearly zero, is
    the power-flow model's offset from the stored operating point); ``(G(h) - G(0))/h`` with
    a small ``h`` is the tangent of the same model, so the difference is the second- and
    higher-order part of the losses only (zero for a vanishing event), whatever the voltage
    model of the linearisation it is added to.

    Parameters
    ----------
    grid : Grid
        As in :func:`event_generation`.
    bus_p_pu : mapping of str to float
        As in :func:`event_generation`.
    rel_step : float
        ``h``.

    Returns
    -------
    float
        p.u. on ``base_mva``; positive when the event costs more than its tangent.

    Examples
    --------
    >>> import netcoh as nc
    >>> g = nc.grids.load("kundur", warn=False)
    >>> c1, c2 = loss_curvature(g, {"9": -0.5}), loss_curvature(g, {"9": -1.0})
    >>> bool(c1 > 0 and c2 > 3.5 * c1)               # about quadratic in the event's size
    True
    """
    _check_event(grid, bus_p_pu)
    h = as_real(rel_step, "rel_step", low=0.0, high=1.0, low_open=True)
    g0 = event_generation(grid, bus_p_pu, scale=0.0)
    return (event_generation(grid, bus_p_pu) - g0
            - (event_generation(grid, bus_p_pu, scale=h) - g0) / h)
