"""Read ANDES dynamic cases into a :class:`~netcoh.grids.Grid` (needs the extra ``validate``).

`ANDES <https://github.com/CURENT/andes>`_ (GPL-3.0) is used only at run time through its own
loader (``andes.load(..., setup=True, no_output=True, default_config=True)``) and power flow;
none of its code or data is copied into netcoh. Install it with ``pip install 'netcoh[validate]'``.

Mapping (ANDES parameters are on the machine base ``Sn`` or the turbine base ``Tn``; netcoh's
grid tables are on the case base ``S_base = ss.config.mva``, see ``grids/README.md``):

===========================  ==============================================================
ANDES                        netcoh
===========================  ==============================================================
``Bus`` (PF solution)        buses: ``vm_pu``, ``va_deg``, ``base_kv = Vn``
``Line`` (``.v``, sys base)  branches: ``r_pu``, ``x_pu``, ``b_pu``, ``tap_ratio``,
                             ``shift_deg`` (ANDES's own impedance base conversion)
``GENCLS`` / ``GENROU``      machines: ``inertia_s = M Sn/S_base`` (``M = 2H``),
                             ``damping_pu = D Sn/S_base``, ``transient_reactance_pu =
                             xd1 (Vn^2/Sn)/(V_bus^2/S_base)``, ``p_mw``/``q_mvar`` from the
                             static generator's power flow times ``gammap``/``gammaq``
``TGOV1`` / ``TGOV1N``       ``droop_gain_pu = (Tn/S_base)/R`` (``Tn`` defaults to ``Sn``),
                             lead-lag ``(1 + s T2)/((1 + s T1)(1 + s T3))``, turbine
                             damping ``Dt Tn/S_base``
``IEEEG1``                   ``droop_gain_pu = K Tn/S_base``, ``(1 + s T2)/(1 + s T1)``
                             times servo ``1/(1 + s T3)`` times the high-pressure shaft
                             stages ``sum_k K_k / prod_j (1 + s T_j)`` (normalised
                             ``K1 + ... + K8 = 1``; a second shaft ``syn2`` is unmapped)
``TGOV1DB`` / ``TGOV1NDB``   as TGOV1 when the speed deadband has zero width (refused
                             otherwise)
``TG2``                      ``droop_gain_pu = (Tn/S_base)/R``, ``(1 + s T1)/(1 + s T2)``
                             (zero-width deadband only)
``IEESGO``                   ``droop_gain_pu = K1`` (ANDES applies ``K1`` unconverted),
                             ``(1 + s T2)/((1 + s T1)(1 + s T3))`` times the steam path
                             ``[(1-K2) + (1-K3) K2/(1+sT5) + K2 K3/((1+sT5)(1+sT6))]
                             /(1 + s T4)``
``PQ``                       loads: ``p_mw = p0 S_base``, ``q_mvar``
``Shunt``                    shunts: ``g_mw``, ``b_mvar`` (capacitive positive)
===========================  ==============================================================

The grid's ``turbine_tau_s`` is the first-order fit of the governor transfer function with the
same DC gain and the same first moment (``T1 + T3 - T2`` for TGOV1); the full governor
transfer function is kept in ``grid.provenance["andes"]["governors"]`` and turned into a
higher-order nodal model by :meth:`Grid.to_system <netcoh.grids.Grid.to_system>`
(``model="case"``, the default for these grids; see :mod:`netcoh.grids.case_model`) through
:func:`netcoh.network.nodal.from_tf`, not silently simplified.

Exciters and stabilisers (ANDES groups ``Exciter``, ``PSS``) act on each machine's field
voltage; the ``"case"`` model holds the EMF behind ``x'_d`` constant and leaves their
dynamics out: they are listed in ``provenance["andes"]["approximated"]``, every model of
both groups alike (their effect on the frequencies the model predicts is measured in the
documentation's validation page).
Measurement and bookkeeping devices (``BusFreq``, ``Area``, ``ACEc``, ``COI``, ...) and timed
events (``Toggle``, ``Fault``, ``Alter``) have no place in the linear model and are listed in
``provenance["andes"]["ignored"]``. Any other device with in-service rows raises
:class:`~netcoh.exceptions.CaseFileError` naming the file and the unmapped models (with the
reason for the refused governors of :data:`REFUSED_MODELS`: ``GAST``, ``HYGOV``, ...).
"""

