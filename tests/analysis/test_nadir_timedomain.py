"""The time-domain worst-case nadir (sparse propagation, no eigenproblem).

References: the state-space modal search (one dense eigendecomposition, written
independently), a scipy ODE simulation of the worst disturbance, and brute-force fine
time grids of the exact step-response rows. The certificate is checked to be an upper
bound of the brute-force supremum, and to fail when the grid is too coarse and the
interval bisection is switched off.
"""

from __future__ import annotations

import warnings

import networkx as nx
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import netcoh as nc
import netcoh.analysis.sparse_stability as stab
from netcoh.analysis.nadir import build_modal_model, worst_case_nadir
from netcoh.analysis.nadir_adjoint import AdjointRows, interval_bound
from netcoh.analysis.nadir_polytope import LinearSet
from netcoh.analysis.nadir_search import grid_table
from netcoh.analysis.nadir_sets import FixedStep, NormBall, SingleInfeedLoss
from netcoh.analysis.nadir_timedomain import (
    AUTO_MIN_STATES,
    AUTO_MIN_STATES_ENERGY,
    default_block,
    prefer_timedomain,
    timedomain_search,
)
from netcoh.exceptions import InputError, NetcohTypeError


def random_system(n, seed=0, stiff=50.0):
    """Non-proportional swing-turbine machines (own inertia, damping, droop, turbine) on a
    random connected mesh."""
    rng = np.random.default_rng(seed)
    A = np.triu(rng.uniform(0.2, 2.0, (n, n)) * (rng.random((n, n)) < 4.0 / n), 1)
    A[np.arange(n - 1), np.arange(1, n)] += 1.0            # a path keeps it connected
    A = A + A.T
    L = stiff * (np.diag(A.sum(1)) - A)
    m = rng.uniform(0.5, 10.0, n)
    g = nc.nodal.swing_turbine(m, m * rng.uniform(0.5, 4.0, n), rng.uniform(5.0, 25.0, n) * m / 5,
                               rng.uniform(2.0, 9.0, n))
    return nc.NetworkSystem.from_laplacian(L, nodal=g)


def both(system, **kw):
    kw = dict(dict(rho=0.5, dt=0.1, horizon=1.0), **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nc.AccuracyWarning)
        ref = worst_case_nadir(system, method="statespace", full_table=True, **kw)
        new = worst_case_nadir(system, method="timedomain", **kw)
    return ref, new


def assert_same(ref, new, rtol=1e-6):
    assert new.method == "timedomain" and ref.method == "statespace"
    assert new.certified and ref.certified
    assert abs(new.value - ref.value) <= 2 * rtol * ref.value
    assert new.bus == ref.bus and new.bus_index == ref.bus_index
    assert abs(new.time - ref.time) <= 1e-4 * max(ref.time, 1.0)
    assert new.upper_bound >= new.value
    np.testing.assert_allclose(new.times, ref.times)
    np.testing.assert_allclose(new.table, ref.table, rtol=1e-9, atol=1e-12 * ref.value)
    assert abs(new.grid_value - ref.grid_value) <= 1e-9 * ref.grid_value
    np.testing.assert_allclose(new.trajectory, ref.trajectory, rtol=0,
                               atol=1e-5 * np.abs(ref.trajectory).max())
    np.testing.assert_allclose(new.per_bus, ref.per_bus, rtol=2 * rtol)


@pytest.mark.parametrize("n, seed", [(20, 0), (60, 1), (150, 2)])
def test_matches_statespace_modal_search(n, seed):
    sys = random_system(n, seed)
    ref, new = both(sys)
    assert_same(ref, new)
    assert np.isclose(np.linalg.norm(new.disturbance), 0.5)


