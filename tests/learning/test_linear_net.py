"""Linear networks (2105.06351 and TMLR 2025): Tier A 4, 5, 8; Tier B 11, 12."""

import numpy as np
import pytest
from scipy.stats import ortho_group

from netcoh.exceptions import InputError
from netcoh.learning import linear_net as ln
from netcoh.learning import linear_net_gd as lgd
from netcoh.learning import local_rate, simulate_gd, simulate_gf


def _underdetermined(seed=0, N=3, n=6, m=2, h=5, scale=0.5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, n))
    Y = rng.standard_normal((N, m))
    dyn = ln.LinearNet(X, Y, h)
    th0 = dyn.pack(U=scale * rng.standard_normal((n, h)), V=scale * rng.standard_normal((m, h)))
    return dyn, th0, rng


def test_imbalance_invariant_under_gf():
    # Tier A 4: D = U1^T U1 - V^T V and U2 conserved by GF
    dyn, th0, _ = _underdetermined()
    traj = simulate_gf(dyn, th0, np.linspace(0, 5, 21), rtol=1e-12, atol=1e-14)
    drift = traj.invariant_drift()
    assert drift["imbalance"] < 1e-9 and drift["U2"] < 1e-12
    assert traj.loss[-1] < traj.loss[0]


def test_scalar_rate_identity():
    # Tier A 4: -L'/L = 2 sqrt(d^2 + 4 (uv)^2) along the scalar trajectory
    dyn = ln.LinearNet(np.eye(1), np.array([[1.5]]), h=1)
    traj = simulate_gf(dyn, [0.3, -0.1], np.linspace(0, 3, 31), rtol=1e-12, atol=1e-14)
    for th in traj.theta:
        g = dyn.grad(th)
        L = dyn.loss(th)
        measured = g @ g / L  # -dL/dt = |grad|^2
        assert abs(measured - float(ln.scalar_rate(*th))) < 1e-10 * measured
        assert abs(ln.prop1_rate_bound(dyn, th).bound - measured) < 1e-9 * measured


def test_min_norm_limit_on_invariant_set():
    # Tier A 5: U2(0) = 0 => U V^T -> pinv(X) Y (to 1e-8)
    dyn, th0, rng = _underdetermined(seed=1, scale=1.0)
    blocks = dyn.unpack(th0)
    _, _, P1, _ = ln.compact_svd(dyn.X)
    U = P1 @ (P1.T @ blocks["U"]) + P1 @ (2 * np.eye(P1.shape[1], dyn.h))  # U2 = 0, imbalanced
    th0 = dyn.pack(U=U, V=blocks["V"])
    limit, ok = ln.min_norm_theorem(dyn, th0)
    assert ok
    traj = simulate_gf(dyn, th0, [0.0, 20.0, 40.0], rtol=1e-12, atol=1e-14)
    Theta = dyn.observables(traj.theta[-1])["end_to_end"]
    assert np.max(np.abs(Theta - limit)) < 1e-8
    # generic init (U2 != 0): fits the data but is not the min-norm solution
    traj2 = simulate_gf(dyn, dyn.pack(U=blocks["U"] + U, V=blocks["V"]), [0, 40.0])
    Theta2 = dyn.observables(traj2.theta[-1])["end_to_end"]
    assert np.max(np.abs(dyn.X @ Theta2 - dyn.Y)) < 1e-6
    assert np.max(np.abs(Theta2 - limit)) > 1e-3


def test_prop1_bound_and_theorem3_envelope():
    # Tier B 11: Prop. 1 <= measured instantaneous rate; Theorem 3 envelope
    checked = 0
    for seed in range(4):
        dyn, th0, _ = _underdetermined(seed=seed, N=3, n=5, m=2, h=4, scale=0.7)
        Ls = dyn.optimal_loss()
        t = np.linspace(0, 4, 41)
        traj = simulate_gf(dyn, th0, t, rtol=1e-11, atol=1e-13)
        for th, L in zip(traj.theta, traj.loss):
            if L - Ls < 1e-12:
                continue
            g = dyn.grad(th)
            measured = g @ g / (L - Ls)
            bound, ok = ln.prop1_rate_bound(dyn, th)
            assert ok and bound <= measured * (1 + 1e-9)
        rate, ok = ln.theorem3(dyn, th0)
        if ok:
            env = np.exp(-rate * t) * (traj.loss[0] - Ls)
            assert np.all(traj.loss - Ls <= env * (1 + 1e-8) + 1e-14)
            checked += 1
    assert checked >= 1


