"""``netcoh cases [NAME]``: the shipped grid cases with their sizes and provenance."""

from __future__ import annotations

import argparse
import json
import textwrap
import warnings

from ..exceptions import SynthesizedDataWarning

__all__ = ["register", "run", "case_table"]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "cases", help="list the shipped grid cases with sizes and provenance",
        description="List the grid cases shipped with netcoh (buses, branches, machines, "
                    "source, synthesised fields). With NAME, show that case's full provenance.")
    p.add_argument("name", nargs="?", help="a shipped case name (or a case file) to describe")
    p.add_argument("--quick", action="store_true",
                   help="read the case files only (no pandapower topology: bus and branch "
                        "counts of pandapower-based cases are shown as '-')")
    p.set_defaults(handler=run)


def case_table(quick: bool = False) -> list[dict]:
    """One row per shipped case: name, buses, branches, machines, topology, synthesised."""
    from .. import grids

    rows = []
    for name in grids.available():
        doc = json.loads(grids.case_path(name).read_text(encoding="utf-8"))
        topo = doc["topology"]
        row = {"name": name, "buses": "-", "branches": "-",
               "machines": sum(1 for m in doc["machines"] if m.get("in_service", True)),
               "f_hz": doc["f_hz"],
               "topology": "inline" if topo == "inline" else f"pandapower.{topo['pandapower']}()",
               "synthesised": ", ".join(sorted({f for s in doc["provenance"]["synthesised"]
                                                for f in s["fields"]})) or "none"}
        if topo == "inline":
            row["buses"], row["branches"] = len(doc["buses"]), len(doc["branches"])
        elif not quick:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SynthesizedDataWarning)
                s = grids.load(name).summary()
            row["buses"], row["branches"] = s["buses"], s["branches"]
        rows.append(row)
    return rows


def run(args: argparse.Namespace) -> int:
    from .. import grids
    from ._common import check_case

    if args.name:
        check_case(args.name, "NAME")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SynthesizedDataWarning)
            g = grids.load(args.name)
        s = g.summary()
        print(f"{g.name}: {g.title}")
        print(f"  {s['buses']} buses, {s['branches']} in-service branches, {s['machines']} "
              f"machines, base {g.base_mva:g} MVA, {g.f_hz:g} Hz")
        wrap = textwrap.TextWrapper(width=96, initial_indent="    ", subsequent_indent="    ")
        print("  source:")
        print(wrap.fill(str(g.provenance.get("source", ""))))
        print("  licence:")
        print(wrap.fill(str(g.provenance.get("licence", ""))))
        print("  synthesised:")
        for item in g.provenance.get("synthesised", []) or [{"fields": ["none"], "rule": ""}]:
            print(wrap.fill(f"{', '.join(item['fields'])}: {item['rule']}"))
        return 0
    rows = case_table(quick=args.quick)
    cols = ["name", "buses", "branches", "machines", "f_hz", "topology", "synthesised"]
    width = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols[:-1]}
    print("  ".join(c.ljust(width[c]) for c in cols[:-1]) + "  synthesised")
    for r in rows:
        print("  ".join(str(r[c]).ljust(width[c]) for c in cols[:-1]) + "  " + r["synthesised"])
    print("\nprovenance and licences: `netcoh cases NAME`, grids/README.md")
    return 0
