"""GB operator screening with swing-turbine machines: this tree against an earlier revision.

The speed of a shared machine drifts by up to half between runs, so a change of a tenth in
a sweep is only visible when both versions run in the same invocation, alternating. This
script exports the revision ``--against`` (``git archive``) into a temporary directory and
screens the same sample of GB's N-1 list (every ``--step``-th contingency; with
``--with-islands`` also every unit trip and every outage that splits the grid; operator
semantics, ``model="swing_turbine"``, local worker processes) with each version in turn,
``--repeat`` times. It prints, per run, the wall time, the distinct networks evaluated and
the mean time per evaluation in a worker (wall, from the rows' ``elapsed_s``), the peak
memory of the run's processes; then the median wall time of each version and their ratio,
and the largest relative change of every figure of the rows between the two versions
(with the worst buses that agree).

Run:  OPENBLAS_NUM_THREADS=1 python benchmarks/screening_ab.py --against REV [--step 5]
          [--repeat 2] [--jobs 2] [--with-islands]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIGURES = ("nadir_hz", "coi_nadir_hz", "rocof_hz_per_s", "local_rocof_hz_per_s", "qss_hz",
           "lost_mw", "time_s")

# the child: one sweep of the sample with the netcoh found on its path
CHILD = r"""
import json, resource, sys, time, warnings
import netcoh
import netcoh.grids as grids
from netcoh.screening import ScreeningContext, contingency_list, screen_contingencies
step, jobs, out, islands = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    grid = grids.load("gb")
every = contingency_list(grid, "n-1")
if islands:      # and every unit trip and every outage that splits the grid
    br = ScreeningContext.from_grid(grid, model="swing_turbine").branches
    sample = [c for i, c in enumerate(every) if i % step == 0 or c.kind == "machine"
              or (c.kind == "branch" and br[c.id][3] == "split")]
else:
    sample = every[::step]
t0 = time.perf_counter()
res = screen_contingencies(grid, sample, executor="processes", n_jobs=jobs, progress=False,
                           dt=0.05, horizon=1.0, threshold_hz="gb", model="swing_turbine")
wall = time.perf_counter() - t0
df = res.to_frame()
df.to_pickle(out)
ev = df[df.elapsed_s > 0]
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
           resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024.0
print(json.dumps({"wall": wall, "rows": len(df), "evaluated": res.settings["networks_evaluated"],
                  "per_eval_ms": float(ev.elapsed_s.mean() * 1e3), "peak_mib": peak,
                  "certified": int(df.certified.sum()), "module": netcoh.__file__}))
"""


def _export(rev: str, dest: str) -> None:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", dest], input=archive, check=True)


def _run(tree: str, step: int, jobs: int, out: str, islands: bool) -> dict:
    env = dict(os.environ, PYTHONPATH=tree, OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", CHILD, str(step), str(jobs), out,
                           str(int(islands))], cwd=tree,
                          env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"the sweep in {tree} failed:\n{proc.stderr[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    if not pathlib.Path(out["module"]).resolve().is_relative_to(pathlib.Path(tree).resolve()):
        raise RuntimeError(f"the sweep meant for {tree} imported netcoh from {out['module']}")
    return out


def _changes(new: pd.DataFrame, old: pd.DataFrame) -> str:
    old = old.loc[new.index]
    parts = []
    for k in FIGURES:
        a, b = new[k].to_numpy(float), old[k].to_numpy(float)
        ok = np.isfinite(a) & np.isfinite(b)
        rel = np.abs(a[ok] - b[ok]) / np.maximum(np.abs(b[ok]), 1e-300)
        parts.append(f"{k} {rel.max() if rel.size else 0.0:.1e}")
    same = int((new.worst_bus == old.worst_bus).sum())
    return ", ".join(parts) + f"; same worst bus {same}/{len(new)}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", required=True, help="git revision to compare with")
    ap.add_argument("--step", type=int, default=5, help="every STEP-th contingency (default 5)")
    ap.add_argument("--repeat", type=int, default=2, help="alternating runs of each version")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--with-islands", action="store_true",
                    help="add every unit trip and every outage that splits the grid")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old_tree = os.path.join(tmp, "old")
        os.mkdir(old_tree)
        _export(args.against, old_tree)
        trees = {args.against: old_tree, "this tree": str(ROOT)}
        walls = {k: [] for k in trees}
        frames = {}
        extra = " with every unit trip and split" if args.with_islands else ""
        print(f"GB N-1, every {args.step}th contingency{extra}, model=swing_turbine, operator "
              f"semantics, processes x{args.jobs}")
        for r in range(args.repeat):
            for label, tree in trees.items():
                out = os.path.join(tmp, f"rows-{len(frames)}.pkl")
                m = _run(tree, args.step, args.jobs, out, args.with_islands)
                frames[label] = pd.read_pickle(out)
                walls[label].append(m["wall"])
                print(f"  run {r + 1}, {label}: {m['wall']:.1f} s wall, {m['rows']} rows, "
                      f"{m['evaluated']} networks evaluated at {m['per_eval_ms']:.0f} ms each in "
                      f"a worker (wall), certified {m['certified']}/{m['rows']}, peak "
                      f"{m['peak_mib']:.0f} MiB")
        old, new = (float(np.median(walls[k])) for k in trees)
        print(f"median wall: {args.against} {old:.1f} s, this tree {new:.1f} s: "
              f"{old / new:.2f}x")
        print("largest relative change: " + _changes(frames["this tree"], frames[args.against]))


if __name__ == "__main__":
    main()
