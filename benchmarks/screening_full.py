"""N-1 screening of ANDES cases on the full linear model against the ``"case"`` model.

Run: ``OPENBLAS_NUM_THREADS=1 python benchmarks/screening_full.py [--cases ...] [--andes K]``
(needs the extra ``validate``).

For each case (default ieee14_full, kundur_full, ieee39_full) every branch outage and unit
trip is screened twice with operator semantics on 2 worker processes: on the ``"case"``
model (machines as nodes of the lossy network, EMF held constant; modal updates per
contingency) and on ``model="full"`` (the case linearised again by ANDES for every
contingency: flux dynamics, exciters, stabilisers, governors). Prints the wall time of both
in the same run, and per kind of disturbance how far the ``"case"`` rows are from the
``"full"`` ones (local nadir, COI nadir, COI RoCoF, quasi-steady state; relative, median and
largest) and how often the worst machine is the same.

Where the full model of a branch outage is unstable, ANDES's own eigenvalue routine (``EIG``) is
run on the same post-outage case and its rightmost eigenvalues are printed beside it.
``--andes K`` also simulates in ANDES (20 s, constant-power loads, criteria off) the K
largest events with a definite input (unit trips and line trips that cut buses off) and
prints both models' worst-machine and COI nadir errors against it.
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings

import numpy as np
import pandas as pd

import netcoh as nc
from netcoh.exceptions import SolverError
from netcoh.grids.andes import from_andes

CASES = ("ieee14/ieee14_full.xlsx", "kundur/kundur_full.xlsx", "ieee39/ieee39_full.xlsx")
KEYS = ("nadir_hz", "coi_nadir_hz", "rocof_hz_per_s", "qss_hz")


def _screen(grid, model):
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = nc.screen_contingencies(grid, model=model, executor="processes", n_jobs=2)
    return res.to_frame().set_index("contingency"), time.perf_counter() - t0


def _compare(case_df, full_df):
    both = case_df.join(full_df, lsuffix="_case", rsuffix="_full", how="inner")
    both = both[np.isfinite(both["nadir_hz_case"]) & np.isfinite(both["nadir_hz_full"])]
    out = []
    for kind, grp in both.groupby("disturbance_full"):
        line = {"disturbance": kind, "rows": len(grp),
                "same worst machine": f"{(grp['worst_bus_case'] == grp['worst_bus_full']).mean():.0%}"}
        for k in KEYS:
            rel = np.abs(grp[f"{k}_case"] / grp[f"{k}_full"] - 1.0)
            line[k] = f"{100 * np.nanmedian(rel):.1f} / {100 * np.nanmax(rel):.1f} %"
        out.append(line)
    return pd.DataFrame(out).set_index("disturbance")


def _andes_eig(case, line):
    """The rightmost eigenvalues ANDES's own routine finds with ``line`` out of service."""
    from netcoh.validate import andes_variant

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ss = andes_variant(case, classical=False)
        ss.set_status("Line", line, 0)
        ss.PFlow.run()
        ss.TDS.init()
        ss.EIG.run()
    mu = np.asarray(ss.EIG.mu)
    top = mu[np.argsort(-mu.real)][:4]
    return ", ".join(f"{z.real:.6g}{z.imag:+.6g}j" for z in top)


def _andes_check(case, grid, case_df, full_df, k):
    from netcoh.screening.full_model import full_system
    from netcoh.validate import simulate_andes

    rows = full_df[full_df["disturbance"].isin(["infeed-loss", "island-imbalance"])
                   & np.isfinite(full_df["nadir_hz"])]
    rows = rows.sort_values("lost_mw", ascending=False).head(k)
    out = []
    for name, row in rows.iterrows():
        elem = name.split(":", 1)[1]
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                g, t, w, _ = simulate_andes(case, trips=(elem,), t_end_s=20.0)
        except SolverError as exc:
            out.append({"event": name, "lost_mw": f"{row['lost_mw']:.0f}",
                        "ANDES worst machine Hz": f"no reference: {str(exc).split(': ', 1)[-1]}"})
            continue
        t_andes = time.perf_counter() - t0
        lin = full_system(case, trips=(elem,))
        M = g.tables["machines"]
        ids = [str(i) for i in M["id"][M["in_service"]]]
        ref = w[:, [ids.index(m) for m in lin.labels]] * grid.f_hz
        wc = np.asarray(lin.inertia_weights)
        ref_local, ref_coi = np.abs(ref).max(), np.abs(ref @ wc).max()
        line = {"event": name, "lost_mw": f"{row['lost_mw']:.0f}", "andes_s": f"{t_andes:.1f}",
                "ANDES worst machine Hz": f"{ref_local:.4f}"}
        for label, df in (("case", case_df), ("full", full_df)):
            r = df.loc[name]
            line[f"{label} worst / COI err"] = (f"{100 * (r['nadir_hz'] / ref_local - 1):+.1f} / "
                                               f"{100 * (r['coi_nadir_hz'] / ref_coi - 1):+.1f} %")
        out.append(line)
    return pd.DataFrame(out).set_index("event")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="+", default=list(CASES))
    ap.add_argument("--andes", type=int, default=0, metavar="K",
                    help="simulate the K largest definite events in ANDES (20 s each)")
    args = ap.parse_args()
    pd.set_option("display.width", 200)
    for case in args.cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            grid = from_andes(case)
        case_df, t_case = _screen(grid, "case")
        full_df, t_full = _screen(grid, "full")
        n = len(full_df)
        failed = int((full_df["status"] == "failed").sum())
        print(f"\n== {case}: {n} contingencies; 'case' model {t_case:.1f} s, 'full' model "
              f"{t_full:.1f} s ({t_full / max(n, 1):.2f} s per contingency on 2 processes, "
              f"{t_full / t_case:.0f}x the 'case' model); full rows failed: {failed}")
        if failed:
            print(full_df.loc[full_df["status"] == "failed", "error"].to_string())
        differ = case_df.join(full_df, lsuffix="_case", rsuffix="_full")
        differ = differ[differ["status_case"] != differ["status_full"]]
        if len(differ):
            print("status differs (case -> full):", "; ".join(
                f"{c}: {a} -> {b}" for c, a, b in zip(differ.index, differ["status_case"],
                                                       differ["status_full"])))
            for c, msg in differ["warning_full"].items():
                if msg:
                    print(f"  {c}: {msg[:110]}")
                if c.startswith("branch:") and differ.loc[c, "status_full"] == "unstable":
                    print(f"    ANDES's EIG on the post-outage case: {_andes_eig(case, c[7:])}")
        print("'case' against 'full' where both are finite (relative difference, median / "
              "largest):")
        print(_compare(case_df, full_df).to_string())
        top = full_df.sort_values("nadir_hz", ascending=False).head(5)
        print("five worst on 'full':", ", ".join(f"{c} {v:.3f} Hz" for c, v in
                                                 top["nadir_hz"].items()))
        top = case_df.sort_values("nadir_hz", ascending=False).head(5)
        print("five worst on 'case':", ", ".join(f"{c} {v:.3f} Hz" for c, v in
                                                 top["nadir_hz"].items()))
        if args.andes:
            print(f"against ANDES's simulation ({args.andes} largest definite events):")
            print(_andes_check(case, grid, case_df, full_df, args.andes).to_string())
    self_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\npeak RSS: this process {self_mib:.0f} MiB, largest worker {child_mib:.0f} MiB")


if __name__ == "__main__":
    main()
