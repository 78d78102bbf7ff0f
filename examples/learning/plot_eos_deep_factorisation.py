"""
Edge of stability in ten dimensions: three regimes
==================================================

The three regimes of gradient descent stated in the abstract of MacDonald, Min, Palma,
Tarmoun, Xu & Vidal, *Convergence rates for gradient descent on the edge of stability in
overparametrised least squares* (NeurIPS 2025), shown on a ten-parameter least-squares
problem whose minimisers form a manifold of codimension one,
:math:`L(\\theta) = \\tfrac12(\\theta_1\\cdots\\theta_{10} - 1)^2`
(:class:`~netcoh.learning.edge_of_stability.DeepScalarFactorization`; the paper's own model
and code were not available, so this is a reconstruction). On the manifold the sharpness is
:math:`\\sum_i\\theta_i^{-2}`, smallest (10) at the balanced point :math:`\\theta_i = 1`; the
critical step is :math:`\\eta = 2/10`.

* below it, GD started where the sharpness exceeds :math:`2/\\eta` converges linearly to a
  minimum that is flatter than :math:`2/\\eta` but not the flattest;
* at it, GD converges to the flattest minimum by a power law (loss :math:`\\sim t^{-1}`);
* above it, GD converges linearly to a period-2 orbit around the flattest minimum, found
  here by Newton's method (:func:`~netcoh.learning.periodic_orbit`).
"""

import matplotlib.pyplot as plt
import numpy as np

from netcoh.learning import edge_of_stability as eos
from netcoh.learning import periodic_orbit, sharpness, simulate_gd

dyn = eos.DeepScalarFactorization(d=10)
_, lam_star = dyn.flattest()
th = np.exp(0.3 * np.random.default_rng(0).standard_normal(10))
theta0 = 1.001 * th / np.prod(th) ** 0.1
print(f"initial sharpness {sharpness(dyn, theta0):.3f}; flattest minimum {lam_star:.3f}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
for k, f in enumerate((0.9, 1.0, 1.2)):
    eta = f * 2 / lam_star
    steps = 20000
    traj = simulate_gd(dyn, theta0, eta, steps, record_every=10)
    # |grad of the product|^2: the sharpness of the nearest minimiser, defined off the manifold
    lam = np.sum((np.prod(traj.theta, axis=1)[:, None] / traj.theta) ** 2, axis=1)
    label = rf"$\eta$ = {f:g} x critical"
    if f > 1:
        orb = periodic_orbit(dyn, eta, np.full(10, 1.02))
        dev = np.minimum(np.linalg.norm(traj.theta - orb.points[0], axis=1),
                         np.linalg.norm(traj.theta - orb.points[1], axis=1))
        print(f"{label.replace('$', '').replace(chr(92), '')}: period-2 orbit "
              f"{orb.points[0, 0]:.6f} <-> {orb.points[1, 0]:.6f}, stable {orb.stable}, "
              f"distance of GD to it after {steps} steps {dev[-1]:.1e}")
        ax1.semilogy(traj.t, np.maximum(dev, 1e-30), f"C{k}", label=label + " (distance to orbit)")
    else:
        print(f"{label.replace('$', '').replace(chr(92), '')}: final loss {traj.loss[-1]:.2e}, "
              f"sharpness {sharpness(dyn, traj.theta[-1]):.4f} (2/eta = {2 / eta:.4f})")
        ax1.loglog(traj.t[1:], np.maximum(traj.loss[1:], 1e-30), f"C{k}", label=label + " (loss)")
    ax2.semilogx(traj.t[1:], lam[1:], f"C{k}", label=label)
    ax2.axhline(2 / eta, color=f"C{k}", ls=":", lw=1)
ax1.set_xscale("log")
ax1.set_xlabel("iteration")
ax1.legend(fontsize=8)
ax2.axhline(lam_star, color="k", lw=0.8, label="flattest minimum")
ax2.set_xlabel("iteration")
ax2.set_ylabel(r"$|\nabla(\theta_1\cdots\theta_{10})|^2$ (dotted: $2/\eta$)")
ax2.legend(fontsize=8)
fig.tight_layout()
plt.show()
