"""Synthesis rules for machine dynamic data that the source network does not hold.

pandapower networks carry no inertia, damping or governor data. These rules make them up
*transparently*: each returns machine records plus the ``{"fields", "rule"}`` entries that go
into ``provenance["synthesised"]``, and :func:`netcoh.grids.load` emits a
:class:`~netcoh.exceptions.SynthesizedDataWarning` whenever such data is used.

Machines of a pandapower net, in order: in-service ``gen`` rows, then in-service ``ext_grid``
rows (the slack is a machine too). The rating proxy is
``S_i = max(sn_mva, max_p_mw, |p_mw|, |max_q_mvar|, |min_q_mvar|, 10 MVA)`` (``sn_mva`` is
NaN in pandapower's cases; reactive limits of 10^4 Mvar or more mean 'unlimited' and are skipped).

Examples
--------
>>> import pandapower.networks as pn
>>> recs, syn = proportional_machines(pn.case9())
>>> len(recs), recs[0]["id"], syn[0]["fields"][:2]
(3, 'gen:0', ['inertia_s', 'damping_pu'])
"""

from __future__ import annotations

import numpy as np

__all__ = ["machine_elements", "proportional_machines", "uniform_inertia_machines",
           "sized_machines", "REP_INERTIA_S", "REP_DAMPING_PU", "INERTIA_BY_SIZE"]

#: Representative unit of EPSR24 (GB high-renewable scenario): m = 4.38 s, d = 16 p.u.
REP_INERTIA_S = 4.38
REP_DAMPING_PU = 16.0
RATING_RULE = "S_i = max(sn_mva, max_p_mw, |p_mw|, |Q limits| below 1e4 Mvar, 10 MVA)"
XD_RULE = "transient_reactance_pu = 0.3 p.u. on the rating S_i (0.3 * S_base / S_i on the case base)"
TURBINE_RULE = ("droop_r_pu R = 0.05 on S_i (droop_gain_pu = (S_i/S_base)/0.05), "
                "turbine_tau_s = 5 s (typical lumped first-order turbine-governor)")


def machine_elements(net):
    """``(element, pandapower bus index, p_mw, rating_mva)`` of each machine of ``net``.

    Parameters
    ----------
    net : pandapowerNet
        Source network; in-service ``gen`` rows, then in-service ``ext_grid`` rows.

    Returns
    -------
    list of tuple
        ``(element, bus, p_mw, rating_mva)``: ``element`` such as ``"gen:3"``, ``bus`` the
        pandapower bus index (int), ``p_mw`` the set-point in MW (0 for an ``ext_grid``
        without one), ``rating_mva`` the rating proxy ``S_i`` of the module docstring.

    Examples
    --------
    >>> import pandapower.networks as pn
    >>> [(e, b, round(s, 1)) for e, b, _, s in machine_elements(pn.case9())]
    [('gen:0', 1, 300.0), ('gen:1', 2, 300.0), ('ext_grid:0', 0, 300.0)]
    """
    out = []
    for table in ("gen", "ext_grid"):
        df = getattr(net, table)
        for idx, row in df[df.in_service.astype(bool)].iterrows():
            sn = row.get("sn_mva", np.nan)
            cands = [10.0, abs(float(row.get("p_mw", 0.0) or 0.0))]
            if sn is not None and np.isfinite(sn):
                cands.append(float(sn))
            for col in ("max_p_mw", "max_q_mvar", "min_q_mvar"):
                v = row.get(col, np.nan)
                if v is not None and np.isfinite(v) and abs(v) < 1e4:   # 9999 = "no limit"
                    cands.append(abs(float(v)))
            out.append((f"{table}:{idx}", int(row.bus), float(row.get("p_mw", 0.0) or 0.0),
                        max(cands)))
    return out


def _records(net, m, d_sys, bus_name):
    """Records with ``inertia_s`` on the case base; ``damping_pu``, R and x'_d on ``base_mva = S_i``."""
    base = float(net.sn_mva)
    recs = []
    for k, (el, bus, _p, s) in enumerate(machine_elements(net)):
        recs.append({
            "id": el, "bus": bus_name(bus), "pandapower_element": el,
            "base_mva": round(s, 6), "rating_mva": round(s, 6),
            "inertia_s": float(m[k]), "damping_pu": float(d_sys[k]) * base / round(s, 6),
            "droop_r_pu": 0.05, "turbine_tau_s": 5.0, "transient_reactance_pu": 0.3,
        })
    return recs


