import warnings

import control
import numpy as np
import pytest
import scipy.signal

import netcoh as nc
from tests.conftest import random_connected_laplacian, random_turbine_nodes


def test_step_matches_python_control_forced_response(turbine_system, rng):
    u0 = rng.normal(size=turbine_system.n) * 0.1
    t = np.linspace(0, 20, 2001)
    resp = nc.step_response(turbine_system, u0, t)
    ss = turbine_system.to_statespace()
    ref = control.forced_response(ss, t, np.outer(u0, np.ones_like(t))).outputs.T
    np.testing.assert_allclose(resp.outputs, ref, atol=1e-9 * np.abs(ref).max())


def test_sine_matches_lsim_on_fine_grid(turbine_system):
    u0 = np.zeros(turbine_system.n)
    u0[1] = 0.2
    t = np.linspace(0, 30, 6001)
    resp = nc.sine_response(turbine_system, u0, t, 0.25)
    A, B, C, D = (x.toarray() for x in turbine_system.realization())
    _, y, _ = scipy.signal.lsim((A, B, C, D), np.outer(np.sin(0.25 * t), u0), t, interp=True)
    np.testing.assert_allclose(resp.outputs, y, atol=2e-6 * np.abs(y).max())


def test_check9_steady_state_is_aggregate_dc_gain(turbine_system, rng):
    u0 = rng.normal(size=turbine_system.n)
    resp = nc.step_response(turbine_system, u0, [0.0, 400.0, 500.0])
    gh0 = nc.aggregate_dynamics(turbine_system).dc_gain
    np.testing.assert_allclose(resp.outputs[-1], gh0 * u0.sum(), rtol=1e-9)
    np.testing.assert_allclose(resp.aggregate[-1], gh0 * u0.sum(), rtol=1e-9)


def test_check10_coi_equals_aggregate_for_proportional_nodes(rng):
    n = 10
    r = rng.uniform(0.5, 2, n)
    g = nc.nodal.swing_turbine(0.3 * r, 0.2 * r, 0.1 * r, 6.0)
    sys = nc.NetworkSystem.from_laplacian(random_connected_laplacian(n, rng), nodal=g)
    u0 = rng.normal(size=n)
    resp = nc.step_response(sys, u0, np.linspace(0, 30, 301))
    np.testing.assert_allclose(resp.coi, resp.aggregate, atol=1e-10 * np.abs(resp.aggregate).max())


def test_check8_coherence_improves_with_connectivity_and_low_input_frequency(rng):
    n = 10
    L = random_connected_laplacian(n, rng)
    g = random_turbine_nodes(n, rng)
    u0 = np.zeros(n)
    u0[1] = -0.3
    t = np.linspace(0, 60, 1201)
    steps = [nc.step_response(nc.NetworkSystem.from_laplacian(c * L, nodal=g), u0, t).incoherence
             for c in (1, 10, 100)]
    assert steps[0] > steps[1] > steps[2]
    sys = nc.NetworkSystem.from_laplacian(L, nodal=g)
    hi = nc.sine_response(sys, u0, t, 0.25).incoherence
    lo = nc.sine_response(sys, u0, t, 0.1).incoherence
    assert lo < hi


def test_check11_consensus_concentrates_on_4_over_ln5():
    """g_i = k_i/s, f = 1, ring lattice with k = 0.15 n; impulse u = delta 1."""
    target = 4 / np.log(5)
    rng = np.random.default_rng(3)
    devs = []
    for n in (20, 50, 100, 500):
        k = rng.uniform(1, 5, n)
        g = nc.nodal.from_tf(num=np.c_[np.zeros(n), k], den=np.c_[np.ones(n), np.zeros(n)])
        L = nc.laplacian.ring_lattice(n, round(0.15 * n))
        sys = nc.NetworkSystem.from_laplacian(L, nodal=g, coupling=nc.nodal.static_gain(1.0))
        # the exact limit n / sum(1/k): harmonic mean of k
        limit = n / np.sum(1 / k)
        if n <= 100:
            resp = nc.impulse_response(sys, np.ones(n), [0.0, 5.0, 10.0])
            np.testing.assert_allclose(resp.outputs[-1], limit, rtol=1e-8)
            np.testing.assert_allclose(resp.aggregate[-1], limit, rtol=1e-12)
        draws = rng.uniform(1, 5, (400, n))
        devs.append(np.mean(np.abs(n / np.sum(1 / draws, axis=1) - target)))
    assert np.all(np.diff(devs) < 0) and devs[-1] < 0.05


def test_check12_concentration_rate():
    def sampler(n, rng):
        return nc.nodal.swing_turbine(rng.uniform(0.05, 0.5, n), rng.uniform(0.2, 0.5, n),
                                      1 / rng.uniform(5, 10, n), rng.uniform(2, 10, n))

    res = nc.concentration(sampler, [10, 100, 1000], 1j * np.array([0.05, 0.5, 2.0]),
                           n_repeats=30, n_reference=400_000, rng=11)
    assert np.all(np.diff(res.mean_deviation) < 0)
    assert -0.65 < res.rate < -0.35
    assert list(res.to_frame().columns) == ["n", "mean_deviation", "std_deviation"]
    one = nc.concentration(sampler, [10], [1j], n_repeats=3, n_reference=1000, rng=1)
    assert np.isnan(one.rate)                     # one size: no slope to fit
    # at a pole of every node E[1/g] = 0: g_E is infinite there, without a NaN part
    def consensus(n, rng):
        k = rng.uniform(1, 5, n)
        return nc.nodal.from_tf(num=np.c_[0 * k, k], den=np.c_[1 + 0 * k, 0 * k])

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gE = nc.harmonic_expectation(consensus, [0j, 1j], n_samples=1000, rng=0)
    assert gE[0] == np.inf and np.isfinite(gE[1])


def test_time_response_bad_input(turbine_system):
    with pytest.raises(nc.InputError, match="`disturbance` must have shape"):
        nc.step_response(turbine_system, [1.0, 2.0], [0.0, 1.0])
    with pytest.raises(nc.InputError, match="strictly increasing"):
        nc.step_response(turbine_system, np.zeros(12), [1.0, 0.5])
    with pytest.raises(nc.InputError, match="unknown node"):
        nc.step_response(turbine_system, {"zz": 1.0}, [0.0, 1.0])
    with pytest.raises(nc.InputError, match="omega_rad_s"):
        nc.sine_response(turbine_system, np.zeros(12), [0.0, 1.0], -1.0)


def test_time_response_frame_and_plot(turbine_system):
    resp = nc.step_response(turbine_system, {"2": -0.1}, np.linspace(0, 5, 11))
    df = resp.to_frame()
    assert df.index.name == "t_s" and {"coi", "aggregate", "2"} <= set(df.columns)
    assert resp.plot().get_xlabel() == "time (s)"
    _ = random_turbine_nodes, random_connected_laplacian