from __future__ import annotations

import dataclasses
import math
import os
import warnings
from pathlib import Path

import numpy as np

from ..exceptions import CaseFileError, InputError, NetcohError, NetcohTypeError, SolverError
from . import case_model as _case
from .grid import Grid

__all__ = ["from_andes", "load_andes", "governor_nodal", "to_system", "resolve_case",
           "MACHINE_MODELS", "GOVERNOR_MODELS", "REFUSED_MODELS"]

MACHINE_MODELS = ("GENCLS", "GENROU")
GOVERNOR_MODELS = ("TGOV1", "TGOV1N", "TGOV1DB", "TGOV1NDB", "IEEEG1", "IEESGO", "TG2")
#: ANDES turbine-governor models netcoh refuses, with the reason given in the CaseFileError
REFUSED_MODELS = {
    "GAST": "gas turbine: a low-value select between the speed loop and the temperature and "
            "acceleration limits, not linearisable as one transfer function",
    "HYGOV": "hydro turbine: the penstock's water column depends on the gate opening and "
             "head (non-linear, non-minimum-phase); not mapped",
    "HYGOVDB": "hydro turbine with deadband: not mapped (see HYGOV)",
    "HYGOV4": "hydro turbine with four-term penstock model: not mapped (see HYGOV)",
    "PLBVFU1": "playback generator: a recorded voltage/frequency source has no dynamics to "
               "linearise",
}
_DEADBAND = {"TGOV1DB": ("dbL", "dbU"), "TGOV1NDB": ("dbL", "dbU"), "TG2": ("dbl", "dbu")}
_STRUCTURE = {"Bus", "Line", "PQ", "PV", "Slack", "Shunt"}
_APPROX_GROUPS = {"Exciter", "PSS"}
_IGNORED_GROUPS = {"TimedEvent", "FreqMeasurement", "Collection", "Calculation", "PhasorMeasurement",
                   "Information"}
_IGNORED_MODELS = {"COI", "BusROCOF", "PMU", "ACE", "ACEc", "Area", "BusFreq"}


def _andes():
    try:
        import andes
    except ImportError as exc:
        raise NetcohError("reading ANDES cases needs the optional dependency ANDES: "
                          "pip install 'netcoh[validate]'") from exc
    andes.config_logger(stream_level=40)
    return andes


def resolve_case(case) -> Path:
    """Path of an ANDES case: an existing file, or a name under ANDES's shipped ``cases/``.

    Raises :class:`~netcoh.exceptions.CaseFileError` naming the case if neither exists.
    """
    if not isinstance(case, (str, os.PathLike)):
        raise NetcohTypeError(f"`case` must be a path or an ANDES case name, got {type(case).__name__}")
    p = Path(case)
    if p.is_file():
        return p
    andes = _andes()
    try:
        q = Path(andes.get_case(str(case), check=False))
    except Exception:  # noqa: BLE001 - andes raises various errors for odd names
        q = None
    if q is not None and q.is_file():
        return q
    raise CaseFileError(f"{case}: not a file and not an ANDES shipped case "
                        f"(e.g. 'ieee39/ieee39_full.xlsx', 'kundur/kundur_full.xlsx')")


def _split_case(case):
    """``(main file, additional dynamic file or None)`` of a case or a (raw, dyr) pair."""
    if isinstance(case, (tuple, list)):
        if len(case) != 2:
            raise InputError(f"`case` as a sequence must be (raw, dyr), got {len(case)} items")
        return resolve_case(case[0]), resolve_case(case[1])
    return resolve_case(case), None