def test_flags_and_hz_as_the_modal_search():
    sys = random_system(20, seed=12)
    ref0 = worst_case_nadir(sys, rho=0.5, horizon=1.0, dt=0.1, method="statespace")
    thr = 0.5 * ref0.value * 50.0                    # about half the buses exceed it
    ref, new = both(sys, f_hz=50.0, threshold_hz=thr)
    assert 0 < len(new.flagged) < sys.n
    # both flag a bus by its supremum over the window, between grid points too: some bus
    # here exceeds the threshold only between grid points (a grid-only rule would miss it)
    assert set(new.flagged) == set(ref.flagged)
    model = build_modal_model(sys)[0]
    fine = np.linspace(0.0, 1.0, 2001)
    curve = {b: 0.5 * 50.0 * np.linalg.norm(model.rows(np.full(fine.size, i), fine), axis=1)
             for i, b in enumerate(sys.labels)}
    peak = {b: c.max() for b, c in curve.items()}
    assert {b for b, v in peak.items() if v > thr * (1 + 1e-6)} <= set(new.flagged)
    assert set(new.flagged) <= {b for b, v in peak.items() if v > thr * (1 - 1e-6)}
    on_grid = {b: c[::200].max() for b, c in curve.items()}        # the 0.1 s search grid
    assert any(on_grid[b] <= thr for b in new.flagged)
    assert np.isclose(new.value_hz, ref.value_hz, rtol=2e-6) and new.f_hz == 50.0
    assert list(new.to_frame().columns) == list(ref.to_frame().columns)


def test_matches_on_a_stiff_network_with_an_early_nadir():
    # strong lines and heavy, well-damped machines (the large-network benchmark's kind):
    # the worst bus dips in its first local swing, well inside the first grid interval
    rng = np.random.default_rng(3)
    n = 40
    G = nx.connected_watts_strogatz_graph(n, 6, 0.1, seed=3)
    for u, v in G.edges:
        G[u][v]["weight"] = 2 * np.pi * 50 * rng.uniform(5.0, 50.0)
    m = rng.uniform(50.0, 1000.0, n)
    g = nc.nodal.swing_turbine(m, m * 16 / 4.38, rng.uniform(5.0, 25.0, n) * m / 50,
                               rng.uniform(4.0, 9.0, n))
    sys = nc.NetworkSystem.from_graph(G, nodal=g, sparse=True)
    ref, new = both(sys, dt=0.25)
    assert_same(ref, new)
    assert 0 < new.time < 0.2 and new.grid_value < 0.9 * new.value


@pytest.mark.parametrize("kw", [dict(norm=np.inf), dict(norm=1),
                                dict(rho=0.6, bounds=np.linspace(0.0, 0.3, 25)),
                                dict(rho=None, disturbance_set=np.linspace(-0.2, 0.1, 25)),
                                dict(rho=None, trips={3: 0.4, 11: 0.3}),
                                dict(rho=None, disturbance_set=SingleInfeedLoss(
                                    np.linspace(0.0, 0.5, 25), budget=0.35))])
def test_other_disturbance_sets(kw):
    sys = random_system(25, seed=4)
    ref, new = both(sys, **kw)
    assert new.certified and ref.certified
    assert abs(new.value - ref.value) <= 2e-6 * ref.value
    assert new.bus == ref.bus
    assert abs(new.time - ref.time) <= 1e-4
    np.testing.assert_allclose(new.disturbance, ref.disturbance, atol=1e-6)


def test_linear_set_with_area_budgets():
    # a general polytope: linear programs for the values, cheap bounds for the derivatives
    sys = random_system(8, seed=11)
    cap = np.linspace(0.05, 0.4, 8)
    lin = LinearSet(cap, budget=0.6, groups=[([0, 1, 2], 0.2)])
    ref, new = both(sys, rho=None, disturbance_set=lin)
    assert new.certified and ref.certified
    assert abs(new.value - ref.value) <= 2e-6 * ref.value and new.bus == ref.bus
    assert -new.disturbance[:3].sum() <= 0.2 + 1e-9 and -new.disturbance.sum() <= 0.6 + 1e-9


def test_nodes_with_feedthrough():
    # g_i = (0.2 s + a_i)/(s + b_i): S(0) = D is not zero, the rows start from it
    rng = np.random.default_rng(13)
    n = 12
    a, b = rng.uniform(0.5, 2.0, n), rng.uniform(2.0, 5.0, n)
    g = nc.nodal.from_tf(num=np.column_stack([np.full(n, 0.2), a]),
                         den=np.column_stack([np.ones(n), b]))
    sys = nc.NetworkSystem.from_laplacian(np.asarray(random_system(n, 13).laplacian) / 10, nodal=g)
    assert sys.realization().D.nnz
    ref, new = both(sys)
    assert new.certified and abs(new.value - ref.value) <= 2e-6 * ref.value
    assert new.bus == ref.bus and abs(new.time - ref.time) <= 1e-4
    np.testing.assert_allclose(new.table, ref.table, rtol=1e-9)


