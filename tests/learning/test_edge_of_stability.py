"""Edge of stability (learning.md section 6): Tier A 7, Tier C 17, SPM Theorem 8 / Lemma 7."""

import numpy as np
import pytest

from netcoh.exceptions import InputError, SolverError
from netcoh.learning import edge_of_stability as eos
from netcoh.learning import (
    eos_threshold,
    fit_exponential_rate,
    fit_power_law,
    periodic_orbit,
    sharpness,
    simulate_gd,
    stability_margin,
)

INIT = [1.3, 1 / 1.3 + 0.01]  # spec [N]: near the minimiser curve, sharpness 2.31 > 2/0.9


@pytest.mark.parametrize("eta", [1.05, 1.1, 1.2])
def test_two_cycle_newton_matches_closed_form(eta):
    # Tier A 7 (plus the spec's [N] numbers): ab = 1/eta, a + b = sqrt(y + 3/eta)
    dyn = eos.ScalarFactorization(y=1.0)
    a, b = eos.two_cycle_closed_form(1.0, eta)
    orb = periodic_orbit(dyn, eta, [a + 0.01, a + 0.01])
    pts = np.sort(orb.points[:, 0])
    assert np.max(np.abs(pts - [b, a])) < 1e-10
    assert np.max(np.abs(orb.points[:, 0] - orb.points[:, 1])) < 1e-10
    assert abs(a * b - 1 / eta) < 1e-12
    # Floquet multipliers vs the closed forms 9 - 2(1+eta y)^2 and 3 - 2 eta y
    assert np.allclose(np.sort(orb.multipliers), np.sort(eos.two_cycle_multipliers(1.0, eta)),
                       atol=1e-9)
    assert np.allclose(np.sort(eos.two_cycle_multipliers(1.0, eta)),
                       np.sort([9 - 2 * (1 + eta) ** 2, 3 - 2 * eta]), atol=1e-12)
    assert orb.stable == (eta < eos.TWO_CYCLE_STABLE_LIMIT)


def test_spec_two_cycle_numbers():
    for eta, ref in [(1.05, (1.091089, 0.872872)), (1.1, (1.116063, 0.814552)),
                     (1.2, (1.139538, 0.731290))]:
        assert np.allclose(eos.two_cycle_closed_form(1.0, eta), ref, atol=1e-6)


def test_subcritical_converges_to_suboptimally_flat_minimum():
    # Tier C 17a: starts unstable (sharpness > 2/eta), ends on M with 2y < lambda < 2/eta
    dyn = eos.ScalarFactorization(y=1.0)
    eta = 0.9
    assert stability_margin(dyn, INIT, eta) < 0
    traj = simulate_gd(dyn, INIT, eta, 2000)
    lam = sharpness(dyn, traj.theta[-1])
    assert traj.loss[-1] < 1e-25
    assert 2.0 + 0.1 < lam < eos_threshold(eta)
    assert np.allclose(traj.theta[-1], [1.2370, 0.8084], atol=1e-4)  # spec [N]
    assert abs(lam - 2.184) < 1e-3


def test_critical_power_laws():
    # Tier C 17b: |u - v| ~ t^{-1/2}, loss ~ t^{-1} on t in [1e3, 1e5]
    dyn = eos.ScalarFactorization(y=1.0)
    traj = simulate_gd(dyn, INIT, 1.0, 100_000, record_every=100)
    k = traj.t >= 1e3
    gap = np.abs(traj.theta[:, 0] - traj.theta[:, 1])
    assert abs(fit_power_law(traj.t[k], gap[k])[0] + 0.5) < 0.03
    assert abs(fit_power_law(traj.t[k], traj.loss[k])[0] + 1.0) < 0.05
    assert abs(gap[traj.t == 1e4][0] - 0.00705) < 2e-4  # spec [N]


def test_supercritical_converges_linearly_to_two_cycle():
    # Tier C 17c: geometric convergence at the rate of the dominant Floquet multiplier
    dyn = eos.ScalarFactorization(y=1.0)
    eta = 1.1
    a, b = eos.two_cycle_closed_form(1.0, eta)
    traj = simulate_gd(dyn, INIT, eta, 300)
    th = traj.theta
    dist = np.minimum(np.abs(th - a).max(axis=1), np.abs(th - b).max(axis=1))
    assert dist[-1] < 1e-13
    k = (dist > 1e-11) & (dist < 1e-3) & (traj.t % 2 == 0)
    per_two_steps = np.exp(-2 * fit_exponential_rate(traj.t[k], dist[k]))
    assert abs(per_two_steps - np.max(np.abs(eos.two_cycle_multipliers(1.0, eta)))) < 0.02


def test_theorem8_stabilisation_time_and_lemma7():
    # SPM Theorem 8 [R bracket placement]: eta < 2/lambda(theta1_s) for all s >= t*
    dyn = eos.ExpValley()
    checked = 0
    for th0 in ([0.0, 0.5], [0.0, 0.1], [-1.0, 0.3], [0.0, 1.0], [-0.5, 0.05]):
        for eta in (1.2, 1.5, 3.0):
            tstar, ok = eos.theorem8_stabilisation(th0, eta)
            if not ok:
                continue
            traj = simulate_gd(dyn, th0, eta, max(2 * tstar, 50))
            lam = 2 * np.exp(-traj.theta[:, 0])
            assert np.all(eta * lam[tstar:] < 2)
            checked += 1
    assert checked >= 12
    # Lemma 7: GD on lambda(x) = 2 exp(-x), i.e. x+ = x + eta lambda(x)
    lam0, eta = 3.0, 0.7
    x = -np.log(lam0 / 2)
    for t in range(50):
        assert 2 * np.exp(-x) <= eos.lemma7_sharpness_decay(lam0, eta, t).bound * (1 + 1e-12)
        x += eta * 2 * np.exp(-x)


