"""
pReLU networks are robust, ReLU networks are not
================================================

Reproduces the synthetic-data robustness figure of Min & Vidal, *Can implicit bias imply
adversarial robustness?* (ICML 2024): robust accuracy against the l2 attack radius for
shallow networks trained by gradient descent from a small initialisation on a mixture of
``K`` Gaussian clusters with orthonormal centres (here ``K = 6``, three per class, input
dimension 16 instead of the paper's 1000).

The paper's prediction: a ReLU network (``p = 1``) learns the class averages and is as
fragile as its ideal classifier ``F``, which errs at distance ``1/sqrt(K)`` from a cluster
centre; a pReLU network with ``p = 3`` learns the centres themselves and is as robust as
``F_p``, up to ``sqrt(2)/2``, half the distance between two centres.

The radii of the trained networks come from an attack (projected gradient descent with
bisection on the radius, :func:`~netcoh.learning.prelu.attack_radius`); the radii of the
ideal classifiers are exact (:func:`~netcoh.learning.prelu.ideal_radius`).
"""

import matplotlib.pyplot as plt
import numpy as np

from netcoh.learning import prelu as pr
from netcoh.learning import simulate_gd
from netcoh.learning.relu_alignment import balanced_init

D, K, K1 = 16, 6, 3
X, y, _ = pr.gaussian_mixture(D, K, K1, 600, 0.1, rng=0)
Xt, yt, _ = pr.gaussian_mixture(D, K, K1, 60, 0.1, rng=1)

radii, ideal = {}, {}
for p in (1.0, 3.0):
    net = pr.ShallowNet(X, y, h=40, p=p, reduction="mean")
    traj = simulate_gd(net, balanced_init(D, 40, 1e-3, 1), 0.5, 1500, record_every=1500)
    theta = traj.theta[-1]
    align = pr.neuron_centre_alignment(net, theta, K, K1)
    radii[p] = pr.attack_radius(net, theta, Xt, yt, bisections=14)
    ideal[p] = np.array([pr.ideal_radius(x, yi, K, K1, p) for x, yi in zip(Xt, yt)])
    print(f"p = {p:.0f}: neurons vs class averages {align['class_average']:.3f}, "
          f"vs centres {align['centre']:.3f}; median attack radius "
          f"{np.median(radii[p]):.3f} (ideal classifier {np.median(ideal[p]):.3f}); "
          f"largest gap to the ideal radius {np.max(np.abs(radii[p] - ideal[p])):.3f}")
print(f"predictions: 1/sqrt(K) = {1 / np.sqrt(K):.3f}, sqrt(2)/2 = {np.sqrt(2) / 2:.3f}")

# %%
# Robust accuracy: the fraction of test points whose radius exceeds the attack budget.

eps = np.linspace(0.0, 1.0, 201)
fig, ax = plt.subplots(figsize=(6.4, 4.0))
for p, c in ((1.0, "C0"), (3.0, "C3")):
    ax.plot(eps, (radii[p][None, :] > eps[:, None]).mean(axis=1), c, lw=2,
            label=f"trained, p = {p:.0f} (attack)")
    ax.plot(eps, (ideal[p][None, :] > eps[:, None]).mean(axis=1), c + "--", lw=1,
            label=f"ideal classifier, p = {p:.0f} (exact)")
ax.axvline(1 / np.sqrt(K), color="C0", ls=":", label=r"$1/\sqrt{K}$")
ax.axvline(np.sqrt(2) / 2, color="C3", ls=":", label=r"$\sqrt{2}/2$")
ax.set_xlabel("l2 attack radius")
ax.set_ylabel("robust accuracy")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
