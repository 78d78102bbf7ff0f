"""Grid tables to the node layout, islands and Laplacian of a :class:`~netcoh.grids.Grid`.

The network-model half of :class:`~netcoh.grids.Grid`: :func:`assemble` lays out the full
network (buses, then internal machine nodes behind ``x'_d``) with its branch weights,
:func:`island_groups` finds the connected parts, :func:`select_nodes` builds the Laplacian of
one island with the machine nodes first, :func:`reduce_nodes` Kron-reduces it or keeps the
buses as damped nodes, and :func:`bus_damping` gives the bus-node damping. The primitives
(branch weights, Schur complements) are in :mod:`netcoh.grids.network`. Every function takes
the grid as first argument; users call the :class:`~netcoh.grids.Grid` methods.

Examples
--------
>>> import netcoh as nc
>>> g = nc.grids.load("kundur", warn=False)
>>> a = assemble(g, "dc")
>>> a["nb"], a["N"]                         # 11 buses + 4 internal machine nodes
(11, 15)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .._util import readonly
from ..exceptions import DisconnectedError, InputError
from . import network as _net

__all__ = ["BusNetwork", "assemble", "bus_network", "island_groups", "select_nodes",
           "reduce_nodes", "bus_damping"]


@dataclass(frozen=True, eq=False)
class BusNetwork:
    """The grid as a weighted graph over its buses and the machines' internal nodes.

    Nodes ``0 .. n_buses-1`` are the buses in table order; a machine with a transient
    reactance adds an internal EMF node behind ``x'_d`` (after the buses). Edges are the
    in-service branches (the first :attr:`n_branches`, in table order) and then one link
    per internal machine node to its bus.

    Attributes
    ----------
    node_labels : tuple of str
        Bus ids, then ``"machine:<id>"`` for internal machine nodes.
    n_buses : int
        Number of bus nodes.
    from_node, to_node : ndarray of int
        Edge end points.
    weight : ndarray
        ``dP/dtheta`` of each edge in p.u. power per rad (not scaled by ``2 pi f_hz``).
    n_branches : int
        Number of branch edges (the rest are machine links).
    branch_ids : tuple of str
        Ids of the branch edges.
    machine_ids : tuple of str
        In-service machines, in table order.
    machine_node : ndarray of int
        Node of each machine (its internal node, or its bus without ``x'_d``).

    Examples
    --------
    >>> import netcoh as nc
    >>> net = nc.grids.load("kundur", warn=False).bus_network("dc")
    >>> net.n_branches, net.machine_ids, net.node_labels[-1]
    (12, ('G1', 'G2', 'G3', 'G4'), 'machine:G4')
    """

    node_labels: tuple
    n_buses: int
    from_node: np.ndarray
    to_node: np.ndarray
    weight: np.ndarray
    n_branches: int
    branch_ids: tuple
    machine_ids: tuple
    machine_node: np.ndarray

    def __post_init__(self):
        for name in ("from_node", "to_node", "weight", "machine_node"):
            object.__setattr__(self, name, readonly(getattr(self, name)))

    @property
    def n_nodes(self) -> int:
        return len(self.node_labels)

    def laplacian(self) -> sp.csr_matrix:
        """Weighted Laplacian (p.u. power per rad), ``n_nodes x n_nodes``, sparse."""
        return _net.bus_laplacian(self.n_nodes, self.from_node, self.to_node, self.weight)


def bus_network(grid, flow: str = "ac") -> BusNetwork:
    """:class:`BusNetwork` of a grid (see :meth:`netcoh.grids.Grid.bus_network`)."""
    a = assemble(grid, flow)
    B, R, M = grid.tables["buses"], grid.tables["branches"], grid.tables["machines"]
    mids = tuple(str(x) for x in M["id"][a["machine_rows"]])
    node = np.asarray(a["machine_node"])
    internal = {int(k): mids[i] for i, k in enumerate(node) if k >= a["nb"]}
    labels = tuple(str(b) for b in B["id"]) + tuple(f"machine:{internal[k]}"
                                                     for k in range(a["nb"], a["N"]))
    bids = tuple(str(x) for x in R["id"][R["in_service"]])
    return BusNetwork(node_labels=labels, n_buses=int(a["nb"]), from_node=np.asarray(a["f"]),
                      to_node=np.asarray(a["t"]), weight=np.asarray(a["w"], dtype=float),
                      n_branches=len(bids), branch_ids=bids, machine_ids=mids,
                      machine_node=node)


def assemble(grid, flow: str) -> dict:
    """Bus-level Laplacian over buses + internal machine nodes (p.u./rad, unscaled)."""
    if flow not in ("ac", "dc"):
        raise InputError(f"`flow` must be 'ac' or 'dc', got {flow!r}")
    B, R, M = grid.tables["buses"], grid.tables["branches"], grid.tables["machines"]
    nb = len(B["id"])
    bidx = {b: i for i, b in enumerate(B["id"])}
    on = R["in_service"]
    f = np.array([bidx[b] for b in R["from_bus"][on]], dtype=int)
    t = np.array([bidx[b] for b in R["to_bus"][on]], dtype=int)
    dc = flow == "dc"
    if dc:
        vm, va = np.ones(nb), np.zeros(nb)
    else:
        vm, va = B["vm_pu"], np.radians(B["va_deg"])
        if not (np.all(np.isfinite(vm)) and np.all(np.isfinite(va))):
            raise InputError("grid has no AC operating point; call grid.solve_power_flow() "
                             "or use flow='dc'")
    w = _net.branch_weights(R["r_pu"][on], R["x_pu"][on], R["tap_ratio"][on],
                            R["shift_deg"][on], vm, va, f, t, dc=dc)
    mon = np.flatnonzero(M["in_service"])
    mb = np.array([bidx[b] for b in M["bus"][mon]], dtype=int)
    xd = M["transient_reactance_pu"][mon]
    has = np.isfinite(xd)
    node = mb.copy()
    node[has] = nb + np.arange(int(has.sum()))
    if np.unique(node).size != node.size:
        vals, cnt = np.unique(node, return_counts=True)
        bus = B["id"][vals[cnt > 1][0]]
        raise InputError(f"machines sharing bus {bus!r} need `transient_reactance_pu` to be "
                         f"separate nodes (give x'_d for each)")
    if dc:
        wm = 1.0 / xd[has]
    else:
        e = _net.machine_emf(vm[mb[has]], va[mb[has]], M["p_mw"][mon][has] / grid.base_mva,
                             M["q_mvar"][mon][has] / grid.base_mva, xd[has])
        wm = np.abs(e) * vm[mb[has]] * np.cos(np.angle(e) - va[mb[has]]) / xd[has]
        if np.any(wm <= 0):
            k = int(np.flatnonzero(wm <= 0)[0])
            raise InputError(f"machine {M['id'][mon[has]][k]!r}: non-positive angle "
                             f"sensitivity behind x'_d at the operating point (|E| cos = "
                             f"{wm[k] * xd[has][k]:.3g}); check transient_reactance_pu/rating")
    N = nb + int(has.sum())
    ef = np.concatenate([f, mb[has]])
    et = np.concatenate([t, node[has]])
    ew = np.concatenate([w, wm])
    return {"N": N, "nb": nb, "f": ef, "t": et, "w": ew, "machine_rows": mon,
            "machine_node": node}


def island_groups(grid) -> list:
    """``(bus ids, machine ids)`` of each connected part, most machines first."""
    a = assemble(grid, "dc")
    lab = _net.components(a["N"], a["f"], a["t"])
    M = grid.tables["machines"]
    bus_ids = grid.tables["buses"]["id"]
    groups = []
    for c in np.unique(lab):
        buses = tuple(bus_ids[np.flatnonzero(lab[: a["nb"]] == c)])
        mach = tuple(M["id"][a["machine_rows"][lab[a["machine_node"]] == c]])
        groups.append((buses, mach))
    groups.sort(key=lambda g: (-len(g[1]), -len(g[0])))
    return groups


def select_nodes(grid, flow: str, island):
    """Bus-level Laplacian of one island, machine nodes first.

    Returns ``(L, machine_rows, bus_nodes)``: the sparse Laplacian over the island's machine
    nodes then its other bus nodes, the machine-table rows of the machine nodes and the full
    layout's indices of the bus nodes.
    """
    a = assemble(grid, flow)
    lab = _net.components(a["N"], a["f"], a["t"])
    comps = np.unique(lab)
    if comps.size > 1:
        isl = grid.islands()
        if island is None:
            listing = "; ".join(str(i) for i in isl[:6])
            raise DisconnectedError(
                f"grid {grid.name!r} has {len(isl)} islands ({listing}); build one with "
                f"to_system(island=k)", components=[list(i.machines) or list(i.buses)
                                                    for i in isl])
        if not 0 <= int(island) < len(isl):
            raise InputError(f"`island` must be in [0, {len(isl) - 1}], got {island!r}")
        chosen = isl[int(island)]
        if not chosen.machines:
            raise InputError(f"`island` {island} has no machine (de-energised)")
        bidx = {b: i for i, b in enumerate(grid.tables["buses"]["id"])}
        c = lab[bidx[chosen.buses[0]]]
    elif island not in (None, 0):
        raise InputError(f"`island` must be 0 or None for a connected grid, got {island!r}")
    else:
        c = comps[0]
    in_isl = lab == c
    mnode = a["machine_node"]
    msel = in_isl[mnode]
    mrows = a["machine_rows"][msel]
    mnode = mnode[msel]
    bus_nodes = np.setdiff1d(np.flatnonzero(in_isl[: a["nb"]]), mnode)
    order = np.concatenate([mnode, bus_nodes])
    pos = -np.ones(a["N"], dtype=int)
    pos[order] = np.arange(order.size)
    keep_e = in_isl[a["f"]]
    L = _net.bus_laplacian(order.size, pos[a["f"][keep_e]], pos[a["t"][keep_e]],
                           a["w"][keep_e])
    return L, mrows, bus_nodes


def reduce_nodes(grid, reduce, flow, island, load_damping, min_bus_damping_pu):
    """Laplacian of the model of :meth:`Grid.to_system <netcoh.grids.Grid.to_system>`.

    Returns ``(L, machine_rows, bus_nodes, kron_factors, bus_damping)``: Kron-reduced onto the
    machines (``reduce="kron"``, with the factors of the eliminated buses), or sparse with the
    bus nodes kept (``reduce=None``; buses at a negative-reactance branch eliminated).
    """
    if reduce not in ("kron", None):
        raise InputError(f"`reduce` must be 'kron' or None, got {reduce!r}")
    L, mrows, bus_nodes = select_nodes(grid, flow, island)
    nm = mrows.size
    if reduce == "kron":
        Lr, D = _net.schur(L, np.arange(nm), dense=True)
        return Lr, mrows, bus_nodes[:0], D, bus_nodes
    d_bus = bus_damping(grid, load_damping, min_bus_damping_pu)[bus_nodes]
    # negative branch weights (negative series reactance: three-winding star points,
    # series capacitors) are not a graph Laplacian: eliminate the bus ends locally
    elim = np.zeros(L.shape[0], dtype=bool)
    for _ in range(4):
        off = sp.triu(L, k=1).tocoo()
        bad = off.data > 1e-12 * max(abs(L).max(), 1.0)
        if not bad.any():
            break
        ends = np.concatenate([off.row[bad], off.col[bad]])
        ends = ends[ends >= nm]
        if ends.size == 0:
            raise InputError("a machine's network connection has a negative angle "
                             "sensitivity; the network model is not a Laplacian")
        elim[:] = False
        elim[np.unique(ends)] = True
        keep = np.flatnonzero(~elim)
        L, _ = _net.schur(L, keep, dense=False)
        bus_nodes = bus_nodes[np.flatnonzero(~elim[nm:])]
        d_bus = d_bus[np.flatnonzero(~elim[nm:])]
    else:
        raise InputError("negative angle sensitivities remain after local elimination")
    return L, mrows, bus_nodes, None, d_bus


def bus_damping(grid, load_damping, floor) -> np.ndarray:
    """Damping ``load_damping * P_load / S_base + floor`` of every bus (p.u.)."""
    if not (isinstance(load_damping, (int, float)) and load_damping >= 0):
        raise InputError(f"`load_damping` must be a non-negative number, got {load_damping!r}")
    if not (isinstance(floor, (int, float)) and floor > 0):
        raise InputError(f"`min_bus_damping_pu` must be positive, got {floor!r}")
    bidx = {b: i for i, b in enumerate(grid.tables["buses"]["id"])}
    Ld = grid.tables["loads"]
    p = np.zeros(len(bidx))
    if len(Ld["id"]):
        np.add.at(p, [bidx[b] for b in Ld["bus"]], np.maximum(Ld["p_mw"], 0.0))
    return load_damping * p / grid.base_mva + floor
