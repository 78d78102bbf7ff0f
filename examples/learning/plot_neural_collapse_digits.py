"""
Neural collapse in a two-layer ReLU network trained from a small initialisation
================================================================================

Reproduces the MNIST illustration of Min, Zhu & Vidal, *Neural collapse vs. low-rank bias:
two-layer ReLU networks trained from small initialisation* (NeurIPS 2025) on the digits 0, 1
and 2 of scikit-learn's 8 x 8 ``load_digits`` (centred by the mean image, as in the paper;
MNIST itself is not downloaded): width 50, all weights Gaussian with variance 1e-6,
cross-entropy, full-batch gradient descent.

The paper's Theorem 1 predicts that each neuron's output weight :math:`v_j \\in R^3` ends up
along one vertex of a simplex equiangular tight frame, that the neurons of vertex :math:`k`
respond to class :math:`k` only (class-mean features orthogonal and non-negative), and that
the features of a class collapse to one direction. Left: the output weights projected on the
plane orthogonal to :math:`(1,1,1)`, at initialisation (grey) and after training
(coloured by vertex). Middle: the collapse diagnostics of
:func:`~netcoh.learning.neural_collapse.nc_metrics` during training. Right: the mean input
weight of each group of neurons, as an image.
"""

import matplotlib.pyplot as plt
import numpy as np

from netcoh.learning import neural_collapse as nc
from netcoh.learning import simulate_gd
from netcoh.learning.data import load_digits_subset

X, y = load_digits_subset((0, 1, 2))
net = nc.ShallowNet(X, y.astype(int), h=50, loss_name="ce", reduction="mean")
theta0 = nc.balanced_small_init(net, 1e-3, rng=0)
traj = simulate_gd(net, theta0, 0.5, 3000, record_every=100)
metrics = [nc.nc_metrics(net, th) for th in traj.theta]
last = metrics[-1]
acc = float(np.mean(np.argmax(net.outputs(traj.theta[-1]), axis=1) == y))
print(f"{X.shape[0]} images; training accuracy {acc:.3f}; final NC1 {last['nc1']:.2e}, "
      f"NC2 {last['nc2']:.2e}, NC3 {last['nc3']:.2e}")

# %%

P = np.array([[1.0, -1.0, 0.0], [1.0, 1.0, -2.0]]) / np.array([[np.sqrt(2)], [np.sqrt(6)]])
V0 = net.unpack(theta0)["V"]
V, W = net.unpack(traj.theta[-1])["V"], net.unpack(traj.theta[-1])["W"]
group = np.argmax(V, axis=0)
fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), gridspec_kw={"width_ratios": [1, 1.2, 1]})
z0, z = P @ (V0 / np.linalg.norm(V0, axis=0)), P @ (V / np.linalg.norm(V, axis=0))
axes[0].scatter(*z0, s=8, c="0.7", label="initialisation")
for k in range(3):
    axes[0].scatter(*z[:, group == k], s=14, c=f"C{k}", label=f"trained, vertex of digit {k}")
axes[0].set_aspect("equal")
axes[0].set_title("output weights (unit, projected)")
axes[0].legend(fontsize=7)
it = np.arange(len(metrics)) * 100
for key in ("nc1", "nc2", "nc3"):
    axes[1].semilogy(it, [max(m[key], 1e-16) for m in metrics], label=key.upper())
axes[1].set_xlabel("iteration")
axes[1].legend(fontsize=8)
axes[1].set_title("collapse diagnostics")
means = [W[:, group == k].mean(axis=1).reshape(8, 8) for k in range(3)]
axes[2].imshow(np.hstack(means), cmap="RdBu_r")
axes[2].set_axis_off()
axes[2].set_title("mean input weight per group")
fig.tight_layout()
plt.show()