def test_reduced_predictor_is_first_order_not_exact():
    # spec 6.3.1 says (42) is exact for this L; the sharpness update is only first order in
    # eta alpha^2 (exact: lambda+ = lambda exp(-eta lambda alpha^2 / 2)), so the agreement
    # improves as alpha0^2 shrinks but is not exact -- [R] claim refuted as stated.
    dyn = eos.ExpValley()
    errs = []
    for a0 in (0.2, 0.1, 0.05):
        pred = eos.reduced_predictor([0.0, a0], 1.5, 40)
        traj = simulate_gd(dyn, [0.0, a0], 1.5, 40)
        lam = 2 * np.exp(-traj.theta[:, 0])
        errs.append(np.max(np.abs(pred["sharpness"] - lam)))
    assert errs[0] > 1e-3                # not exact
    assert errs[2] < errs[1] < errs[0]   # but consistent to leading order


def test_bad_input():
    with pytest.raises(InputError):
        eos.ScalarFactorization(y=-1.0)
    with pytest.raises(InputError):
        eos.two_cycle_closed_form(1.0, 0.5)  # subcritical: no real 2-cycle
    with pytest.raises(InputError):
        eos_threshold(-1.0)
    with pytest.raises(InputError):
        periodic_orbit(eos.ScalarFactorization(), -1.0, [1.0, 1.0])
    # started on the minimiser, Newton closes on the fixed point: not a 2-cycle
    with pytest.raises(SolverError, match="fixed point, not an orbit of period 2"):
        periodic_orbit(eos.ScalarFactorization(y=1.0), 1.1, [1.0, 1.0])
    assert periodic_orbit(eos.ScalarFactorization(y=1.0), 1.1, [1.0, 1.0], period=1).residual \
        < 1e-12
    with pytest.raises(InputError):
        simulate_gd(eos.ScalarFactorization(), [1.0, 1.0, 1.0], 0.1, 10)


def _deep_init(d=10, spread=0.2, seed=0):
    # a point near the minimiser manifold prod theta = 1, away from the flattest point
    th = np.exp(spread * np.random.default_rng(seed).standard_normal(d))
    return 1.001 * th / np.prod(th) ** (1 / d)


def test_deep_factorisation_hessian_and_manifold_sharpness():
    dyn = eos.DeepScalarFactorization(d=10)
    th = _deep_init()
    th_m = th / np.prod(th) ** 0.1        # on the manifold: H = g g^T, sharpness sum 1/theta^2
    assert abs(sharpness(dyn, th_m) - np.sum(1 / th_m**2)) < 1e-8
    assert sharpness(dyn, np.ones(10)) == pytest.approx(dyn.flattest()[1], abs=1e-8)


def test_deep_factorisation_subcritical_linear_rate():
    # d = 10: starts unstable (sharpness > 2/eta > flattest), converges linearly to a minimum
    # with flattest < lambda < 2/eta; the loss contracts by the linearisation's (1-eta lam)^2
    dyn = eos.DeepScalarFactorization(d=10)
    lam_star = dyn.flattest()[1]
    th0 = _deep_init(spread=0.3)
    eta = 0.9 * 2 / lam_star
    assert stability_margin(dyn, th0, eta) < 0
    traj = simulate_gd(dyn, th0, eta, 3000)
    lam = sharpness(dyn, traj.theta[-1])
    assert traj.loss[-1] < 1e-25 and lam_star + 0.5 < lam < eos_threshold(eta)
    k = (traj.loss > 1e-24) & (traj.loss < 1e-8)     # the linear phase
    rate = np.exp(-fit_exponential_rate(traj.t[k], traj.loss[k]))
    assert abs(rate - (1 - eta * lam) ** 2) < 1e-3


def test_deep_factorisation_critical_power_laws():
    # eta = 2 / flattest sharpness: distance to the flattest point ~ t^-1/2, loss ~ t^-1
    dyn = eos.DeepScalarFactorization(d=10)
    th0 = _deep_init(spread=0.2)
    traj = simulate_gd(dyn, th0, 2 / dyn.flattest()[1], 100000, record_every=100)
    k = traj.t >= 1e4
    dist = np.linalg.norm(traj.theta - 1.0, axis=1)
    assert abs(fit_power_law(traj.t[k], dist[k])[0] + 0.5) < 0.03
    assert abs(fit_power_law(traj.t[k], traj.loss[k])[0] + 1.0) < 0.05


def test_deep_factorisation_supercritical_two_cycle():
    # eta above critical: a stable period-2 orbit straddling the flattest point; GD converges
    # to it geometrically, per step at the square root of its largest Floquet multiplier (the
    # multipliers are those of the two-step map)
    dyn = eos.DeepScalarFactorization(d=10)
    eta = 1.2 * 2 / dyn.flattest()[1]
    orb = periodic_orbit(dyn, eta, np.full(10, 1.02))
    assert orb.stable
    a, b = orb.points[0, 0], orb.points[1, 0]
    assert np.allclose(orb.points[0], a) and np.allclose(orb.points[1], b)
    assert min(a, b) < 1.0 < max(a, b)
    traj = simulate_gd(dyn, _deep_init(), eta, 5000)
    dev = np.minimum(np.linalg.norm(traj.theta - orb.points[0], axis=1),
                     np.linalg.norm(traj.theta - orb.points[1], axis=1))
    assert dev[-1] < 1e-6
    k = (traj.t > 2500) & (dev > 1e-13)
    rate = np.exp(-fit_exponential_rate(traj.t[k], dev[k]))
    assert abs(rate**2 - np.max(np.abs(orb.multipliers))) < 2e-4
