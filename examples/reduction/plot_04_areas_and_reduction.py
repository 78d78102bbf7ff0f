"""
Two and three coherent areas, and the reduced networks' step responses
======================================================================

Spectral clustering of the Laplacian finds groups of machines that swing together
(Min & Mallada, ACC 2023 for two areas, L4DC 2023 for k areas); the structure-preserving
reduction then replaces each area by one aggregate node
:math:`\\hat g_a = (\\sum_{i \\in a} g_i^{-1})^{-1}` coupled through a small reduced
Laplacian :math:`L_k`. The reduced model is a network again, so its step response can be
laid over the full model's.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np

import netcoh as nc

# %%
# Two areas: Kundur's two-area system
# ------------------------------------
# Four machines with turbine-governors (Kundur 1994, Example 12.6). The Fiedler vector splits
# them into {G1, G2} and {G3, G4}; the reduced network has two nodes and
# :math:`L_2 = \lambda_2 \frac{n_a n_b}{n} [[1, -1], [-1, 1]]`.

with warnings.catch_warnings():
    warnings.simplefilter("ignore", nc.SynthesizedDataWarning)
    kundur = nc.grids.load("kundur").to_system(model="swing_turbine")
areas = nc.spectral_clustering(kundur, n_clusters=2)
reduced = nc.reduce_network(kundur, areas)
print(reduced.to_frame())

# %%
# A 1 p.u. (100 MW) load step at G1 is a negative injection. The reduced model is driven by
# the area totals :math:`P^T u` and its two outputs are lifted back to the machines
# (:math:`P \hat y`).

t = np.linspace(0.0, 20.0, 801)
u = np.zeros(kundur.n)
u[kundur.labels.index("G1")] = -1.0
P = reduced.indicator().toarray()               # (n, k) node-to-area indicator
full = nc.step_response(kundur, u, t)
small = nc.step_response(reduced.system, P.T @ u, t)

fig, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
colors = ["tab:blue", "tab:orange"]
for i, name in enumerate(kundur.labels):
    ax.plot(t, 1e3 * full.outputs[:, i], color=colors[areas.labels[i]], lw=1, label=name)
for a in range(reduced.k):
    ax.plot(t, 1e3 * small.outputs[:, a], "--", color=colors[a], lw=2.2,
            label=f"reduced: {reduced.area_names[a]}")
ax.set(xlabel="time (s)", ylabel="frequency deviation (1e-3 p.u.)",
       title="Kundur: machines (solid), 2-node reduced model (dashed)")
ax.legend(ncol=2, fontsize="small")

# %%
# Three areas: a weighted block model
# -----------------------------------
# Three groups of 20, 40 and 20 heterogeneous machines, dense strong links inside groups and
# sparse weak links between them (the L4DC 2023 setting). With ``n_clusters=None`` the
# number of areas is chosen by the largest relative eigengap, and the planted groups are
# recovered.

rng = np.random.default_rng(0)
Q = [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]]
W = [[20, 0.4, 0.8], [0.4, 20, 0.7], [0.8, 0.7, 20]]
L, truth = nc.laplacian.weighted_sbm([20, 40, 20], Q, W, rng=rng)
n = L.shape[0]
machines = nc.nodal.swing_turbine(m=rng.uniform(0.05, 0.5, n), d=rng.uniform(0.2, 0.5, n),
                                  droop=1 / rng.uniform(5, 10, n), tau=rng.uniform(2, 10, n))
system = nc.NetworkSystem.from_laplacian(L, nodal=machines)

areas3 = nc.spectral_clustering(system)
print(areas3.reason)
print("area sizes:", [len(p) for p in areas3.partition])
# every area has ~20-40 distinct turbine time constants, so its exact aggregate has order
# 20-40; `machine_order=3` fits a third-order machine to each (L-CSS 2021) for simulation
reduced3 = nc.reduce_network(system, areas3, machine_order=3)

# %%
# Load step of 0.3 p.u. at one machine of the first group. Thin lines: every machine,
# coloured by area; dashed: the 3-node reduced network. The reduced model captures each
# area's mean motion and the slow inter-area exchange; the fast intra-area ripples are what
# it leaves out.

u = np.zeros(n)
u[0] = -0.3
t = np.linspace(0.0, 30.0, 601)
full3 = nc.step_response(system, u, t)
P3 = reduced3.indicator().toarray()
small3 = nc.step_response(reduced3.system, P3.T @ u, t)

fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
palette = ["tab:blue", "tab:orange", "tab:green"]
for i in range(n):
    axes[0].plot(t, full3.outputs[:, i], color=palette[areas3.labels[i]], lw=0.5, alpha=0.6)
for a in range(reduced3.k):
    axes[0].plot(t, small3.outputs[:, a], "--", color=palette[a], lw=2.2,
                 label=f"reduced {reduced3.area_names[a]}")
axes[0].set(xlabel="time (s)", ylabel="frequency deviation (p.u.)",
            title="80 machines (thin) vs 3-node reduced network (dashed)")
axes[0].legend(fontsize="small")

omega = np.logspace(-3, 1.5, 60)
err = reduced3.error(omega)
axes[1].loglog(err.omega_rad_s, err.error, label=r"$\|T - P\hat T_3 P^T\|_2$")
axes[1].loglog(err.omega_rad_s, err.rank_k_error, ":", label=r"rank-3 error $\|T - T_3\|_2$")
axes[1].loglog(err.omega_rad_s, err.bound, "--", label="Theorem 1 bound")
axes[1].set(xlabel="frequency (rad/s)", ylabel="spectral-norm error",
            title="reduction error against frequency")
axes[1].legend(fontsize="small")
print(f"largest error below 1 rad/s: {err.max_error(band_rad_s=1.0):.3g}")
plt.show()
