"""N-1 screening of every GB branch, and Dask 1-worker vs 2-worker speed-up.

Settings: rho = 0.5 (2-norm), 1 s window (the paper's), time grid dt = 0.05 s (the
supremum is still refined and certified in continuous time, so the coarser seed grid
changes speed, not the answer). Prints the wall time of the full sweep with local worker
processes, the worst contingencies, and the time of the same sweep (all branches, or the
first ``--subset``) on a fresh Dask LocalCluster with 1 and 2 workers (ratio measured in
the same run; each time includes the sweep's serial setup and the workers' first import).

Run:  OPENBLAS_NUM_THREADS=1 python benchmarks/screening_gb.py [--subset N] [--skip-full]
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import warnings

import netcoh.grids as grids
from netcoh.screening import contingency_list, screen_contingencies

# the paper's setting: proportional swing machines (the modal closed form)
KW = dict(rho=0.5, dt=0.05, horizon=1.0, threshold_hz="gb", model="swing")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--subset", type=int, default=None,
                    help="branches for the Dask comparison (default: all, the full N-1 sweep)")
    ap.add_argument("--skip-full", action="store_true")
    ap.add_argument("--skip-dask", action="store_true")
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    ap.add_argument("--model", default="swing",
                    help="machine model: swing (default, the paper's) or swing_turbine (the "
                         "CLI default; --full-subset times part of the sweep)")
    ap.add_argument("--full-subset", type=int, default=None,
                    help="screen only the first N branches in the processes run")
    args = ap.parse_args()
    KW["model"] = args.model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grid = grids.load("gb")
    branches = contingency_list(grid, "branches")
    print(f"GB: {len(branches)} branches, {grid.n_machines} machines, {os.cpu_count()} cores")
    if not args.skip_full:
        full = branches if args.full_subset is None else branches[: args.full_subset]
        t0 = time.perf_counter()
        res = screen_contingencies(grid, full, executor="processes", n_jobs=args.jobs,
                                   progress=True, **KW)
        wall = time.perf_counter() - t0
        df = res.to_frame()
        print(f"N-1 of {len(full)} branches, model={KW['model']}, processes x{args.jobs}: {wall:.1f} s "
              f"({wall / len(df) * 1e3:.0f} ms per contingency wall; "
              f"{res.settings['networks_evaluated']} distinct networks evaluated, "
              f"{df.elapsed_s[df.elapsed_s > 0].mean() * 1e3:.0f} ms CPU each); "
              f"failed {len(res.failed)}, certified {int(df.certified.sum())}/{len(df)}")
        print(f"intact: {res.base.value_hz:.4f} Hz at {res.base.bus}")
        print(df.head(8)[["contingency", "worst_bus", "nadir_hz", "time_s", "islands"]]
              .to_string())
    if args.skip_dask:
        return
    sub = branches if args.subset is None else branches[: args.subset]
    from dask.distributed import Client, LocalCluster

    times = {}
    for workers in (1, 2):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            t0 = time.perf_counter()
            r = screen_contingencies(grid, sub, scheduler=client, **KW)
            times[workers] = time.perf_counter() - t0
            print(f"dask LocalCluster {workers} worker(s), {len(sub)} branches: "
                  f"{times[workers]:.1f} s (worst {r.worst.contingency}, {r.worst.nadir_hz:.4f} Hz)")
    print(f"dask speed-up 2 vs 1 workers: {times[1] / times[2]:.2f}x")
    print(f"peak RSS (this process): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10:.0f} MiB")


if __name__ == "__main__":
    main()
