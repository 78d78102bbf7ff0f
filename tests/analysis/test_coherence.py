import control
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import netcoh as nc
from tests.conftest import random_connected_laplacian, random_turbine_nodes


def test_check2_check3_swing_aggregate_is_coi_model(rng):
    m, d = rng.uniform(0.1, 2, 10), rng.uniform(0.1, 1, 10)
    gh = nc.aggregate_dynamics(nc.nodal.swing(m, d))
    s = 1j * np.logspace(-3, 3, 50)
    ref = 1.0 / (m.sum() * s + d.sum())
    np.testing.assert_allclose(gh(s), ref, rtol=1e-14)
    assert gh.order == 1
    np.testing.assert_allclose(np.polyval(gh.num, s) / np.polyval(gh.den, s), ref, rtol=1e-13)
    # (1/n) g_bar 11^T == g_hat 11^T
    gbar = nc.harmonic_mean(nc.nodal.swing(m, d), s)
    np.testing.assert_allclose(gbar / 10, gh(s), rtol=1e-14)


def test_check3_turbine_aggregate_orders(rng):
    n = 8
    m, d, r = rng.uniform(0.1, 1, n), rng.uniform(0.1, 1, n), rng.uniform(0.05, 0.2, n)
    same = nc.aggregate_dynamics(nc.nodal.swing_turbine(m, d, r, 4.0))
    assert same.order == 2
    ref = control.tf([4.0, 1.0], np.polyadd(np.polymul([4.0, 1.0], [m.sum(), d.sum()]), [r.sum()]))
    s = 1j * np.logspace(-2, 2, 20)
    np.testing.assert_allclose(same(s), np.asarray(ref(s)).ravel(), rtol=1e-12)
    tau = np.array([2.0, 2.0, 5.0, 5.0, 5.0, 9.0, 9.0, 3.0])          # J = 4 distinct
    het = nc.aggregate_dynamics(nc.nodal.swing_turbine(m, d, r, tau))
    assert het.order == 1 + 4
    np.testing.assert_allclose(np.polyval(het.num, s) / np.polyval(het.den, s), het(s), rtol=1e-10)
    tf = het.to_tf()
    np.testing.assert_allclose(np.asarray(tf(s)).ravel(), het(s), rtol=1e-10)
    assert np.isclose(het.dc_gain, 1 / (d.sum() + r.sum()))


def test_inverter_aggregate_closed_form(rng):
    k, tau = rng.uniform(1, 3, 5), rng.uniform(0.1, 1, 5)
    gh = nc.aggregate_dynamics(nc.nodal.inverter(k, tau))
    k_hat = 1 / np.sum(1 / k)
    tau_hat = k_hat * np.sum(tau / k)
    np.testing.assert_allclose(gh.num / gh.den[-1], [k_hat])
    np.testing.assert_allclose(gh.den / gh.den[-1], [tau_hat, 1.0])


def test_check5_lemma_bound_holds_where_hypothesis_does(rng):
    n = 10
    L = random_connected_laplacian(n, rng)
    g = random_turbine_nodes(n, rng)
    checked = 0
    for c in (1, 10, 100, 1000):
        sys = nc.NetworkSystem.from_laplacian(c * L, nodal=g)
        s0 = rng.uniform(0, 0.5, 20) + 1j * rng.uniform(0.01, 3, 20)
        bound, holds = nc.lemma_bound(sys, s0)
        err = nc.incoherence(sys, s0)
        assert np.all(err[holds] <= bound[holds] * (1 + 1e-9))
        assert np.all(np.isnan(bound[~holds]))
        checked += holds.sum()
    assert checked >= 20


def test_incoherence_is_exact_deep_in_the_coherent_band():
    """At omega = 1e-9 rad/s, T and g_hat 1 1^T agree to about 1e-9: forming T and
    subtracting lost the difference to rounding (184 times too large on this network, and
    above the lemma's bound). An integer Laplacian (exact zero row sums) and swing nodes:
    E(s) = T(s) - g_hat(s) 1 1^T is linear in s to O(s^2), so the incoherence at 1e-9
    and 1e-8 rad/s is that at 1e-6 rad/s scaled, to 1e-6; the bound holds there too."""
    rng = np.random.default_rng(1)
    A = np.triu(rng.integers(0, 3, (10, 10)) * (rng.random((10, 10)) < 0.5), 1).astype(float)
    A[np.arange(9), np.arange(1, 10)] = 1.0                 # a path: connected
    A = A + A.T
    sys = nc.NetworkSystem.from_laplacian(np.diag(A.sum(1)) - A,
                                          nodal=nc.nodal.swing(np.arange(1, 11) / 8.0, 0.5))
    w = np.array([1e-9, 1e-8, 1e-6])
    res = nc.coherence(sys, w)
    np.testing.assert_allclose(res.incoherence[:2] / w[:2], res.incoherence[2] / w[2], rtol=1e-6)
    assert np.all(res.bound_holds) and np.all(res.incoherence <= res.bound)
    # the same through the Krylov solver of large networks (no cancellation there either)
    it = nc.incoherence(sys, 1j * w, method="iterative")
    np.testing.assert_allclose(it, res.incoherence, rtol=1e-6)