def test_against_an_ode_simulation_and_a_brute_force_grid():
    sys = random_system(30, seed=5, stiff=300.0)
    res = worst_case_nadir(sys, rho=0.5, dt=0.1, horizon=1.0, method="timedomain")
    assert res.certified
    # scipy ODE of the grounded realisation under the worst disturbance
    A, B, C, D = (M.toarray() for M in sys.realization())
    bu = B @ res.disturbance
    sol = solve_ivp(lambda t, x: A @ x + bu, (0.0, 1.0), np.zeros(A.shape[0]), method="DOP853",
                    rtol=1e-12, atol=1e-15, dense_output=True, t_eval=[res.time])
    y = C @ sol.y[:, 0] + D @ res.disturbance
    assert y[res.bus_index] < 0                                  # a dip
    assert np.isclose(abs(y[res.bus_index]), res.value, rtol=1e-7)
    # the exact rows of S(t) on a fine grid never beat the certified bound
    model, _ = build_modal_model(sys, "statespace")
    t = np.linspace(0.0, 1.0, 2001)
    F = np.array([NormBall(0.5, 2).value(model.rows(np.arange(sys.n), np.full(sys.n, x)))
                  for x in t])
    assert F.max() <= res.upper_bound * (1 + 1e-12)
    assert F.max() >= res.value * (1 - 1e-5)


def test_derivative_bounds_hold_on_a_step():
    sys = random_system(12, seed=6, stiff=500.0)
    rows = AdjointRows(sys, value=NormBall(1.0, 2).value, unit_sup=1.0)
    Z, R = rows.start(np.arange(sys.n))
    Z, R = rows.advance(Z, R, 0.05)
    h = 0.08
    _, _, Fs, K1, K2, d = rows.advance(Z, R, h, bounds=True)
    tau = np.linspace(0.0, h, 801)
    F = np.array([rows.F(rows.advance(Z, R, x)[1]) for x in tau])      # (801, n)
    assert np.allclose(F[0], Fs[0]) and np.allclose(F[-1], Fs[-1])
    dF = np.diff(F, axis=0) / np.diff(tau)[:, None]
    d2F = np.diff(F, 2, axis=0) / np.diff(tau)[1:, None] ** 2
    assert np.all(np.abs(dF) <= K1.max(axis=0) * (1 + 1e-6))
    assert np.all(np.abs(d2F) <= K2.max(axis=0) * 1.01)
    assert np.all(F.max(axis=0) <= interval_bound(Fs, K1, K2, d))


def test_certificate_fails_on_a_coarse_grid_without_bisection():
    sys = random_system(20, seed=7, stiff=500.0)
    rows = AdjointRows(sys, value=NormBall(0.5, 2).value, unit_sup=0.5)
    t = np.linspace(0.0, 1.0, 3)
    F, grid, value, bus, time, upper = timedomain_search(rows, sys.n, t, 1e-6, 1, max_rounds=0)
    model, _ = build_modal_model(sys, "statespace")
    fine = np.linspace(0.0, 1.0, 4001)
    brute = max(float(NormBall(0.5, 2).value(model.rows(np.arange(sys.n), np.full(sys.n, x))).max())
                for x in fine)
    assert upper > value * (1 + 1e-6)          # not certified: the bound says so
    assert upper >= brute * (1 - 1e-12)        # and it is still an upper bound
    # with the bisection the same search closes the gap
    *_, value2, bus2, time2, upper2 = timedomain_search(rows, sys.n, t, 1e-6, 1)
    assert upper2 <= value2 * (1 + 1e-6) and value2 >= brute * (1 - 1e-6)


def test_threads_give_the_same_digits():
    sys = random_system(40, seed=10, stiff=500.0)
    rows = AdjointRows(sys, value=NormBall(0.5, 2).value, unit_sup=0.5)
    t = np.linspace(0.0, 1.0, 11)
    one = timedomain_search(rows, sys.n, t, 1e-6, 2, block=8, workers=1)
    three = timedomain_search(rows, sys.n, t, 1e-6, 2, block=8, workers=3)
    assert np.array_equal(one[0], three[0]) and one[1:] == three[1:]


def test_block_size_does_not_change_the_answer():
    sys = random_system(30, seed=8)
    rows = AdjointRows(sys, value=NormBall(0.5, 2).value, unit_sup=0.5)
    t = np.linspace(0.0, 1.0, 11)
    a = timedomain_search(rows, sys.n, t, 1e-6, 2, block=7)
    b = timedomain_search(rows, sys.n, t, 1e-6, 2, block=64)
    np.testing.assert_allclose(a[0], b[0], rtol=1e-12)
    assert a[3] == b[3] and abs(a[2] - b[2]) <= 2e-6 * a[2]


