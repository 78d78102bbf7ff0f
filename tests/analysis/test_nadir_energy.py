"""Rows of the step-response matrix from one Chebyshev-Bessel expansion, certified by energy.

References: the state-space modal model (one dense eigendecomposition, written
independently) and the Taylor propagation of :mod:`netcoh.analysis.nadir_adjoint`. The
bounds (derivatives, neglected terms) are checked against brute-force fine grids of the
exact rows, and shown to be needed: with too few terms the error is seen, and stays
within the stated bound.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import netcoh as nc
import netcoh.analysis.nadir_energy as ne
from netcoh.analysis.nadir import build_modal_model, worst_case_nadir
from netcoh.analysis.nadir_adjoint import AdjointRows
from netcoh.analysis.nadir_energy import EnergyRows, energy_form, energy_search, set_sup2
from netcoh.analysis.nadir_sets import BudgetBox, NormBall, SingleInfeedLoss
from netcoh.analysis.nadir_timedomain import timedomain_search
from netcoh.exceptions import InputError


def mixed_system(n=16, seed=0, gain=1.0, stiff=30.0):
    """Swing-turbine machines, a third of them without a governor (droop 0), on a random
    connected mesh with coupling ``gain / s``."""
    rng = np.random.default_rng(seed)
    A = np.triu(rng.uniform(0.2, 2.0, (n, n)) * (rng.random((n, n)) < 4.0 / n), 1)
    A[np.arange(n - 1), np.arange(1, n)] += 1.0
    A = A + A.T
    L = stiff * (np.diag(A.sum(1)) - A)
    m = rng.uniform(0.5, 10.0, n)
    droop = rng.uniform(5.0, 25.0, n) * m / 5
    droop[::3] = 0.0
    g = nc.nodal.swing_turbine(m, m * rng.uniform(0.5, 4.0, n), droop, rng.uniform(2.0, 9.0, n))
    return nc.NetworkSystem.from_laplacian(L, nodal=g, coupling=nc.nodal.integrator(gain))


def exact_rows(sys, bus, times):
    model, _ = build_modal_model(sys, "statespace")
    return model.rows(np.full(len(times), bus), np.asarray(times))


@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_rows_match_the_modal_model_and_the_taylor_propagation(gain):
    sys = mixed_system(gain=gain)
    assert energy_form(sys) is not None
    rows = EnergyRows(sys, horizon=1.0, value=NormBall(1.0, 2).value, sup2=1.0)
    times = np.sort(np.random.default_rng(1).uniform(0.0, 1.0, 7))
    Y = rows.expand([2, 5])
    R = rows.rows(Y, times)                                   # (2, 7, n)
    for p, bus in enumerate([2, 5]):
        ref = exact_rows(sys, bus, times)
        np.testing.assert_allclose(R[p], ref, rtol=0, atol=1e-12 * np.abs(ref).max())
    taylor = AdjointRows(sys, value=NormBall(1.0, 2).value, unit_sup=1.0)
    z, r = taylor.start([5])
    _, r = taylor.advance(z, r, float(times[3]))
    np.testing.assert_allclose(R[1, 3], r[:, 0], rtol=0, atol=1e-12 * np.abs(r).max())
    F = rows.F_pairs(Y, [1, 0], [times[3], times[0]])
    assert np.allclose(F, [np.linalg.norm(R[1, 3]), np.linalg.norm(R[0, 0])], rtol=1e-13)


def test_input_map_selects_columns():
    sys = mixed_system(seed=3)
    cols = [0, 4, 7]
    M = np.zeros((sys.n, 3))
    M[cols, np.arange(3)] = 1.0
    rows = EnergyRows(sys, M, horizon=0.8, value=NormBall(1.0, 2).value, sup2=1.0)
    R = rows.rows(rows.expand([4]), [0.3, 0.8])[0]
    ref = exact_rows(sys, 4, [0.3, 0.8])[:, cols]
    np.testing.assert_allclose(R, ref, rtol=0, atol=1e-12 * np.abs(ref).max())


def test_derivative_and_truncation_bounds_hold():
    sys = mixed_system(n=12, seed=6, stiff=300.0)
    rows = EnergyRows(sys, horizon=1.0, value=NormBall(1.0, 2).value, sup2=1.0)
    fine = np.linspace(0.0, 1.0, 4001)
    grid = fine[::200]                                   # 0.05 s steps
    for bus in range(sys.n):
        R = exact_rows(sys, bus, fine)
        d1 = np.linalg.norm(np.diff(R, axis=0), axis=1) / np.diff(fine)
        d2 = np.linalg.norm(np.diff(R, 2, axis=0), axis=1) / np.diff(fine)[1:] ** 2
        assert np.all(d1 <= rows.K1[bus] * (1 + 1e-6))
        assert np.all(d2 <= rows.K2[bus] * 1.01)
        # the interval bounds from the grid values hold the curve between them
        F = np.linalg.norm(R, axis=1)
        ub = ne._bound(F[::200][:-1], F[::200][1:], rows.K1[bus], rows.K2[bus],
                       rows.tail[bus], grid[1] - grid[0])
        assert np.all(F[:-1].reshape(-1, 200).max(axis=1) <= ub)
    # the energy bound of the slope is attained at t = 0 by the lightest machine
    light = int(np.argmin(sys.nodal.params["m"]))
    F = np.linalg.norm(exact_rows(sys, light, [0.0, 1e-6]), axis=1)
    assert (F[1] - F[0]) / 1e-6 >= 0.99 * rows.K1[light]
    # too few terms: the error shows, and stays within the stated tail bound
    Y = rows.expand([light])
    for deg in (rows.degree // 2, rows.degree // 3):
        err = np.abs(rows.rows(Y[: deg + 1], fine[::40])[0] - exact_rows(sys, light, fine[::40]))
        err = np.linalg.norm(err, axis=1).max()
        tails = ne._tail_bounds(rows.rho, rows.gamma, 1.0)
        bound = tails[deg] * rows.tail[light] / tails[rows.degree]
        assert 1e-10 * np.abs(F).max() < err <= bound
    assert rows.tail[light] <= 1e-14 * rows.K1[light]


def test_search_matches_the_taylor_search_and_the_modal_search():
    sys = mixed_system(n=30, seed=8, stiff=200.0)
    t = np.linspace(0.0, 1.0, 11)
    rows = EnergyRows(sys, horizon=1.0, value=NormBall(0.5, 2).value, sup2=0.5, ball2=0.5)
    taylor = AdjointRows(sys, value=NormBall(0.5, 2).value, unit_sup=0.5, ball2=0.5)
    F, grid, value, bus, time, upper = energy_search(rows, sys.n, t, 1e-6, 2)
    F2, grid2, value2, bus2, time2, upper2 = timedomain_search(taylor, sys.n, t, 1e-6, 2)
    np.testing.assert_allclose(F, F2, rtol=1e-11)
    assert bus == bus2 and abs(value - value2) <= 2e-6 * value and abs(time - time2) <= 1e-4
    assert value <= upper <= value * (1 + 1e-6)
    model, _ = build_modal_model(sys, "statespace")
    fine = np.linspace(0.0, 1.0, 4001)
    brute = max(float(0.5 * np.linalg.norm(model.rows(np.full(fine.size, i), fine), axis=1).max())
                for i in range(sys.n))
    assert brute * (1 - 1e-6) <= value and brute <= upper       # the grid brute force is below
    # without the bisection the coarse bounds cannot certify, but stay upper bounds
    *_, v0, _, _, up0 = energy_search(rows, sys.n, np.linspace(0.0, 1.0, 3), 1e-6, 1,
                                      max_rounds=0)
    assert up0 > v0 * (1 + 1e-6) and up0 >= brute * (1 - 1e-12)


def test_threads_and_blocks_give_the_same_digits():
    sys = mixed_system(n=40, seed=10, stiff=200.0)
    rows = EnergyRows(sys, horizon=1.0, value=NormBall(0.5, 2).value, sup2=0.5, ball2=0.5)
    t = np.linspace(0.0, 1.0, 11)
    one = energy_search(rows, sys.n, t, 1e-6, 2, block=8, workers=1)
    three = energy_search(rows, sys.n, t, 1e-6, 2, block=8, workers=3)
    assert np.array_equal(one[0], three[0]) and one[1:] == three[1:]
    other = energy_search(rows, sys.n, t, 1e-6, 2, block=64)
    np.testing.assert_allclose(other[0], one[0], rtol=1e-12)
    assert other[3] == one[3] and abs(other[2] - one[2]) <= 2e-6 * one[2]


def test_without_the_in_place_kernel(monkeypatch):
    sys = mixed_system(seed=2)
    rows = EnergyRows(sys, horizon=1.0, value=NormBall(1.0, 2).value, sup2=1.0)
    Y = rows.expand([0, 3, 9])
    monkeypatch.setattr(ne, "_csr_matvecs", None)
    np.testing.assert_allclose(rows.expand([0, 3, 9]), Y, rtol=0, atol=1e-13 * np.abs(Y).max())


def test_flags_as_the_modal_search():
    sys = mixed_system(n=20, seed=12)
    ref0 = worst_case_nadir(sys, rho=0.5, horizon=1.0, dt=0.1, method="statespace")
    thr = 0.5 * ref0.value * 50.0
    ref = worst_case_nadir(sys, rho=0.5, horizon=1.0, dt=0.1, method="statespace", f_hz=50.0,
                           threshold_hz=thr)
    new = worst_case_nadir(sys, rho=0.5, horizon=1.0, dt=0.1, method="timedomain", f_hz=50.0,
                           threshold_hz=thr)
    assert 0 < len(new.flagged) < sys.n and set(new.flagged) == set(ref.flagged)


def test_set_bounds():
    assert set_sup2(NormBall(2.0, 2), 9) == 2.0 and set_sup2(NormBall(2.0, 1), 9) == 2.0
    assert set_sup2(NormBall(2.0, np.inf), 9) == pytest.approx(6.0)
    assert set_sup2(SingleInfeedLoss([1.0, 3.0, 2.0]), 3) == 3.0
    # the budget box: sum p^2 <= max p * budget, below the caps' own norm
    box = BudgetBox([1.0, 1.0, 1.0, 1.0], budget=1.5)
    assert set_sup2(box, 4) == pytest.approx(np.sqrt(1.5))
    u = -box.maximiser(np.ones(4))
    assert np.linalg.norm(u) <= set_sup2(box, 4)


def test_energy_form_only_where_it_holds():
    sys = mixed_system()
    swing = nc.NetworkSystem.from_laplacian(sys.laplacian, nodal=nc.nodal.swing(1.0, 0.5,
                                                                                 n=sys.n))
    assert energy_form(swing) is not None
    # a general transfer function, a static coupling: no energy form, the Taylor path
    n = sys.n
    tf = nc.nodal.from_tf(num=np.column_stack([np.full(n, 0.2), np.ones(n)]),
                          den=np.column_stack([np.ones(n), np.full(n, 3.0)]))
    assert energy_form(nc.NetworkSystem.from_laplacian(sys.laplacian, nodal=tf)) is None
    static = nc.NetworkSystem.from_laplacian(sys.laplacian, nodal=sys.nodal,
                                             coupling=nc.nodal.static_gain(1.0))
    assert energy_form(static) is None
    # a node whose transfer function no longer matches its parameters
    g = sys.nodal
    edited = type(g)(g.num * np.array([1.0, 1.0, 2.0])[: g.num.shape[1]], g.den, g.kind,
                     g.params)
    assert energy_form(nc.NetworkSystem.from_laplacian(sys.laplacian, nodal=edited)) is None
    with pytest.raises(InputError, match="system"):
        EnergyRows(static, horizon=1.0, value=NormBall(1.0, 2).value, sup2=1.0)
    rows = EnergyRows(sys, horizon=1.0, value=NormBall(1.0, 2).value, sup2=1.0)
    with pytest.raises(InputError, match="two times"):
        energy_search(rows, sys.n, np.array([0.0]), 1e-6, 1)


def test_a_long_window_takes_the_taylor_steps(monkeypatch):
    import netcoh.analysis.nadir_timedomain as td

    def refuse(*args, **kwargs):
        raise AssertionError("the expansion was used for a window it cannot cover")

    sys = mixed_system(n=10, seed=5)
    monkeypatch.setattr(td, "energy_search", refuse)
    monkeypatch.setattr(td, "MAX_EXPANSION_DEGREE", 10)      # every window is too long
    res = worst_case_nadir(sys, rho=0.5, dt=0.1, horizon=1.0, method="timedomain")
    assert res.certified


def test_auto_takes_the_expansion_on_sparse_networks_only():
    from netcoh.analysis.nadir_timedomain import AUTO_MIN_STATES_ENERGY, prefer_timedomain

    # a sparse ring of swing-turbine machines above the threshold: the expansion
    n = AUTO_MIN_STATES_ENERGY // 3 + 10
    L = 200.0 * nc.laplacian.ring_lattice(n, 2, sparse=True)
    m = np.linspace(1.0, 5.0, n)
    g = nc.nodal.swing_turbine(m, 2.0 * m, 10.0 * m, np.linspace(3.0, 8.0, n))
    sparse = nc.NetworkSystem.from_laplacian(L, nodal=g)
    assert prefer_timedomain(sparse, "auto", 1.0)
    # the same machines on a dense (Kron-reduced-like) network: the eigenproblem is cheaper
    dense = nc.NetworkSystem.from_laplacian(2.0 * nc.laplacian.complete(n), nodal=g)
    assert not prefer_timedomain(dense, "auto", 1.0)
    # proportional machines keep their closed form
    prop = nc.NetworkSystem.from_laplacian(L, nodal=nc.nodal.swing(m, 2.0 * m))
    assert not prefer_timedomain(prop, "auto", 1.0)


def test_tail_bounds_of_a_very_long_window_are_infinite_without_a_warning():
    """Beyond the floating-point range the tail has no usable bound: ``inf`` for the first
    terms (the caller then takes more terms or the Taylor steps), and no overflow warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tb = ne._tail_bounds(1.1, 1e4, 100.0)
    assert np.isinf(tb[0]) and np.all(np.diff(tb[np.isfinite(tb)]) <= 0)