def test_check6_incoherence_falls_as_one_over_c(rng):
    n = 12
    L = random_connected_laplacian(n, rng)
    g = random_turbine_nodes(n, rng)
    w = np.logspace(-2, 0, 15)
    sups = [nc.coherence(nc.NetworkSystem.from_laplacian(c * L, nodal=g), w).incoherence.max()
            for c in (10, 100, 1000, 10000)]
    assert np.all(np.diff(sups) < 0)
    slope = np.polyfit(np.log([100, 1000, 10000]), np.log(sups[1:]), 1)[0]
    assert -1.15 < slope < -0.85


def test_check7_low_and_high_frequency_limits(turbine_system):
    w = np.array([1e-5, 1e-4, 1e-3])
    res = nc.coherence(turbine_system, w)
    ratios = res.incoherence[1:] / res.incoherence[:-1]
    np.testing.assert_allclose(ratios, 10, rtol=0.05)               # O(|omega|)
    g0 = nc.aggregate_dynamics(turbine_system).dc_gain
    T = np.asarray(nc.transfer_matrix(turbine_system, [1e-7]))[0]
    np.testing.assert_allclose(T, g0, rtol=1e-4)
    # at high frequency the network barely couples: error -> ||G - g_hat 11^T||
    wh = np.array([1e4])
    G = np.diag(turbine_system.nodal(1j * wh)[0])
    ref = np.linalg.norm(G - nc.aggregate_dynamics(turbine_system)(1j * wh)[0], 2)
    np.testing.assert_allclose(nc.coherence(turbine_system, wh).incoherence[0], ref, rtol=1e-3)


def test_dense_and_iterative_norms_agree(rng):
    n = 60
    sys = nc.NetworkSystem.from_laplacian(random_connected_laplacian(n, rng, p=0.1),
                                          nodal=random_turbine_nodes(n, rng))
    s = 1j * np.array([0.01, 0.3, 2.0])
    np.testing.assert_allclose(nc.incoherence(sys, s, method="iterative"),
                               nc.incoherence(sys, s, method="dense"), rtol=1e-8)


def test_coherence_result_bandwidth_and_frame(turbine_system):
    res = nc.coherence(turbine_system, np.logspace(-3, 2, 30), tol=0.05)
    below = res.omega <= res.bandwidth_rad_s
    assert np.all(res.relative_incoherence[below] <= 0.05)
    assert res.relative_incoherence[np.searchsorted(res.omega, res.bandwidth_rad_s) + 1] > 0.05
    df = res.to_frame()
    assert list(df.columns)[:3] == ["omega_rad_s", "incoherence", "relative_incoherence"]
    ax = res.plot()
    assert ax.get_xscale() == "log"
    with pytest.raises(nc.InputError, match="`tol` must be positive"):
        nc.coherence(turbine_system, [1.0], tol=0)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 8), seed=st.integers(0, 10**6), scale=st.floats(0.1, 100))
def test_property_aggregate_sum_rule_and_symmetry(n, seed, scale):
    """T is complex symmetric, 1^T T^{-1} 1 = sum 1/g_i (the harmonic-mean identity)."""
    rng = np.random.default_rng(seed)
    sys = nc.NetworkSystem.from_laplacian(scale * random_connected_laplacian(n, rng),
                                          nodal=random_turbine_nodes(n, rng))
    s = np.array([1j * rng.uniform(0.01, 10)])
    T = nc.analysis.evaluate_transfer(sys, s)[0]
    np.testing.assert_allclose(T, T.T, rtol=1e-9, atol=1e-12)
    ones = np.ones(n)
    Tinv = np.linalg.inv(T)
    np.testing.assert_allclose(ones @ Tinv @ ones, sys.nodal.inverse(s)[0].sum(), rtol=1e-8)
    # the rank-one limit has the aggregate as its only non-zero eigenvalue scale: 1^T T 1 -> n^2 g_hat
    bound, holds = nc.lemma_bound(sys, s)
    if holds[0]:
        assert nc.incoherence(sys, s)[0] <= bound[0] * (1 + 1e-9)
