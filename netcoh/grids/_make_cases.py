"""Regenerate the shipped case files ``netcoh/grids/data/*.json``.

Run ``python -m netcoh.grids._make_cases``. Machine data of ``ieee39`` and ``kundur`` are typed
in here from the published literature (not from any GPL data file); ``gb`` and ``case145``
machine tables are synthesised by the rules of :mod:`netcoh.grids.synth` (fixed seed), their
topologies are read from pandapower at load time.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from . import synth

DATA = Path(__file__).parent / "data"
FORMAT = {"format": "netcoh-grid", "format_version": 1}

DAMPING_RULE = ("damping D = 1 p.u. on the rating S_i, i.e. d_i = S_i/S_base on the case base "
                "(the AUT25 rule d_i = rating/(2 pi f0) with omega in p.u.); the source gives D = 0")


def kundur() -> dict:
    # Kundur (1994), Power System Stability and Control, Example 12.6 (two-area system).
    # 100 MVA, 230 kV base; lines r = 1e-4, x = 1e-3, b = 1.75e-3 p.u./km.
    def line(i, a, b, km):
        return {"id": i, "from_bus": a, "to_bus": b, "r_pu": round(1e-4 * km, 10),
                "x_pu": round(1e-3 * km, 10), "b_pu": round(1.75e-3 * km, 10)}

    xt = 0.15 * 100 / 900          # 0.15 p.u. on 900 MVA transformer base
    branches = [
        {"id": "T1-5", "from_bus": "1", "to_bus": "5", "x_pu": xt},
        {"id": "T2-6", "from_bus": "2", "to_bus": "6", "x_pu": xt},
        {"id": "T3-11", "from_bus": "3", "to_bus": "11", "x_pu": xt},
        {"id": "T4-10", "from_bus": "4", "to_bus": "10", "x_pu": xt},
        line("L5-6", "5", "6", 25), line("L6-7", "6", "7", 10),
        line("L7-8a", "7", "8", 110), line("L7-8b", "7", "8", 110),
        line("L8-9a", "8", "9", 110), line("L8-9b", "8", "9", 110),
        line("L9-10", "9", "10", 10), line("L10-11", "10", "11", 25),
    ]
    buses = [{"id": str(i), "base_kv": 20.0 if i <= 4 else 230.0} for i in range(1, 12)]
    gens = [("G1", "1", 6.5, 700.0, 1.03), ("G2", "2", 6.5, 700.0, 1.01),
            ("G3", "3", 6.175, 719.0, 1.03), ("G4", "4", 6.175, 700.0, 1.01)]
    machines = [{"id": g, "bus": b, "base_mva": 900.0, "rating_mva": 900.0, "inertia_h_s": h,
                 "damping_pu": 1.0, "droop_r_pu": 0.05, "turbine_tau_s": 5.0,
                 "transient_reactance_pu": 0.3, "p_mw": p, "vm_pu": v, "slack": g == "G3"}
                for g, b, h, p, v in gens]
    return {**FORMAT, "name": "kundur",
            "title": "Kundur two-area, four-machine system (11 buses)",
            "base_mva": 100.0, "f_hz": 60.0, "topology": "inline",
            "provenance": {
                "source": "P. Kundur, Power System Stability and Control, McGraw-Hill, 1994, "
                          "Example 12.6: network, loads, generation, H (6.5 s / 6.175 s on "
                          "900 MVA), X'd = 0.3 p.u. on 900 MVA. Re-entered by hand from the "
                          "book; operating point solved by netcoh's AC power flow.",
                "licence": "textbook test-system data (facts, public domain); file: BSD-3-Clause",
                "synthesised": [
                    {"fields": ["damping_pu"], "rule": DAMPING_RULE},
                    {"fields": ["droop_r_pu", "turbine_tau_s"], "rule": synth.TURBINE_RULE},
                ]},
            "buses": buses, "branches": branches, "machines": machines,
            "loads": [{"id": "L7", "bus": "7", "p_mw": 967.0, "q_mvar": 100.0},
                      {"id": "L9", "bus": "9", "p_mw": 1767.0, "q_mvar": 100.0}],
            "shunts": [{"id": "C7", "bus": "7", "b_mvar": 200.0},
                       {"id": "C9", "bus": "9", "b_mvar": 350.0}]}


# Pai (1989), Energy Function Analysis for Power System Stability, New England 39-bus system
# (data of Athay, Podmore & Virmani 1979): H (s) and x'_d (p.u.) on the 100 MVA base.
IEEE39_MACHINES = {  # bus: (H_s, xd_pu)
    "30": (42.0, 0.031), "31": (30.3, 0.0697), "32": (35.8, 0.0531), "33": (28.6, 0.0436),
    "34": (26.0, 0.132), "35": (34.8, 0.05), "36": (26.4, 0.049), "37": (24.3, 0.057),
    "38": (34.5, 0.057), "39": (500.0, 0.006),
}


def ieee39() -> dict:
    import pandapower.networks as pn
    net = pn.case39()
    machines = []
    for el, bus, _p, _s in synth.machine_elements(net):
        name = str(net.bus.name.loc[bus])
        h, xd = IEEE39_MACHINES[name]
        table, idx = el.split(":")
        rating = float(getattr(net, table).max_p_mw.loc[int(idx)])
        machines.append({"id": f"G{name}", "bus": name, "pandapower_element": el,
                         "inertia_h_s": h, "transient_reactance_pu": xd, "rating_mva": rating,
                         "damping_pu": rating / 100.0,
                         "droop_r_pu": 0.05 * 100.0 / rating, "turbine_tau_s": 5.0})
    machines.sort(key=lambda r: r["id"])
    return {**FORMAT, "name": "ieee39",
            "title": "IEEE 39-bus New England system, 10 machines (bus 39: equivalent of the "
                     "rest of the interconnection, H = 500 s)",
            "base_mva": 100.0, "f_hz": 60.0, "topology": {"pandapower": "case39"},
            "provenance": {
                "source": "network and operating point: pandapower.networks.case39() "
                          "(MATPOWER case39, from Athay, Podmore & Virmani, IEEE Trans. PAS "
                          "98(2), 1979); machine H and x'd on 100 MVA: M. A. Pai, Energy "
                          "Function Analysis for Power System Stability, Kluwer, 1989 "
                          "(New England system data), re-entered by hand.",
                "licence": "network data BSD-3-Clause (pandapower/MATPOWER); machine data "
                           "published test-system values (public domain); file: BSD-3-Clause",
                "synthesised": [
                    {"fields": ["rating_mva"], "rule": "rating S_i = max_p_mw of the "
                                                       "pandapower/MATPOWER generator"},
                    {"fields": ["damping_pu"], "rule": DAMPING_RULE},
                    {"fields": ["droop_r_pu", "turbine_tau_s"], "rule": synth.TURBINE_RULE},
                ]},
            "machines": machines}


def gb() -> dict:
    import pandapower.networks as pn
    net = pn.GBnetwork()
    recs, syn = synth.uniform_inertia_machines(net, seed=20240226)
    return {**FORMAT, "name": "gb",
            "title": "Great Britain transmission network: 2224 buses, 3207 branches, "
                     "394 machines",
            "base_mva": 100.0, "f_hz": 50.0, "topology": {"pandapower": "GBnetwork"},
            "provenance": {
                "source": "topology and operating point: pandapower.networks.GBnetwork() "
                          "(University of Edinburgh Power Systems Test Case Archive, full GB "
                          "network); machine data synthesised by the rule of Y. Jiang, H. Min, "
                          "B. Zhang, 'Oscillations-aware frequency security assessment via "
                          "efficient worst-case frequency nadir computation', EPSR 234 (2024) "
                          "110656 (arXiv 2402.16765), GB case: m_i ~ U(0, 1000) s, "
                          "d_i = m_i * 16/4.38. The paper's random seed is unknown, so the "
                          "values are not the paper's.",
                "licence": "network: pandapower (BSD-3-Clause) / Edinburgh archive; "
                           "synthesised data and file: BSD-3-Clause",
                "synthesised": syn},
            "machines": recs}


def case145() -> dict:
    import pandapower.networks as pn
    net = pn.case145()
    recs, syn = synth.proportional_machines(net)
    return {**FORMAT, "name": "case145",
            "title": "IEEE 145-bus, 50-machine system (network of the PST 50-generator "
                     "dynamic test case)",
            "base_mva": 100.0, "f_hz": 60.0, "topology": {"pandapower": "case145"},
            "provenance": {
                "source": "topology and operating point: pandapower.networks.case145() "
                          "(MATPOWER case145 from dd50cdf.txt, the power-flow data of the "
                          "IEEE 50-generator dynamic test case, Chow & Cheung 1992). Its "
                          "dynamic data (PST data50m) is not available here: machines are "
                          "synthesised proportional to rating with the EPSR24 representative "
                          "unit (m = 4.38 s, d = 16 p.u. on the unit's rating).",
                "licence": "network: pandapower/MATPOWER (BSD-3-Clause); synthesised data and "
                           "file: BSD-3-Clause",
                "synthesised": syn},
            "machines": recs}


def main() -> None:
    DATA.mkdir(exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for fn in (kundur, ieee39, gb, case145):
            doc = fn()
            path = DATA / f"{doc['name']}.json"
            path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
            print(path, path.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
