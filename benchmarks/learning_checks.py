"""netcoh.learning tools against their plain baselines, measured in the same run.

1. Riccati closed form (Proposition 1) vs solve_ivp on the W-ODE (n = 20, 200 times).
2. Event-driven ReLU gradient flow vs plain solve_ivp with a small max_step (accuracy is checked
   against small-step GD; the event-driven run integrates each smooth piece exactly).
3. Sharpness by Lanczos on Hessian-vector products vs dense Hessian + eigvalsh
   (linear network with p ~ 2,000 parameters).

4. Edge of stability, critical step (too long for the tests): the rescaled loss ``L t`` and
   distance ``|theta - p*|^2 t`` of GD on the product of ten factors at ``t = 1e4, 1e5, 1e6``
   against the constants :func:`netcoh.learning.eos_regimes.predict` gives; both overshoot
   and then close the gap slowly (a few per cent left at ``t = 1e6``).

Prints wall times, ratios and peak traced memory. Run: python benchmarks/learning_checks.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp
from scipy.stats import ortho_group

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import measure  # noqa: E402

import netcoh.learning as nl  # noqa: E402
from netcoh.learning import eos_regimes as er  # noqa: E402
from netcoh.learning import relu_alignment as ra  # noqa: E402
from netcoh.learning import symmetric_mf as smf  # noqa: E402
from netcoh.learning.edge_of_stability import DeepScalarFactorization  # noqa: E402
from netcoh.learning.linear_net import LinearNet  # noqa: E402


def riccati():
    n = 20
    Phi = ortho_group.rvs(n, random_state=0)
    Y = Phi @ np.diag(np.linspace(5, 0.5, n)) @ Phi.T
    rng = np.random.default_rng(1)
    U0 = 1e-2 * rng.standard_normal((n, n))
    W0 = U0 @ U0.T
    t = np.linspace(0, 5, 200)
    res = {}
    with measure("closed form", res):
        Wc = smf.closed_form(Y, W0, t)

    def f(_t, w):
        W = w.reshape(n, n)
        return (W @ Y + Y @ W - 2 * W @ W).ravel()

    with measure("solve_ivp (rtol 1e-12)", res):
        sol = solve_ivp(f, (0, 5), W0.ravel(), t_eval=t, method="DOP853", rtol=1e-12, atol=1e-14)
    err = np.max(np.abs(Wc - sol.y.T.reshape(-1, n, n)))
    return res, f"max |closed form - ODE| = {err:.2e}"


def relu_flow():
    X, y = ra.exact_mu_data(16, 0.1)
    net = ra.ShallowNet(X, y, h=20)
    th0 = ra.balanced_init(17, 20, 1e-10, 0)
    t = np.array([0.0, 2.0, 5.0, 10.0])
    res = {}
    with measure("event-driven GF", res):
        traj = nl.simulate_gf(net, th0, t, rtol=1e-10, atol=1e-14)
    with measure("solve_ivp max_step=1e-3", res):
        ref = solve_ivp(net.vector_field, (0, 10), th0, t_eval=t, rtol=1e-10, atol=1e-14,
                        max_step=1e-3)
    gd = nl.simulate_gd(net, th0, 1e-4, 100_000, record_every=100_000)
    l_ev, l_ref, l_gd = traj.loss[-1], net.loss(ref.y[:, -1]), gd.loss[-1]
    return res, (f"L(10): events {l_ev:.6e}, max_step {l_ref:.6e}, GD(eta=1e-4) {l_gd:.6e}; "
                 f"{traj.switch_times.size} switches")


def sharp():
    rng = np.random.default_rng(0)
    dyn = LinearNet(rng.standard_normal((40, 30)), rng.standard_normal((40, 10)), h=50)
    th = 0.3 * rng.standard_normal(dyn.size)
    res = {}
    with measure("Lanczos on HVPs", res):
        lam = nl.sharpness(dyn, th)
    with measure("dense Hessian + eigvalsh", res):
        lam_d = np.linalg.eigvalsh(dyn.hessian(th))[-1]
    return res, f"p = {dyn.size}, sharpness {lam:.10g} vs {lam_d:.10g}"


def eos_critical_long():
    d = 10
    pred = er.predict(DeepScalarFactorization(d=d), 2 / d, np.ones(d))
    th = np.exp(0.2 * np.random.default_rng(0).standard_normal(d))
    th = 1.001 * th / np.prod(th) ** (1 / d)
    checkpoints = {10_000, 100_000, 1_000_000}
    prev = None
    print(f"\nEdge of stability, critical step: theory L t -> {pred.loss_prefactor:.4f}, "
          f"|theta - p*|^2 t -> {pred.distance2_prefactor:.2f}")
    for t in range(1, 1_000_001):
        p = np.prod(th)
        th = th - pred.eta * (p - 1.0) * p / th
        if t + 1 in checkpoints:
            prev = (0.5 * (np.prod(th) - 1) ** 2, np.sum((th - 1) ** 2))
        if t in checkpoints:     # average the two sides of the manifold
            loss = 0.5 * (prev[0] + 0.5 * (np.prod(th) - 1) ** 2)
            dist2 = 0.5 * (prev[1] + np.sum((th - 1) ** 2))
            print(f"  t = {t:>9,d}: L t = {loss * t:.4f} ({loss * t / pred.loss_prefactor - 1:+.1%})"
                  f", |theta - p*|^2 t = {dist2 * t:.2f} "
                  f"({dist2 * t / pred.distance2_prefactor - 1:+.1%})")


def main():
    for name, fn in [("Riccati closed form", riccati), ("ReLU gradient flow", relu_flow),
                     ("Sharpness", sharp)]:
        res, note = fn()
        (a, ra_), (b, rb) = list(res.items())
        print(f"\n{name}: {note}")
        for lab, r in res.items():
            print(f"  {lab:28s} {r['seconds']:8.3f} s   peak {r['peak_mib']:8.2f} MiB")
        print(f"  ratio ({b} / {a}): {rb['seconds'] / ra_['seconds']:.1f}x")
    eos_critical_long()


if __name__ == "__main__":
    main()
