"""Worst-case nadir with proportional machines at scale: the eigen-free path against all modes.

The synthetic network of ``nadir_large.py`` (Watts-Strogatz small world, proportional
swing machines with the EPSR24 representative unit, rho = 0.5 in the 2-norm, 1 s window,
seed grid dt = 0.1 s). For each size this prints, from one run:

* the call ``worst_case_nadir(system, rho=0.5, dt=0.1, horizon=1.0)`` on a sparse Laplacian
  (each call is run twice: timed, then under ``tracemalloc`` for its peak memory),
  which takes the Chebyshev path (no eigendecomposition): wall time and process CPU time
  (steadier than wall time on a shared machine), worst bus, time and value, certificate,
  buses evaluated exactly, peak traced numpy memory;
* the baseline where it fits (up to ``--dense-max`` machines): the dense modal path
  (``method="modal"`` on the same network with a dense Laplacian; one dense ``eigh`` of the
  scaled Laplacian) with its own time and peak memory, the time of the ``eigh`` alone, and
  the agreement of the two results (value, bus, time);
* the process's peak RSS at the end.

Run:  OPENBLAS_NUM_THREADS=1 python benchmarks/nadir_proportional.py [--n 2000 5000 20000]
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np
import scipy.linalg as la
from nadir_large import build

from netcoh.analysis.nadir import worst_case_nadir


def scaled_laplacian(system):
    m = np.asarray(system.nodal.params["m"])
    s = 1.0 / np.sqrt(m / m.mean())
    L = system.laplacian
    L = L.toarray() if hasattr(L, "toarray") else np.asarray(L)
    return s[:, None] * L * s[None, :]


def timed(fn):
    """``fn()`` timed (wall and process CPU), then run again under ``tracemalloc`` for its peak.

    Tracing slows every allocation (about twofold on the Chebyshev path, which allocates a
    block per recurrence step), so the times come from the untraced run.
    """
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, wall, cpu, peak


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, nargs="+", default=[2000, 5000, 20000])
    ap.add_argument("--dense-max", type=int, default=5000,
                    help="largest size for which the dense modal baseline is also run")
    args = ap.parse_args()
    for n in args.n:
        system = build(n, sparse=True)
        res, wall, cpu, peak = timed(lambda system=system: worst_case_nadir(
            system, rho=0.5, dt=0.1, horizon=1.0))
        ev = int(res.evaluated.any(axis=1).sum())
        print(f"== n = {n}: method {res.method}, worst bus {res.bus}, t* = {res.time:.4f} s, "
              f"nadir {res.value:.8g} p.u., certified={res.certified}, {ev} of {n} buses "
              f"evaluated exactly")
        print(f"   chebyshev {wall:.2f} s (process CPU {cpu:.2f} s), peak traced "
              f"{peak / 2**30:.3f} GiB")
        if n <= args.dense_max:
            dense = build(n, sparse=False)
            ref, wd, cd, pd = timed(lambda dense=dense: worst_case_nadir(
                dense, rho=0.5, dt=0.1, horizon=1.0, method="modal"))
            A = scaled_laplacian(dense)
            t0 = time.perf_counter()
            la.eigh(A, overwrite_a=True, check_finite=False, driver="evd")
            t_eigh = time.perf_counter() - t0
            del A
            print(f"   dense modal {wd:.2f} s (process CPU {cd:.2f} s; one eigh alone {t_eigh:.2f} s), "
                  f"peak traced {pd / 2**30:.3f} GiB; ratio chebyshev / dense {wall / wd:.2f} "
                  f"(CPU {cpu / cd:.2f})")
            print(f"   agreement: |value difference| / value {abs(res.value - ref.value) / ref.value:.1e}"
                  f", same bus {res.bus == ref.bus}, |t* difference| {abs(res.time - ref.time):.1e} s")
        print(f"   peak RSS so far {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB",
              flush=True)


if __name__ == "__main__":
    main()
