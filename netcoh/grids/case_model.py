"""The ``"case"`` model of a grid: each machine's own dynamics on the lossy AC network.

:meth:`Grid.to_system(model="case") <netcoh.grids.Grid.to_system>` builds it for grids that carry
dynamic data of their own (today: grids read by :func:`netcoh.grids.from_andes`, whose
``provenance["andes"]`` holds every machine's governor transfer function and armature
resistance).

Nodes. Machine ``i`` is ``g_i(s) = 1/(m_i s + d_i + Dt_i + K_i num_i(s)/den_i(s))``: inertia
``m = 2 H S_n/S_base``, damping, the governor's turbine damping ``Dt`` and the governor's full
transfer function (lead-lag, servo, shaft stages) with droop gain ``K`` on the case base.
A governor whose valve sits at a limit at the operating point cannot move past it and is left
out for events in that direction (``at_limit``).

Network. The AC power-flow equations are linearised at the operating point with every machine
an EMF ``E' = V + (r_a + j x'_d) conj(S/V)`` of constant magnitude, loads at constant power and
shunts at constant admittance; bus angles *and* voltage magnitudes are eliminated
(:func:`ac_network`). This keeps the losses (a load step draws more than itself from the
machines) and the reactive coupling that a lossless ``dP/dtheta`` drops. The machine-angle
sensitivity ``K = dPe/d(delta)`` has zero row sums but is slightly non-symmetric when the
network has losses; the model's Laplacian is ``2 pi f_hz (K + K^T)/2``, which may couple some
machines positively while it stays positive semidefinite (a *signed* Laplacian). A power step
at a bus reaches the machines through the exact ``dPe/dP_bus`` (:func:`case_injection`).

Examples
--------
>>> import netcoh as nc
>>> from netcoh.grids.case_model import ac_network
>>> net = ac_network(nc.grids.load("kundur", warn=False))
>>> net.laplacian.shape, bool(abs(net.laplacian.sum(axis=1)).max() < 1e-8)
((4, 4), True)
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..exceptions import AccuracyWarning, InputError, SolverError
from ..network import nodal as _nodal
from ..network.system import NetworkSystem, reduced_system
from . import assembly as _asm
from .event_losses import loss_curvature

__all__ = ["ACNetwork", "ac_network", "governor_nodal", "case_system", "case_injection",
           "damper_damping", "damping_time_constant", "has_case_dynamics", "AT_LIMIT"]

AT_LIMIT = ("upper", "lower", "none")


def has_case_dynamics(grid) -> bool:
    """Whether ``grid`` carries machine dynamics of its own (the ``"case"`` model applies).

    Parameters
    ----------
    grid : Grid
        Any grid.

    Returns
    -------
    bool
        True for grids read from a dynamic case (``provenance["andes"]`` with governor and
        machine records), False for grids whose dynamic data are synthesised or tabulated only.

    Examples
    --------
    >>> import netcoh as nc
    >>> has_case_dynamics(nc.grids.load("kundur", warn=False))
    False
    """
    info = grid.provenance.get("andes")
    return isinstance(info, Mapping) and "governors" in info and "machines" in info


def _check_at_limit(at_limit):
    if at_limit not in AT_LIMIT:
        raise InputError(f"`at_limit` must be 'upper', 'lower' or 'none', got {at_limit!r}")


# ---------------------------------------------------------------------------------------
# Lossy AC network onto the machines
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ACNetwork:
    """Linearised AC network of a grid at its operating point, onto its machines.

    Attributes
    ----------
    sensitivity : ndarray (nm, nm)
        ``K = dPe/d(delta)`` (p.u. power per rad, case base), zero row sums, non-symmetric when
        the network has losses.
    injection : ndarray (nm, nb)
        ``dPe/dP_bus``: change of machine electrical outputs per unit *injection* at each bus.
    injection_q : ndarray (nm, nb)
        ``dPe/dQ_bus``: the same for reactive injections (a tripped machine loses both).
    laplacian : ndarray (nm, nm)
        ``Omega_0 (K + K^T)/2`` with exact zero row sums (``L_B`` convention of the grids).
    asymmetry : float
        ``||K - K^T||_max / ||K||_max``.
    machines, buses : tuple of str
        Machine ids (rows) and bus ids (columns of ``injection``).
    """

    sensitivity: np.ndarray
    injection: np.ndarray
    injection_q: np.ndarray
    laplacian: np.ndarray
    asymmetry: float
    machines: tuple
    buses: tuple


def _ybus(grid, nm: int, bidx: dict, sparse: bool = False):
    """Admittance matrix over ``nm`` machine EMF nodes then the buses of ``bidx``."""
    T, base = grid.tables, grid.base_mva
    R = T["branches"]
    N = nm + len(bidx)
    on = np.array([bool(o) and f in bidx and t in bidx
                   for o, f, t in zip(R["in_service"], R["from_bus"], R["to_bus"])], dtype=bool)
    f = nm + np.array([bidx[b] for b in R["from_bus"][on]], dtype=int)
    t = nm + np.array([bidx[b] for b in R["to_bus"][on]], dtype=int)
    ys = 1.0 / (R["r_pu"][on] + 1j * R["x_pu"][on])
    a = R["tap_ratio"][on] * np.exp(1j * np.radians(R["shift_deg"][on]))
    bc = 0.5j * R["b_pu"][on]
    rows = [f, t, f, t]
    cols = [f, t, t, f]
    vals = [(ys + bc) / np.abs(a) ** 2, ys + bc, -ys / np.conj(a), -ys / a]
    S = T["shunts"]
    if len(S["id"]):
        here = np.array([b in bidx for b in S["bus"]], dtype=bool)
        k = nm + np.array([bidx[b] for b in S["bus"][here]], dtype=int)
        rows.append(k)
        cols.append(k)
        vals.append((S["g_mw"][here] - 1j * S["b_mvar"][here]) / base)
    Y = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(N, N)).tocsr()
    return Y if sparse else Y.toarray()


def _island(grid, island):
    """``(bus ids, machine rows)`` of the island modelled (raises on a split grid)."""
    _, mrows, _ = _asm.select_nodes(grid, "dc", island)
    if island is None:
        return tuple(grid.tables["buses"]["id"]), mrows
    return tuple(grid.islands()[int(island)].buses), mrows


def ac_network(grid, *, island: int | None = None, _reactance=None) -> ACNetwork:
    """Full AC linearisation (angles and voltage magnitudes) onto a grid's machines.

    Each in-service machine is an EMF ``E' = V + (r_a + j x'_d) conj(S/V)`` of constant
    magnitude (``r_a`` from ``provenance["andes"]["machines"]`` when the grid came from a
    dynamic case, else 0); loads and shunts are constant power / constant admittance. The
    bus angles and voltage magnitudes are eliminated from the linearised power-flow equations
    (``Delta P = Delta Q = 0`` at buses without an injection change), which gives the machines'
    electrical-power sensitivities to their rotor angles and to bus injections.

    Parameters
    ----------
    grid : Grid
        A grid with an AC operating point and ``transient_reactance_pu`` for every machine.
    island : int, optional
        Which island to linearise when the grid is split (see :meth:`Grid.islands`).

    Returns
    -------
    ACNetwork
        Sensitivities, injection map and symmetrised Laplacian of the island's machines (in
        the machine table's order).

    Raises
    ------
    InputError
        A machine has no transient reactance, or the grid has no AC operating point.
    SolverError
        The network Jacobian is singular at the operating point.

    Examples
    --------
    >>> import netcoh as nc
    >>> net = ac_network(nc.grids.load("kundur", warn=False))
    >>> net.machines, round(net.asymmetry, 3) > 0
    (('G1', 'G2', 'G3', 'G4'), True)
    """
    T, base = grid.tables, grid.base_mva
    B, M = T["buses"], T["machines"]
    bus_ids, mon = _island(grid, island)
    bidx = {b: i for i, b in enumerate(bus_ids)}
    brow = {b: i for i, b in enumerate(B["id"])}
    rows = np.array([brow[b] for b in bus_ids], dtype=int)
    nm, nb = mon.size, len(bus_ids)
    xd = M["transient_reactance_pu"][mon] if _reactance is None else np.asarray(_reactance)
    if not np.all(np.isfinite(xd)):
        raise InputError("the AC network model needs `transient_reactance_pu` for every machine")
    vm, va = B["vm_pu"][rows], np.radians(B["va_deg"][rows])
    if not (np.all(np.isfinite(vm)) and np.all(np.isfinite(va))):
        raise InputError("grid has no AC operating point; call grid.solve_power_flow()")
    ra_of = {r["id"]: r["ra_pu"] for r in grid.provenance.get("andes", {}).get("machines", [])}
    ra = np.array([ra_of.get(str(i), 0.0) for i in M["id"][mon]])
    V = vm * np.exp(1j * va)
    mb = np.array([bidx[b] for b in M["bus"][mon]], dtype=int)
    z = ra + 1j * xd
    S = (M["p_mw"][mon] + 1j * M["q_mvar"][mon]) / base
    E = V[mb] + z * np.conj(S / V[mb])
    Y = _ybus(grid, nm, bidx, sparse=True)
    m = np.arange(nm)
    y = 1.0 / z
    Y = Y + sp.coo_matrix((np.concatenate([y, y, -y, -y]),
                           (np.concatenate([m, nm + mb, m, nm + mb]),
                            np.concatenate([m, nm + mb, nm + mb, m]))), shape=Y.shape)
    Y = Y.tocsr()
    Vall = np.concatenate([E, V])
    current = Y @ Vall
    DV = sp.diags(Vall)
    dS_da = (1j * DV @ (sp.diags(current) - Y @ DV).conj()).tocsr()
    dS_dm = (DV @ (Y @ sp.diags(Vall / np.abs(Vall))).conj()
             + sp.diags(np.conj(current) * Vall / np.abs(Vall))).tocsr()
    b = np.arange(nm, nm + nb)
    Jmm = dS_da[m][:, m].real.toarray()
    Jmx = sp.hstack([dS_da[m][:, b].real, dS_dm[m][:, b].real]).tocsc()
    Jbm = sp.vstack([dS_da[b][:, m].real, dS_da[b][:, m].imag]).tocsc()
    Jbx = sp.bmat([[dS_da[b][:, b].real, dS_dm[b][:, b].real],
                   [dS_da[b][:, b].imag, dS_dm[b][:, b].imag]]).tocsc()
    try:
        lu = spla.splu(Jbx)
        Xm = lu.solve(Jbm.toarray())                      # (2 nb, nm)
        W = lu.solve(Jmx.T.toarray(), trans="T")          # Jbx^-T Jmx^T, (2 nb, nm)
    except RuntimeError as exc:
        raise SolverError("singular network Jacobian at the operating point (islanded buses "
                          "or voltage collapse)") from exc
    if not (np.all(np.isfinite(Xm)) and np.all(np.isfinite(W))):
        raise SolverError("singular network Jacobian at the operating point (islanded buses "
                          "or voltage collapse)")
    K = Jmm - Jmx @ Xm
    inj = np.ascontiguousarray(W[:nb].T)
    inj_q = np.ascontiguousarray(W[nb:].T)
    scale = max(np.abs(K).max(), 1e-300)
    Ls = 0.5 * (K + K.T)
    Ls = Ls - np.diag(np.diag(Ls))
    Ls = Ls - np.diag(Ls.sum(axis=1))
    Ls *= 2.0 * math.pi * grid.f_hz
    for arr in (K, inj, inj_q, Ls):
        arr.setflags(write=False)
    return ACNetwork(K, inj, inj_q, Ls, float(np.abs(K - K.T).max() / scale),
                     tuple(str(i) for i in M["id"][mon]), tuple(bus_ids))


# ---------------------------------------------------------------------------------------
# Machines with their governors
# ---------------------------------------------------------------------------------------
def governor_nodal(grid, *, at_limit: str = "upper", machines=None):
    """Nodal models ``1/(m s + d + Dt + K num(s)/den(s))`` of a grid's machines.

    Parameters
    ----------
    grid : Grid
        A grid with case dynamics (:func:`has_case_dynamics`).
    at_limit : {"upper", "lower", "none"}
        A governor whose valve sits at a limit at the operating point cannot move past it:
        ``"upper"`` (default, for under-frequency events such as load increases) leaves the
        machines at their upper limit without governor, ``"lower"`` those at the lower limit
        (over-frequency events), ``"none"`` ignores limits.
    machines : sequence of str, optional
        Machine ids in the wanted order (default: in-service machines in table order).

    Returns
    -------
    NodalDynamics
        Built by :func:`netcoh.network.nodal.from_tf` (kind ``"rational"``), one node per
        machine; machines without governor are ``1/(m s + d)``.

    Raises
    ------
    InputError
        The grid carries no case dynamics, or ``at_limit`` is not one of the choices.

    Examples
    --------
    >>> import netcoh as nc
    >>> try:                              # a grid with synthesised dynamics only
    ...     governor_nodal(nc.grids.load("kundur", warn=False))
    ... except nc.InputError as exc:
    ...     print(str(exc)[:38])
    grid 'kundur' carries no case dynamics
    """
    _check_at_limit(at_limit)
    if not has_case_dynamics(grid):
        raise InputError(f"grid {grid.name!r} carries no case dynamics (read it with "
                         f"netcoh.grids.from_andes)")
    info = grid.provenance["andes"]
    gov_of = {g["machine"]: g for g in info["governors"]}
    M = grid.tables["machines"]
    if machines is None:
        rows = np.flatnonzero(M["in_service"])
    else:
        pos = {m: k for k, m in enumerate(M["id"])}
        rows = np.array([pos[str(m)] for m in machines], dtype=int)
    nums, dens = [], []
    for k in rows:
        m, d = float(M["inertia_s"][k]), float(M["damping_pu"][k])
        gv = gov_of.get(str(M["id"][k]))
        if gv is None or gv["at_limit"] == at_limit:
            nums.append(np.array([1.0]))
            dens.append(np.array([m, d]))
            continue
        gn, gd = np.asarray(gv["num"]), np.asarray(gv["den"])
        nums.append(gd)
        dens.append(np.polyadd(np.polymul(gd, [m, d + gv["damping_pu"]]), gv["gain_pu"] * gn))
    return _nodal.from_tf(num=nums, den=dens)


def case_system(grid, *, island: int | None = None, at_limit: str = "upper") -> NetworkSystem:
    """The ``"case"`` model: machines with their governors on the lossy AC network.

    Parameters
    ----------
    grid : Grid
        A grid with case dynamics (:func:`has_case_dynamics`).
    island : int, optional
        Which island to model when the grid is split (see :meth:`Grid.islands`).
    at_limit : {"upper", "lower", "none"}
        Governors at a valve limit, see :func:`governor_nodal`.

    Returns
    -------
    NetworkSystem
        Nodes are the island's in-service machines (table order), the Laplacian is
        :func:`ac_network`'s; it is marked ``signed`` when losses make some coupling positive
        (it is then still positive semidefinite).

    Raises
    ------
    InputError
        The grid carries no case dynamics.
    UnstableError
        The symmetrised network is not positive semidefinite.

    Examples
    --------
    >>> import netcoh as nc
    >>> try:                              # a grid with synthesised dynamics only
    ...     case_system(nc.grids.load("kundur", warn=False))
    ... except nc.InputError as exc:
    ...     print(str(exc)[:38])
    grid 'kundur' carries no case dynamics
    """
    if not has_case_dynamics(grid):
        raise InputError(f"grid {grid.name!r} carries no case dynamics (read it with "
                         f"netcoh.grids.from_andes)")
    net = ac_network(grid, island=island)
    nd = governor_nodal(grid, at_limit=at_limit, machines=net.machines)
    L = _psd_part(net)
    sysm = reduced_system(L, nd, net.machines)
    tau = damping_time_constant(grid, net, L, island=island)
    if tau == 0.0:
        return sysm
    return dataclasses.replace(sysm, coupling=_nodal.from_tf(num=[[tau, 1.0]], den=[[1.0, 0.0]]))


def damping_time_constant(grid, net: ACNetwork, L=None, *, island: int | None = None) -> float:
    """``tau`` of the coupling ``f(s) = (1 + tau s)/s`` that carries the damper windings.

    The network model couples machines through ``L/s + D`` (:func:`damper_damping`). netcoh's
    systems have one Laplacian and one scalar coupling ``f(s)``, so ``D`` is represented by
    ``tau L`` with ``tau = tr(M^-1 D)/tr(M^-1 L)``: the sum of the decay rates it adds to the
    electromechanical modes is kept exactly (the trace of the inertia-weighted matrices is
    the sum over the modes), and, ``L`` being a Laplacian, the centre-of-inertia motion meets
    no damping from it, as from damper windings.

    Parameters
    ----------
    grid : Grid
        The grid.
    net : ACNetwork
        Its :func:`ac_network`.
    L : ndarray, optional
        The Laplacian used (default ``net.laplacian``).
    island : int, optional
        As in :func:`ac_network`.

    Returns
    -------
    float
        ``tau`` in seconds, 0 when no machine has damper-winding data.

    Examples
    --------
    >>> import netcoh as nc
    >>> g = nc.grids.load("kundur", warn=False)
    >>> damping_time_constant(g, ac_network(g))
    0.0
    """
    D = damper_damping(grid, net, island=island)
    if D is None or net.laplacian.shape[0] < 2:
        return 0.0
    L = net.laplacian if L is None else L
    M = grid.tables["machines"]
    rows = {str(i): k for k, i in enumerate(M["id"])}
    m = np.array([M["inertia_s"][rows[i]] for i in net.machines])
    return max(float(np.trace(D / m[:, None]) / np.trace(L / m[:, None])), 0.0)


def _psd_part(net: ACNetwork) -> np.ndarray:
    """The symmetrised Laplacian, its negative eigenvalues clipped to zero where ``K`` is stable.

    Symmetrising a lossy ``K`` whose eigenvalues all have non-negative real parts can leave a
    slightly indefinite ``(K + K^T)/2`` (GBnetwork: -0.008 against a spectrum starting at
    0.009 and reaching 60 p.u./rad). The nearest positive semidefinite matrix (eigenvalues
    clipped at zero) keeps the zero row sums. A ``K`` with an eigenvalue of negative real
    part is a truly unstable network and is left for :func:`reduced_system` to refuse.
    """
    L = net.laplacian
    if L.shape[0] < 2:
        return L
    w, V = np.linalg.eigh(L)
    tol = 1e-9 * max(abs(w).max(), 1e-300)
    if w[0] >= -tol:
        return L
    kev = np.linalg.eigvals(net.sensitivity).real
    if kev.min() < -1e-9 * max(abs(kev).max(), 1e-300):
        return L
    out = (V * np.maximum(w, 0.0)) @ V.T
    out = 0.5 * (out + out.T)
    out = out - np.diag(np.diag(out))
    return out - np.diag(out.sum(axis=1))


def damper_damping(grid, net: ACNetwork, *, island: int | None = None):
    """Damping Laplacian ``D`` (p.u. power per p.u. slip) of the machines' damper windings.

    A machine's reactance seen by the network falls from ``x'`` (transient) to ``x''``
    (subtransient) for fast changes: with the subtransient open-circuit time constant
    ``T''_0`` its operational reactance is ``x(s) = x' (1 + s T'')/(1 + s T''_0)``,
    ``T'' = T''_0 x''/x'``, so ``x(s) = x' - s T''_0 (x' - x'') + O(s^2)`` (Kundur, *Power
    System Stability and Control*, 1994, sections 4.1 and 12.3: the asynchronous damping
    torque of the amortisseurs). The network's angle sensitivity ``K(x)`` then becomes
    ``K(s) = K(x') + s D/Omega_0`` with ``D = Omega_0 dK/dx [T''_0 (x' - x'')]``, a
    directional derivative taken by one extra linearisation. ``D`` acts on *slips* (it is a
    Laplacian: a common speed change meets no damping), as damper windings do. ``T''_0`` is
    the mean of the d- and q-axis values (``xd2 = xq2`` in the round-rotor model).

    Parameters
    ----------
    grid : Grid
        A grid whose ``provenance["andes"]["machines"]`` hold ``xd2_pu``, ``td20_s``,
        ``tq20_s`` (GENROU machines; others contribute nothing).
    net : ACNetwork
        :func:`ac_network` of the same grid and island.
    island : int, optional
        As in :func:`ac_network`.

    Returns
    -------
    ndarray (n, n) or None
        Symmetric, zero row sums; None when no machine has damper windings.

    Examples
    --------
    >>> import netcoh as nc
    >>> g = nc.grids.load("kundur", warn=False)
    >>> damper_damping(g, ac_network(g)) is None          # no subtransient data
    True
    """
    sub = {m["id"]: m for m in grid.provenance.get("andes", {}).get("machines", [])}
    M = grid.tables["machines"]
    rows = {str(i): k for k, i in enumerate(M["id"])}
    xd = np.array([M["transient_reactance_pu"][rows[i]] for i in net.machines])
    v = np.zeros(xd.size)
    for k, mid in enumerate(net.machines):
        m = sub.get(mid, {})
        if "xd2_pu" in m and m["xd2_pu"] < xd[k]:
            v[k] = 0.5 * (m["td20_s"] + m["tq20_s"]) * (xd[k] - m["xd2_pu"])
    if not np.any(v > 0):
        return None
    eps = 1e-4 * float(np.min(xd[v > 0] / v[v > 0]))
    hi = ac_network(grid, island=island, _reactance=xd - eps * v)
    D = (hi.laplacian - net.laplacian) / eps
    D = 0.5 * (D + D.T)
    D = D - np.diag(np.diag(D))
    return D - np.diag(D.sum(axis=1))


def case_injection(grid, bus_p_pu: Mapping, *, bus_q_pu: Mapping | None = None,
                   island: int | None = None, losses: str = "tangent") -> np.ndarray:
    """Inputs of the ``"case"`` model for power injections ``{bus: p}`` (p.u.) at buses.

    Parameters
    ----------
    grid : Grid
        The grid (any grid with an AC operating point and machine reactances).
    bus_p_pu : mapping of str to float
        Injection per bus id in p.u. on ``base_mva`` (a load increase is negative).
    bus_q_pu : mapping of str to float, optional
        Reactive injections per bus id (p.u.), e.g. the lost output of a tripped machine.
    island : int, optional
        As in :func:`case_system`.
    losses : {"tangent", "secant"}
        ``"tangent"`` (default): the marginal losses of the linearisation, right for small
        injections. ``"secant"``: ``u`` scaled so that its sum also carries the event's
        losses beyond the tangent, from AC power flows of the post-event steady state
        (:func:`netcoh.grids.event_losses.loss_curvature`: network and stator copper losses),
        for large events such as unit trips. When that power flow has no solution, an
        :class:`~netcoh.exceptions.AccuracyWarning` says so and the tangent is kept.

    Returns
    -------
    ndarray, shape (n_machines,)
        ``u = -dPe/dP_bus @ p``: the machines' electrical outputs change by ``-u`` at the first
        instant, losses included (a load increase draws more than itself in a lossy grid).

    Examples
    --------
    >>> import netcoh as nc
    >>> u = case_injection(nc.grids.load("kundur", warn=False), {"9": -1.0})
    >>> bool(u.sum() < -1.0)              # the marginal losses come on top
    True
    """
    if losses not in ("tangent", "secant"):
        raise InputError(f"`losses` must be 'tangent' or 'secant', got {losses!r}")
    if losses == "secant" and island is not None:
        raise InputError(f"`losses='secant'` solves the power flow of a connected grid; it "
                         f"needs island=None, got island={island!r}")
    net = ac_network(grid, island=island)
    pos = {b: k for k, b in enumerate(net.buses)}
    out = []
    for name, inj in (("bus_p_pu", bus_p_pu), ("bus_q_pu", bus_q_pu or {})):
        p = np.zeros(len(net.buses))
        for b, v in inj.items():
            if str(b) not in pos:
                raise InputError(f"`{name}` keys must be bus ids of the modelled island, "
                                 f"got {b!r}")
            p[pos[str(b)]] += float(v)
        out.append(p)
    u = -(net.injection @ out[0] + net.injection_q @ out[1])
    if losses == "secant" and abs(u.sum()) > 0:
        try:
            u = u * (1.0 - loss_curvature(grid, bus_p_pu) / u.sum())
        except SolverError:
            warnings.warn("the post-event AC power flow did not converge (the event may exceed "
                          "the network's transfer capability); the input carries the marginal "
                          "(tangent) losses only", AccuracyWarning, stacklevel=2)
    return u