def test_local_rate_matches_tarmoun_formula():
    # spec 4.6.5 [R]: at a minimum with D = lam I the loss rate is 2 sqrt(lam^2 + 4 s_min^2)
    Theta = np.array([[2.0, 0.3], [0.1, 1.0]])
    lam = 0.7
    U, V = ln.balanced_factors(Theta, h=2, lam=lam)
    dyn = ln.LinearNet(np.eye(2), Theta, h=2)
    r = local_rate(dyn, dyn.pack(U=U, V=V))
    smin = np.linalg.svd(Theta, compute_uv=False)[-1]
    assert r.null_dim == 4  # GL(2) symmetry orbit U A, V A^{-T}
    assert abs(2 * r.rate - 2 * np.sqrt(lam**2 + 4 * smin**2)) < 1e-9


def test_operator_singular_values_match_brute_force():
    # Tier A 8
    rng = np.random.default_rng(3)
    for n, m, h in [(3, 2, 4), (2, 4, 5), (3, 3, 3)]:
        W1, W2 = rng.standard_normal((n, h)), rng.standard_normal((m, h))
        sv = np.linalg.svd(lgd.assemble_operator(W1, W2), compute_uv=False)
        smin2, smax2 = lgd.operator_bounds(W1, W2)
        assert abs(sv[-1] ** 2 - smin2) < 1e-10 * smax2
        assert abs(sv[0] ** 2 - smax2) < 1e-10 * smax2


def _tmlr_problem(seed=0, n=5, h=40, noise=0.1):
    rng = np.random.default_rng(seed)
    X = ortho_group.rvs(n, random_state=seed) * rng.uniform(1.8, 2.3, n)
    W1 = rng.standard_normal((n, h)) / np.sqrt(h)
    W2 = rng.standard_normal((n, h)) / np.sqrt(h)
    Y = X @ W1 @ W2.T + noise * rng.standard_normal((n, n))
    dyn = ln.LinearNet(X, Y, h)
    return dyn, dyn.pack(U=W1, V=W2)


def test_theorem31_local_inequalities_along_gd():
    # Tier B 12: both local inequalities of Theorem 3.1 at every GD iterate
    dyn, th = _tmlr_problem()
    eta = 0.02
    contractions = 0
    for _ in range(300):
        (b, ok) = lgd.theorem31(dyn, th, eta)
        assert ok
        g = dyn.grad(th)
        L = dyn.loss(th)
        nxt = th - eta * g
        Ln = dyn.loss(nxt)
        assert 0.5 * (g @ g) >= b["mu_t"] * L * (1 - 1e-12)
        assert Ln <= L - (eta - b["K_t"] * eta**2 / 2) * (g @ g) + 1e-14
        if eta * b["K_t"] < 2:
            assert Ln <= b["rho"] * L * (1 + 1e-12) + 1e-300
            contractions += 1
        th = nxt
    assert contractions > 100


def test_theorem32_envelope_with_adaptive_step():
    # Tier B 12: L(t) <= L(0) rho_bar^t under the adaptive step (19) when hypotheses hold
    dyn, th0 = _tmlr_problem(seed=1, h=60, noise=0.05)
    emax = lgd.eta_max(dyn, th0)
    eta0 = 0.5 * emax
    b, ok = lgd.theorem32(dyn, th0, eta0)
    assert ok and 0 < b["rho_bar"] < 1
    traj = simulate_gd(dyn, th0, None, 400, schedule=lgd.adaptive_step(dyn, eta0))
    env = traj.loss[0] * b["rho_bar"] ** traj.t
    assert np.all(traj.loss <= env * (1 + 1e-10))
    assert np.all(traj.eta[:-1] >= eta0 * (1 - 1e-12))  # the schedule never went below eta0
    assert traj.loss[-1] < 1e-3 * traj.loss[0]


