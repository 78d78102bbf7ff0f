"""Worst-case nadir with proportional machines at scale, against the cost of all modes.

The synthetic network of ``nadir_large.py`` (Watts-Strogatz small world, proportional
swing machines with the EPSR24 representative unit, rho = 0.5 in the 2-norm, 1 s window,
seed grid dt = 0.1 s). For each size this prints, from one run:

* the plain call ``worst_case_nadir(system, rho=0.5, dt=0.1, horizon=1.0)``: wall time,
  worst bus, time and value, certificate, table entries evaluated;
* the baseline: one dense symmetric eigendecomposition (``scipy.linalg.eigh``, LAPACK
  divide and conquer) of the same scaled Laplacian, which the modal closed form needs
  and which a plain Algorithm 1 starts with; and, up to ``--algorithm1-max`` machines, the
  plain vectorised numpy Algorithm 1 of ``nadir_paper.py`` on the same grid;
* the ratios, the peak traced numpy memory and the process's peak RSS.

Run:  OPENBLAS_NUM_THREADS=1 python benchmarks/nadir_proportional.py [--n 2000 5000]
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np
import scipy.linalg as la
from nadir_large import build
from nadir_paper import algorithm1_numpy

from netcoh.analysis.nadir import worst_case_nadir


def scaled_laplacian(system):
    m = np.asarray(system.nodal.params["m"])
    s = 1.0 / np.sqrt(m / m.mean())
    return s[:, None] * np.asarray(system.laplacian) * s[None, :]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, nargs="+", default=[2000, 5000])
    ap.add_argument("--algorithm1-max", type=int, default=2000,
                    help="largest size for which the plain Algorithm 1 is also timed")
    args = ap.parse_args()
    for n in args.n:
        system = build(n)
        tracemalloc.start()
        t0 = time.perf_counter()
        res = worst_case_nadir(system, rho=0.5, dt=0.1, horizon=1.0)
        wall = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        A = scaled_laplacian(system)
        t0 = time.perf_counter()
        la.eigh(A, overwrite_a=True, check_finite=False, driver="evd")
        t_eigh = time.perf_counter() - t0
        del A
        print(f"== n = {n}: worst bus {res.bus}, t* = {res.time:.4f} s, nadir {res.value:.6g} p.u., "
              f"certified={res.certified}, {int(res.evaluated.sum())} of {res.evaluated.size} "
              "table entries evaluated")
        print(f"   netcoh {wall:.2f} s; one dense eigh {t_eigh:.2f} s; ratio {wall / t_eigh:.2f}; "
              f"peak traced {peak / 2**30:.2f} GiB, peak RSS "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")
        if n <= args.algorithm1_max:
            L = np.asarray(system.laplacian)
            m, d = np.asarray(system.nodal.params["m"]), np.asarray(system.nodal.params["d"])
            t0 = time.perf_counter()
            v, i, t_star = algorithm1_numpy(L, m, d, rho=0.5, dt=0.1, N=10)
            t_alg = time.perf_counter() - t0
            print(f"   plain Algorithm 1 (grid max {v:.6g} at bus {system.labels[i]}, t = {t_star:.2f} s)"
                  f" {t_alg:.2f} s; ratio netcoh / Algorithm 1 {wall / t_alg:.2f}; grid maxima agree: "
                  f"{np.isclose(v, res.grid_value, rtol=1e-9)}")


if __name__ == "__main__":
    main()