def _bus_namer(net):
    names = net.bus.name
    if names.notna().all() and names.astype(str).is_unique:
        return lambda i: str(names.loc[i])
    return str


#: Inertia constant ``H`` (s, on the unit's rating) by rating class: ``(upper MVA, H)``.
#: Typical values of synchronous units (Kundur, *Power System Stability and Control*, 1994,
#: table 3.2: thermal 2.5-6 s, hydro 2-4 s): small units (gas engines, small hydro) low,
#: large thermal and nuclear sets high.
INERTIA_BY_SIZE = ((50.0, 2.0), (200.0, 3.0), (600.0, 4.0), (float("inf"), 5.0))


def sized_machines(net, *, damping_pu=1.0, droop_r_pu=0.05, turbine_tau_s=5.0):
    """Machines with typical data for their size: ``H`` by rating class, ``D = 1`` on rating.

    The default for pandapower nets (:func:`netcoh.grids.load`). With the rating proxy
    ``S_i`` of the module docstring: ``H_i`` from :data:`INERTIA_BY_SIZE` (2 s below
    50 MVA, 3 s to 200 MVA, 4 s to 600 MVA, 5 s above), ``inertia_s = 2 H_i S_i /
    S_base``, damping ``damping_pu`` on the rating (load-like 1 p.u. power per p.u.
    frequency), governor droop ``R = 0.05`` on the rating with ``tau = 5`` s, ``x'_d = 0.3``
    on the rating. System quantities then scale with the units: a 1 % frequency drop calls
    about 21 % of the rated power in steady state, and the inertia of the fleet is a
    realistic 2-5 s on its rating.

    Parameters
    ----------
    net : pandapowerNet
        Source network (not modified); machines as in :func:`machine_elements`.
    damping_pu : float, default 1.0
        Damping on each unit's rating.
    droop_r_pu : float, default 0.05
        Governor droop on each unit's rating.
    turbine_tau_s : float, default 5.0
        Lumped turbine-governor time constant.

    Returns
    -------
    records : list of dict
        Machine records (``grids/README.md`` schema, with ``pandapower_element``).
    synthesised : list of dict
        ``{"fields", "rule"}`` entries for ``provenance["synthesised"]``.

    Examples
    --------
    >>> import pandapower.networks as pn
    >>> recs, syn = sized_machines(pn.case9())       # 300 MVA units: H = 4 s
    >>> recs[0]["inertia_s"], "by unit size" in syn[0]["rule"]
    (24.0, True)
    """
    elems = machine_elements(net)
    base = float(net.sn_mva)
    s = np.array([e[3] for e in elems])
    bounds = np.array([b for b, _ in INERTIA_BY_SIZE])
    hs = np.array([h for _, h in INERTIA_BY_SIZE])
    H = hs[np.searchsorted(bounds, s, side="right").clip(max=hs.size - 1)]
    recs = _records(net, 2.0 * H * s / base, damping_pu * s / base, _bus_namer(net))
    for r in recs:
        r["droop_r_pu"], r["turbine_tau_s"] = droop_r_pu, turbine_tau_s
    table = ", ".join(f"{h:g} s below {b:g} MVA" if np.isfinite(b) else f"{h:g} s above"
                      for b, h in INERTIA_BY_SIZE)
    syn = [{"fields": ["inertia_s", "rating_mva"],
            "rule": f"{RATING_RULE}; inertia H by unit size on S_i ({table}; typical values, "
                    f"Kundur 1994 table 3.2), inertia_s = 2 H S_i/S_base"},
           {"fields": ["damping_pu"], "rule": f"damping D = {damping_pu:g} p.u. on S_i"},
           {"fields": ["droop_r_pu", "turbine_tau_s"],
            "rule": f"droop_r_pu R = {droop_r_pu:g} on S_i (droop_gain_pu = (S_i/S_base)/R), "
                    f"turbine_tau_s = {turbine_tau_s:g} s (lumped first-order turbine-governor)"},
           {"fields": ["transient_reactance_pu"], "rule": XD_RULE}]
    return recs, syn


