"""The :class:`Grid`: an immutable power-system case and its network model.

Units (see ``grids/README.md``): powers in p.u. on ``base_mva``; machine inertia
``m = 2 H S_n / S_base`` in seconds; damping ``d`` in p.u. power per p.u. frequency; droop gain
``r^{-1}`` in p.u. power per p.u. frequency; frequency deviation ``omega`` in p.u. of
``f_hz``. The network Laplacian of a system is the EPSR24 ``L_B = Omega_0 * dP/dtheta`` with
``Omega_0 = 2 pi f_hz`` (rad/s), so that ``m_i s omega_i = u_i - d_i omega_i - (L_B omega / s)_i``.
The input ``u`` is a power *injection* (p.u.): a load step of ``+P`` is ``u = -P``.

Examples
--------
>>> import netcoh as nc
>>> grid = nc.grids.load("kundur")
>>> system = grid.to_system()
>>> system.labels
('G1', 'G2', 'G3', 'G4')
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from ..exceptions import InputError, NetcohTypeError
from ..network.system import NetworkSystem
from . import assembly as _asm
from . import case_model as _case
from . import grid_models as _models
from .grid_models import MODELS, default_model
from .tables import TABLE_COLUMNS, Island, _freeze_table, _plain

__all__ = ["Grid", "Island", "TABLE_COLUMNS", "MODELS", "default_model"]

@dataclass(frozen=True, eq=False)
class Grid:
    """A power-system case: buses, branches, machines (with dynamic data), loads, provenance.

    Build it with :func:`netcoh.grids.load`; edits (:meth:`remove_branch`,
    :meth:`trip_machine`, :meth:`scale_inertia`) return new grids and leave this one untouched.
    Tables are exposed as fresh :class:`pandas.DataFrame` copies; machine quantities are all
    on the case base ``base_mva`` (``inertia_s = 2 H S_n / S_base``, ``damping_pu``,
    ``droop_gain_pu = (S_n / S_base) / R``, ``transient_reactance_pu``).

    Attributes
    ----------
    name, title : str
    base_mva : float
        System MVA base ``S_base``.
    f_hz : float
        Nominal frequency ``F_0``.
    provenance : mapping
        ``source``, ``licence``, ``synthesised`` (list of ``{"fields", "rule"}``: every
        field that is not from the source publication and the rule that made it),
        ``edits`` (list of the edits applied since loading).
    events : tuple of dict
        Disturbances created by edits, e.g. ``{"kind": "trip", "machine": "G3", "bus": "32",
        "p_pu": 6.5}``; see :meth:`disturbance`.
    tables : mapping of str to mapping of str to ndarray
        Read-only column arrays of the ``buses``, ``branches``, ``machines``, ``loads`` and
        ``shunts`` tables (columns in ``TABLE_COLUMNS``); the DataFrame properties copy them.
    topology : str or dict
        Where the network came from: ``"inline"`` (tables in the case file) or
        ``{"pandapower": <file or "<net>">}``.
    source : str
        The file path or description the grid was loaded from (empty when built directly).

    Examples
    --------
    >>> import netcoh as nc
    >>> g = nc.grids.load("kundur")
    >>> g2 = g.trip_machine("G4")
    >>> g2.to_system().n, g.to_system().n
    (3, 4)
    >>> g2.disturbance().round(3).tolist()      # the lost 700 MW seen at the machine nodes
    [-0.809, -1.229, -4.962]
    """

    name: str
    base_mva: float
    f_hz: float
    tables: Mapping = field(repr=False)
    provenance: Mapping = field(repr=False, default_factory=dict)
    title: str = ""
    topology: object = "inline"
    events: tuple = ()
    source: str = ""

    def __post_init__(self):
        tabs = {k: (v if isinstance(v, MappingProxyType) else _freeze_table(k, v))
                for k, v in dict(self.tables).items()}
        object.__setattr__(self, "tables", MappingProxyType(tabs))
        prov = dict(self.provenance)
        prov.setdefault("edits", [])
        object.__setattr__(self, "provenance", MappingProxyType(prov))

    def __reduce__(self):
        # read-only mappings are not picklable: rebuild from plain copies (ships to Dask workers)
        tables = {k: {c: np.array(v) for c, v in t.items()} for k, t in self.tables.items()}
        return (type(self), (self.name, self.base_mva, self.f_hz, tables,
                             _plain(self.provenance), self.title, self.topology, self.events,
                             self.source))

    # -- tables --------------------------------------------------------------------
    def _frame(self, name: str) -> pd.DataFrame:
        t = self.tables[name]
        return pd.DataFrame({c: np.array(t[c]) for c in TABLE_COLUMNS[name]})

    @property
    def buses(self) -> pd.DataFrame:
        """Buses: ``id``, ``base_kv``, operating point ``vm_pu``, ``va_deg``."""
        return self._frame("buses")

    @property
    def branches(self) -> pd.DataFrame:
        """Branches: ``id``, ``from_bus``, ``to_bus``, ``r_pu``, ``x_pu``, ``b_pu``,
        ``tap_ratio``, ``shift_deg``, ``in_service`` (p.u. on the case base)."""
        return self._frame("branches")

    @property
    def machines(self) -> pd.DataFrame:
        """Machines with their dynamic data on the case base (see the class docstring)."""
        return self._frame("machines")

    @property
    def loads(self) -> pd.DataFrame:
        """Loads: ``id``, ``bus``, ``p_mw``, ``q_mvar`` (static generators enter as negative loads)."""
        return self._frame("loads")

    @property
    def shunts(self) -> pd.DataFrame:
        """Bus shunts: ``g_mw``, ``b_mvar`` consumed/injected at 1 p.u. voltage."""
        return self._frame("shunts")

    @property
    def n_machines(self) -> int:
        """Number of in-service machines."""
        return int(self.tables["machines"]["in_service"].sum())

    def summary(self) -> dict:
        """Sizes and source, as used by ``netcoh cases``."""
        return {"name": self.name, "buses": len(self.tables["buses"]["id"]),
                "branches": int(self.tables["branches"]["in_service"].sum()),
                "machines": self.n_machines, "base_mva": self.base_mva, "f_hz": self.f_hz,
                "source": self.provenance.get("source", "")}

    def __repr__(self) -> str:
        s = self.summary()
        return (f"Grid({self.name!r}, buses={s['buses']}, branches={s['branches']}, "
                f"machines={s['machines']})")

    # -- edits (each returns a new Grid) -------------------------------------------
    def _replace_table(self, name, column, values, edit, events=()):
        cols = dict(self.tables[name])
        cols[column] = values
        tabs = dict(self.tables)
        tabs[name] = _freeze_table(name, cols)
        prov = dict(self.provenance)
        prov["edits"] = list(prov.get("edits", [])) + [edit]
        return dataclasses.replace(self, tables=tabs, provenance=prov,
                                   events=self.events + tuple(events))

    def _row(self, name: str, ident: str, what: str) -> int:
        ids = self.tables[name]["id"]
        hit = np.flatnonzero(ids == str(ident))
        if hit.size == 0:
            sample = ", ".join(map(repr, ids[:5]))
            raise InputError(f"`{what}` must be one of the grid's {name} ids "
                             f"(e.g. {sample}), got {ident!r}")
        return int(hit[0])

    def remove_branch(self, branch_id) -> Grid:
        """A new grid with branch ``branch_id`` out of service (operating point kept).

        The Laplacian of the result is evaluated at the *pre-contingency* operating point
        (the angles at the instant of the outage); call :meth:`solve_power_flow` for a new
        steady state. If the outage splits the grid, :meth:`islands` lists the parts.

        Parameters
        ----------
        branch_id : str
            Id of an in-service branch (column ``id`` of :attr:`branches`).

        Returns
        -------
        Grid
            With ``"remove_branch <id>"`` appended to ``provenance["edits"]``.

        Examples
        --------
        >>> import netcoh as nc
        >>> g = nc.grids.load("kundur").remove_branch("L7-8a")
        >>> g.provenance["edits"][-1]
        'remove_branch L7-8a'
        """
        k = self._row("branches", branch_id, "branch_id")
        ins = np.array(self.tables["branches"]["in_service"])
        if not ins[k]:
            raise InputError(f"`branch_id` must be an in-service branch, got {branch_id!r} "
                             f"(already out of service)")
        ins[k] = False
        return self._replace_table("branches", "in_service", ins, f"remove_branch {branch_id}")

    def trip_machine(self, machine_id) -> Grid:
        """A new grid without machine ``machine_id``; its lost output becomes a disturbance.

        The machine's electrical output ``P`` (operating point) is recorded in
        :attr:`events` as a step injection ``-P`` at its terminal bus; :meth:`disturbance`
        turns the events into the input vector ``u`` of :meth:`to_system`.

        Parameters
        ----------
        machine_id : str
            Id of an in-service machine (column ``id`` of :attr:`machines`); it may not be
            the last one.

        Returns
        -------
        Grid
            With the machine out of service, a ``"trip"`` entry in :attr:`events` (``p_pu``
            = its ``p_mw / base_mva``) and ``"trip_machine <id>"`` in ``provenance["edits"]``.

        Examples
        --------
        >>> import netcoh as nc
        >>> g = nc.grids.load("kundur").trip_machine("G2")
        >>> g.events[0]["p_pu"], g.n_machines
        (7.0, 3)
        """
        k = self._row("machines", machine_id, "machine_id")
        t = self.tables["machines"]
        if not t["in_service"][k]:
            raise InputError(f"`machine_id` must be an in-service machine, got {machine_id!r} "
                             f"(already tripped)")
        ins = np.array(t["in_service"])
        ins[k] = False
        if ins.sum() == 0:
            raise InputError(f"cannot trip {machine_id!r}: it is the last machine of the grid")
        p_pu = float(t["p_mw"][k]) / self.base_mva
        event = {"kind": "trip", "machine": str(machine_id), "bus": str(t["bus"][k]),
                 "p_pu": p_pu}
        return self._replace_table("machines", "in_service", ins, f"trip_machine {machine_id}",
                                   events=[event])

    def scale_inertia(self, factor, machines=None) -> Grid:
        """A new grid with machine inertia multiplied by ``factor`` (all or the listed machines).

        Only ``inertia_s`` changes; damping and governor data stay as they are.

        Parameters
        ----------
        factor : float
            Positive, finite multiplier.
        machines : sequence of str, optional
            Machine ids to scale; default all machines (in service or not).

        Returns
        -------
        Grid
            With ``"scale_inertia <factor> (<which>)"`` in ``provenance["edits"]``.

        Examples
        --------
        >>> import netcoh as nc
        >>> g = nc.grids.load("kundur")
        >>> float(g.scale_inertia(0.5).machines.inertia_s.sum() / g.machines.inertia_s.sum())
        0.5
        """
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) \
                or not math.isfinite(factor) or factor <= 0:
            raise InputError(f"`factor` must be a positive number, got {factor!r}")
        m = np.array(self.tables["machines"]["inertia_s"])
        if machines is None:
            m = m * factor
            which = "all"
        else:
            if isinstance(machines, (str, bytes)) or not hasattr(machines, "__iter__"):
                raise NetcohTypeError(f"`machines` must be a sequence of machine ids, got "
                                      f"{machines!r}")
            machines = list(machines)
            if not machines:
                raise InputError("`machines` must list at least one machine id (or be None for "
                                 "all), got none")
            rows = [self._row("machines", mid, "machines") for mid in machines]
            m[rows] *= factor
            which = ",".join(map(str, machines))
        return self._replace_table("machines", "inertia_s", m,
                                   f"scale_inertia {factor:g} ({which})")

    def solve_power_flow(self) -> Grid:
        """A new grid with a fresh AC operating point (netcoh's Newton-Raphson).

        Uses the current (possibly edited) tables: machine ``p_mw`` and ``vm_pu`` set-points,
        the slack machine, loads and shunts.
        """
        from .pp_bridge import solve_inline
        vm, va, p, q = solve_inline(self)
        g = self._replace_table("buses", "vm_pu", vm, "solve_power_flow")
        cols = dict(g.tables["buses"])
        cols["va_deg"] = va
        mcols = dict(g.tables["machines"])
        mcols["p_mw"], mcols["q_mvar"] = p, q
        tabs = dict(g.tables)
        tabs["buses"] = _freeze_table("buses", cols)
        tabs["machines"] = _freeze_table("machines", mcols)
        return dataclasses.replace(g, tables=tabs)

    # -- network model -------------------------------------------------------------
    # (the assembly itself is in netcoh.grids.assembly; these methods delegate to it)
    def _assemble(self, flow: str):
        """Bus-level Laplacian over buses + internal machine nodes (p.u./rad, unscaled)."""
        return _asm.assemble(self, flow)

    def bus_network(self, flow: str = "ac") -> _asm.BusNetwork:
        """The grid as a weighted graph over buses and internal machine nodes.

        What :meth:`to_system` reduces: use it for a bus-level view of your own (the
        Laplacian, which branch links which nodes, where each machine sits).

        Parameters
        ----------
        flow : {"ac", "dc"}
            Branch weights at the AC operating point or with ``|V| = 1, theta = 0``.

        Returns
        -------
        BusNetwork
            The bus-level graph: nodes, edges with their weights, where each machine sits,
            and ``.laplacian()``.

        Examples
        --------
        >>> import netcoh as nc
        >>> net = nc.grids.load("kundur", warn=False).bus_network("dc")
        >>> net.n_nodes, net.n_buses, net.laplacian().shape
        (15, 11, (15, 15))
        """
        return _asm.bus_network(self, flow)

    def branch_flows(self) -> pd.DataFrame:
        """Active power flows of the in-service branches at the stored AC operating point.

        The pi-model of the power flow (series ``r + jx``, total charging ``b``, off-nominal
        tap and phase shift on the from side): ``S_f = V_f conj(I_f)`` and
        ``S_t = V_t conj(I_t)``. A split of the grid leaves each part with the power that
        flowed over the cut as its imbalance (screening uses this).

        Returns
        -------
        pandas.DataFrame
            ``id``, ``from_bus``, ``to_bus``, ``p_from_mw`` (power flowing from the from bus
            into the branch) and ``p_to_mw`` (from the to bus into the branch); their sum is
            the branch's loss.

        Raises
        ------
        InputError
            If the grid has no AC operating point.

        Examples
        --------
        >>> import netcoh as nc
        >>> fl = nc.grids.load("kundur", warn=False).branch_flows()
        >>> bool((fl.p_from_mw + fl.p_to_mw >= -1e-6).all())     # losses are not negative
        True
        """
        B, R = self.tables["buses"], self.tables["branches"]
        vm, va = np.asarray(B["vm_pu"], float), np.radians(np.asarray(B["va_deg"], float))
        if not (np.all(np.isfinite(vm)) and np.all(np.isfinite(va))):
            raise InputError("grid has no AC operating point; call grid.solve_power_flow()")
        bidx = {b: i for i, b in enumerate(B["id"])}
        on = np.asarray(R["in_service"], bool)
        f = np.array([bidx[b] for b in R["from_bus"][on]], dtype=int)
        t = np.array([bidx[b] for b in R["to_bus"][on]], dtype=int)
        ys = 1.0 / (R["r_pu"][on] + 1j * R["x_pu"][on])
        tap = R["tap_ratio"][on]
        tc = tap * np.exp(1j * np.radians(R["shift_deg"][on]))
        bc = 0.5j * R["b_pu"][on]
        v = vm * np.exp(1j * va)
        i_f = (ys + bc) / (tap * tap) * v[f] - ys / np.conj(tc) * v[t]
        i_t = (ys + bc) * v[t] - ys / tc * v[f]
        return pd.DataFrame({"id": np.array(R["id"][on]), "from_bus": np.array(R["from_bus"][on]),
                             "to_bus": np.array(R["to_bus"][on]),
                             "p_from_mw": (v[f] * np.conj(i_f)).real * self.base_mva,
                             "p_to_mw": (v[t] * np.conj(i_t)).real * self.base_mva})

    def islands(self) -> tuple:
        """The connected parts of the grid, most machines first.

        Returns
        -------
        tuple of Island
            One entry per island with its bus and machine ids. A grid with more than one
            island cannot be turned into one system; pick one with ``to_system(island=k)``.

        Examples
        --------
        >>> import netcoh as nc
        >>> g = nc.grids.load("kundur")
        >>> [str(i) for i in g.islands()]
        ['island 0: 11 buses, 4 machines (G1, G2, G3, G4)']
        """
        return tuple(Island(k, b, m) for k, (b, m) in enumerate(_asm.island_groups(self)))

    def _nodes(self, flow, island):
        return _asm.select_nodes(self, flow, island)

    def _reduced(self, reduce, flow, island, load_damping, min_bus_damping_pu):
        return _asm.reduce_nodes(self, reduce, flow, island, load_damping, min_bus_damping_pu)

    def _bus_damping(self, load_damping, floor):
        return _asm.bus_damping(self, load_damping, floor)

    def to_system(self, model: str | None = None, reduce: str | None = "kron", flow: str = "ac",
                  *, load_damping: float = 1.0, min_bus_damping_pu: float = 1e-4,
                  island: int | None = None, at_limit: str = "upper") -> NetworkSystem:
        """The network model ``(g_i, 1/s, L_B)`` of this grid.

        Parameters
        ----------
        model : {"swing", "swing_turbine", "case"}, optional
            Machine nodes ``1/(m s + d)`` or ``1/(m s + d + r^{-1}/(tau s + 1))`` (machines
            without governor data get ``r^{-1} = 0`` under ``"swing_turbine"``), or
            ``"case"``: each machine's own governor transfer function from the case data on
            the lossy AC network linearisation (:mod:`netcoh.grids.case_model`; grids read
            from a dynamic case only, Kron-reduced, ``flow="ac"``). Default:
            :func:`default_model` (``"case"`` where the grid carries such data, else
            ``"swing_turbine"``: the model screening uses).
        reduce : {"kron", None}
            ``"kron"``: dense Laplacian Kron-reduced onto the machine nodes (load buses treated as
            algebraic, constant-power). ``None``: sparse, every bus stays a node with
            frequency-dependent load damping ``g = 1/d_bus``, ``d_bus = load_damping *
            P_load / S_base + min_bus_damping_pu`` (the small floor keeps non-load buses
            representable as nodes; buses at a negative-reactance branch are eliminated).
        flow : {"ac", "dc"}
            ``"ac"``: sensitivities at the stored AC operating point; ``"dc"``: ``|V| = 1``,
            ``theta = 0``, ``L_ij = -1/x_ij``.
        load_damping : float
            Load-frequency sensitivity ``D`` (p.u. load change per p.u. frequency per p.u.
            load), used only with ``reduce=None``.
        min_bus_damping_pu : float
            Damping floor of bus nodes (``reduce=None``).
        island : int, optional
            Which island to model when the grid is split (see :meth:`islands`).
        at_limit : {"upper", "lower", "none"}, default "upper"
            ``model="case"`` only: governors whose valve sits at that limit at the operating
            point are left out (``"upper"`` suits under-frequency events such as load
            increases and trips).

        Returns
        -------
        NetworkSystem
            Labels: machine ids, then ``"bus:<id>"`` for bus nodes. ``L_B = 2 pi f_hz dP/dtheta``
            (output ``omega`` in p.u., input ``u`` in p.u. on ``base_mva``); the system carries
            the grid's ``f_hz``.

        Raises
        ------
        DisconnectedError
            If the grid has several islands and ``island`` is not given; the message and
            ``.components`` list each island's machines.

        Examples
        --------
        >>> import netcoh as nc
        >>> g = nc.grids.load("kundur")
        >>> g.to_system(reduce=None).n            # 4 machines + 11 buses
        15
        """
        return _models.to_system(self, model, reduce, flow, load_damping=load_damping,
                                 min_bus_damping_pu=min_bus_damping_pu, island=island,
                                 at_limit=at_limit)

    def injection_vector(self, bus_p_pu: Mapping, *, reduce: str | None = "kron",
                         flow: str = "ac", island: int | None = None,
                         load_damping: float = 1.0, min_bus_damping_pu: float = 1e-4,
                         model: str | None = None):
        """Map power injections at buses (p.u., ``{bus_id: p}``) to the inputs of :meth:`to_system`.

        With ``reduce="kron"`` an injection at a load bus is distributed over the machine
        nodes by the Kron factors ``-L_mb L_bb^{-1}`` (the algebraic elimination of that bus).
        With ``reduce=None`` it lands on the bus node; a bus eliminated for a
        negative-reactance branch is not a node, and asking for it raises
        :class:`~netcoh.exceptions.InputError`.

        Parameters
        ----------
        bus_p_pu : mapping of str to float
            Power injection in p.u. on ``base_mva`` per bus id (a load increase is
            negative); several entries add up.
        reduce : {"kron", None}, default "kron"
            The model of :meth:`to_system` the vector is for.
        flow : {"ac", "dc"}, default "ac"
            As in :meth:`to_system`; the Kron factors depend on it.
        island : int, optional
            As in :meth:`to_system`, for a split grid.
        load_damping : float, default 1.0
            As in :meth:`to_system` (only used with ``reduce=None``).
        min_bus_damping_pu : float, default 1e-4
            As in :meth:`to_system` (only used with ``reduce=None``).
        model : str, optional
            As in :meth:`to_system` (default ``default_model(grid)``). For ``"case"`` the
            injection reaches the machines through the lossy AC network's ``dPe/dP_bus``
            (:func:`netcoh.grids.case_model.case_injection`), so a load step draws its
            marginal losses too.

        Returns
        -------
        ndarray, shape (n,)
            The input ``u`` in p.u., in the node order of ``to_system`` with the same
            arguments. With ``"kron"`` its sum equals the sum of the injections.

        Examples
        --------
        >>> import netcoh as nc
        >>> g = nc.grids.load("kundur", warn=False)
        >>> u = g.injection_vector({"7": -1.0})      # 100 MW more load at bus 7
        >>> round(float(u.sum()), 9), bool((u < 0).all())
        (-1.0, True)
        """
        return _models.injection_vector(self, bus_p_pu, reduce=reduce, flow=flow,
                                        island=island, load_damping=load_damping,
                                        min_bus_damping_pu=min_bus_damping_pu, model=model)

    def disturbance(self, **kwargs) -> np.ndarray:
        """Input vector ``u`` (p.u.) of the recorded :attr:`events` for ``to_system(**kwargs)``.

        A tripped machine's output ``P`` is lost at its terminal bus: ``u = -P`` there, mapped
        to the system's nodes by :meth:`injection_vector` (same keyword arguments). For the
        ``"case"`` model the machine's reactive output is lost too, and on a connected grid
        the input carries the event's actual losses (post-event AC power flow,
        :func:`netcoh.grids.case_model.case_injection` with ``losses="secant"``).

        Parameters
        ----------
        **kwargs
            Keyword arguments of :meth:`injection_vector` (``model``, ``island``, ...).

        Returns
        -------
        ndarray
            One entry per node of ``to_system(**kwargs)``.

        Examples
        --------
        >>> import netcoh as nc
        >>> g = nc.grids.load("kundur", warn=False).trip_machine("G1")
        >>> round(float(g.disturbance().sum()), 6)
        -7.0
        """
        inj: dict = {}
        q_inj: dict = {}
        M = self.tables["machines"]
        for ev in self.events:
            inj[ev["bus"]] = inj.get(ev["bus"], 0.0) - ev["p_pu"]
            if ev.get("kind") == "trip":
                k = self._row("machines", ev["machine"], "machine")
                q = float(M["q_mvar"][k]) / self.base_mva
                q_inj[ev["bus"]] = q_inj.get(ev["bus"], 0.0) - (q if math.isfinite(q) else 0.0)
        if (kwargs.get("model") or default_model(self)) == "case":
            island = kwargs.get("island")
            return _case.case_injection(self, inj, bus_q_pu=q_inj, island=island,
                                        losses="secant" if island is None else "tangent")
        return self.injection_vector(inj, **kwargs)
