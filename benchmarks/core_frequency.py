"""Frequency-domain speed, measured against baselines in the same run.

1. Full MIMO transfer matrix, 100-machine swing network, 200 frequencies:
   netcoh.transfer_matrix (modal form of the realisation) vs python-control frequency_response
   (slycot installed) -> ratio >= 5x.
2. Incoherence curve, 1,000-machine heterogeneous network, 50 frequencies: netcoh (one LU per
   frequency + block Krylov norm) vs dense inverse + full SVD per frequency -> < 8 s, agree to 1e-6.
3. One-disturbance response of every bus of a 2,000+ bus sparse network at 200 frequencies, never
   forming a dense n x n matrix: time and peak memory.

Run: python benchmarks/core_frequency.py  [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import best_of, max_rss_mib, measure  # noqa: E402

import netcoh as nc  # noqa: E402


def swing_network(n: int, seed: int = 0, sparse: bool = False, degree: int = 4, grid_like=False):
    import networkx as nx

    rng = np.random.default_rng(seed)
    if grid_like:
        # meshed, near-planar like a transmission grid: a square lattice with a few local chords
        side = int(np.ceil(np.sqrt(n)))
        G = nx.convert_node_labels_to_integers(nx.grid_2d_graph(side, side))
        extra = rng.integers(0, G.number_of_nodes() - side - 1, G.number_of_nodes() // 10)
        G.add_edges_from((int(i), int(i) + side + 1) for i in extra)
    else:
        G = nx.connected_watts_strogatz_graph(n, degree, 0.2, seed=seed)
    L, _ = nc.laplacian.from_graph(G, sparse=sparse)
    L = L * 10.0
    n = L.shape[0]                      # the lattice rounds n up to a square
    return nc.NetworkSystem.from_laplacian(
        L, nodal=nc.nodal.swing(rng.uniform(0.5, 5.0, n), rng.uniform(0.5, 2.0, n)))


def turbine_network(n: int, seed: int = 0):
    import networkx as nx

    rng = np.random.default_rng(seed)
    G = nx.connected_watts_strogatz_graph(n, 6, 0.2, seed=seed)
    L, _ = nc.laplacian.from_graph(G)
    g = nc.nodal.swing_turbine(rng.uniform(0.05, 0.5, n), rng.uniform(0.2, 0.5, n),
                               1 / rng.uniform(5, 10, n), rng.uniform(2, 10, n))
    return nc.NetworkSystem.from_laplacian(L, nodal=g)


def bench_mimo(repeat: int):
    import control

    sys_ = swing_network(100)
    w = np.logspace(-2, 2, 200)
    ss = sys_.to_statespace()
    t_nc, T = best_of(lambda: np.asarray(nc.transfer_matrix(sys_, w)), repeat)
    t_ct, fr = best_of(lambda: control.frequency_response(ss, w), repeat)
    ref = np.moveaxis(np.asarray(fr.complex), -1, 0)
    err = np.max(np.abs(T - ref)) / np.max(np.abs(ref))
    store: dict = {}
    with measure("nc", store):
        nc.transfer_matrix(sys_, w)
    with measure("ct", store):
        control.frequency_response(ss, w)
    print(f"[1] MIMO T(jw), 100 machines x 200 freqs: netcoh {t_nc:.3f} s, "
          f"python-control {control.__version__} frequency_response {t_ct:.3f} s, "
          f"speed-up {t_ct / t_nc:.1f}x (target >= 5x), max rel diff {err:.1e}; traced peak "
          f"netcoh {store['nc']['peak_mib']:.0f} MiB, python-control {store['ct']['peak_mib']:.0f} MiB")
    return t_ct / t_nc, err


def bench_incoherence(n: int, k: int):
    sys_ = turbine_network(n)
    w = np.logspace(-3, 1, k)
    store: dict = {}
    with measure("netcoh", store):
        inc = nc.coherence(sys_, w, method="iterative").incoherence
    t0 = time.perf_counter()
    L = sys_.laplacian
    ref = np.empty(k)
    gh = nc.aggregate_dynamics(sys_)(1j * w)
    ginv = sys_.nodal.inverse(1j * w)
    for j, wj in enumerate(w):
        M = L / (1j * wj) + np.diag(ginv[j])
        T = np.linalg.inv(M)
        ref[j] = np.linalg.svd(T - gh[j], compute_uv=False)[0]
    t_ref = time.perf_counter() - t0
    rel = np.max(np.abs(inc - ref) / ref)
    s = store["netcoh"]
    print(f"[2] incoherence curve, {n} machines x {k} freqs: netcoh {s['seconds']:.2f} s "
          f"(target < 8 s), dense inverse + SVD {t_ref:.2f} s, ratio {t_ref / s['seconds']:.1f}x, "
          f"max rel diff {rel:.1e} (target 1e-6), traced peak {s['peak_mib']:.0f} MiB")
    return s["seconds"], rel


def bench_sparse(n: int, k: int):
    sys_ = swing_network(n, sparse=True, grid_like=True)
    n = sys_.n
    assert sp.issparse(sys_.laplacian)
    w = np.logspace(-2, 2, k)
    store: dict = {}
    with measure("sparse", store):
        T = nc.transfer_matrix(sys_, w, inputs=[n // 2])
    s = store["sparse"]
    dense_bytes = n * n * 16
    print(f"[3] one-disturbance response, {n}-bus sparse grid-like network x {k} freqs: "
          f"{s['seconds']:.2f} s, "
          f"traced peak {s['peak_mib']:.1f} MiB (one dense n x n complex matrix would be "
          f"{dense_bytes / 2**20:.0f} MiB), result {T.shape}, process max RSS {max_rss_mib():.0f} MiB")
    return s["seconds"], s["peak_mib"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (smoke run)")
    args = ap.parse_args(argv)
    if args.quick:
        bench_mimo(1)
        bench_incoherence(200, 10)
        bench_sparse(500, 20)
    else:
        bench_mimo(5)
        bench_incoherence(1000, 50)
        bench_sparse(2500, 200)


if __name__ == "__main__":
    main()
