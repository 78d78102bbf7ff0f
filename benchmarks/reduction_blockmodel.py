"""Structure-preserving reduction speed and accuracy, with python-control balred as baseline.

1. A 2,000-machine weighted block model (10 blocks of 200, swing + turbine machines with the
   ACC23 distributions; about 6,000 states) reduced to 10 areas: time of
   ``spectral_clustering`` + ``reduce_network`` (target < 5 s).
2. A 200-machine version (599 states, grounded realisation without the Laplacian zero mode):
   python-control ``balred`` (slycot, balanced truncation of the full MIMO model) against
   netcoh's reduction with order-3 area machines at the same state count; time and error
   ``sup ||T(jw) - T_r(jw)||_2`` in the coherence band [0, 1] rad/s and over [1, 100] rad/s.

Run: ``.venv/bin/python benchmarks/reduction_blockmodel.py``
"""

from __future__ import annotations

import time
import tracemalloc
import warnings

import numpy as np

import netcoh as nc
from netcoh.reduction import reduce_network, spectral_clustering


def block_system(n_blocks, size, seed, sparse, p_in=0.1):
    rng = np.random.default_rng(seed)
    n = n_blocks * size
    Q = np.full((n_blocks, n_blocks), 0.5 / n)
    np.fill_diagonal(Q, p_in)
    W = np.full((n_blocks, n_blocks), 0.5)
    np.fill_diagonal(W, 5.0)
    L, truth = nc.laplacian.weighted_sbm([size] * n_blocks, Q, W, rng=rng, sparse=sparse)
    g = nc.nodal.swing_turbine(rng.uniform(0.05, 0.5, n), rng.uniform(0.2, 0.5, n),
                               1 / rng.uniform(5, 10, n), rng.uniform(2, 10, n))
    return nc.NetworkSystem.from_laplacian(L, nodal=g), truth


def timed(fn):
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return out, dt, peak


def main():
    import control
    from sklearn.metrics import adjusted_rand_score

    warnings.simplefilter("ignore")
    sys, truth = block_system(10, 200, 0, sparse=True)
    A = sys.realization().A
    print(f"1) block model: {sys.n} machines, {A.shape[0]} states")

    def run():
        res = spectral_clustering(sys, 10, random_state=0)
        return res, reduce_network(sys, res)

    (res, red), dt, peak = timed(run)
    print(f"   spectral_clustering + reduce_network to 10 areas: {dt:.2f} s, peak {peak:.0f} MiB"
          f" (target < 5 s); ARI vs planted = {adjusted_rand_score(truth, res.labels):.3f}")
    _, dt_sys, _ = timed(lambda: red.system)
    print(f"   + building .system (10 area nodes; BT3 polynomials for high-order areas): "
          f"{dt_sys:.2f} s -> total {dt + dt_sys:.2f} s")
    ss, dt_ss, _ = timed(red.to_statespace)
    print(f"   reduced to_statespace (exact aggregates, {ss.nstates} states): {dt_ss:.3f} s")

    print("2) 200 machines, balred vs netcoh (same reduced order)")
    small, truth = block_system(10, 20, 1, sparse=False, p_in=0.5)
    Ar, Br, Cr, Dr = small.realization()
    full = control.ss(Ar.toarray(), Br.toarray(), Cr.toarray(), Dr.toarray())
    red_n, t_n, _ = timed(lambda: reduce_network(small, spectral_clustering(small, 10),
                                                 machine_order=3))
    ss_n = red_n.to_statespace(lifted=True)
    order = ss_n.nstates
    ss_b, t_b, _ = timed(lambda: control.balred(full, order, method="truncate"))
    w_band = np.logspace(-3, 0, 25)
    w_high = np.logspace(0, 2, 25)
    T_band = nc.transfer_matrix(small, w_band).values
    T_high = nc.transfer_matrix(small, w_high).values

    def sup_err(model, w, T):
        R = np.moveaxis(control.frequency_response(model, w).complex, -1, 0)
        return float(np.max(np.linalg.norm(T - R, 2, axis=(1, 2))))

    print(f"   full: {full.nstates} states, {small.n} inputs/outputs; reduced order {order}")
    print(f"   {'method':28s} {'time (s)':>9s} {'sup err [0,1]':>14s} {'sup err [1,100]':>16s}")
    for name, model, t in (("netcoh reduce (BT3 areas)", ss_n, t_n),
                           ("python-control balred", ss_b, t_b)):
        print(f"   {name:28s} {t:9.2f} {sup_err(model, w_band, T_band):14.4g} "
              f"{sup_err(model, w_high, T_high):16.4g}")
    print(f"   time ratio netcoh/balred = {t_n / t_b:.3f}; peak norm of T in band "
          f"{np.max(np.linalg.norm(T_band, 2, axis=(1, 2))):.4g}")


if __name__ == "__main__":
    main()