def proportional_machines(net, *, m_rep=REP_INERTIA_S, d_rep=REP_DAMPING_PU):
    """Machines proportional to their rating: ``m_i = m_rep S_i/S_base``, ``d_i = d_rep S_i/S_base``.

    The EPSR24 representative unit (``m = 4.38 s``, ``d = 16`` p.u.) scaled by size, so the
    machines satisfy the paper's proportionality assumption with ``d/m = 16/4.38``.

    Parameters
    ----------
    net : pandapowerNet
        Source network (not modified); machines as in :func:`machine_elements`.
    m_rep : float, default 4.38
        Inertia constant ``m`` of a machine rated ``S_base``, in seconds.
    d_rep : float, default 16.0
        Damping of a machine rated ``S_base``, in p.u. power per p.u. frequency on the
        case base.

    Returns
    -------
    records : list of dict
        One machine record per machine (``grids/README.md`` schema, with
        ``pandapower_element``), governor ``R = 0.05`` and ``tau = 5`` s, ``x'_d = 0.3``
        p.u. on the rating.
    synthesised : list of dict
        ``{"fields", "rule"}`` entries for ``provenance["synthesised"]``.

    Examples
    --------
    >>> import pandapower.networks as pn
    >>> recs, _ = proportional_machines(pn.case9())          # S_i = 300 MVA, S_base = 100
    >>> recs[0]["inertia_s"], recs[0]["rating_mva"]
    (13.14, 300.0)
    """
    elems = machine_elements(net)
    base = float(net.sn_mva)
    s = np.array([e[3] for e in elems])
    recs = _records(net, m_rep * s / base, d_rep * s / base, _bus_namer(net))
    syn = [{"fields": ["inertia_s", "damping_pu", "rating_mva"],
            "rule": f"{RATING_RULE}; inertia_s = {m_rep} * "
                    f"S_i/S_base; damping = {d_rep} * S_i/S_base on the case base (EPSR24 "
                    f"representative unit scaled by rating, d/m = {d_rep}/{m_rep})"},
           {"fields": ["droop_r_pu", "turbine_tau_s"], "rule": TURBINE_RULE},
           {"fields": ["transient_reactance_pu"], "rule": XD_RULE}]
    return recs, syn


def uniform_inertia_machines(net, *, seed=20240226, low=0.0, high=1000.0,
                             d_over_m=REP_DAMPING_PU / REP_INERTIA_S):
    """The EPSR24 GB rule: ``m_i ~ U(low, high)`` s (case base, fixed seed), ``d_i = m_i d/m``.

    ``rng = np.random.default_rng(seed)``; the paper's seed is unknown, so values differ from
    the paper's while following its rule.

    Parameters
    ----------
    net : pandapowerNet
        Source network (not modified); machines as in :func:`machine_elements`.
    seed : int, default 20240226
        Seed of ``numpy.random.default_rng`` (deterministic records).
    low, high : float, default 0.0 and 1000.0
        Bounds of the uniform inertia draw, seconds on the case base (values are floored at
        1e-3 s).
    d_over_m : float, default 16/4.38
        Damping-to-inertia ratio in 1/s, ``d_i = m_i * d_over_m`` on the case base.

    Returns
    -------
    records : list of dict
        Machine records as in :func:`proportional_machines`.
    synthesised : list of dict
        ``{"fields", "rule"}`` entries for ``provenance["synthesised"]``.

    Examples
    --------
    >>> import pandapower.networks as pn
    >>> recs, syn = uniform_inertia_machines(pn.case9(), seed=1, low=1.0, high=2.0)
    >>> all(1.0 <= r["inertia_s"] <= 2.0 for r in recs), len(syn)
    (True, 4)
    """
    elems = machine_elements(net)
    rng = np.random.default_rng(seed)
    m = rng.uniform(low, high, size=len(elems))
    m = np.maximum(m, 1e-3)           # U(0, .) is > 0 almost surely; guard the schema
    recs = _records(net, m, m * d_over_m, _bus_namer(net))
    syn = [{"fields": ["inertia_s", "damping_pu"],
            "rule": f"inertia_s ~ Uniform({low:g}, {high:g}) s on the case base, "
                    f"numpy default_rng(seed={seed}); damping = inertia_s * 16/4.38 on the case "
                    f"base (EPSR24 worst-case-nadir paper, Jiang, Min & Zhang 2024, GB case)"},
           {"fields": ["rating_mva"], "rule": RATING_RULE},
           {"fields": ["droop_r_pu", "turbine_tau_s"], "rule": TURBINE_RULE},
           {"fields": ["transient_reactance_pu"], "rule": XD_RULE}]
    return recs, syn
