"""Threshold flags of the eigen-free nadir search of a full linear model: what they cost.

wecc_full's full linear model (ANDES, nearly defective: no modal form), a 2-norm ball of
``--rho`` p.u. over the buses. Without a threshold, then with ``threshold_hz`` at the median
and at the 90th percentile of the buses' worst grid values, the CPU time of the process
(best of ``--repeat``; less disturbed than wall time on a shared machine) and its ratio to
the run without a threshold measured in the same process;
the flags, which decide each output by its supremum (between grid points, and after the
last window with ``horizon=None``), against those the grid values alone would give. A
threshold at a bus's own grid maximum flags that bus when its supremum lies between grid
points.

Run:  OPENBLAS_NUM_THREADS=1 python benchmarks/lti_flags.py [--case wecc/wecc_full.xlsx]
      [--rho 0.2734] [--repeat 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import netcoh as nc
from netcoh.grids.andes_linear import linearize

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import best_of  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", default="wecc/wecc_full.xlsx")
    ap.add_argument("--rho", type=float, default=0.2734)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    lin = linearize(args.case, output="pu")
    print(f"{args.case}: {lin.A.shape[0]} states, {lin.noutputs} outputs; "
          f"load {os.getloadavg()[0]:.2f}")
    for horizon in (5.0, None):
        def run(thr=None, horizon=horizon):
            return nc.worst_case_nadir(lin, rho=args.rho, method="timedomain",
                                       horizon=horizon, threshold_hz=thr)

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            t0, base = best_of(run, args.repeat, clock=time.process_time)
            grid = base.per_bus_hz
            print(f"horizon={horizon}: no threshold {t0:.1f} s CPU, nadir {base.value_hz:.6g} Hz, "
                  f"certified {base.certified}")
            for q in (0.5, 0.9):
                thr = float(np.quantile(grid, q))
                t1, res = best_of(lambda thr=thr: run(thr), args.repeat, clock=time.process_time)
                by_grid = {b for b, v in zip(lin.output_labels, grid) if v > thr}
                extra = sorted(set(res.flagged) - by_grid)
                print(f"  threshold {thr:.6g} Hz (q{q:.1f}): {t1:.1f} s CPU, ratio {t1 / t0:.2f}; "
                      f"flagged {len(res.flagged)}, by grid values {len(by_grid)}, "
                      f"missing from the grid's {extra}, grid's not flagged "
                      f"{sorted(by_grid - set(res.flagged))}")
        said = sorted({str(w.message)[:90] for w in caught})
        print(f"  warnings: {said if said else 'none'}")
    print(f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
