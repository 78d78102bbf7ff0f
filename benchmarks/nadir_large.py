"""Worst-case nadir of a synthetic 5,000-machine network: wall time and peak memory.

A connected small-world network (Watts-Strogatz, 6 neighbours, 10% rewiring) with
random line weights; proportional swing machines m_i ~ U(50, 1000) s, d_i = m_i 16/4.38
(the EPSR24 representative unit), f = 50 Hz. rho = 0.5 (2-norm), 1 s window; the
seed grid is dt = 0.1 s (the supremum is refined and certified in continuous time).
Targets: < 60 s and < 4 GB peak.

By default only the table entries that a certified bound cannot rule out are evaluated
(same value, bus, time and certificate as the whole table); ``--full-table`` evaluates
the whole table ``F[i, t]`` during the search.

``--model swing_turbine`` gives every machine its own governor-turbine (droop
r_i^{-1} ~ U(5, 25) m_i / 50, time constant ~ U(4, 9) s): the machines are not proportional.
With the 1 s window ``method="auto"`` then takes the time-domain search (sparse Taylor
propagation of every bus's row of S(t), no eigenproblem; targets: 3,000 machines within
30 s, 10,000 within 120 s and 8 GB). ``--baseline`` also runs, in the same process, the
state-space modal search (one dense eigenproblem of the 3n-state realisation, timed
alone as well) and prints the agreement of value, bus and time; ``--method`` forces one.

``--taylor`` also runs the time-domain search with the Taylor propagation that general
nodes take (the swing-turbine networks here take one expansion per bus in the energy norm,
:mod:`netcoh.analysis.nadir_energy`): both times, their ratio, the sparse products per bus
of each and the agreement.

``--study K`` prints what a cheap first pass would have to achieve to rule buses out
before the exact propagation: how many buses an upper bound ``c`` times the true per-bus
supremum would leave, a float32 against a float64 grid pass on ``K`` blocks (time and the
measured difference), and the growth bound ``exp(mu_2 H)`` that a rounding-error bound
carried by the logarithmic 2-norm of the balanced matrix would multiply.

Run:  python benchmarks/nadir_large.py [--n 5000] [--dt 0.1] [--full-table]
      OPENBLAS_NUM_THREADS=1 python benchmarks/nadir_large.py --model swing_turbine --n 1000 --baseline
      OPENBLAS_NUM_THREADS=1 python benchmarks/nadir_large.py --model swing_turbine --n 3000 --taylor
      OPENBLAS_NUM_THREADS=1 python benchmarks/nadir_large.py --model swing_turbine --n 1000 --study 4
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import networkx as nx
import numpy as np

import netcoh as nc
from netcoh.analysis.nadir import worst_case_nadir


def build(n, seed=0, model="swing", sparse=False):
    rng = np.random.default_rng(seed)
    G = nx.connected_watts_strogatz_graph(n, 6, 0.1, seed=seed)
    for u, v in G.edges:
        G[u][v]["weight"] = 2 * np.pi * 50 * rng.uniform(5.0, 50.0)
    m = rng.uniform(50.0, 1000.0, n)
    if model == "swing_turbine":
        nodal = nc.nodal.swing_turbine(m, m * 16 / 4.38, rng.uniform(5.0, 25.0, n) * m / 50,
                                       rng.uniform(4.0, 9.0, n))
    else:
        nodal = nc.nodal.swing(m, m * 16 / 4.38)
    return nc.NetworkSystem.from_graph(G, nodal=nodal, sparse=sparse)


def run(system, args, method):
    tracemalloc.start()
    t0 = time.perf_counter()
    res = worst_case_nadir(system, rho=0.5, dt=args.dt, horizon=1.0, full_table=args.full_table,
                           method=method)
    wall = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"[{res.method}] {int(res.evaluated.sum())} of {res.evaluated.size} table entries "
          f"evaluated; worst bus {res.bus}, t* = {res.time:.6f} s, nadir {res.value:.9g} p.u. "
          f"({res.value_hz:.4g} Hz), certified={res.certified}")
    print(f"[{res.method}] wall {wall:.1f} s; peak traced numpy memory {peak / 2**30:.2f} GiB")
    return res, wall


def estimate(system, k):
    """Setup and ``k * 64`` buses of the time-domain grid pass, timed (CPU, in blocks of 64
    and of the search's default size); extrapolated to n buses."""
    from netcoh.analysis.nadir_adjoint import AdjointRows
    from netcoh.analysis.nadir_sets import NormBall
    from netcoh.analysis.nadir_timedomain import default_block

    tracemalloc.start()
    t0 = time.perf_counter()
    rows = AdjointRows(system, value=NormBall(0.5, 2).value, unit_sup=0.5, ball2=0.5)
    setup = time.perf_counter() - t0
    m, s = rows._plan(0.1)
    print(f"setup (balancing, ||A^p|| for the Taylor plan) {setup:.1f} s; {rows.N} states, "
          f"||A||_1 = {rows.norm1:.1f}, alpha_4 = {rows.alpha:.1f}, {m * s} products per 0.1 s")
    default = default_block(rows.N, 11)
    per_bus = {}
    # the search's block size against 64 columns, alternating, over the same k * 64 buses
    for b in (64, default, 64, default) if default != 64 else (64,):
        t0 = time.process_time()
        for a in range(0, k * 64, b):
            Z, R = rows.start(np.arange(a, a + b) % system.n)
            for _ in range(10):
                Z, R, *_ = rows.advance(Z, R, 0.1, bounds=True)
        per_bus[b] = min(per_bus.get(b, np.inf), (time.process_time() - t0) / (k * 64))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    for b, v in per_bus.items():
        print(f"blocks of {b} buses over the 1 s grid: {v * 1e3:.1f} ms CPU per bus; ESTIMATE "
              f"for all {system.n} buses: {v * system.n:.0f} s CPU (one thread; refinement and "
              "certificate not included)" + (" <- the search's default" if b == default else ""))
    if len(per_bus) > 1:
        print(f"block {default} vs 64: {per_bus[64] / per_bus[default]:.2f}x faster per bus")
    print(f"peak traced numpy memory {peak / 2**30:.2f} GiB; peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")


def _grid_pass(rows, buses, h, steps, dtype):
    """Rows of ``S(t)`` on the grid for ``buses`` by the Taylor steps of ``rows`` in ``dtype``
    (no derivative bounds): the same plain loop for float32 and float64."""
    m, s = rows._plan(h)
    delta = h / s
    Ad = (rows.A * delta).astype(dtype).tocsr()
    Bt = rows.Bt.astype(dtype).tocsr()
    Z, R = rows.start(buses)
    Z, R = np.ascontiguousarray(Z, dtype=dtype), np.ascontiguousarray(R, dtype=dtype)
    F = [np.sqrt(np.einsum("ij,ij->j", R, R))]
    for _ in range(steps):
        for _ in range(s):
            u, acc = Z, Z.copy()
            W = (Bt @ u) * dtype(delta)
            fact = 1.0
            for k in range(1, m + 1):
                u = Ad @ u
                fact /= k
                acc += dtype(fact) * u
                W += dtype(delta * fact / (k + 1)) * (Bt @ u)
            Z, R = acc, R + W
        F.append(np.sqrt(np.einsum("ij,ij->j", R, R)))
    return 0.5 * np.array(F, dtype=float).T          # rho = 0.5


def _lyapunov_tail_study(system, res):
    """How loose the Lyapunov bound of everything after T0 (``A^T Y + Y A = -I``, dense, on
    the grounded realisation) is against the true later grid values, per bus."""
    from netcoh.analysis.lti_timedomain import LyapunovTail, _DenseRows
    from netcoh.analysis.nadir_sets import NormBall

    class Grounded:
        n = system.n

        def _build_realization(self, grounded=False):
            return system.realization()

    ball = NormBall(0.5, 2)
    rows = _DenseRows(Grounded(), value=ball.value, unit_sup=0.5, ball2=0.5)
    tail = LyapunovTail(rows)
    steady = 0.5 * np.linalg.norm(tail.steady, axis=1)
    Z, R = rows.start(np.arange(system.n))
    now, out = 0.0, []
    for t0 in (0.2, 0.3, 0.4, 0.5):
        Z, R = rows.advance(Z, R, t0 - now)
        now = t0
        ub = steady + tail.bound(Z, ball)
        late = res.table[:, res.times >= t0 - 1e-12].max(axis=1)
        out.append(f"T0={t0:g} s: median {np.median(ub / late):.1f}x, "
                   f"{int(np.sum(ub < res.value))} buses ended")
    print("Lyapunov bound of [T0, inf) (A^T Y + Y A = -I) against the true later grid maximum: "
          + "; ".join(out) + f" (of {system.n})")


def study(system, k):
    """What a cheap first pass would have to achieve to rule buses out before the exact pass.

    Prints (1) the exact search and how many buses an upper bound ``c`` times too large
    would leave to the exact pass; (2) a float32 against a float64 grid pass (the same
    plain loop, ``k`` blocks of 64 buses, one thread) with the measured difference of the
    grid values; (3) the growth bound ``exp(mu_2 H)`` from the logarithmic 2-norm of the
    balanced adjoint matrix, which a rounding-error bound carried by it would multiply.
    """
    import scipy.sparse.linalg as spla

    from netcoh.analysis.nadir_adjoint import AdjointRows
    from netcoh.analysis.nadir_sets import NormBall

    t0 = time.perf_counter()
    res = worst_case_nadir(system, rho=0.5, dt=0.1, horizon=1.0, method="timedomain")
    wall = time.perf_counter() - t0
    ratio = res.per_bus / res.value
    print(f"exact time-domain search: wall {wall:.1f} s, value {res.value:.9g} at bus {res.bus}, "
          f"t* = {res.time:.4f} s, certified={res.certified}")
    print("buses left to the exact pass by an upper bound c times the true per-bus supremum: "
          + ", ".join(f"c={c:g}: {int(np.sum(c * ratio >= 1.0))}"
                      for c in (1.01, 1.1, 1.5, 2.0, 3.0, 5.0)) + f" (of {system.n})")
    late = [(t0, float(res.table[:, res.times >= t0 - 1e-12].max() / res.value))
            for t0 in (0.2, 0.3, 0.4, 0.5)]
    print("largest grid value after T0 over all buses, / value (a bound of the rest of the "
          "window this many times too large would end every bus's propagation at T0): "
          + ", ".join(f"T0={t0:g} s: {v:.2f}" for t0, v in late))
    if system.realization().A.shape[0] <= 1500:
        _lyapunov_tail_study(system, res)
    rows = AdjointRows(system, value=NormBall(0.5, 2).value, unit_sup=0.5, ball2=0.5)
    buses = np.argsort(-res.per_bus, kind="stable")[np.arange(k * 64) % system.n]
    times, F = {}, {}
    for dtype in (np.float64, np.float32, np.float64, np.float32):
        t1 = time.perf_counter()
        F[dtype] = np.vstack([_grid_pass(rows, buses[a:a + 64], 0.1, 10, dtype)
                              for a in range(0, buses.size, 64)])
        times[dtype] = min(times.get(dtype, np.inf), time.perf_counter() - t1)
    err = np.abs(F[np.float32] - F[np.float64]).max() / res.value
    print(f"grid pass of {buses.size} buses (the worst first), one thread: float64 "
          f"{times[np.float64]:.2f} s, float32 {times[np.float32]:.2f} s "
          f"(float32 {times[np.float64] / times[np.float32]:.2f}x faster); "
          f"max |F32 - F64| / value = {err:.1e}")
    S = ((rows.A + rows.A.T) * 0.5).tocsc()
    mu = float(spla.eigsh(S, k=1, which="LA", return_eigenvectors=False)[0])
    Sa = abs(S).tocsr()
    diag = S.diagonal()
    gersh = float(np.max(diag + np.asarray(Sa.sum(axis=1)).ravel() - np.abs(diag)))
    Z, _ = rows.start(buses[:64])
    nz = np.linalg.norm(Z, axis=0)
    grow = 1.0
    for _ in range(10):
        Z, _ = rows.advance(Z, np.zeros((rows.r, Z.shape[1])), 0.1)
        grow = max(grow, float((np.linalg.norm(Z, axis=0) / nz).max()))
    print(f"logarithmic 2-norm of the balanced adjoint matrix mu_2 = {mu:.2f} /s (Gershgorin "
          f"bound {gersh:.2f} /s): growth bound exp(mu_2 * 1 s) = {np.exp(mu):.2e} (Gershgorin "
          f"{np.exp(gersh):.2e}); largest growth ||z(t)|| / ||z(0)|| seen on the grid for 64 "
          f"rows: {grow:.2f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--dt", type=float, default=0.1)
    ap.add_argument("--full-table", action="store_true",
                    help="evaluate F[i, t] for every bus during the search (full_table=True)")
    ap.add_argument("--model", default="swing", choices=("swing", "swing_turbine"))
    ap.add_argument("--method", default="auto",
                    choices=("auto", "modal", "statespace", "timedomain"))
    ap.add_argument("--estimate", type=int, default=0, metavar="K",
                    help="swing_turbine: instead of the whole search, time the setup and K*64 "
                         "buses of the Taylor propagation's grid pass (the path of general "
                         "nodes; one thread, blocks of 64 and of "
                         "the search's default size) and print the grid-pass CPU time this "
                         "extrapolates to for all n buses (an estimate)")
    ap.add_argument("--baseline", action="store_true",
                    help="swing_turbine: also run the dense state-space search (and its "
                         "eigenproblem alone) in the same process")
    ap.add_argument("--taylor", action="store_true",
                    help="swing_turbine: also run the time-domain search with the Taylor "
                         "propagation (the path of general nodes) in the same process: times, "
                         "ratio, sparse products per bus of each, agreement")
    ap.add_argument("--study", type=int, default=0, metavar="K",
                    help="swing_turbine: what a cheap first pass must achieve to prune buses "
                         "(exact search; survivors for a bound c times loose; float32 against "
                         "float64 on K blocks of 64 buses; the logarithmic-norm growth bound)")
    args = ap.parse_args()
    system = build(args.n, model=args.model)
    print(f"n = {system.n} machines, model {args.model}, "
          f"{system.realization().A.shape[0]} states")
    if args.study:
        study(system, args.study)
        return
    if args.estimate:
        estimate(system, args.estimate)
        return
    res, wall = run(system, args, args.method)
    if args.baseline and args.model == "swing_turbine":
        import scipy.linalg as la

        ref, ref_wall = run(system, args, "statespace")
        t0 = time.perf_counter()
        la.eig(system.realization().A.toarray(), overwrite_a=True, check_finite=False)
        print(f"dense eigenproblem alone ({system.realization().A.shape[0]} states): "
              f"{time.perf_counter() - t0:.1f} s")
        print(f"agreement: value rel. diff {abs(res.value - ref.value) / ref.value:.1e}, "
              f"same bus {res.bus == ref.bus}, |dt*| {abs(res.time - ref.time):.1e} s, "
              f"table max rel. diff {np.abs(res.table - ref.table).max() / ref.value:.1e}")
        print(f"speed-up {res.method} vs statespace: {ref_wall / wall:.1f}x")
    if args.taylor and args.model == "swing_turbine":
        taylor_baseline(system, args, res, wall)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")


def taylor_baseline(system, args, res, wall):
    """The same time-domain search with the Taylor propagation of general nodes (the energy
    form switched off for this run only), and the sparse products per bus of both."""
    import netcoh.analysis.nadir_timedomain as td
    from netcoh.analysis.nadir_adjoint import AdjointRows
    from netcoh.analysis.nadir_energy import EnergyRows
    from netcoh.analysis.nadir_sets import NormBall

    ball = NormBall(0.5, 2)
    deg = EnergyRows(system, horizon=1.0, value=ball.value, sup2=0.5, ball2=0.5).degree
    rows = AdjointRows(system, value=ball.value, unit_sup=0.5, ball2=0.5)
    m, s = rows._plan(args.dt)
    steps = int(round(1.0 / args.dt))
    print(f"sparse products per bus over the 1 s window: expansion {deg}, Taylor steps "
          f"{m * s * steps} ({m * s} per {args.dt:g} s step; bisection not counted)")
    form = td.energy_form
    td.energy_form = lambda system: None
    try:
        ref, ref_wall = run(system, args, "timedomain")
    finally:
        td.energy_form = form
    print(f"agreement with the Taylor propagation: value rel. diff "
          f"{abs(res.value - ref.value) / ref.value:.1e}, same bus {res.bus == ref.bus}, "
          f"|dt*| {abs(res.time - ref.time):.1e} s, table max rel. diff "
          f"{np.abs(res.table - ref.table).max() / ref.value:.1e}")
    print(f"speed-up expansion vs Taylor propagation: {ref_wall / wall:.1f}x")


if __name__ == "__main__":
    main()
