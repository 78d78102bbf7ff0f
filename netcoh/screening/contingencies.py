"""The post-contingency network models, built by rank-one updates.

A branch outage removes one edge ``(p, q)`` of weight ``w`` from the bus-level Laplacian:
``L' = L - w b b^T`` with ``b = e_p - e_q``. Its Kron reduction onto the machine nodes is
again a rank-one update of the base reduction,

``S(L') = S(L) - w~ c c^T``,  ``c = b_k - L_ke L_ee^{-1} b_e``,  ``w~ = w / (1 - w b_e^T L_ee^{-1} b_e)``,

so one sparse solve with the base factorisation of ``L_ee`` replaces a full reduction.
A machine trip removes the machine's link to its terminal bus the same way (or, for a
machine without a transient reactance, moves its bus into the eliminated set: a
rank-one Schur step) and drops the machine. Bridges are found once
(:mod:`netcoh.screening.bridges`): an outage that only cuts off machine-free buses leaves
the reduced model unchanged (those buses are de-energised); one that splits machines into
several islands is reduced island by island.

The :class:`ScreeningContext` holds plain arrays (and, for the ``"case"`` model, the intact
grid, whose unit trips take their losses from a post-trip power flow), so it pickles cheaply
to worker processes and Dask workers; each worker factorises ``L_ee`` once and caches it.
The outages themselves, :class:`Contingency` and :func:`contingency_list`, are defined in
:mod:`netcoh.screening.outages` and importable from here too.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import uuid
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.sparse.csgraph import connected_components

from ..analysis import modal_update as _modal_update
from ..analysis.modal_statespace import pin_reference
from ..exceptions import InputError, NetcohError
from ..grids.grid import default_model
from ..network.nodal import NodalDynamics, from_tf
from ..network.system import NetworkSystem, reduced_system
from .bridges import bridge_status as _bridge_status
from .outages import Contingency, contingency_list

__all__ = ["Contingency", "ScreeningContext", "contingency_list"]


_CACHE: dict = {}
_TRIPS_LOCK = threading.Lock()


@dataclass(eq=False)
class ScreeningContext:
    """Everything a worker needs to rebuild post-contingency systems (plain arrays).

    Build it with :meth:`from_grid`.

    Attributes
    ----------
    L : scipy.sparse.csr_matrix
        Bus-level Laplacian (p.u. power per rad), machine nodes first.
    nm : int
        Number of machine nodes.
    omega0 : float
        ``2 pi f_hz``.
    labels : tuple of str
        Machine ids.
    nodal : tuple
        ``(num, den, kind, params)`` of the machines' :class:`NodalDynamics`.
    branches : dict
        Branch id -> ``(p, q, w, status)``; status ``""``, ``"dead:<k>"`` or ``"split"``.
    machines : dict
        Machine id -> ``(node, terminal node or -1, link weight)``.
    f_hz : float
        Nominal frequency.
    name : str
        Case name.
    base_mva : float
        Case MVA base.
    dispatch : ndarray
        Active output of each machine (p.u., case base), in :attr:`labels` order.
    flows : dict
        Branch id -> ``(p_from, p_to)``: p.u. power flowing from each end into the branch
        at the operating point (empty when the grid has no AC operating point).
    ends : dict
        Contingency name -> ``(from_bus, to_bus)`` bus ids (a machine: its bus twice).
    lossy : ndarray or None
        For grids modelled on the lossy AC network (``model="case"``): that network's
        machine Laplacian minus the lossless one of the intact grid (losses and voltage
        magnitudes), added to each post-contingency network on the machines it keeps.
    coupling : tuple or None
        ``(num, den)`` of the network coupling ``f(s)`` when it is not ``1/s`` (the damper
        windings' ``(1 + tau s)/s`` of the ``"case"`` model).
    event_grid : netcoh.grids.Grid or None
        The intact grid, kept for the ``"case"`` model only: a unit trip's input is then
        :meth:`netcoh.grids.Grid.disturbance` of the tripped grid, which carries the event's
        actual network and stator losses (post-event AC power flow) and the unit's lost
        reactive output, instead of the lossless Kron factors.
    token : str
        Identifies the context in the workers' caches.

    Examples
    --------
    >>> import netcoh as nc
    >>> from netcoh.screening import ScreeningContext
    >>> ctx = ScreeningContext.from_grid(nc.grids.load("kundur"))
    >>> ctx.nm, ctx.labels
    (4, ('G1', 'G2', 'G3', 'G4'))
    """

    L: sp.csr_matrix                  # bus-level Laplacian, machine nodes first (p.u./rad)
    nm: int                           # number of machine nodes
    omega0: float
    labels: tuple                     # machine ids
    nodal: tuple                      # (num, den, kind, params)
    branches: dict                    # id -> (p, q, w, status) status: "", "dead:<k>", "split"
    machines: dict                    # id -> (k, q, w) q = -1 if no link (machine on its bus)
    f_hz: float
    name: str
    base_mva: float = 100.0
    dispatch: np.ndarray | None = None
    flows: dict = field(default_factory=dict)
    ends: dict = field(default_factory=dict)
    lossy: np.ndarray | None = None
    coupling: tuple | None = None
    event_grid: object | None = None
    token: str = field(default_factory=lambda: uuid.uuid4().hex)

    @classmethod
    def from_grid(cls, grid, model: str | None = None, flow: str = "ac") -> ScreeningContext:
        """Context of an intact, connected grid.

        Parameters
        ----------
        grid : netcoh.grids.Grid
            The intact grid.
        model, flow : str
            As in :meth:`netcoh.grids.Grid.to_system` (default model:
            :func:`netcoh.grids.grid.default_model`).

        Returns
        -------
        ScreeningContext
            Plain arrays, ready to ship to workers.
        """
        base = grid.to_system(model=model, flow=flow)       # validates: connected, model ok
        net = grid.bus_network(flow)
        nb, N, mnode = net.n_buses, net.n_nodes, net.machine_node
        # machine nodes first, then the buses without a machine node
        order = np.concatenate([mnode, np.setdiff1d(np.arange(nb), mnode)])
        pos = -np.ones(N, dtype=int)
        pos[order] = np.arange(order.size)
        f, t, w = pos[net.from_node], pos[net.to_node], net.weight
        L = net.laplacian()[order][:, order].tocsr()
        nm = mnode.size
        nbr = net.n_branches
        status = _bridge_status(N, f, t, nm)
        branches = {bid: (int(f[k]), int(t[k]), float(w[k]), status.get(k, ""))
                    for k, bid in enumerate(net.branch_ids)}
        mids = list(net.machine_ids)
        machines = {}
        link = nbr
        for k, mid in enumerate(mids):
            if mnode[k] >= nb:        # internal node behind x'_d: edge (k, terminal bus)
                q = int(t[link]) if f[link] == k else int(f[link])
                machines[mid] = (k, q, float(w[link]))
                link += 1
            else:
                machines[mid] = (k, -1, 0.0)
        nd = base.nodal
        M = grid.tables["machines"]
        p_of = dict(zip(M["id"], M["p_mw"]))
        dispatch = np.nan_to_num(np.array([p_of[m] for m in mids], dtype=float)) / grid.base_mva
        try:
            fl = grid.branch_flows()
            flows = {str(b): (float(a) / grid.base_mva, float(c) / grid.base_mva)
                     for b, a, c in zip(fl["id"], fl["p_from_mw"], fl["p_to_mw"])}
        except InputError:            # no AC operating point: no island imbalances
            flows = {}
        ctx = cls(L=L, nm=nm, omega0=2.0 * math.pi * grid.f_hz, labels=tuple(base.labels),
                  nodal=(np.array(nd.num), np.array(nd.den), nd.kind,
                         {k: np.array(v) for k, v in nd.params.items()}),
                  branches=branches, machines=machines, f_hz=float(grid.f_hz), name=grid.name,
                  base_mva=float(grid.base_mva), dispatch=dispatch, flows=flows)
        R = grid.tables["branches"]
        ctx.ends = {f"branch:{b}": (str(a), str(z))
                    for b, a, z in zip(R["id"], R["from_bus"], R["to_bus"])}
        ctx.ends.update({f"machine:{m}": (str(b), str(b)) for m, b in zip(M["id"], M["bus"])})
        if tuple(mids) != ctx.labels:
            raise InputError("machine order of the grid model changed; cannot screen")
        # the same network as grid.to_system(model): its lossy part and coupling carry over
        red = ctx._cached()["red"]
        Lb = base.laplacian.toarray() if sp.issparse(base.laplacian) else np.asarray(
            base.laplacian, dtype=float)
        if Lb.shape == red.shape and not np.allclose(Lb, red, rtol=0, atol=1e-9 * max(
                np.abs(red).max(), 1e-300)):
            ctx.lossy = Lb - red
        if base.coupling.kind != "integrator":
            ctx.coupling = (np.array(base.coupling.num), np.array(base.coupling.den))
        if (model if model is not None else default_model(grid)) == "case":
            ctx.event_grid = grid     # unit trips take the event's losses from it (lazily)
        return ctx

    # -- worker-side cached pieces ---------------------------------------------------------
    def _cached(self):
        c = _CACHE.get(self.token)
        if c is not None:
            ref = c.get("reference")
            if ref is not None and not any(b is ref for b in _modal_update.pinned()):
                # pinned references are few (two): another network pinned since, or the
                # pins cleared, must not send this network's outages to the dense path
                _modal_update.pin(ref)
        else:
            nm = self.nm
            L = self.L
            Lkk = L[:nm][:, :nm].toarray()
            Lke = L[:nm][:, nm:].tocsr()
            Lee = L[nm:][:, nm:].tocsc()
            lu = spla.splu(Lee)
            X = lu.solve(Lke.T.toarray())
            red = Lkk - Lke @ X
            red = 0.5 * (red + red.T)
            off = red - np.diag(np.diag(red))
            red = off - np.diag(off.sum(axis=1))
            num, den, kind, params = self.nodal
            nodal = NodalDynamics(num, den, kind, params)
            c = {"lu": lu, "Lke": Lke, "red": red * self.omega0, "nodal": nodal}
            _CACHE.clear()            # one context per worker at a time
            _CACHE[self.token] = c
            # outages of this network update its state-space modes instead of a dense
            # eigenproblem each (the same digits in every worker; no cost for
            # proportional machines, which take the closed form)
            try:
                if pin_reference(self.base_system()):
                    c["reference"] = _modal_update.pinned()[0]        # most recent first
            except NetcohError:       # an intact network that cannot be a reference
                pass                  # (unstable, ill-conditioned): every outage solves densely
        return c

    def base_system(self) -> NetworkSystem:
        """The intact network's system (Kron-reduced onto the machines)."""
        c = self._cached()
        if self.lossy is None and self.coupling is None:
            return NetworkSystem.from_laplacian(c["red"], nodal=c["nodal"], labels=self.labels,
                                                f_hz=self.f_hz)
        return self._system(c["red"], c["nodal"], self.labels)

    def _incidence(self, p, q):
        """Columns ``e_p - e_q`` split into machine rows (nm, m) and eliminated rows (N-nm, m)."""
        p, q = np.atleast_1d(p), np.atleast_1d(q)
        nm, cols = self.nm, np.arange(p.size)
        Bk = np.zeros((nm, p.size))
        Be = np.zeros((self.L.shape[0] - nm, p.size))
        for nodes, sgn in ((p, 1.0), (q, -1.0)):
            on_machine = nodes < nm
            np.add.at(Bk, (nodes[on_machine], cols[on_machine]), sgn)
            np.add.at(Be, (nodes[~on_machine] - nm, cols[~on_machine]), sgn)
        return Bk, Be

    def _rank_one(self, p: int, q: int, w: float):
        """``(w~, c)`` of the reduced update for removing edge (p, q) of weight w."""
        c = self._cached()
        Bk, Be = self._incidence(p, q)
        bk, be = Bk[:, 0], Be[:, 0]
        if not be.any():
            return w, bk
        x = c["lu"].solve(be)
        den = 1.0 - w * float(be @ x)
        if den <= 1e-9:
            return None
        return w / den, bk - c["Lke"] @ x

    def network_keys(self, conts: list, rtol: float = 1e-9, chunk: int = 512) -> list:
        """A key per contingency; contingencies with equal keys leave the same network.

        Branch outages in series (a line and its transformer), or any two whose cut-off
        part holds no machine, leave the same reduced network and so the same nadir. Keys:
        ``"intact"`` for outages that only de-energise machine-free buses; for outages that
        split the machines, their islands in the order :meth:`systems` gives; for the others, the rank-one
        update ``w~ c c^T`` of the reduced Laplacian, as the sign of ``w~`` and
        ``sqrt(|w~|) c`` (sign fixed) rounded to ``rtol`` of its largest entry. Machine
        trips and outages handled island by island are keyed by their own name. Costs one
        sparse solve per branch (batched).

        Parameters
        ----------
        conts : list of Contingency
            The contingencies.
        rtol : float
            Relative rounding of the update vectors.
        chunk : int
            Right-hand sides per batched solve.

        Returns
        -------
        list of str
            One key per contingency, in order; equal keys mean the same post-contingency
            network.

        Examples
        --------
        >>> import netcoh.grids as grids
        >>> from netcoh.screening import Contingency, ScreeningContext
        >>> ctx = ScreeningContext.from_grid(grids.load("kundur", warn=False))
        >>> a, b, c = ctx.network_keys([Contingency("branch", "L7-8a"),
        ...                             Contingency("branch", "L7-8b"),
        ...                             Contingency("machine", "G1")])
        >>> a == b, c                      # parallel circuits leave one network
        (True, 'machine:G1')
        """
        c = self._cached()
        nm, N = self.nm, self.L.shape[0]
        keys = [cont.name for cont in conts]
        mesh, splits = [], []
        for i, cont in enumerate(conts):
            if cont.kind != "branch" or cont.id not in self.branches:
                continue
            p, q, w, status = self.branches[cont.id]
            if status.startswith("dead:"):
                keys[i] = "intact"
            elif status == "split":
                splits.append(i)
            else:
                mesh.append((i, p, q, w))
        for a in range(0, len(mesh), chunk):
            part = mesh[a:a + chunk]
            Bk, Be = self._incidence(np.array([x[1] for x in part]), np.array([x[2] for x in part]))
            X = c["lu"].solve(Be)
            den = 1.0 - np.array([w for *_, w in part]) * np.einsum("ij,ij->j", Be, X)
            C = Bk - c["Lke"] @ X
            for j, (i, *_rest, w) in enumerate(part):
                if den[j] <= 1e-9:
                    continue                      # handled island by island: its own key
                wt = w / den[j]                       # negative for negative reactances
                v = np.sqrt(abs(wt)) * C[:, j]
                big = np.abs(v).max()
                if not np.isfinite(big):
                    continue
                if big == 0:
                    keys[i] = "intact"
                    continue
                v = v * np.sign(v[np.flatnonzero(np.abs(v) > 1e-6 * big)[0]])
                keys[i] = f"r1:{'+' if wt > 0 else '-'}:{big:.8e}:" + \
                    np.round(v / (rtol * big)).astype(np.int64).tobytes().hex()
        if splits:
            from ..grids import network as _net

            f, t = self.L.nonzero()
            keep = f < t
            f, t = f[keep], t[keep]
            for i in splits:
                p, q, _, _ = self.branches[conts[i].id]
                drop = ((f == min(p, q)) & (t == max(p, q)))
                lab = _net.components(N, f[~drop], t[~drop])
                # the islands in the order systems() gives them (most machines, then most
                # buses, first): the same partition can have a different main island
                parts = sorted((-int(np.sum(lab[:nm] == g)), -int(np.sum(lab[nm:] == g)),
                                 tuple(np.flatnonzero(lab[:nm] == g).tolist()))
                                for g in np.unique(lab[:nm]))
                keys[i] = "split:" + repr([m for *_, m in parts])
        return keys

    def systems(self, cont: Contingency):
        """Post-contingency systems.

        Parameters
        ----------
        cont : Contingency
            The outage.

        Returns
        -------
        (list of (NetworkSystem, tuple), str)
            One system per island with machines, with the island's machine ids, and a note
            on islands or de-energised buses.
        """
        c = self._cached()
        nodal, red = c["nodal"], c["red"]
        if cont.kind == "branch":
            if cont.id not in self.branches:
                raise InputError(f"unknown branch {cont.id!r}")
            p, q, w, status = self.branches[cont.id]
            if status.startswith("dead:"):
                k = int(status[5:])
                return [(self.base_system(), self.labels)], f"{k} bus(es) de-energised"
            if status != "split":
                upd = self._rank_one(p, q, w)
                if upd is not None:
                    wt, cv = upd
                    Lr = red - self.omega0 * wt * np.outer(cv, cv)
                    return [(self._system(Lr, nodal, self.labels), self.labels)], ""
            return self._islands(p, q, w, drop=None)
        if cont.id not in self.machines:
            raise InputError(f"unknown machine {cont.id!r}")
        k, q, w = self.machines[cont.id]
        keep = np.delete(np.arange(self.nm), k)
        if keep.size == 0:
            raise InputError(f"cannot trip {cont.id!r}: it is the last machine")
        labels = tuple(self.labels[i] for i in keep)
        sub = nodal.subset(keep)
        if q < 0:      # machine sits on its bus: the bus joins the eliminated (load) buses
            Lr = red[np.ix_(keep, keep)] - np.outer(red[keep, k], red[k, keep]) / red[k, k]
            return [(self._system(Lr, sub, labels), labels)], ""
        upd = self._rank_one(k, q, w)
        if upd is None:
            return self._islands(k, q, w, drop=k)
        trips = c.setdefault("trips", {})
        system = trips.get(cont.id)
        if system is None:
            # kept: an outage that cuts this machine alone off leaves the same network
            # and screens it as this object (one modal model for both)
            wt, cv = upd
            Lr = (red - self.omega0 * wt * np.outer(cv, cv))[np.ix_(keep, keep)]
            system = self._system(Lr, sub, labels)
            with _TRIPS_LOCK:                 # threads of a Dask worker share the context
                system = trips.setdefault(cont.id, system)
                while len(trips) > 8:
                    del trips[next(iter(trips))]
        return [(system, labels)], ""

    @staticmethod
    def select_islands(systems: list, note: str, islands: str = "main"):
        """The systems to screen out of :meth:`systems`' result.

        Parameters
        ----------
        systems : list of (NetworkSystem, tuple)
            Islands with machines, the one with the most machines first.
        note : str
            The note returned with them.
        islands : {"main", "all"}
            ``"main"``: only the first (the grid that goes on running), with the machines
            cut off from it named in the note; ``"all"``: every island.

        Returns
        -------
        (list of (NetworkSystem, tuple), str)
            The systems to screen with their machine labels, and the note extended by the
            machines cut off.

        Examples
        --------
        >>> import netcoh.grids as grids
        >>> from netcoh.screening import Contingency, ScreeningContext
        >>> ctx = ScreeningContext.from_grid(grids.load("ieee39", warn=False))
        >>> systems, note = ctx.systems(Contingency("branch", "trafo:5"))
        >>> kept, note = ctx.select_islands(systems, note, "main")
        >>> len(systems), len(kept), note.rpartition("; ")[2]
        (2, 1, 'separated: G34')
        """
        if islands not in ("main", "all"):
            raise InputError(f"`islands` must be 'main' or 'all', got {islands!r}")
        if len(systems) <= 1 or islands == "all":
            return systems, note
        cut = [m for _, labels in systems[1:] for m in labels]
        shown = ", ".join(cut[:6]) + (", ..." if len(cut) > 6 else "")
        return systems[:1], f"{note}; screened the main island; separated: {shown}"

    def _system(self, Lr, nodal, labels):
        Lr = 0.5 * (Lr + Lr.T)
        off = Lr - np.diag(np.diag(Lr))
        Lr = off - np.diag(off.sum(axis=1))
        if self.lossy is not None and len(labels) > 1:
            pos = {m: k for k, m in enumerate(self.labels)}
            ix = np.array([pos[m] for m in labels], dtype=int)
            D = self.lossy[np.ix_(ix, ix)]
            D = D - np.diag(np.diag(D))
            cand = Lr + D - np.diag(D.sum(axis=1))
            if np.linalg.eigvalsh(cand)[0] >= -1e-9 * max(np.abs(cand).max(), 1e-300):
                Lr = cand             # else the lossless network (still a valid model)
        # negative couplings (negative-reactance branches) are admitted while L is PSD
        sysm = reduced_system(Lr, nodal, labels, f_hz=self.f_hz)
        if self.coupling is not None:
            sysm = dataclasses.replace(sysm, coupling=from_tf(num=[self.coupling[0][0]],
                                                              den=[self.coupling[1][0]]))
        return sysm

    def _without_edge(self, p, q, w):
        """``(L', ncomp, labels)``: the bus-level Laplacian without edge ``(p, q)`` of weight
        ``w`` (CSR) and its connected components."""
        N = self.L.shape[0]
        E = sp.coo_matrix(([w, w, -w, -w], ([p, q, p, q], [q, p, p, q])), shape=(N, N))
        L = (self.L + E).tocsr()
        L.eliminate_zeros()
        ncomp, lab = connected_components(abs(L) > 0, directed=False)
        return L, ncomp, lab

    def cut_off_machine(self, branch_id: str):
        """The machine a branch outage cuts off alone (its island holds no other machine and
        the rest of the grid keeps the others), or None.

        Parameters
        ----------
        branch_id : str
            The branch.

        Returns
        -------
        str or None
            The machine's label: the outage leaves the network of that machine's trip.

        Examples
        --------
        Kundur's two areas: the line 5-6 cuts G1 off; one of the parallel lines 7-8 cuts
        nothing off:

        >>> import netcoh.grids as grids
        >>> ctx = ScreeningContext.from_grid(grids.load("kundur", warn=False))
        >>> ctx.cut_off_machine("L5-6"), ctx.cut_off_machine("L7-8a")
        ('G1', None)
        """
        if branch_id not in self.branches:
            raise InputError(f"`branch_id` must be a branch of the grid, got {branch_id!r}")
        p, q, w, status = self.branches[branch_id]
        if status != "split":
            return None
        _, n, lab = self._without_edge(p, q, w)
        counts = np.bincount(lab[:self.nm], minlength=n)
        if n != 2 or counts.min() != 1 or counts.max() < 2:
            return None
        return self.labels[int(np.flatnonzero(lab[:self.nm] == np.argmin(counts))[0])]

    def _cut_reduction(self, p, q, w, inj=None):
        """``(L_red', u')`` after removing edge ``(p, q)`` of weight ``w`` between two
        eliminated buses when every island keeps a machine, from the intact network's
        reduction: ``L_red' = L_red - w~ c c^T`` (:meth:`_rank_one`, scaled like ``L_red``),
        and a bus-level injection ``inj`` mapped onto the machines, ``u' = inj_M - L_ME
        L'_EE^{-1} inj_E`` by Sherman-Morrison with the intact ``L_EE``'s factors (one more
        solve). None for a branch at a machine's node, or when the update is
        ill-conditioned."""
        if p < self.nm or q < self.nm:
            return None                     # a machine's own branch: island by island
        upd = self._rank_one(p, q, w)
        if upd is None:
            return None
        c = self._cached()
        wt, cv = upd
        red = c["red"] - self.omega0 * wt * np.outer(cv, cv)
        if inj is None:
            return red, None
        be = self._incidence(p, q)[1][:, 0]
        inj_e = np.asarray(inj[self.nm:], dtype=float)
        z = c["lu"].solve(inj_e) if inj_e.any() else np.zeros(inj_e.size)
        x = c["lu"].solve(be)
        z = z + (w * float(be @ z) / (1.0 - w * float(be @ x))) * x
        return red, np.asarray(inj[:self.nm], dtype=float) - c["Lke"] @ z

    def _islands(self, p, q, w, drop, inj=None):
        """Generic path: edit the bus-level Laplacian, split into islands, reduce each.

        With a bus-level injection vector ``inj`` (p.u., length of :attr:`L`) each island
        comes with its share mapped onto its machines (a third tuple entry), and the note
        names the load of machine-free islands that is lost.
        """
        from ..grids import network as _net

        c = self._cached()
        N = self.L.shape[0]
        L, ncomp, lab = self._without_edge(p, q, w)
        alive = np.ones(N, dtype=bool)
        if drop is not None:
            alive[drop] = False
        cut = None
        if drop is None and np.unique(lab[:self.nm]).size == ncomp:
            # every island keeps a machine: the Kron reduction of the cut network is the
            # intact one's rank-one update, block-diagonal over the islands (no new one)
            cut = self._cut_reduction(p, q, w, inj)
        out, parts, nbus, dead, lost = [], [], [], 0, 0.0
        for comp in range(ncomp):
            nodes = np.flatnonzero((lab == comp) & alive)
            if nodes.size == 0:
                continue
            mach = nodes[nodes < self.nm]
            if mach.size == 0:
                dead += nodes.size
                if inj is not None:
                    lost -= float(inj[nodes].sum())      # what the island drew: lost load
                continue
            labels = tuple(self.labels[i] for i in mach)
            if cut is not None:
                Lr = np.zeros((1, 1)) if mach.size == 1 else cut[0][np.ix_(mach, mach)]
                item = (self._system(Lr, c["nodal"].subset(mach), labels), labels)
                if inj is not None:
                    item = item + (cut[1][mach],)
            else:
                sub = L[nodes][:, nodes]
                local_keep = np.flatnonzero(nodes < self.nm)
                D = None
                if local_keep.size == nodes.size:
                    Lr = sub.toarray()
                else:
                    Lr, D = _net.schur(sub, local_keep, dense=True)
                if mach.size == 1:
                    Lr = np.zeros((1, 1))
                item = (self._system(Lr * self.omega0, c["nodal"].subset(mach), labels), labels)
                if inj is not None:
                    u = np.array(inj[mach], dtype=float)
                    if D is not None:
                        elim = nodes[np.setdiff1d(np.arange(nodes.size), local_keep)]
                        u = u + D @ inj[elim]
                    item = item + (u,)
            out.append(item)
            parts.append(len(labels))
            nbus.append(int(np.sum(nodes >= self.nm)))
        order = sorted(range(len(out)), key=lambda i: (-parts[i], -nbus[i]))
        out = [out[i] for i in order]
        parts = [parts[i] for i in order]
        if cut is not None and parts[1:] == [1]:
            # one machine cut off: the main island is the network its trip leaves (the
            # cut-off buses hold no other machine, so they add nothing to the reduction)
            trip, _ = self.systems(Contingency("machine", out[1][1][0]))
            if len(trip) == 1 and trip[0][1] == out[0][1]:
                out[0] = (trip[0][0],) + out[0][1:]
        note = f"{len(out)} island(s) with {parts} machines"
        if dead:
            note += f"; {dead} node(s) de-energised"
            if inj is not None:
                note += f" (lost load {lost * self.base_mva:.4g} MW)"
        return out, note