def load_andes(case, *, setup: bool = True):
    """Load a case with ANDES's own loader (default config, no output files).

    Parameters
    ----------
    case : str, path-like or (raw, dyr) pair
        A file ANDES reads or a shipped case name; a PSS/E power-flow file with its dynamic
        data is the pair ``("x.raw", "x.dyr")`` (ANDES's ``addfile``).
    setup : bool
        Let ANDES set the system up (default).

    Returns
    -------
    andes.System
        The loaded system.

    Raises
    ------
    CaseFileError
        ANDES cannot find, parse or set up the case.

    Examples
    --------
    >>> ss = load_andes(("ieee14/ieee14.raw", "ieee14/ieee14.dyr"))
    >>> ss.GENROU.n
    5
    """
    andes = _andes()
    path, extra = _split_case(case)
    opts = {"addfile": str(extra)} if extra is not None else {}
    where = f"{path} + {extra.name}" if extra is not None else f"{path}"
    try:
        ss = andes.load(str(path), setup=setup, no_output=True, default_config=True, **opts)
    except Exception as exc:  # noqa: BLE001 - any parser failure is a case-file problem
        raise CaseFileError(f"{where}: ANDES could not load the case ({type(exc).__name__}: "
                            f"{exc})") from exc
    if ss is None or (setup and not getattr(ss, "is_setup", True)):
        raise CaseFileError(f"{where}: ANDES could not load the case (parser or setup failed; "
                            f"see ANDES's log)")
    return ss


def _in_service(model) -> np.ndarray:
    return np.asarray(model.u.v, dtype=float) > 0


def classify_models(ss) -> dict:
    """Split the models with devices into mapped / approximated / ignored / unmapped."""
    out = {"mapped": [], "approximated": [], "ignored": [], "unmapped": []}
    for name, mdl in ss.models.items():
        if mdl.n == 0:
            continue
        group = getattr(mdl, "group", "")
        if name in _STRUCTURE or name in MACHINE_MODELS or name in GOVERNOR_MODELS:
            out["mapped"].append(name)
        elif group in _APPROX_GROUPS:
            out["approximated"].append(name)
        elif group in _IGNORED_GROUPS or name in _IGNORED_MODELS:
            out["ignored"].append(name)
        elif not np.any(_in_service(mdl)):
            out["ignored"].append(name)          # present but every device switched off
        else:
            out["unmapped"].append(name)
    return out


def _unmapped_message(path, names) -> str:
    parts = [f"{n} ({REFUSED_MODELS[n]})" if n in REFUSED_MODELS else n for n in sorted(names)]
    return (f"{path}: ANDES models netcoh does not map: {'; '.join(parts)} (mapped: machines "
            f"{'/'.join(MACHINE_MODELS)}, governors {'/'.join(GOVERNOR_MODELS)})")


def _poly_mul(*ps):
    out = np.array([1.0])
    for p in ps:
        out = np.polymul(out, p)
    return out


def _lag(T):
    return np.array([T, 1.0]) if T > 0 else np.array([1.0])


def _governor_tf(model: str, row: dict):
    """(num, den) of the governor's unit-gain shape, highest power first."""
    if model in ("TGOV1", "TGOV1N", "TGOV1DB", "TGOV1NDB"):
        num = _lag(row["T2"])
        den = _poly_mul(_lag(row["T1"]), _lag(row["T3"]))
        return num, den
    if model == "TG2":              # lead-lag (1 + s T1)/(1 + s T2), no turbine lag
        return _lag(row["T1"]), _lag(row["T2"])
    if model == "IEESGO":
        # controller lag T1, lead-lag (1 + s T2)/(1 + s T3), then the steam path: inlet T4,
        # reheater T5 (fraction K2) and crossover T6 (fraction K3) with output
        # (1 - K2) F3 + (1 - K3) F4 + F5, F3 = 1/(1 + s T4), F4 = K2 F3/(1 + s T5),
        # F5 = K3 F4/(1 + s T6): unit DC gain
        k2, k3 = float(row["K2"]), float(row["K3"])
        l5, l6 = _lag(row["T5"]), _lag(row["T6"])
        steam = np.polyadd(np.polyadd((1 - k2) * _poly_mul(l5, l6), (1 - k3) * k2 * l6),
                           np.array([k2 * k3]))
        num = _poly_mul(_lag(row["T2"]), steam)
        den = _poly_mul(_lag(row["T1"]), _lag(row["T3"]), _lag(row["T4"]), l5, l6)
        return num, den
    # IEEEG1: lead-lag K (1 + s T2)/(1 + s T1), servo 1/(1 + s T3), shaft stages T4..T7
    ks = np.array([row[f"K{k}"] for k in range(1, 9)], dtype=float)
    ks = ks / ks.sum()
    hp = ks[0::2]                                 # K1, K3, K5, K7 act on this machine
    stages = [_lag(row[f"T{j}"]) for j in (4, 5, 6, 7)]
    den_all = _poly_mul(*stages)
    num_st = np.zeros(1)
    for k in range(4):
        part = _poly_mul(*stages[k + 1:]) * hp[k]     # K_k / prod_{j<=k} lag_j
        num_st = np.polyadd(num_st, part)
    num = _poly_mul(_lag(row["T2"]), num_st)
    den = _poly_mul(_lag(row["T1"]), _lag(row["T3"]), den_all)
    return num, den


