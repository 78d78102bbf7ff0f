"""Time responses, measured against baselines in the same run.

1. ``step_response`` of a 120-machine swing-turbine network at 3,001 samples against
   python-control ``forced_response`` and ``scipy.signal.lsim`` on the same realisation
   (target: at least 2x faster than ``forced_response``, within 1e-10 of ``lsim``). The
   aggregate trace (``aggregate_dynamics``) is timed separately as well.
2. A 2,025-bus sparse grid-like network, one disturbance, 2,000 samples: time (target
   < 10 s) and traced peak memory, against one dense n x n matrix; the first 200 samples are
   checked against a dense exponential reference on the same model.

Run: ``python benchmarks/time_response.py [--quick]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import best_of, max_rss_mib, measure  # noqa: E402
from core_frequency import swing_network, turbine_network  # noqa: E402

import netcoh as nc  # noqa: E402


def bench_dense(n: int, k: int, repeat: int):
    import control
    import scipy.signal

    sys_ = turbine_network(n)
    u0 = np.random.default_rng(1).normal(size=n) * 0.1
    t = np.linspace(0, 30, k)
    ss = sys_.to_statespace()
    A, B, C, D = (x.toarray() for x in sys_.realization())
    U = np.outer(np.ones_like(t), u0)
    t_nc, resp = best_of(lambda: nc.step_response(sys_, u0, t), repeat)
    t_ag, _ = best_of(lambda: nc.aggregate_dynamics(sys_).realization(), repeat)
    t_ct, ref = best_of(lambda: control.forced_response(ss, t, U.T), repeat)
    t_ls, (_, y, _) = best_of(lambda: scipy.signal.lsim((A, B, C, D), U, t), repeat)
    err_ls = np.abs(resp.outputs - y).max() / np.abs(y).max()
    err_ct = np.abs(resp.outputs - ref.outputs.T).max() / np.abs(y).max()
    store: dict = {}
    with measure("nc", store):
        nc.step_response(sys_, u0, t)
    print(f"[1] step_response, {n} machines x {k} samples ({A.shape[0]} states): "
          f"netcoh {t_nc:.3f} s (of which aggregate_dynamics {t_ag:.3f} s), "
          f"control.forced_response {t_ct:.3f} s, scipy lsim {t_ls:.3f} s")
    print(f"    speed-up vs forced_response {t_ct / t_nc:.1f}x (target >= 2x; without the "
          f"aggregate {t_ct / max(t_nc - t_ag, 1e-9):.1f}x), vs lsim {t_ls / t_nc:.1f}x; "
          f"max rel diff to lsim {err_ls:.1e} (target 1e-10), to control {err_ct:.1e}; "
          f"traced peak {store['nc']['peak_mib']:.1f} MiB")
    return t_ct / t_nc, err_ls


def bench_sparse(n: int, k: int):
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    sys_ = swing_network(n, sparse=True, grid_like=True)
    n = sys_.n
    u0 = np.zeros(n)
    u0[n // 2] = -0.1
    t = np.linspace(0, 20, k)
    store: dict = {}
    with measure("sparse", store):
        resp = nc.step_response(sys_, u0, t)
    s = store["sparse"]
    # reference: scipy's expm_multiply (adaptive Taylor) on the grounded realisation
    head = min(200, k)
    t0 = time.perf_counter()
    A, B, C, D = sys_.realization()
    N = A.shape[0]
    M = sp.bmat([[A, sp.csr_matrix((B @ u0)[:, None])], [None, sp.csr_matrix((1, 1))]]).tocsr()
    x0 = np.zeros(N + 1)
    x0[N] = 1.0
    X = spla.expm_multiply(M, x0, start=0.0, stop=t[head - 1], num=head, endpoint=True)
    ref = (C @ X[:, :N].T).T
    t_ref = time.perf_counter() - t0
    err = np.abs(resp.outputs[:head] - ref).max() / np.abs(ref).max()
    print(f"[2] step_response, {n}-bus sparse grid-like network, one disturbance, {k} samples: "
          f"{s['seconds']:.2f} s (target < 10 s), traced peak {s['peak_mib']:.1f} MiB (one dense "
          f"n x n matrix: {n * n * 8 / 2**20:.0f} MiB; the output itself {k * n * 8 / 2**20:.0f} "
          f"MiB); scipy expm_multiply on the first {head} samples {t_ref:.1f} s, max rel diff "
          f"{err:.1e}; process max RSS {max_rss_mib():.0f} MiB")
    return s["seconds"], err


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (smoke run)")
    args = ap.parse_args(argv)
    if args.quick:
        bench_dense(30, 501, 1)
        bench_sparse(400, 300)
    else:
        bench_dense(120, 3001, 3)
        bench_sparse(2025, 2000)


if __name__ == "__main__":
    main()
