"""Bridge to pandapower: topology and AC operating point of a pandapower net as grid tables.

pandapower (BSD) holds networks and runs AC power flows but has no machine dynamic data;
:func:`tables_from_pandapower` reads a net (on a copy: the caller's net is never written to),
runs ``pandapower.runpp`` and returns netcoh's tables in pandapower's internal per-unit branch
model (``net._ppc``, MATPOWER layout), plus the machines' operating points.

Examples
--------
>>> import pandapower.networks as pn
>>> t = tables_from_pandapower(pn.case9())
>>> len(t["buses"]["id"]), len(t["branches"]["id"]), [e for e, *_ in t["machine_ops"]]
(9, 9, ['gen:0', 'gen:1', 'ext_grid:0'])
"""

from __future__ import annotations

import copy
import warnings

import numpy as np

from ..exceptions import CaseFileError, SolverError
from .network import components
from .powerflow import newton_raphson, tables_ybus

__all__ = ["tables_from_pandapower", "pandapower_network", "shipped_tables", "solve_inline"]


def pandapower_network(function: str, where: str = "topology"):
    """Call ``pandapower.networks.<function>()`` (ships inside pandapower, no download)."""
    import pandapower.networks as pn
    fn = getattr(pn, function, None)
    if fn is None or not callable(fn):
        raise CaseFileError(f"{where}: pandapower: unknown pandapower.networks function "
                            f"{function!r}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


_CACHE: dict = {}


def shipped_tables(function: str, where: str = "topology") -> dict:
    """Tables of ``pandapower.networks.<function>()``, computed once per process.

    The returned dict is shared: callers must not modify it (Grid copies what it keeps).
    """
    if function not in _CACHE:
        _CACHE[function] = tables_from_pandapower(pandapower_network(function, where),
                                                  copy_net=False)
    return _CACHE[function]


def tables_from_pandapower(net, *, copy_net: bool = True) -> dict:
    """Grid tables and operating point of a pandapower net (AC power flow by ``runpp``).

    Returns a dict with ``buses``, ``branches``, ``loads``, ``shunts`` (column dicts),
    ``machine_ops`` (list of ``(element, bus_id, p_mw, q_mvar, vm_pu, is_slack)``),
    ``base_mva`` and ``f_hz``.
    """
    import pandapower as pp
    if copy_net:                      # runpp writes results into the net: never the caller's
        net = copy.deepcopy(net)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            pp.runpp(net, numba=False)
        except Exception as exc:          # pandapower raises its own LoadflowNotConverged
            raise SolverError(f"pandapower AC power flow failed: {exc}") from exc
    ppc = net._ppc
    pbus = ppc["bus"].real
    nb = pbus.shape[0]
    lookup = np.asarray(net._pd2ppc_lookups["bus"])
    names = net.bus.name
    use_names = names.notna().all() and names.astype(str).is_unique
    pd_index = net.bus.index.to_numpy()
    pd_label = names.astype(str).to_numpy() if use_names else pd_index.astype(str)
    ppc_of = lookup[pd_index].astype(int)
    ids = np.array([f"aux{k}" for k in range(nb)], dtype=object)
    valid = (ppc_of >= 0) & (ppc_of < nb)
    # first pandapower bus mapped to each ppc bus (reverse order so the first one wins)
    ids[ppc_of[valid][::-1]] = pd_label[valid][::-1]
    ids = ids.tolist()
    id_arr = np.array(ids, dtype=object)

    def bus_ids(pd_buses):
        return id_arr[lookup[np.asarray(pd_buses, dtype=int)].astype(int)].tolist()

    br = ppc["branch"]
    brr = br.real
    kinds = net._pd2ppc_lookups.get("branch", {}) or {}
    bids = [None] * brr.shape[0]
    for kind, (a, b) in kinds.items():
        table = getattr(net, kind, None)
        idx = list(table.index) if table is not None and len(table) == b - a else range(b - a)
        for k, i in zip(range(a, b), idx):
            bids[k] = f"{kind}:{i}"
    bids = [x if x is not None else f"branch:{k}" for k, x in enumerate(bids)]
    tap = brr[:, 8].copy()
    tap[tap == 0] = 1.0
    branches = {
        "id": bids, "from_bus": [ids[int(i)] for i in brr[:, 0]],
        "to_bus": [ids[int(i)] for i in brr[:, 1]], "r_pu": brr[:, 2], "x_pu": brr[:, 3],
        "b_pu": brr[:, 4], "tap_ratio": tap, "shift_deg": brr[:, 9],
        "in_service": brr[:, 10] > 0,
    }
    # the solved operating point of every bus of pandapower's branch model, the auxiliary
    # buses of three-winding transformers and switches included (res_bus has only the
    # net's own buses; on those the two agree exactly)
    vm = pbus[:, 7].copy()
    va = pbus[:, 8].copy()
    base_kv = pbus[:, 9]
    # buses pandapower left out of the power flow (out of service, or behind an open
    # switch: type 4) are not part of the grid, nor what is connected only to them
    on_machine = set()
    for table in ("gen", "ext_grid"):
        df = getattr(net, table)
        on_machine |= set(lookup[df.bus[df.in_service.to_numpy(dtype=bool)].to_numpy(int)]
                          .astype(int).tolist())
    dead = {ids[k] for k in np.flatnonzero(pbus[:, 1] == 4) if k not in on_machine}
    keep_bus = np.array([b not in dead for b in ids])
    buses = {"id": [b for b, k in zip(ids, keep_bus) if k],
             "base_kv": np.where(base_kv > 0, base_kv, np.nan)[keep_bus], "vm_pu": vm[keep_bus],
             "va_deg": va[keep_bus]}
    branches = _rows(branches, [f not in dead and t not in dead
                                for f, t in zip(branches["from_bus"], branches["to_bus"])])

    def active(df):
        return df[df.in_service.to_numpy(dtype=bool)]

    lid, lbus, lp, lq = [], [], [], []
    for table, sign in (("load", 1.0), ("sgen", -1.0)):
        df = active(getattr(net, table))
        sc = df["scaling"].to_numpy(dtype=float) if "scaling" in df else np.ones(len(df))
        lid += [f"{table}:{i}" for i in df.index]
        lbus += bus_ids(df.bus)
        lp += (sign * df.p_mw.to_numpy(dtype=float) * sc).tolist()
        lq += (sign * df.q_mvar.to_numpy(dtype=float) * sc).tolist()
    loads = _rows({"id": lid, "bus": lbus, "p_mw": lp, "q_mvar": lq},
                  [b not in dead for b in lbus])
    df = active(net.shunt)
    step = df["step"].fillna(1).to_numpy(dtype=float) if "step" in df else np.ones(len(df))
    sb = bus_ids(df.bus)
    shunts = _rows({"id": [f"shunt:{i}" for i in df.index], "bus": sb,
                    "g_mw": (df.p_mw.to_numpy(dtype=float) * step).tolist(),
                    "b_mvar": (-df.q_mvar.to_numpy(dtype=float) * step).tolist()},
                   [b not in dead for b in sb])

    ops = []
    for table, rtab in (("gen", net.res_gen), ("ext_grid", net.res_ext_grid)):
        df = active(getattr(net, table))
        p = rtab.p_mw.reindex(df.index).to_numpy(dtype=float)
        q = rtab.q_mvar.reindex(df.index).to_numpy(dtype=float)
        for k, (i, b, v) in enumerate(zip(df.index, bus_ids(df.bus), df.vm_pu.to_numpy(float))):
            ops.append((f"{table}:{i}", b, float(p[k]), float(q[k]), float(v),
                        table == "ext_grid"))
    return {"buses": buses, "branches": branches, "loads": loads, "shunts": shunts,
            "machine_ops": ops, "base_mva": float(net.sn_mva), "f_hz": float(net.f_hz)}


def _rows(columns: dict, keep) -> dict:
    """The rows ``keep`` (a mask) of a table of columns (lists or arrays, kept as such)."""
    keep = np.asarray(keep, dtype=bool)
    return {k: ([x for x, y in zip(v, keep) if y] if isinstance(v, list) else np.asarray(v)[keep])
            for k, v in columns.items()}


def solve_inline(grid):
    """AC power flow of a grid's tables: ``(vm_pu, va_deg, machine p_mw, machine q_mvar)``.

    Machine ``p_mw`` and ``vm_pu`` are set-points (the slack machine's ``p_mw`` is solved);
    reactive output at a bus is shared among its machines in proportion to ``rating_mva``
    (equal shares when unknown). Each island is solved around its own slack: the marked one,
    else its largest machine by ``p_mw``.
    """
    B, M, Ld = grid.tables["buses"], grid.tables["machines"], grid.tables["loads"]
    base = grid.base_mva
    nb = len(B["id"])
    Y, bidx, f, t = tables_ybus(grid.tables, base)
    sbus = np.zeros(nb, dtype=complex)
    if len(Ld["id"]):
        np.add.at(sbus, [bidx[b] for b in Ld["bus"]], -(Ld["p_mw"] + 1j * Ld["q_mvar"]) / base)
    mon = np.flatnonzero(M["in_service"])
    mb = np.array([bidx[b] for b in M["bus"][mon]], dtype=int)
    np.add.at(sbus, mb, M["p_mw"][mon] / base)
    v0 = np.ones(nb, dtype=complex)
    vm_set = np.ones(nb)
    vm_set[mb] = M["vm_pu"][mon]
    v0[mb] = vm_set[mb]
    lab = components(nb, f, t)
    slack = []
    for c in np.unique(lab):
        ms = mon[lab[mb] == c]
        if ms.size == 0:
            continue
        marked = ms[M["slack"][ms]]
        k = marked[0] if marked.size else ms[np.argmax(M["p_mw"][ms])]
        slack.append(bidx[M["bus"][k]])
    slack = np.unique(np.array(slack, dtype=int))
    pv = np.setdiff1d(np.unique(mb), slack)
    dead = np.setdiff1d(np.arange(nb), np.flatnonzero(np.isin(lab, lab[mb])))
    v = newton_raphson(Y, sbus, v0, slack=slack, pv=np.concatenate([pv]).astype(int))
    if dead.size:
        v[dead] = 0.0
    s_inj = v * np.conj(Y @ v)
    s_gen_bus = s_inj.copy()
    if len(Ld["id"]):
        np.add.at(s_gen_bus, [bidx[b] for b in Ld["bus"]], (Ld["p_mw"] + 1j * Ld["q_mvar"]) / base)
    p = np.array(M["p_mw"], dtype=float)
    q = np.array(M["q_mvar"], dtype=float)
    rating = np.where(np.isfinite(M["rating_mva"]), M["rating_mva"], 1.0)
    for bus in np.unique(mb):
        here = mon[mb == bus]
        share = rating[here] / rating[here].sum()
        q[here] = s_gen_bus[bus].imag * base * share
        if bus in slack:
            others = here[~np.isin(here, here[:1])]
            p[here[0]] = s_gen_bus[bus].real * base - p[others].sum()
    return np.abs(v), np.degrees(np.angle(v)), p, q
