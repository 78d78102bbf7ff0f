"""Frequency-domain speed, measured against baselines in the same run.

1. Full MIMO transfer matrix, 100-machine swing network, 200 frequencies:
   netcoh.transfer_matrix (modal form of the realisation) vs python-control frequency_response
   (slycot installed) -> ratio >= 5x.
2. Incoherence curve, 1,000-machine heterogeneous network, 50 frequencies: netcoh (one
   factorisation per frequency + block Krylov norm) vs dense inverse + full SVD per frequency
   -> < 8 s, agree to 1e-6. Twice: a sparse small-world graph stored as a dense array (factorised
   sparse) and an all-to-all network like a Kron-reduced one (complex-symmetric LDL^T).
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


def dense_turbine_network(n: int, seed: int = 0):
    """Every machine coupled to every other (a Kron-reduced network is dense like this)."""
    rng = np.random.default_rng(seed)
    A = rng.uniform(0.0, 1.0, (n, n)) ** 4          # a few strong couplings, many weak ones
    A = np.triu(A, 1)
    A = A + A.T
    L = np.diag(A.sum(1)) - A
    g = nc.nodal.swing_turbine(rng.uniform(0.05, 0.5, n), rng.uniform(0.2, 0.5, n),
                               1 / rng.uniform(5, 10, n), rng.uniform(2, 10, n))
    return nc.NetworkSystem.from_laplacian(L, nodal=g)


def dense_reference(sys_, w):
    """``||T - g_hat 1 1^T||_2`` by a dense inverse and a full SVD per frequency."""
    L = np.asarray(sys_.laplacian)
    gh = nc.aggregate_dynamics(sys_)(1j * w)
    ginv = sys_.nodal.inverse(1j * w)
    ref = np.empty(w.size)
    for j, wj in enumerate(w):
        T = np.linalg.inv(L / (1j * wj) + np.diag(ginv[j]))
        ref[j] = np.linalg.svd(T - gh[j], compute_uv=False)[0]
    return ref


def bench_incoherence(n: int, k: int, dense: bool = False, n_ref: int = 5):
    """Time the curve (untraced), trace its peak memory in a second run, and check it
    against the dense reference on ``n_ref`` of the frequencies (whose per-frequency time,
    times ``k``, is the baseline: the dense reference at every frequency would take minutes)."""
    sys_ = dense_turbine_network(n) if dense else turbine_network(n)
    w = np.logspace(-3, 1, k)
    t0 = time.perf_counter()
    inc = nc.coherence(sys_, w, method="iterative").incoherence
    t_nc = time.perf_counter() - t0
    store: dict = {}
    with measure("netcoh", store):
        nc.coherence(sys_, w, method="iterative")
    pick = np.unique(np.linspace(0, k - 1, min(n_ref, k)).round().astype(int))
    t0 = time.perf_counter()
    ref = dense_reference(sys_, w[pick])
    t_ref = (time.perf_counter() - t0) * k / pick.size
    rel = np.max(np.abs(inc[pick] - ref) / ref)
    kind = "dense (all-to-all) network" if dense else "sparse graph stored as a dense array"
    print(f"[2] incoherence curve, {n} machines x {k} freqs, {kind}: netcoh {t_nc:.2f} s "
          f"(target < 8 s), dense inverse + SVD {t_ref:.1f} s (timed on {pick.size} of the "
          f"frequencies, scaled to {k}), speed-up {t_ref / t_nc:.1f}x, max rel diff {rel:.1e} "
          f"(target 1e-6), traced peak {store['netcoh']['peak_mib']:.0f} MiB")
    return t_nc, rel


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
        bench_incoherence(200, 10, dense=True)
        bench_sparse(500, 20)
    else:
        bench_mimo(5)
        bench_incoherence(1000, 50)
        bench_incoherence(1000, 50, dense=True)
        bench_sparse(2500, 200)


if __name__ == "__main__":
    main()