def _first_moment_tau(num, den) -> float:
    """``tau`` of ``1/(1 + s tau)`` matching ``G(s)/G(0)`` to first order in ``s``."""
    n0, n1 = num[-1], (num[-2] if num.size > 1 else 0.0)
    d0, d1 = den[-1], (den[-2] if den.size > 1 else 0.0)
    return float(d1 / d0 - n1 / n0)


def _vin(model) -> list:
    return model.as_df(vin=True).to_dict(orient="records")


def from_andes(case, *, name: str | None = None) -> Grid:
    """Build a :class:`~netcoh.grids.Grid` from an ANDES case (file, shipped name or System).

    Parameters
    ----------
    case : str, path-like, (raw, dyr) pair or andes.System
        A case file ANDES reads (``.xlsx``, ``.json``), a PSS/E pair ``("x.raw", "x.dyr")``
        read by ANDES's parser, a name under ANDES's shipped cases such as
        ``"ieee39/ieee39_full.xlsx"``, or an
        ``andes.System`` that is already set up (it is not modified except that its power flow
        is run if it has not been).
    name : str, optional
        Grid name (default: the case file's stem).

    Returns
    -------
    Grid
        Machine data on the case base (see the module docstring); the operating point is
        ANDES's power-flow solution; ``provenance["andes"]`` records the case path, the
        models mapped, approximated and ignored, each machine's governor transfer
        function (``governors``) and armature resistance (``machines[*].ra_pu``, case base).

    Raises
    ------
    CaseFileError
        ANDES cannot load the case, or the case holds devices netcoh does not map (the
        message lists them), or a static generator has no dynamic machine.
    SolverError
        ANDES's power flow does not converge.

    Examples
    --------
    >>> from netcoh.grids.andes import MACHINE_MODELS, GOVERNOR_MODELS, from_andes
    >>> MACHINE_MODELS, GOVERNOR_MODELS[:3]
    (('GENCLS', 'GENROU'), ('TGOV1', 'TGOV1N', 'TGOV1DB'))
    >>> grid = from_andes("kundur/kundur_full.xlsx")     # doctest: +SKIP
    >>> grid.n_machines, grid.machines.inertia_s.tolist()  # doctest: +SKIP
    (4, [117.0, 117.0, 111.15, 111.15])
    """
    if hasattr(case, "models") and hasattr(case, "PFlow"):
        ss, path = case, Path(getattr(case.files, "case", "") or "andes-system")
    else:
        path, _ = _split_case(case)
        ss = load_andes(case)
    kinds = classify_models(ss)
    if kinds["unmapped"]:
        raise CaseFileError(_unmapped_message(path, kinds["unmapped"]))
    if not ss.PFlow.converged:
        ss.PFlow.run()
        if not ss.PFlow.converged:
            raise SolverError(f"{path}: ANDES power flow did not converge")
    base = float(ss.config.mva)
    f_hz = float(ss.config.freq)

    # -- buses --------------------------------------------------------------------------
    bus_ids = [str(i) for i in ss.Bus.idx.v]
    bus_kv = dict(zip(bus_ids, np.asarray(ss.Bus.Vn.v, dtype=float)))
    buses = {"id": bus_ids, "base_kv": list(bus_kv.values()),
             "vm_pu": list(np.asarray(ss.Bus.v.v, dtype=float)),
             "va_deg": list(np.degrees(np.asarray(ss.Bus.a.v, dtype=float)))}

    # -- branches (ANDES's own conversion to the system impedance base) ------------------
    L = ss.Line
    branches = {"id": [str(i) for i in L.idx.v], "from_bus": [str(b) for b in L.bus1.v],
                "to_bus": [str(b) for b in L.bus2.v], "r_pu": list(L.r.v), "x_pu": list(L.x.v),
                "b_pu": list(np.asarray(L.b.v) + np.asarray(L.b1.v) + np.asarray(L.b2.v)),
                "tap_ratio": list(L.tap.v), "shift_deg": list(np.degrees(L.phi.v)),
                "in_service": list(_in_service(L))}

    # -- static generators: power-flow output --------------------------------------------
    sg = {}
    for mdl in (ss.PV, ss.Slack):
        for k, idx in enumerate(mdl.idx.v):
            sg[str(idx)] = (float(mdl.p.v[k]), float(mdl.q.v[k]), str(mdl.bus.v[k]),
                            mdl is ss.Slack, bool(mdl.u.v[k] > 0))

    # -- machines -------------------------------------------------------------------------
    recs, used_gen = [], {}
    for mname in MACHINE_MODELS:
        mdl = getattr(ss, mname)
        if mdl.n == 0:
            continue
        for r in _vin(mdl):
            gen = str(r["gen"])
            if gen not in sg:
                raise CaseFileError(f"{path}: {mname} {r['idx']}: static generator {gen!r} "
                                    f"not found")
            p, q, bus, slack, on = sg[gen]
            used_gen[gen] = used_gen.get(gen, 0) + 1
            k = float(r["Sn"]) / base
            vb = bus_kv[str(r["bus"])]
            zconv = (float(r["Vn"]) ** 2 / float(r["Sn"])) / (vb ** 2 / base)
            recs.append({"id": str(r["idx"]), "model": mname, "bus": str(r["bus"]),
                         "inertia_s": float(r["M"]) * k, "damping_pu": float(r["D"]) * k,
                         "xd": float(r["xd1"]) * zconv, "ra": float(r["ra"]) * zconv,
                         "sub": ({"xd2_pu": float(r["xd2"]) * zconv,
                                  "xq2_pu": float(r["xq2"]) * zconv,
                                  "xq1_pu": float(r["xq1"]) * zconv,
                                  "td20_s": float(r["Td20"]), "tq20_s": float(r["Tq20"])}
                                 if mname == "GENROU" else {}),
                         "rating_mva": float(r["Sn"]),
                         "p_mw": p * float(r["gammap"]) * base,
                         "q_mvar": q * float(r["gammaq"]) * base,
                         "vm_pu": float(ss.Bus.v.v[bus_ids.index(bus)]), "slack": slack,
                         "in_service": bool(r["u"]) and on, "Sn": float(r["Sn"])})
    missing = sorted(g for g, (_, _, _, _, on) in sg.items() if on and g not in used_gen)
    if missing:
        raise CaseFileError(f"{path}: static generator(s) {', '.join(missing)} have no dynamic "
                            f"machine (GENCLS/GENROU); netcoh cannot model them")
    if not recs:
        raise CaseFileError(f"{path}: no GENCLS/GENROU machines: the case has no dynamic data")
    by_id = {r["id"]: r for r in recs}

    # -- governors ------------------------------------------------------------------------
    govs = []
    for gname in GOVERNOR_MODELS:
        mdl = getattr(ss, gname)
        if mdl.n == 0:
            continue
        for r in _vin(mdl):
            if not r["u"]:
                continue
            syn = str(r["syn"])
            if syn not in by_id:
                raise CaseFileError(f"{path}: {gname} {r['idx']}: machine {syn!r} not found")
            if gname == "IEEEG1" and r.get("syn2") not in (None, "", "None") and \
                    not (isinstance(r.get("syn2"), float) and math.isnan(r["syn2"])):
                raise CaseFileError(f"{path}: ANDES models netcoh does not map: IEEEG1 "
                                    f"{r['idx']} drives two machines (syn2 = {r['syn2']!r}, "
                                    f"cross-compound)")
            if gname in _DEADBAND and any(float(r[c] or 0.0) != 0.0 for c in _DEADBAND[gname]):
                lo, hi = _DEADBAND[gname]
                raise CaseFileError(
                    f"{path}: ANDES models netcoh does not map: {gname} {r['idx']} has a speed "
                    f"deadband ({lo} = {r[lo]}, {hi} = {r[hi]}): a linear model cannot follow "
                    f"it (only zero-width deadbands are mapped)")
            tn = float(r["Tn"]) if r["Tn"] else by_id[syn]["Sn"]
            kt = tn / base
            if gname == "IEEEG1":
                gain = float(r["K"]) * kt
            elif gname == "IEESGO":
                # ANDES applies K1 without a base conversion (it is not a power parameter
                # there): the simulator's gain on the case base is K1 itself
                gain = float(r["K1"])
            else:
                gain = kt / float(r["R"])
            num, den = _governor_tf(gname, r)
            tm0 = by_id[syn]["p_mw"] / base
            limits = {"IEEEG1": ("PMAX", "PMIN"), "IEESGO": ("PMAX", "PMIN"),
                      "TG2": ("pmax", "pmin")}.get(gname, ("VMAX", "VMIN"))
            vmax, vmin = float(r[limits[0]]) * kt, float(r[limits[1]]) * kt
            at = "upper" if tm0 >= vmax - 1e-9 else ("lower" if tm0 <= vmin + 1e-9 else None)
            govs.append({"machine": syn, "model": gname, "id": str(r["idx"]),
                         "gain_pu": gain, "num": [float(x) for x in num],
                         "den": [float(x) for x in den],
                         "damping_pu": float(r.get("Dt", 0.0) or 0.0) * kt,
                         "tau_fit_s": _first_moment_tau(num, den),
                         "p_max_pu": vmax, "p_min_pu": vmin, "at_limit": at})
    gov_of = {}
    for gv in govs:
        if gv["machine"] in gov_of:
            raise CaseFileError(f"{path}: machine {gv['machine']!r} has two governors "
                                f"({gov_of[gv['machine']]['id']}, {gv['id']})")
        gov_of[gv["machine"]] = gv

    machines = {c: [] for c in ("id", "bus", "pandapower_element", "inertia_s", "damping_pu",
                                "droop_gain_pu", "turbine_tau_s", "transient_reactance_pu",
                                "rating_mva", "p_mw", "q_mvar", "vm_pu", "slack", "in_service")}
    for r in recs:
        gv = gov_of.get(r["id"])
        for c in ("id", "bus", "inertia_s", "damping_pu", "rating_mva", "p_mw", "q_mvar",
                  "vm_pu", "slack", "in_service"):
            machines[c].append(r[c])
        machines["pandapower_element"].append(None)
        machines["transient_reactance_pu"].append(r["xd"] if r["xd"] > 0 else math.nan)
        machines["droop_gain_pu"].append(gv["gain_pu"] if gv else math.nan)
        machines["turbine_tau_s"].append(max(gv["tau_fit_s"], 1e-3) if gv else math.nan)

    # -- loads and shunts -----------------------------------------------------------------
    on = _in_service(ss.PQ)
    loads = {"id": [str(i) for i, o in zip(ss.PQ.idx.v, on) if o],
             "bus": [str(b) for b, o in zip(ss.PQ.bus.v, on) if o],
             "p_mw": list(np.asarray(ss.PQ.p0.v)[on] * base),
             "q_mvar": list(np.asarray(ss.PQ.q0.v)[on] * base)}
    on = _in_service(ss.Shunt)
    shunts = {"id": [str(i) for i, o in zip(ss.Shunt.idx.v, on) if o],
              "bus": [str(b) for b, o in zip(ss.Shunt.bus.v, on) if o],
              "g_mw": list(np.asarray(ss.Shunt.g.v)[on] * base),
              "b_mvar": list(np.asarray(ss.Shunt.b.v)[on] * base)}

    prov = {
        "source": f"ANDES case {path.name} (read at run time with andes.load; ANDES and its "
                  f"case files are GPL-3.0 and are not redistributed by netcoh)",
        "licence": "as of the ANDES case file (GPL-3.0 distribution of public test systems)",
        "synthesised": [],
        "andes": {"case": str(path), "machine_models": sorted({r["model"] for r in recs}),
                  "mapped": kinds["mapped"], "approximated": kinds["approximated"],
                  "ignored": kinds["ignored"], "governors": govs,
                  "machines": [{"id": r["id"], "model": r["model"], "ra_pu": r["ra"],
                                **r["sub"]} for r in recs],
                  "turbine_tau_rule": "turbine_tau_s = first moment of the governor transfer "
                                      "function (T1 + T3 - T2 for TGOV1); full model in "
                                      "governors[*].num/den"},
    }
    return Grid(name=name or path.stem, title=f"ANDES {path.name}", base_mva=base, f_hz=f_hz,
                tables={"buses": buses, "branches": branches, "machines": machines,
                        "loads": loads, "shunts": shunts},
                provenance=prov, topology="inline", source=str(path))