def test_local_step_beats_certified_constant_and_classical_steps():
    # the paper's point: the step from the local constants (eta K_t = 1) converges fast and is
    # certified at every iteration, L(t+1) <= (1 - mu_t/K_t) L(t), where the constant step
    # certified globally (eta_max/2, Theorem 3.2) is slow and the classical step 1/K of the
    # non-overparametrised problem is unreliable
    from netcoh.exceptions import SolverError

    dyn, th0 = _tmlr_problem(seed=0, h=40, noise=0.1)
    sched = lambda t, th: lgd.local_step(dyn, th)  # noqa: E731
    local = simulate_gd(dyn, th0, None, 300, schedule=sched)
    for k in range(300):
        b, _ = lgd.theorem31(dyn, local.theta[k], local.eta[k])
        assert abs(local.eta[k] * b["K_t"] - 1) < 1e-9
        floor = 1e-26 * local.loss[0]       # rounding of the residual near machine precision
        assert local.loss[k + 1] <= (1 - b["mu_t"] / b["K_t"]) * local.loss[k] * (1 + 1e-9) \
            + floor
    const = simulate_gd(dyn, th0, 0.5 * lgd.eta_max(dyn, th0), 300)
    assert local.loss[-1] < 1e-25 * local.loss[0]
    assert const.loss[-1] > 1e-8 * const.loss[0]
    assert np.all(local.eta[:-1] > 5 * const.eta[:-1])
    # classical 1/K: with a larger residual (noise 1.0, h = 200) it diverges, the local
    # step does not
    dyn, th0 = _tmlr_problem(seed=2, h=200, noise=1.0)
    _, K = lgd.smoothness_constants(dyn.X)
    with pytest.raises(SolverError):
        simulate_gd(dyn, th0, 1.0 / K, 300)
    sched = lambda t, th: lgd.local_step(dyn, th)  # noqa: E731
    local = simulate_gd(dyn, th0, None, 300, schedule=sched)
    assert np.all(np.diff(local.loss) <= 1e-28 * local.loss[0])   # monotone to rounding
    assert local.loss[-1] < 1e-20 * local.loss[0]


def test_gd_imbalance_drift_is_second_order():
    dyn, th = _tmlr_problem(seed=2, h=20)
    D = lambda x: dyn.invariants(x)["imbalance"]  # noqa: E731
    for eta in [0.05, 0.01]:
        nxt = dyn.gd_map(th, eta)
        assert np.allclose(D(nxt) - D(th), lgd.gd_imbalance_increment(dyn, th, eta),
                           atol=1e-12)
    # over a fixed GF time horizon the accumulated drift is O(eta)
    drifts = []
    for eta in [0.02, 0.01]:
        traj = simulate_gd(dyn, th, eta, int(round(2.0 / eta)), record_every=10_000)
        drifts.append(np.linalg.norm(D(traj.theta[-1]) - D(th)))
    assert 1.7 < drifts[0] / drifts[1] < 2.3


def test_gd_local_contraction_matches_linearisation():
    # spec 5.4.4: asymptotic per-step loss contraction = (spectral radius on normal space)^2
    dyn, th0 = _tmlr_problem(seed=3, n=3, h=6, noise=0.5)
    eta = 0.05
    traj = simulate_gd(dyn, th0, eta, 3000, record_every=100)
    lim = traj.theta[-1]
    r = local_rate(dyn, lim, eta, null_tol=1e-7)
    loss = traj.loss
    k = np.flatnonzero((loss > 1e-26) & (loss < 1e-12))
    per_step = np.exp(np.polyfit(traj.t[k], np.log(loss[k]), 1)[0])
    assert r.stable and abs(per_step - r.rate**2) < 1e-3


def test_bad_input():
    with pytest.raises(InputError):
        ln.LinearNet(np.eye(2), np.eye(3), h=2)
    with pytest.raises(InputError):
        ln.LinearNet(np.eye(2), np.eye(2), h=0)
    dyn, th0 = _tmlr_problem()
    with pytest.raises(InputError):
        lgd.theorem31(dyn, th0, -0.1)
    with pytest.raises(InputError):
        simulate_gd(dyn, th0, -0.1, 10)
    with pytest.raises(InputError):
        lgd.operator_bounds(np.eye(2), np.eye(3))
