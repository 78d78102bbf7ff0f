"""Operator screening of pandapower's large cases: case1354pegase, case2869pegase, GBnetwork.

Default semantics and model (``screen_contingencies`` defaults: unit trips lose their
dispatch, splits their imbalance, intact-grid outages face the reference incident; the
swing-turbine model; machine data synthesised for pandapower nets). For each case it
screens a stated subset -- the unit trips of the ``--trips`` largest units and the first
``--branches`` branch outages that split the grid or cut off load, plus ``--meshed`` outages
that keep the grid whole -- and prints the wall time of each stage, the CPU time per
contingency by kind, the peak memory, and the top rows with the COI and the local nadir
side by side. It checks what an operator relies on: every unit trip loses exactly its
dispatch, no disturbance takes more from a unit than its dispatch.

With ``--baseline`` it also times the largest unit trip of the first case through the
general search (every column of the step-response matrix, as before the given step was
searched on its own column) in the same run, and prints the ratio.

Run:  OPENBLAS_NUM_THREADS=1 python benchmarks/screening_pegase.py [--cases ...]
      [--trips 10] [--branches 10] [--meshed 0] [--jobs 2] [--horizon S] [--baseline]
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import warnings

import numpy as np

import netcoh.grids as grids
from netcoh.screening import Contingency, ScreeningContext, screen_contingencies

CASES = ("case1354pegase", "case2869pegase", "GBnetwork")


def _peak_mib():
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, kids


def _subset(grid, ctx, trips, branches, meshed):
    disp = {mid: float(ctx.dispatch[k]) for mid, (k, _, _) in ctx.machines.items()}
    units = sorted(disp, key=lambda m: -disp[m])[:trips]
    cut = [b for b, v in ctx.branches.items() if v[3] != ""][:branches]
    whole = [b for b, v in ctx.branches.items() if v[3] == ""][:meshed]
    conts = ([Contingency("machine", m) for m in units]
             + [Contingency("branch", b) for b in cut + whole])
    return conts, disp


def _baseline(grid, ctx, unit, kw):
    """One unit trip searched on its own column and through every column (the general
    search, as before), timed in the same run."""
    import netcoh.analysis.nadir as nd
    from netcoh.analysis.nadir import build_modal_model, worst_case_nadir
    from netcoh.analysis.nadir_sets import FixedStep
    from netcoh.screening.events import operator_events

    ev = operator_events(ctx, Contingency("machine", unit))[0][0]
    model, _ = build_modal_model(ev.system)
    out, restrict = {}, nd.restrict
    for label in ("one column", "all columns"):
        if label == "all columns":
            nd.restrict = lambda model, dset: (model, dset, lambda z: z)
        try:
            t0 = time.perf_counter()
            res = worst_case_nadir(ev.system, disturbance_set=FixedStep(ev.u), model=model,
                                   full_table=False, f_hz=grid.f_hz, **kw)
            out[label] = (time.perf_counter() - t0, res.value_hz)
        finally:
            nd.restrict = restrict
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", nargs="+", default=list(CASES))
    ap.add_argument("--trips", type=int, default=10, help="largest units tripped")
    ap.add_argument("--branches", type=int, default=10,
                    help="branch outages that split the grid or cut off load")
    ap.add_argument("--meshed", type=int, default=0,
                    help="branch outages that keep the grid whole (reference incident)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--horizon", type=float, default=None,
                    help="search window (s); default: all t >= 0, certified")
    ap.add_argument("--dt", type=float, default=0.01)
    ap.add_argument("--baseline", action="store_true")
    args = ap.parse_args()
    import pandapower.networks as pn

    kw = dict(dt=args.dt, horizon=args.horizon)
    print(f"{os.cpu_count()} cores; OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')};"
          f" settings: defaults, dt={args.dt}, horizon={args.horizon}")
    for case in args.cases:
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            grid = grids.load(getattr(pn, case)(), name=case)
        t_load = time.perf_counter() - t0
        t0 = time.perf_counter()
        ctx = ScreeningContext.from_grid(grid)
        t_ctx = time.perf_counter() - t0
        conts, disp = _subset(grid, ctx, args.trips, args.branches, args.meshed)
        synth = sorted({f for x in grid.provenance.get("synthesised") or [] for f in x["fields"]})
        print(f"\n{case}: {len(grid.buses) if hasattr(grid, 'buses') else '?'} buses, "
              f"{grid.n_machines} machines, {len(ctx.branches)} branches; load {t_load:.1f} s, "
              f"power flow + network model {t_ctx:.1f} s; synthesised: {', '.join(synth)}")
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = screen_contingencies(grid, conts, executor="processes", n_jobs=args.jobs, **kw)
        wall = time.perf_counter() - t0
        df = res.to_frame()
        own, kids = _peak_mib()
        print(f"  screened {len(df)} contingencies ({sum(c.kind == 'machine' for c in conts)} "
              f"unit trips, {sum(c.kind == 'branch' for c in conts)} branches) with processes "
              f"x{args.jobs}: {wall:.1f} s wall including the intact case; peak RSS {own:.0f} "
              f"MiB (main), {kids:.0f} MiB (largest worker)")
        for kind, g in df[df.elapsed_s > 0].groupby("disturbance"):
            print(f"    {kind}: {len(g)} evaluated, CPU {g.elapsed_s.mean():.2f} s mean, "
                  f"{g.elapsed_s.max():.2f} s max")
        print(f"  intact (reference incident {res.settings['incident_mw']:.0f} MW): "
              f"{res.base.value_hz:.4f} Hz at {res.base.bus}; status counts "
              f"{df.status.value_counts().to_dict()}")
        trips = df[df.kind == "machine"]
        lost_ok = np.allclose(trips.lost_mw.to_numpy(),
                              [disp[e] * grid.base_mva for e in trips.element], rtol=1e-9)
        # losses of units: trips and the reference incident (an island's imbalance is a
        # network injection shared by its machines, not a unit's loss)
        lost = df.contingency[df.disturbance.isin(["infeed-loss", "reference-incident"])]
        dd = res.disturbances[res.disturbances.contingency.isin(lost)]
        cap = dd.machine.map({m: v * grid.base_mva for m, v in disp.items()}).fillna(0.0)
        over = int((dd.p_mw > cap * (1 + 1e-9) + 1e-6).sum())
        both = bool(df[["nadir_hz", "coi_nadir_hz"]].notna().all(axis=None))
        print(f"  checks: trip dP == dispatch: {lost_ok}; units losing more than their dispatch:"
              f" {over}; COI and local nadir on every row: {both}")
        print(df.head(8)[["contingency", "disturbance", "lost_mw", "nadir_hz", "worst_bus",
                          "coi_nadir_hz", "rocof_hz_per_s", "qss_hz", "status"]]
              .to_string(float_format=lambda x: f"{x:.4g}"))
        if args.baseline and case == args.cases[0]:
            unit = max(disp, key=disp.get)
            out = _baseline(grid, ctx, unit, kw)
            (ta, va, *_), (tb, vb, *_) = out.values()
            print(f"  largest unit trip {unit} ({disp[unit] * grid.base_mva:.0f} MW), same run: "
                  f"one column {ta:.2f} s ({va:.6f} Hz), all columns {tb:.2f} s ({vb:.6f} Hz): "
                  f"{tb / ta:.1f}x")


if __name__ == "__main__":
    main()