def governor_nodal(grid: Grid, *, at_limit: str = "upper", machines=None):
    """Nodal models of a grid's machines with their governors (see
    :func:`netcoh.grids.case_model.governor_nodal`, which this calls).

    Parameters
    ----------
    grid : Grid
        A grid from :func:`from_andes`.
    at_limit : {"upper", "lower", "none"}
        Governors at a valve limit at the operating point are left out for events in that
        direction.
    machines : sequence of str, optional
        Machine ids in the wanted order (default: in-service machines in table order).

    Returns
    -------
    NodalDynamics
        One rational node ``1/(m s + d + Dt + K num(s)/den(s))`` per machine.

    Examples
    --------
    >>> grid = from_andes("kundur/kundur_full.xlsx")
    >>> governor_nodal(grid).orders.tolist()
    [3, 3, 3, 3]
    """
    if not isinstance(grid, Grid):
        raise NetcohTypeError(f"`grid` must be a Grid, got {type(grid).__name__}")
    return _case.governor_nodal(grid, at_limit=at_limit, machines=machines)


def to_system(grid: Grid, model: str = "governor", *, at_limit: str = "upper", **kwargs):
    """Deprecated: use :meth:`Grid.to_system <netcoh.grids.Grid.to_system>` (``model="case"``).

    ``model="governor"`` is now ``grid.to_system(model="case")`` (the case's governors on the
    lossy AC network); ``"swing"`` and ``"swing_turbine"`` go to :meth:`Grid.to_system`
    unchanged.

    Parameters
    ----------
    grid : Grid
        A grid from :func:`from_andes`.
    model : {"governor", "swing", "swing_turbine"}
        Machine model.
    at_limit : {"upper", "lower", "none"}
        Governors at a valve limit (``"governor"`` only).
    **kwargs
        Passed to :meth:`Grid.to_system`.

    Returns
    -------
    NetworkSystem
        As :meth:`Grid.to_system`.

    Examples
    --------
    >>> import warnings
    >>> grid = from_andes("kundur/kundur_full.xlsx")
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", DeprecationWarning)
    ...     to_system(grid).n
    4
    """
    warnings.warn("netcoh.grids.andes.to_system is deprecated; use grid.to_system() "
                  "(model='case' for the case's own governors)", DeprecationWarning, stacklevel=2)
    if model == "governor":
        return grid.to_system(model="case", at_limit=at_limit, **kwargs)
    if model not in ("swing", "swing_turbine"):
        raise InputError(f"`model` must be 'swing', 'swing_turbine' or 'governor', got {model!r}")
    _case._check_at_limit(at_limit)
    if model == "swing_turbine":
        grid = _drop_limited(grid, at_limit)
    return grid.to_system(model=model, **kwargs)


def _drop_limited(grid: Grid, at_limit: str) -> Grid:
    gov = {g["machine"]: g for g in grid.provenance.get("andes", {}).get("governors", [])}
    M = grid.tables["machines"]
    droop = np.array(M["droop_gain_pu"])
    hit = [k for k, mid in enumerate(M["id"]) if gov.get(str(mid), {}).get("at_limit") == at_limit]
    if not hit:
        return grid
    droop[hit] = np.nan
    tabs = dict(grid.tables)
    tabs["machines"] = {**dict(M), "droop_gain_pu": droop}
    return dataclasses.replace(grid, tables=tabs)
