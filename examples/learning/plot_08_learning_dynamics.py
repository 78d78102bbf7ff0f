"""
Incremental learning and the edge of stability
===============================================

:mod:`netcoh.learning` treats the training of small networks as a dynamical system. Two
classic behaviours, each checked against a closed form:

* **Incremental learning** (Min & Vidal, *Incremental learning via closed-form gradient
  flow on symmetric matrix factorization*, CDC 2025; the staircase of its Figure 1). Gradient flow on
  :math:`\\tfrac14\\|Y - UU^T\\|_F^2` from a small initialisation :math:`\\alpha U_0` learns
  the eigen-directions of :math:`Y` one at a time: :math:`W = UU^T` solves the Riccati
  equation :math:`\\dot W = WY + YW - 2W^2` exactly, and mode :math:`i` switches on around
  :math:`t_i \\approx \\log(1/\\alpha) / (2\\sigma_i)`.
* **Edge of stability.** Gradient descent with step :math:`\\eta` on the scalar
  factorisation :math:`\\tfrac12(uv - y)^2` has three regimes set by :math:`\\eta y`:
  convergence to a flat minimum below 1, a power law at 1, and a period-2 orbit above
  it, whose points :math:`a, b` satisfy :math:`ab = 1/\\eta`,
  :math:`a + b = \\sqrt{y + 3/\\eta}`.
"""

import matplotlib.pyplot as plt
import numpy as np

from netcoh.learning import simulate_gd, simulate_gf
from netcoh.learning.edge_of_stability import (
    ScalarFactorization,
    regime,
    two_cycle_closed_form,
)
from netcoh.learning.symmetric_mf import SymmetricMF, closed_form, transition_time

# %%
# Incremental learning: a staircase
# ---------------------------------
# A 6 x 6 PSD target with eigenvalues 8, 4, 2, 1, 0, 0, learned by a rank-4 factor from
# :math:`\alpha = 10^{-6}`. The eigenvalues of :math:`W(t)` come from the closed form
# (Proposition 1) on a fine time grid; the dots are an independent ODE solve of the gradient
# flow on :math:`U`.

rng = np.random.default_rng(0)
sigma = np.array([8.0, 4.0, 2.0, 1.0, 0.0, 0.0])
Q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
Y = Q @ np.diag(sigma) @ Q.T
alpha = 1e-6
U0 = alpha * rng.standard_normal((6, 4))

t = np.linspace(0.0, 9.0, 600)
W = closed_form(Y, U0 @ U0.T, t)                       # (len(t), 6, 6)
eig = np.linalg.eigvalsh(W)[:, ::-1]                   # descending

dyn = SymmetricMF(Y=Y, r=4)
traj = simulate_gf(dyn, U0.ravel(), t[::40], rtol=1e-10, atol=1e-14)
U = traj.theta.reshape(-1, 6, 4)
eig_ode = np.linalg.eigvalsh(U @ U.transpose(0, 2, 1))[:, ::-1]
print("largest |closed form - ODE| over the samples:",
      f"{np.abs(eig[::40] - eig_ode).max():.2e}")

fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
for i in range(4):
    axes[0].plot(t, eig[:, i], lw=2, label=fr"$\lambda_{i + 1}(W)$, target {sigma[i]:g}")
    axes[0].plot(traj.t, eig_ode[:, i], "k.", ms=4)
t_half = transition_time(sigma[:4], np.ones(4), alpha)
for ti in t_half:
    axes[0].axvline(ti, color="0.7", ls=":", lw=1)
axes[0].set(xlabel="time", ylabel="eigenvalues of $W = UU^T$",
            title=r"one mode at a time (dotted: $t_i \approx \log(1/\alpha)/(2\sigma_i)$)")
axes[0].legend(fontsize="small")
loss = 0.25 * np.sum((Y - W) ** 2, axis=(1, 2))
axes[1].semilogy(t, loss)
axes[1].set(xlabel="time", ylabel="loss", title="plateaus and drops")

# %%
# The edge of stability: three regimes
# ------------------------------------
# Gradient descent on :math:`\tfrac12(uv - y)^2`, :math:`y = 1`, from a point near the
# minimiser curve :math:`uv = 1` where the sharpness (2.31) already exceeds :math:`2/\eta`
# for :math:`\eta = 0.9`; steps :math:`\eta y = 0.9, 1, 1.1`. Left: the loss. Right: the
# sharpness :math:`u^2 + v^2` against the stability threshold :math:`2/\eta` (dashed).
# Subcritical: GD slides along the curve to a minimum flat enough to be stable
# (:math:`2y < \lambda < 2/\eta`), not to the flattest one. Critical: a power law, loss
# :math:`\sim 1/t`. Supercritical: no minimum is stable, and GD settles on the period-2
# orbit predicted in closed form (its loss stays positive).

y = 1.0
dyn = ScalarFactorization(y=y)
theta0 = [1.3, 1 / 1.3 + 0.01]
steps = 20_000
fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
for eta, color in [(0.9, "tab:blue"), (1.0, "tab:orange"), (1.1, "tab:green")]:
    traj = simulate_gd(dyn, theta0, eta=eta, steps=steps)
    u, v = traj.theta[:, 0], traj.theta[:, 1]
    k = np.arange(1, traj.t.size)
    axes[0].loglog(k, traj.loss[1:], color=color, lw=1,
                   label=f"η y = {eta * y:g}: {regime(y, eta)}")
    axes[1].semilogx(k, (u * u + v * v)[1:], color=color, lw=1)
    axes[1].axhline(2 / eta, color=color, ls="--", lw=0.8)
    if regime(y, eta) == "supercritical":
        a, b = two_cycle_closed_form(y, eta)
        print(f"η = {eta}: last iterates u = {u[-2]:.6f}, {u[-1]:.6f}; "
              f"closed-form 2-cycle {{a, b}} = {{{a:.6f}, {b:.6f}}}")
    else:
        if regime(y, eta) == "critical":
            critical_loss = traj.loss[-1]
        print(f"η = {eta}: final loss {traj.loss[-1]:.3e}, "
              f"sharpness {u[-1] ** 2 + v[-1] ** 2:.4f} (2/η = {2 / eta:.4f})")
kk = np.logspace(2, np.log10(steps), 20)
axes[0].loglog(kk, 2 * critical_loss * steps / kk, "k:", label=r"$\propto 1/t$")
axes[0].set(xlabel="iteration", ylabel="loss", ylim=(1e-14, 10))
axes[0].legend(fontsize="small")
axes[1].set(xlabel="iteration", ylabel="$u^2 + v^2$ (dashed: $2/\\eta$)")
plt.show()
