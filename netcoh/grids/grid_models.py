"""How :class:`~netcoh.grids.Grid` builds its network models (``to_system``, inputs).

The methods :meth:`Grid.to_system <netcoh.grids.Grid.to_system>` and
:meth:`Grid.injection_vector <netcoh.grids.Grid.injection_vector>` document the parameters
and call the functions here.

Examples
--------
>>> import netcoh as nc
>>> from netcoh.grids.grid_models import MODELS, default_model
>>> MODELS, default_model(nc.grids.load("kundur", warn=False))
(('swing', 'swing_turbine', 'case'), 'swing_turbine')
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp

from ..exceptions import InputError
from ..network import nodal as _nodal
from ..network.nodal import NodalDynamics
from ..network.system import NetworkSystem, reduced_system
from . import case_model as _case
from . import network as _net
from .tables import _check_injections

__all__ = ["MODELS", "default_model", "to_system", "injection_vector"]

#: Machine models :meth:`Grid.to_system` builds.
MODELS = ("swing", "swing_turbine", "case")


def default_model(grid) -> str:
    """The machine model used when none is asked for (``Grid.to_system``, screening, CLI).

    ``"case"`` for grids that carry machine dynamics of their own (read from a dynamic case
    such as an ANDES file: each machine's governor, damper windings, the lossy network); else
    ``"swing_turbine"``: swing machines with their lumped governor-turbine (machines without
    governor data get none), the model whose dip and recovery operators look for. Every
    default of the package goes through this one function.

    Parameters
    ----------
    grid : Grid
        The case.

    Returns
    -------
    str
        A ``model`` accepted by :meth:`Grid.to_system`.

    Examples
    --------
    >>> import netcoh as nc
    >>> default_model(nc.grids.load("kundur", warn=False))
    'swing_turbine'
    """
    return "case" if _case.has_case_dynamics(grid) else "swing_turbine"


def to_system(grid, model, reduce, flow, *, load_damping, min_bus_damping_pu, island,
              at_limit) -> NetworkSystem:
    """The network model of ``grid``; see :meth:`Grid.to_system <netcoh.grids.Grid.to_system>`.

    Parameters
    ----------
    grid : Grid
        The case.
    model, reduce, flow : str or None
        As in :meth:`Grid.to_system`.
    load_damping, min_bus_damping_pu : float
        As in :meth:`Grid.to_system`.
    island : int or None
        As in :meth:`Grid.to_system`.
    at_limit : str
        As in :meth:`Grid.to_system`.

    Returns
    -------
    NetworkSystem
        As :meth:`Grid.to_system`.

    Examples
    --------
    >>> import netcoh as nc
    >>> g = nc.grids.load("kundur", warn=False)
    >>> to_system(g, "swing", "kron", "ac", load_damping=1.0, min_bus_damping_pu=1e-4,
    ...           island=None, at_limit="upper").n
    4
    """

    if model is None:
        model = default_model(grid)
    if model not in MODELS:
        raise InputError(f"`model` must be one of {MODELS}, got {model!r}")
    if model == "case":
        if reduce != "kron" or flow != "ac":
            raise InputError(f"`model='case'` is Kron-reduced on the AC network: it needs "
                             f"reduce='kron' and flow='ac', got reduce={reduce!r}, "
                             f"flow={flow!r}")
        return _case.case_system(grid, island=island, at_limit=at_limit)
    L, mrows, bus_nodes, _, d_bus = grid._reduced(reduce, flow, island, load_damping,
                                                  min_bus_damping_pu)
    omega0 = 2.0 * math.pi * grid.f_hz
    L = L * omega0
    M = grid.tables["machines"]
    m, d = M["inertia_s"][mrows], M["damping_pu"][mrows]
    if model == "swing":
        nd = _nodal.swing(m, d)
    else:
        droop = np.nan_to_num(M["droop_gain_pu"][mrows], nan=0.0)
        tau = np.where(np.isfinite(M["turbine_tau_s"][mrows]), M["turbine_tau_s"][mrows], 1.0)
        nd = _nodal.swing_turbine(m, d, droop, tau)
    labels = list(M["id"][mrows])
    if reduce is None:
        k = bus_nodes.size
        loads = NodalDynamics(num=np.ones((k, 1)), den=np.asarray(d_bus)[:, None],
                              kind="rational", params={"d": np.asarray(d_bus)})
        nd = _nodal.concat([nd, loads])
        labels += ["bus:" + b for b in grid.tables["buses"]["id"][bus_nodes]]
        L = sp.csr_matrix(L)
        return NetworkSystem.from_laplacian(L, nodal=nd, labels=labels, f_hz=grid.f_hz)
    return reduced_system(L, nd, labels, f_hz=grid.f_hz)  # admits negative couplings while PSD


def _elsewhere(bus, island) -> str:
    """The message for an injection at a bus outside the network being built."""
    where = "the grid's network" if island is None else f"island {island}"
    return (f"`bus_p_pu` keys must be buses of {where}, got {bus!r}: it lies in another "
            f"island or is out of service (an event there does not reach {where})")


def injection_vector(grid, bus_p_pu: Mapping, *, reduce, flow, island, load_damping,
                     min_bus_damping_pu, model):
    """Inputs ``u`` of power injections; see :meth:`Grid.injection_vector
    <netcoh.grids.Grid.injection_vector>`.

    Parameters
    ----------
    grid : Grid
        The case.
    bus_p_pu : mapping of str to float
        Injection per bus id (p.u.).
    reduce, flow, model : str or None
        As in :meth:`Grid.injection_vector`.
    island : int or None
        As in :meth:`Grid.injection_vector`.
    load_damping, min_bus_damping_pu : float
        As in :meth:`Grid.injection_vector`.

    Returns
    -------
    ndarray
        As :meth:`Grid.injection_vector`.

    Examples
    --------
    >>> import netcoh as nc
    >>> g = nc.grids.load("kundur", warn=False)
    >>> u = injection_vector(g, {"7": -1.0}, reduce="kron", flow="ac", island=None,
    ...                      load_damping=1.0, min_bus_damping_pu=1e-4, model=None)
    >>> round(float(u.sum()), 9)
    -1.0
    """

    if (default_model(grid) if model is None else model) == "case":
        return _case.case_injection(grid, bus_p_pu, island=island)
    bidx = {b: i for i, b in enumerate(grid.tables["buses"]["id"])}
    bus_p_pu = _check_injections(bus_p_pu, bidx)
    if reduce not in ("kron", None):
        raise InputError(f"`reduce` must be 'kron' or None, got {reduce!r}")
    if reduce == "kron":
        L, mrows, bus_nodes = grid._nodes(flow, island)
        nm = mrows.size
        u_full = np.zeros(L.shape[0])
        mnodes = {b: [] for b in bidx}
        for p in zip(grid.tables["machines"]["bus"][mrows], range(nm)):
            mnodes[p[0]].append(p[1])
        posb = {int(b): nm + k for k, b in enumerate(bus_nodes)}
        for b, p in bus_p_pu.items():
            if str(b) not in bidx:
                raise InputError(f"`bus_p_pu` keys must be bus ids, got {b!r}")
            i = bidx[str(b)]
            if i in posb:
                u_full[posb[i]] += p
            elif mnodes[str(b)]:          # machine directly on the bus (no x'_d)
                u_full[mnodes[str(b)][0]] += p
            else:
                raise InputError(_elsewhere(b, island))
        _, D = _net.schur(L, np.arange(nm), dense=True)
        return u_full[:nm] + D @ u_full[nm:]
    sysm = grid.to_system(reduce=None, flow=flow, island=island, load_damping=load_damping,
                          min_bus_damping_pu=min_bus_damping_pu)
    u = np.zeros(sysm.n)
    where = {lab: k for k, lab in enumerate(sysm.labels)}
    for b, p in bus_p_pu.items():
        key = "bus:" + str(b)
        if key not in where:
            if island is not None and str(b) not in grid.islands()[island].buses:
                raise InputError(_elsewhere(b, island))
            raise InputError(f"`bus_p_pu` keys must be bus nodes of the reduce=None system, "
                             f"got {b!r} (eliminated at a negative-reactance branch); use "
                             "reduce='kron'")
        u[where[key]] += p
    return u
