"""Spectral clustering: netcoh vs scikit-learn SpectralClustering, same graphs, same run.

1. PEGASE 9,241-bus susceptance graph (pandapower ``case9241pegase``; edge weight = sum of
   1/x_pu over parallel lines and transformers; largest connected component) into 8 areas.
2. Agreement with planted partitions (adjusted Rand index) on weighted block models:
   the ACC23 two-block and the L4DC23 three-block models, 10 draws each.

Run: ``python benchmarks/clustering_pegase.py`` (prints time, traced peak memory, the time
ratio over alternating pairs of calls, ratio cut)
"""

from __future__ import annotations

import time
import tracemalloc
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from threadpoolctl import threadpool_limits

import netcoh as nc
from netcoh.reduction import spectral_clustering


def pegase_affinity():
    import pandapower.networks as pn

    net = pn.case9241pegase()
    bus_pos = {b: i for i, b in enumerate(net.bus.index)}
    rows, cols, vals = [], [], []
    base = net.sn_mva
    line = net.line[net.line.in_service]
    vn = net.bus.loc[line.from_bus, "vn_kv"].to_numpy()
    x_pu = (line.x_ohm_per_km * line.length_km / line.parallel).to_numpy() / (vn**2 / base)
    rows += [bus_pos[b] for b in line.from_bus]
    cols += [bus_pos[b] for b in line.to_bus]
    vals += list(1.0 / np.maximum(np.abs(x_pu), 1e-6))
    tr = net.trafo[net.trafo.in_service]
    x_tr = (tr.vk_percent / 100.0 * base / tr.sn_mva / tr.parallel).to_numpy()
    rows += [bus_pos[b] for b in tr.hv_bus]
    cols += [bus_pos[b] for b in tr.lv_bus]
    vals += list(1.0 / np.maximum(np.abs(x_tr), 1e-6))
    n = len(bus_pos)
    A = sp.coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsr()
    A = A + A.T
    A.setdiag(0)
    A.eliminate_zeros()
    ncomp, lab = connected_components(A, directed=False)
    big = np.flatnonzero(lab == np.bincount(lab).argmax())
    return A[big][:, big].tocsr()


def paired(fa, fb, repeat=9):
    """Wall times of ``repeat`` alternating calls of ``fa`` and ``fb`` (one BLAS/OpenMP thread
    for both tools, so that a busy machine does not penalise whichever spins more threads),
    their last results and traced peaks. Alternating keeps the two under the same load; the
    median of the per-pair ratios is the robust comparison on a shared machine."""
    ta, tb = [], []
    for _ in range(repeat):
        with threadpool_limits(1):
            t0 = time.perf_counter()
            out_a = fa()
            ta.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            out_b = fb()
            tb.append(time.perf_counter() - t0)
    peaks = []
    for fn in (fa, fb):
        tracemalloc.start()
        with threadpool_limits(1):
            fn()
        peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
        tracemalloc.stop()
    return (out_a, out_b), np.array(ta), np.array(tb), peaks


def ratio_cut(A, lab):
    """``sum_c cut(c, rest) / |c|`` of a partition of the weighted graph ``A``."""
    coo = A.tocoo()
    cross = lab[coo.row] != lab[coo.col]
    per = np.bincount(lab[coo.row][cross], weights=coo.data[cross], minlength=lab.max() + 1)
    return float(np.sum(per / np.bincount(lab)))


def main():
    from sklearn.cluster import SpectralClustering
    from sklearn.metrics import adjusted_rand_score

    A = pegase_affinity()
    n = A.shape[0]
    L = nc.laplacian.from_adjacency(A)
    print(f"PEGASE 9241 susceptance graph: {n} buses (largest component), {A.nnz // 2} edges")
    import sklearn.cluster  # noqa: F401  (imported before timing either tool)

    sc = SpectralClustering(8, affinity="precomputed", random_state=0)

    def sklearn_fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return sc.fit_predict(A)

    (ours, theirs), t_ours, t_sk, (m_ours, m_sk) = paired(
        lambda: spectral_clustering(L, 8, random_state=0), sklearn_fit)
    ratio = t_ours / t_sk
    print(f"  netcoh.spectral_clustering  {t_ours.min():7.3f} s (median {np.median(t_ours):.3f})  "
          f"peak {m_ours:7.1f} MiB  solver={ours.solver}  sizes={sorted(ours.sizes.tolist())}")
    print(f"  sklearn SpectralClustering  {t_sk.min():7.3f} s (median {np.median(t_sk):.3f})  "
          f"peak {m_sk:7.1f} MiB  sizes={sorted(np.bincount(theirs).tolist())}")
    print(f"  time ratio netcoh/sklearn: median of {ratio.size} alternating pairs "
          f"{np.median(ratio):.2f} (quartiles {np.percentile(ratio, 25):.2f}-"
          f"{np.percentile(ratio, 75):.2f}), ratio of best times {t_ours.min() / t_sk.min():.2f}; "
          "one thread each")
    print(f"  ARI between the two partitions {adjusted_rand_score(ours.labels, theirs):.3f} "
          "(different Laplacians: netcoh uses L, sklearn the normalised one)")
    coo = A.tocoo()

    def cut(lab):
        return float(coo.data[lab[coo.row] != lab[coo.col]].sum() / 2)

    print(f"  inter-area susceptance cut: netcoh {cut(ours.labels):.4g}, sklearn "
          f"{cut(np.asarray(theirs)):.4g}")
    rc_ours, rc_sk = [], []
    for seed in range(10):
        rc_ours.append(ratio_cut(A, spectral_clustering(L, 8, random_state=seed).labels))
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore")
            rc_sk.append(ratio_cut(A, SpectralClustering(
                8, affinity="precomputed", random_state=seed).fit_predict(A)))
    print(f"  ratio cut sum_c cut(c)/|c| (lower is better), random_state 0..9: "
          f"netcoh mean {np.mean(rc_ours):.3f} [{', '.join(f'{x:.2f}' for x in rc_ours)}], "
          f"sklearn mean {np.mean(rc_sk):.3f} [{', '.join(f'{x:.2f}' for x in rc_sk)}]")

    print("\nplanted partitions (adjusted Rand index, mean over 10 draws)")
    models = {
        "ACC23 2-block 30/20 p=.6 q=.1 wp=5 wq=.5":
            ([30, 20], [[0.6, 0.1], [0.1, 0.6]], [[5, 0.5], [0.5, 5]]),
        "L4DC23 3-block 20/40/20":
            ([20, 40, 20], [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]],
             [[20, 0.4, 0.8], [0.4, 20, 0.7], [0.8, 0.7, 20]]),
    }
    for name, (sizes, Q, W) in models.items():
        a, b = [], []
        for seed in range(10):
            Lb, truth = nc.laplacian.weighted_sbm(sizes, Q, W, rng=seed)
            Ab = -Lb + np.diag(np.diag(Lb))
            a.append(adjusted_rand_score(truth, spectral_clustering(Lb, len(sizes),
                                                                    random_state=seed).labels))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                b.append(adjusted_rand_score(truth, SpectralClustering(
                    len(sizes), affinity="precomputed", random_state=seed).fit_predict(Ab)))
        print(f"  {name:45s} netcoh {np.mean(a):.3f}  sklearn {np.mean(b):.3f}")


if __name__ == "__main__":
    main()
