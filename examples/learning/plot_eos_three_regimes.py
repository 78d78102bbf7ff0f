"""
Edge of stability in ten dimensions: the three regimes against the theory
=========================================================================

The figure the abstract of MacDonald, Min, Palma, Tarmoun, Xu & Vidal, *Convergence rates
for gradient descent on the edge of stability in overparametrised least squares*
(NeurIPS 2025) describes (its own figures and code were not available): gradient descent on
least squares whose minimisers form a manifold :math:`M`, in three regimes of the step
:math:`\\eta`, each next to what the decomposition of GD predicts (Riemannian gradient
descent on the sharpness along :math:`M`, plus a normal part that bifurcates at
:math:`\\eta\\lambda = 2`; see :mod:`netcoh.learning.eos_manifold` and
:mod:`netcoh.learning.eos_regimes`).

The model is :math:`L(\\theta) = \\tfrac12(\\theta_1\\cdots\\theta_{10} - 1)^2`
(:class:`~netcoh.learning.edge_of_stability.DeepScalarFactorization`): :math:`M` has
dimension 9, the sharpness on it is :math:`\\sum_i\\theta_i^{-2}`, smallest (10) at
:math:`\\theta_i = 1`.

* left, subcritical (:math:`\\eta = 0.8 \\times 2/\\lambda^\\star`): GD starts where the
  sharpness exceeds :math:`2/\\eta`, slides along :math:`M` until it is below, then converges
  linearly; the reduced dynamics predict where it stops;
* middle, critical (:math:`\\eta = 2/\\lambda^\\star`): :math:`L\\,t` and
  :math:`\\|\\theta - p^\\star\\|^2 t` tend to the predicted constants (power laws
  :math:`t^{-1}` and :math:`t^{-1/2}`);
* right, supercritical: the half-width of the period-2 orbit against
  :math:`\\varepsilon = \\eta\\lambda^\\star - 2`, measured and from the normal form
  :math:`\\sqrt{((1+\\varepsilon)^2-1)/\\beta}`.
"""

import matplotlib.pyplot as plt
import numpy as np

from netcoh.learning import eos_manifold as em
from netcoh.learning import eos_regimes as er
from netcoh.learning import simulate_gd
from netcoh.learning.edge_of_stability import DeepScalarFactorization

model = DeepScalarFactorization(d=10)
p_star = np.ones(10)
lam_star = em.manifold_sharpness(model, p_star)


def start(spread):
    th = np.exp(spread * np.random.default_rng(0).standard_normal(10))
    return 1.001 * th / np.prod(th) ** 0.1


fig, axes = plt.subplots(1, 3, figsize=(14, 4), constrained_layout=True)

# %%
# Subcritical: the sharpness of the foot point along GD and along the reduced dynamics
eta = 0.8 * 2 / lam_star
traj = simulate_gd(model, start(0.5), eta, 1500)
lam_gd = [em.manifold_sharpness(model, em.project(model, th)[0]) for th in traj.theta[::5]]
red = em.reduced_dynamics(model, start(0.5), eta, 1500)
ax = axes[0]
ax.plot(traj.t[::5], lam_gd, lw=2, label="GD (closest point of M)")
ax.plot(np.arange(red.sharpness.size), red.sharpness, "k--", lw=1, label="reduced dynamics")
ax.axhline(2 / eta, color="C3", ls=":", label=r"$2/\eta$")
ax.axhline(lam_star, color="0.5", ls="-.", label=r"flattest $\lambda^\star$")
ax.set(xlabel="iteration", ylabel=r"sharpness $\lambda(p_t)$", title="subcritical")
ax.legend(fontsize="small")
sub = er.subcritical_rate(model, start(0.5), eta, 8000)
print(f"subcritical: limit sharpness {sub.limit_sharpness:.6f} (reduced dynamics "
      f"{sub.limit_sharpness_predicted:.6f}), linear rate {sub.rate_measured:.6f} "
      f"(|1 - eta lambda| = {sub.rate_predicted:.6f})")

# %%
# Critical: the rescaled loss and distance approach the predicted constants
pred = er.predict(model, 2 / lam_star, p_star)
steps = 100_000
traj = simulate_gd(model, start(0.2), pred.eta, steps, record_every=100)
t = traj.t[1:]
ax = axes[1]
ax.semilogx(t, traj.loss[1:] * t, "C0", label=r"$L\,t$")
ax.axhline(pred.loss_prefactor, color="C0", ls="--", label=r"$1/(\eta^2\kappa)$")
d2 = np.sum((traj.theta[1:] - p_star) ** 2, axis=1) * t
ax.semilogx(t, d2 / 20, "C1", label=r"$\|\theta - p^\star\|^2 t\,/\,20$")
ax.axhline(pred.distance2_prefactor / 20, color="C1", ls="--",
           label=r"$\beta/(\eta\kappa)^2\,/\,20$")
ax.set(xlabel="iteration", ylim=(0, 12), title="critical")
ax.legend(fontsize="small")
print(f"critical: L t = {traj.loss[-1] * steps:.3f} (theory {pred.loss_prefactor:.3f}), "
      f"|theta - p*|^2 t = {d2[-1]:.1f} (theory {pred.distance2_prefactor:.1f})")

# %%
# Supercritical: the orbit's half-width against the normal form
eps = np.array([0.05, 0.1, 0.2, 0.3, 0.4])
measured, predicted = [], []
for e in eps:
    # the orbit attracts at a rate 1 - O(eps) per step: smaller eps, more steps
    sc = er.supercritical_cycle(model, start(0.2), (2 + e) / lam_star, int(1500 / e), p_star)
    measured.append(sc.half_width)
    predicted.append(sc.half_width_predicted)
    print(f"supercritical eps = {e:.2f}: half-width {sc.half_width:.5f} (normal form "
          f"{sc.half_width_predicted:.5f}), rate {sc.rate_measured:.6f} "
          f"(theory {sc.rate_predicted:.6f})")
ax = axes[2]
ax.plot(eps, measured, "o", label="GD orbit")
fine = np.linspace(0.01, 0.42, 100)
beta = [em.normal_form(model, p_star, (2 + e) / lam_star).beta for e in fine]
ax.plot(fine, np.sqrt(((1 + fine) ** 2 - 1) / np.array(beta)), "k--", label="normal form")
ax.set(xlabel=r"$\varepsilon = \eta\lambda^\star - 2$", ylabel="half-width of the 2-cycle",
       title="supercritical")
ax.legend(fontsize="small")
plt.show()