def test_default_block_keeps_a_block_of_states_in_cache():
    # 64 columns while a block of states is small; above that a block stays near 4 MB
    assert default_block(900, 11) == 64 and default_block(9000, 11) == 55
    for N in (20_000, 30_000, 60_000):
        b = default_block(N, 11)
        assert 8 <= b < 64 and 8 * N * b <= 4e6 < 8 * N * (b + 1)
    assert default_block(10**6, 11) == 8                     # never fewer than 8
    assert default_block(3000, 1000) == 8e7 // (3000 * 1004) == 26   # long grids: their memory


def test_method_choice():
    small = random_system(20)
    assert not prefer_timedomain(small, "auto", 1.0)
    assert prefer_timedomain(small, "timedomain", 1.0)
    assert worst_case_nadir(small, rho=0.5, horizon=1.0).method == "statespace"
    n = AUTO_MIN_STATES_ENERGY // 3 + 2
    big = random_system(n, seed=9)
    assert big.realization().A.shape[0] >= AUTO_MIN_STATES_ENERGY
    assert prefer_timedomain(big, "auto", 1.0)
    assert not prefer_timedomain(big, "auto", None)          # all t >= 0: modal tail bound
    assert not prefer_timedomain(big, "auto", 1e4)            # long windows: eigenproblem
    assert not prefer_timedomain(big, "statespace", 1.0)
    step = FixedStep(np.linspace(-0.1, 0.0, n))               # one column: modal search
    assert not prefer_timedomain(big, "auto", 1.0, step)
    assert prefer_timedomain(big, "auto", 1.0, NormBall(0.5, 2))
    assert not prefer_timedomain(big, "auto", 1.0, LinearSet(np.ones(n), budget=1.0))
    prop = nc.NetworkSystem.from_laplacian(big.laplacian, nodal=nc.nodal.swing(np.ones(n), 2.0))
    assert not prefer_timedomain(prop, "auto", 1.0)           # closed form
    # general nodes keep the higher threshold of the Taylor propagation
    tf = nc.nodal.from_tf(num=np.column_stack([np.full(n, 0.2), np.ones(n)]),
                          den=np.column_stack([np.ones(n), np.full(n, 3.0), np.ones(n)]))
    general = nc.NetworkSystem.from_laplacian(big.laplacian, nodal=tf)
    assert general.realization().A.shape[0] < AUTO_MIN_STATES
    assert not prefer_timedomain(general, "auto", 1.0)


def test_bad_input():
    sys = random_system(10)
    with pytest.raises(InputError, match="horizon"):
        worst_case_nadir(sys, rho=0.5, method="timedomain")
    with pytest.raises(InputError, match="timedomain"):
        worst_case_nadir(sys, rho=0.5, horizon=1.0, method="eig")
    with pytest.raises(InputError, match="`dt`"):
        worst_case_nadir(sys, rho=0.5, horizon=1.0, dt=2.0, method="timedomain")
    rows = AdjointRows(sys, value=NormBall(0.5, 2).value, unit_sup=0.5)
    with pytest.raises(InputError, match="`t`"):
        timedomain_search(rows, sys.n, np.array([0.0]), 1e-6, 1)



def _damped_system(n, seed, bad, extra):
    """Swing-turbine machines written as transfer functions (no passivity certificate
    once a damping is negative); machine ``bad`` gets the damping ``-1.5 m/tau - extra r``."""
    rng = np.random.default_rng(seed)
    L = random_system(n, seed).laplacian
    m = rng.uniform(0.5, 10.0, n)
    d = m * rng.uniform(0.5, 4.0, n)
    r = rng.uniform(5.0, 25.0, n) * m / 5
    tau = rng.uniform(2.0, 9.0, n)
    d[bad] = -1.5 * m[bad] / tau[bad] - extra * r[bad]
    g = nc.nodal.from_tf(num=np.column_stack([tau, np.ones(n)]),
                         den=np.column_stack([m * tau, m + d * tau, d + r]))
    return nc.NetworkSystem.from_laplacian(L, nodal=g)


