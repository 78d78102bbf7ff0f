"""
Early alignment of ReLU neurons from a small initialisation
===========================================================

Reproduces the two-dimensional toy example of Min, Mallada & Vidal, *Early neuron alignment
in two-layer ReLU networks with small initialization* (ICLR 2024, Appendix A.1): a two-layer
ReLU network of width 50, balanced initialisation of scale :math:`\\varepsilon`, trained on
data where same-label points are positively and opposite-label points negatively correlated
(Assumption 1, :math:`\\mu > 0`).

Training has two phases. First the weights stay small and only their *directions* move:
every neuron with :math:`v_j > 0` turns towards the cone :math:`S_+` (active on exactly the
positive samples) or dies, every neuron with :math:`v_j < 0` towards :math:`S_-`. Then the
aligned neurons grow and the loss falls like :math:`1/t`. Here the flow is integrated
exactly, one activation pattern at a time (:func:`~netcoh.learning.simulate_gf`), and the
alignment time is compared with the theorem's scale :math:`\\log n/\\sqrt\\mu`.
"""

import matplotlib.pyplot as plt
import numpy as np

from netcoh.learning import relu_alignment as ra
from netcoh.learning import simulate_gf

angles_pos = np.deg2rad([60.0, 75.0, 95.0])          # positive samples
angles_neg = np.deg2rad([230.0, 260.0, 290.0])       # negative samples
X = np.r_[np.c_[np.cos(angles_pos), np.sin(angles_pos)],
          np.c_[np.cos(angles_neg), np.sin(angles_neg)]]
y = np.r_[np.ones(3), -np.ones(3)]
mu = ra.data_mu(X, y)

h, eps = 50, 1e-9
net = ra.ShallowNet(X, y, h=h)
theta0 = ra.balanced_init(2, h, eps, np.random.default_rng(0))
t = np.concatenate([[0.0], np.logspace(-2, 4.5, 400)])
traj = simulate_gf(net, theta0, t, rtol=1e-10, atol=1e-19)

t1 = ra.alignment_time(traj)
bound, ok = ra.theorem1(X, y, h, eps)
print(f"mu = {mu:.3f}; all neurons aligned at t1 = {t1:.3f} "
      f"(theorem's scale log(n)/sqrt(mu) = {bound:.3f}; hypotheses hold: {ok})")

# %%
# Neuron directions (angle of :math:`w_j`) against time, coloured by the sign of
# :math:`v_j`; the shaded bands are the data directions. Right: loss and :math:`\|W\|_F^2`.

W = np.array([net.unpack(th)["W"] for th in traj.theta])      # (T, 2, h)
v0 = net.unpack(theta0)["V"][0]
ang = np.rad2deg(np.arctan2(W[:, 1, :], W[:, 0, :])) % 360
ang[1:][np.abs(np.diff(ang, axis=0)) > 180] = np.nan   # do not draw the 360 -> 0 wrap

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.0, 3.8))
for j in range(h):
    ax1.semilogx(traj.t[1:], ang[1:, j], color="C3" if v0[j] > 0 else "C0", lw=0.7)
for a in np.rad2deg(angles_pos):
    ax1.axhline(a, color="C3", ls=":", lw=0.8)
for a in np.rad2deg(angles_neg):
    ax1.axhline(a, color="C0", ls=":", lw=0.8)
ax1.axvline(t1, color="k", ls="--", lw=0.8, label="alignment time $t_1$")
ax1.set_xlabel("time")
ax1.set_ylabel("angle of $w_j$ (degrees)")
ax1.legend(fontsize=8, loc="lower left")
ax2.loglog(traj.t[1:], traj.loss[1:], label="loss")
ax2.loglog(traj.t[1:], np.sum(W[1:] ** 2, axis=(1, 2)), label=r"$\|W\|_F^2$")
ax2.axvline(t1, color="k", ls="--", lw=0.8)
ax2.set_xlabel("time")
ax2.legend(fontsize=8)
fig.tight_layout()
plt.show()
