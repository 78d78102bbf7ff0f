"""Early alignment of ReLU neurons (ICLR 2024): Tier A 9, Tier C 15-16, event-driven GF."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from netcoh.exceptions import InputError
from netcoh.learning import fit_power_law, simulate_gf
from netcoh.learning import relu_alignment as ra


def _setup(n=8, mu=0.3, h=10, eps=1e-10, seed=1):
    X, y = ra.exact_mu_data(n, mu)
    net = ra.ShallowNet(X, y, h=h)
    return net, ra.balanced_init(n + 1, h, eps, np.random.default_rng(seed))


def test_exact_mu_data():
    for n, mu in [(4, 0.5), (9, 0.02)]:
        X, y = ra.exact_mu_data(n, mu)
        Z = X * y[:, None]
        G = Z @ Z.T / np.outer(np.linalg.norm(Z, axis=1), np.linalg.norm(Z, axis=1))
        assert np.allclose(G[~np.eye(n, dtype=bool)], mu, atol=1e-15)


def test_event_driven_gf_matches_fine_step_reference():
    # the pattern-by-pattern integration vs a plain solve_ivp with a small max_step
    net, th0 = _setup()
    t = [0.0, 4.0, 8.0, 10.0, 20.0]
    traj = simulate_gf(net, th0, t, rtol=1e-10, atol=1e-14)
    ref = solve_ivp(net.vector_field, (0, 20), th0, t_eval=t, rtol=1e-10, atol=1e-14,
                    max_step=0.005)
    ref_loss = np.array([net.loss(th) for th in ref.y.T])
    assert np.allclose(traj.loss, ref_loss, rtol=5e-4)  # reference: O(max_step) kinks
    assert traj.switch_times.size > 10


def test_balance_invariant_and_signs_conserved():
    # Tier A 9: v_j^2 - ||w_j||^2 constant (zero for balanced init), sign(v_j) constant
    net, th0 = _setup(seed=2)
    traj = simulate_gf(net, th0, np.linspace(0, 30, 31), rtol=1e-10, atol=1e-14)
    bal = traj.invariant("balance")
    assert np.max(np.abs(bal)) < 1e-10 * max(1.0, np.max(np.sum(traj.theta**2, axis=1)))
    V = np.array([net.unpack(th)["V"][0] for th in traj.theta])
    assert np.all(np.sign(V) == np.sign(V[0]))
    # unbalanced init: the balance moves nowhere either
    th1 = th0.copy()
    th1[-net.h:] *= 3.0
    traj = simulate_gf(net, th1, [0.0, 5.0, 15.0], rtol=1e-11, atol=1e-15)
    scale = max(1.0, float(np.max(np.sum(traj.theta**2, axis=1))))
    assert traj.invariant_drift()["balance"] < 1e-10 * scale


def test_dead_neurons_are_frozen():
    # a neuron with <x_i, w> <= 0 for every sample has an exactly zero field (trapping)
    net, th0 = _setup(seed=3)
    b = net.unpack(th0)
    w_dead = np.zeros(net.X.shape[1])
    w_dead[1:] = -1e-8 * net.y   # <x_i, w> = -1e-8 sqrt(1 - mu) < 0 for every sample
    assert np.all(net.X @ w_dead < 0)
    b["W"][:, 0] = w_dead
    b["V"][0, 0] = np.linalg.norm(w_dead)
    traj = simulate_gf(net, net.pack(b), [0.0, 10.0, 40.0])
    last = net.unpack(traj.theta[-1])
    assert np.array_equal(last["W"][:, 0], w_dead) and last["V"][0, 0] == b["V"][0, 0]
    assert traj.loss[-1] < traj.loss[0]


def test_alignment_time_scaling_bounded():
    # Tier C 15: t1 sqrt(mu) / log n bounded (an upper bound only), t1 grows as mu shrinks
    ratios = {}
    for n in (8, 16):
        t1s = []
        for mu in (0.5, 0.1, 0.02):
            net, th0 = _setup(n=n, mu=mu, eps=1e-12, seed=0)
            t = np.concatenate([[0.0], np.logspace(-3, 1.5, 200)])
            traj = simulate_gf(net, th0, t, rtol=1e-9, atol=1e-16)
            t1 = ra.alignment_time(traj)
            assert np.isfinite(t1)
            bound, ok = ra.theorem1(net.X, net.y, net.h, 1e-12)
            ratios[n, mu] = t1 / bound
            t1s.append(t1)
        assert t1s[0] < t1s[1] < t1s[2]
    assert max(ratios.values()) < 0.5


@pytest.mark.parametrize("n, mu", [(4, 0.5), (8, 0.5), (8, 0.2), (16, 0.2)])
def test_theorem1_where_its_hypotheses_hold(n, mu):
    # eps below the theorem's threshold exp(-(n/sqrt(mu)) log n)/sqrt(h) (down to 1e-44):
    # (1) every neuron is aligned (S+/S- or dead) by t1 <= log(n)/sqrt(mu), unit constant;
    # (2) a v_j > 0 neuron with max_{i in I+} <w_j(0), x_i> > 0 is in S+ (not dead) at t1,
    #     symmetrically for v_j < 0; (3) the cones are trapping after t1
    h = 10
    X, y = ra.exact_mu_data(n, mu)
    eps = np.exp(-(n / np.sqrt(mu)) * np.log(n) - 0.5 * np.log(h) - 1.0)
    bound, ok = ra.theorem1(X, y, h, eps)
    assert ok
    net = ra.ShallowNet(X, y, h=h)
    th0 = ra.balanced_init(n + 1, h, eps, np.random.default_rng(0))
    t = np.concatenate([[0.0], np.logspace(-3, 1.5, 120)])
    traj = simulate_gf(net, th0, t, rtol=1e-9, atol=1e-4 * eps)
    t1 = ra.alignment_time(traj)
    assert t1 <= bound
    b0 = net.unpack(th0)
    W0, v0 = b0["W"], b0["V"][0]
    live = np.where(v0 > 0, (X[y > 0] @ W0).max(axis=0) > 0, (X[y < 0] @ W0).max(axis=0) > 0)
    k = int(np.argmax(traj.t >= t1))
    lab = ra.cone_labels(X, y, net.unpack(traj.theta[k])["W"])
    assert np.all(lab[live] == np.sign(v0[live]))
    for th in traj.theta[k:]:
        assert np.array_equal(ra.cone_labels(X, y, net.unpack(th)["W"]), lab)


def test_loss_decays_like_one_over_t_and_stable_rank_at_most_two():
    # Tier C 16: after alignment L(t) <= C/t (t L(t) non-increasing), stable rank <= 2
    net, th0 = _setup(seed=1)
    t = np.concatenate([[0.0], np.logspace(-2, 6, 81)])
    traj = simulate_gf(net, th0, t, rtol=1e-10, atol=1e-14)
    k = traj.t >= 1e3
    tl = traj.t[k] * traj.loss[k]
    assert np.all(np.diff(tl) <= 1e-12)
    slope = fit_power_law(traj.t[k], traj.loss[k])[0]
    assert -1.15 < slope < -0.95   # 1/(t log t): slightly faster than 1/t
    assert np.all(traj.observable("stable_rank")[k] <= 2.0 + 1e-6)


def test_bad_input():
    with pytest.raises(InputError):
        ra.exact_mu_data(4, 0.0)
    with pytest.raises(InputError):
        ra.ShallowNet(np.eye(3), np.array([1.0, -1.0]), h=2)
    with pytest.raises(InputError):
        ra.ShallowNet(np.eye(2), np.array([1.0, 0.5]), h=2)
    with pytest.raises(InputError):
        ra.ShallowNet(np.eye(2), np.array([1.0, -1.0]), h=2, p=0.5)
    with pytest.raises(InputError):
        ra.balanced_init(3, 2, -1.0, 0)
