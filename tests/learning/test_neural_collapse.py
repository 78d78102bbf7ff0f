"""Neural collapse on orthogonally separable data (NeurIPS 2025): Tier C 18."""

import numpy as np
import pytest

from netcoh.exceptions import InputError
from netcoh.learning import neural_collapse as nc
from netcoh.learning import simulate_gd, simulate_gf


def test_data_has_exact_separation_parameters():
    for K, tau in [(2, 0.3), (3, 0.5), (4, 0.2)]:
        X, y = nc.orthogonally_separable_data(K, 3, tau)
        mu_s, mu_d = nc.separability(X, y)
        assert abs(mu_s - 1 / (1 + tau**2)) < 1e-14
        assert abs(mu_d - 1 / ((K - 1) * (1 + tau**2))) < 1e-14


def test_class_margin_matches_closed_form():
    # one class of the ETF data: x_i = a + tau e_i, gamma = |a + tau^2/m ... | by symmetry the
    # max-margin direction is the class mean direction
    X, y = nc.orthogonally_separable_data(3, 4, 0.3)
    Xk = X[y == 0]
    g, u = nc.class_margin(Xk)
    mean = Xk.mean(axis=0)
    assert np.allclose(u, mean / np.linalg.norm(mean), atol=1e-6)
    assert abs(g - np.linalg.norm(mean)) < 1e-8


def test_binary_collapse_under_gradient_flow():
    X, y = nc.orthogonally_separable_data(2, 4, 0.3)
    net = nc.ShallowNet(X, np.where(y == 1, 1.0, -1.0), h=10)
    b, ok = nc.theorem1(X, y)
    assert ok
    th0 = nc.balanced_small_init(net, 1e-6, rng=0)
    t = np.concatenate([[0.0], np.logspace(-1, 5, 13)])
    traj = simulate_gf(net, th0, t, rtol=1e-10, atol=1e-16)
    early, late = nc.nc_metrics(net, traj.theta[1]), nc.nc_metrics(net, traj.theta[-1])
    assert late["nc1"] < 1e-9                      # within-class directional collapse
    assert late["nc2"] < 1e-3                      # orthogonal class means
    assert late["min_mean_feature"] >= 0           # non-negative
    assert late["nc3"] < 1e-6 and late["nc3"] < early["nc3"]   # V matches the s_k formula
    assert traj.invariant_drift()["balance"] < 1e-8


def test_multiclass_collapse_under_gradient_descent():
    # K = 3 with cross-entropy; GD (the event-driven GF is slow here: many switches)
    X, y = nc.orthogonally_separable_data(3, 3, 0.3)
    b, ok = nc.theorem1(X, y)
    assert ok and np.allclose(b["s"], 1 / np.sqrt(6))
    net = nc.ShallowNet(X, y, h=12, loss_name="ce")
    traj = simulate_gd(net, nc.balanced_small_init(net, 1e-6, rng=0), 0.5, 3000,
                       record_every=3000)
    m0, m1 = nc.nc_metrics(net, traj.theta[0]), nc.nc_metrics(net, traj.theta[-1])
    assert m1["nc1"] < 1e-9 and m1["nc2"] < 1e-3 and m1["nc3"] < 1e-6
    assert m0["nc3"] > 0.5   # far from the ETF structure at init


def test_bad_input():
    with pytest.raises(InputError):
        nc.orthogonally_separable_data(1, 3)
    with pytest.raises(InputError):
        nc.orthogonally_separable_data(3, 3, tau=-0.1)
    with pytest.raises(InputError):
        nc.class_margin(np.array([[1.0, 0.0], [-1.0, 0.0]]))   # not separable from 0
    with pytest.raises(InputError):
        nc.ShallowNet(np.eye(2), np.array([0, -1]), h=2, loss_name="ce")


def test_class_margin_against_brute_force_and_digits():
    # max over unit u of min_i <x_i, u>: a fine grid of directions in 2-D is independent
    rng = np.random.default_rng(4)
    def brute_force(Xk):
        ang = np.linspace(0, 2 * np.pi, 20001)
        for _ in range(2):     # a grid, then a finer grid around its best point
            val = np.min(Xk @ np.c_[np.cos(ang), np.sin(ang)].T, axis=0)
            a, da = ang[np.argmax(val)], ang[1] - ang[0]
            ang = np.linspace(a - 2 * da, a + 2 * da, 20001)
        return float(np.max(val))

    for _ in range(5):
        Xk = rng.standard_normal((7, 2)) + rng.uniform(1, 3) * rng.standard_normal(2)
        brute = brute_force(Xk)
        if brute <= 0:
            with pytest.raises(InputError):
                nc.class_margin(Xk)
            continue
        g, u = nc.class_margin(Xk)
        assert abs(g - brute) < 1e-7 and abs(np.linalg.norm(u) - 1) < 1e-14
    # the digits 0, 1, 2 (centred) are separable from the origin class by class, with the
    # margin certified by the dual: |X^T lam| >= gamma for any lam in the simplex
    from netcoh.learning.data import load_digits_subset
    X, y = load_digits_subset((0, 1, 2))
    for k in range(3):
        g, u = nc.class_margin(X[y == k])
        lam = rng.dirichlet(np.ones(int(np.sum(y == k))), 50)
        assert g > 0 and np.all(np.linalg.norm(lam @ X[y == k], axis=1) >= g - 1e-12)
