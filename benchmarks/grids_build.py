"""Benchmark: building network systems from grid cases (issue 3 speed targets).

Run: ``.venv/bin/python benchmarks/grids_build.py``. Prints wall times, ratios against
baselines measured in the same run, and peak memory.

Targets (2 cores): ``load("gb").to_system()`` < 3 s; PEGASE 9241 with synthesised machines:
sparse ``reduce=None`` system < 5 s, one-disturbance response at 200 frequencies < 10 s.

Baselines: pandapower's own ``GBnetwork()`` + ``runpp`` (the unavoidable data step); a dense
numpy Kron reduction (``np.linalg.solve`` on the dense bus Laplacian); a naive per-frequency
``scipy.sparse.linalg.spsolve`` loop for the 9241-bus response.
"""

from __future__ import annotations

import resource
import time
import tracemalloc
import warnings

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla


def timed(fn, *args, **kw):
    t = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    warnings.simplefilter("ignore")
    _, t_imp = timed(__import__, "pandapower.networks")
    import pandapower as pp
    import pandapower.networks as pn

    import netcoh as nc
    from netcoh import grids
    from netcoh.grids import pp_bridge
    print(f"import pandapower: {t_imp:.2f} s (one-off, not counted below)")

    # -- GB: load + Kron-reduced system ---------------------------------------------------
    (g, t_load) = timed(grids.load, "gb")
    sys_gb, t_sys = timed(g.to_system)
    print(f"\n[gb] load('gb') cold (pandapower GBnetwork + runpp + tables): {t_load:.2f} s")
    print(f"[gb] to_system() Kron onto {sys_gb.n} machines:            {t_sys:.2f} s")
    print(f"[gb] load('gb').to_system() total (target < 3 s):           {t_load + t_sys:.2f} s")
    warm = []
    for _ in range(5):
        (g2, t_load2) = timed(grids.load, "gb")
        _, t_sys2 = timed(g2.to_system)
        warm.append((t_load2, t_sys2))
    warm = np.array(warm)
    print(f"[gb] warm x5 (topology cached in-process): load median {np.median(warm[:, 0]):.2f} s, "
          f"to_system median {np.median(warm[:, 1]):.2f} s (min {warm[:, 1].min():.2f} s); "
          f"the machine is shared, so single cold timings can spike")

    def pp_baseline():
        net = pn.GBnetwork()
        pp.runpp(net, numba=False)
        return net
    _, t_pp = timed(pp_baseline)
    print(f"[gb] baseline pandapower GBnetwork()+runpp alone: {t_pp:.2f} s  "
          f"-> netcoh overhead ratio (load+to_system)/baseline = {(t_load + t_sys) / t_pp:.2f}")

    L_full, mrows, _ = g._nodes("ac", None)
    nm = mrows.size

    def dense_kron():
        L = L_full.toarray()
        Lbb, Lbm = L[nm:, nm:], L[nm:, :nm]
        return L[:nm, :nm] - L[:nm, nm:] @ np.linalg.solve(Lbb, Lbm)
    Kd, t_dense = timed(dense_kron)
    from netcoh.grids.network import schur
    (Ks, _), t_sparse = timed(schur, L_full, np.arange(nm), dense=True)
    print(f"[gb] Kron: sparse-LU {t_sparse:.3f} s vs dense numpy {t_dense:.3f} s "
          f"(ratio {t_dense / t_sparse:.1f}x); max rel diff "
          f"{np.abs(Ks - Kd).max() / np.abs(Kd).max():.1e}")

    # -- PEGASE 9241: sparse reduce=None system and one-disturbance response --------------
    net = pn.case9241pegase()
    recs, _ = grids.synth.proportional_machines(net)
    gp, t_pload = timed(grids.load, net, machines=recs, name="case9241pegase", warn=False)
    sys_p, t_psys = timed(gp.to_system, reduce=None)
    print(f"\n[pegase9241] load(net) (runpp + tables): {t_pload:.2f} s; "
          f"to_system(reduce=None): {t_psys:.2f} s; total (target < 5 s): "
          f"{t_pload + t_psys:.2f} s")
    print(f"[pegase9241] nodes {sys_p.n} (machines {gp.n_machines}), nnz(L) "
          f"{sys_p.laplacian.nnz}, sparse={sys_p.is_sparse}")
    _, t_tab = timed(pp_bridge.tables_from_pandapower, net)
    print(f"[pegase9241]   of which pandapower runpp + table extraction: {t_tab:.2f} s")

    omega = np.logspace(-2, 2, 200)
    j = 0
    tracemalloc.start()
    resp, t_resp = timed(nc.transfer_matrix, sys_p, omega, inputs=[j])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"[pegase9241] transfer_matrix 200 freqs, 1 input (target < 10 s): {t_resp:.2f} s, "
          f"traced peak {peak / 2**20:.0f} MiB; output shape {np.asarray(resp).shape}")

    L = sp.csc_matrix(sys_p.laplacian)
    ginv_all = sys_p.nodal.inverse(1j * omega)
    e = np.zeros(sys_p.n)
    e[j] = 1.0

    def naive(k=20):
        out = []
        for w, gi in zip(omega[:k], ginv_all[:k]):
            s = 1j * w
            out.append(spla.spsolve((sp.diags(gi) + L / s).tocsc(), e))
        return np.array(out)
    ref, t_naive = timed(naive)
    t_naive_200 = t_naive * 200 / 20
    err = np.abs(np.asarray(resp)[:20, :, 0] - ref).max() / np.abs(ref).max()
    print(f"[pegase9241] baseline naive spsolve loop: {t_naive_200:.2f} s for 200 (extrapolated "
          f"from 20) -> ratio {t_naive_200 / t_resp:.2f}x; max rel diff {err:.1e}")
    print(f"\npeak RSS of this process: {peak_rss_mb():.0f} MiB")


if __name__ == "__main__":
    main()