def test_unstable_network_raises_as_the_dense_path():
    sys = _damped_system(40, 14, bad=5, extra=2.0)
    assert np.linalg.eigvals(sys.realization().A.toarray()).real.max() > 0
    with pytest.raises(nc.UnstableError):
        worst_case_nadir(sys, rho=0.5, horizon=1.0, method="statespace")
    with pytest.raises(nc.UnstableError):
        worst_case_nadir(sys, rho=0.5, horizon=1.0, method="timedomain")


def test_sparse_stability_test_above_the_dense_limit(monkeypatch):
    # above the dense limit the rightmost eigenvalues come from the sparse Cayley iteration
    monkeypatch.setattr(stab, "DENSE_STABILITY_STATES", 10)
    bad = _damped_system(120, 15, bad=17, extra=2.0)
    assert np.linalg.eigvals(bad.realization().A.toarray()).real.max() > 0
    with pytest.raises(nc.UnstableError):
        stab.check_stable_sparse(bad)
    with pytest.raises(nc.UnstableError):
        worst_case_nadir(bad, rho=0.5, horizon=1.0, method="timedomain")
    # one negatively damped machine that the network keeps stable: no certificate, the
    # sparse eigenvalues decide, and they find the rightmost one
    good = _damped_system(120, 15, bad=17, extra=0.0)
    ref = np.linalg.eigvals(good.realization().A.toarray()).real.max()
    assert ref < 0
    stab.check_stable_sparse(good)
    est, ok = stab._rightmost_eigenvalues(good.realization().A)
    assert ok and np.isclose(est.real.max(), ref, rtol=1e-6)


def test_piecewise_taylor_rows_match_the_propagation():
    # the refinement evaluates rows from the sub-steps' Taylor polynomials
    sys = random_system(15, seed=16, stiff=500.0)
    rows = AdjointRows(sys, value=NormBall(1.0, 2).value, unit_sup=1.0, ball2=1.0)
    Z, R = rows.start(np.arange(sys.n))
    Z, R = rows.advance(Z, R, 0.13)
    pcs = rows.pieces(Z[:, 4], R[:, 4], 0.2)
    assert pcs[1].shape[0] > 1                            # several sub-steps
    for tau in (0.0, 0.031, 0.1, 0.1999, 0.2):
        ref = rows.advance(Z[:, 4:5], R[:, 4:5], tau)[1][:, 0]
        np.testing.assert_allclose(AdjointRows.at(pcs, tau), ref, rtol=1e-11,
                                   atol=1e-13 * np.abs(ref).max())
    # and the 2-norm fast path gives the same table values as the generic functional
    gen = AdjointRows(sys, value=NormBall(1.0, 2).value, unit_sup=1.0)
    _, _, Fs, K1, K2, _ = rows.advance(Z, R, 0.1, bounds=True)
    _, _, Fg, K1g, K2g, _ = gen.advance(Z, R, 0.1, bounds=True)
    np.testing.assert_allclose(Fs, Fg, rtol=1e-13)
    np.testing.assert_allclose(K1, K1g, rtol=1e-12)
    np.testing.assert_allclose(K2, K2g, rtol=1e-12)


def test_flags_only_search_skips_the_refinement_and_keeps_the_flags():
    """``refine=False`` (the windows searched after the nadir for the flags alone): the same
    grid table and flags, the grid maximum as the value, and an upper bound that still
    holds against a brute-force grid."""
    sys = random_system(20, seed=7, stiff=500.0)
    rows = AdjointRows(sys, value=NormBall(0.5, 2).value, unit_sup=0.5)
    t = np.linspace(0.0, 1.0, 6)
    F, grid, value, bus, time, upper, above = timedomain_search(rows, sys.n, t, 1e-6, 2,
                                                                level=0.0)
    level = float(np.median(F.max(axis=1)))
    *_, above = timedomain_search(rows, sys.n, t, 1e-6, 2, level=level)
    F2, grid2, value2, bus2, time2, upper2, above2 = timedomain_search(
        rows, sys.n, t, 1e-6, 2, level=level, refine=False)
    assert np.array_equal(F2, F) and np.array_equal(above2, above)
    assert value2 == grid2 == grid < value              # not refined between grid points
    model, _ = build_modal_model(sys, "statespace")
    brute = float(grid_table(model, NormBall(0.5, 2), np.linspace(0.0, 1.0, 2001)).max())
    assert upper2 >= brute * (1 - 1e-12) and upper2 > value * (1 + 1e-6)
    with pytest.raises(NetcohTypeError, match="refine"):
        timedomain_search(rows, sys.n, t, 1e-6, 2, refine="no")
