"""
Incoherence versus frequency and connectivity
=============================================

A connected network is coherent where its *effective algebraic connectivity*
:math:`|f(j\\omega)|\\,\\lambda_2(L) = \\lambda_2/\\omega` is large (Min, Pates & Mallada,
Automatica 2025, Lemma 1 and Theorems 2-3): at low frequency, and more so the stiffer the
network. Here we scale the Laplacian of a 30-machine ring lattice by 1, 10 and 100 and plot
the incoherence :math:`\\|T(j\\omega) - \\hat g(j\\omega)\\,\\mathbf 1\\mathbf 1^T\\|_2`
against frequency, with the lemma's bound where its hypothesis holds.
"""

import matplotlib.pyplot as plt
import numpy as np

import netcoh as nc

rng = np.random.default_rng(1)
n = 30
nodes = nc.nodal.swing(m=rng.uniform(2.0, 6.0, n), d=rng.uniform(0.5, 1.5, n))
L = nc.laplacian.ring_lattice(n, 3)
omega = np.logspace(-3, 2, 120)  # rad/s

# %%
# One coherence analysis per connectivity scale. The bandwidth is the largest frequency
# below which the *relative* incoherence stays under 10 %.

results = {}
for scale in (1, 10, 100):
    system = nc.NetworkSystem.from_laplacian(scale * L, nodal=nodes)
    results[scale] = nc.coherence(system, omega, tol=0.1)
    print(f"L x {scale:>3}: lambda_2 = {system.lambda2:8.3f}, "
          f"coherence bandwidth = {results[scale].bandwidth_rad_s:.3g} rad/s")

# %%
# Incoherence (solid) and the Lemma 1 bound (dashed) for each scale. The incoherence
# vanishes as omega -> 0 (at omega = 0 every node settles to the same frequency), and the
# coherent band moves to higher frequency as the network gets stiffer.

fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
colors = {1: "tab:blue", 10: "tab:orange", 100: "tab:green"}
for scale, res in results.items():
    c = colors[scale]
    axes[0].loglog(res.omega, res.incoherence, color=c, label=f"L x {scale}")
    axes[0].loglog(res.omega, res.bound, "--", color=c, lw=1)
    axes[1].loglog(res.omega, res.relative_incoherence, color=c, label=f"L x {scale}")
    if res.bandwidth_rad_s > 0:
        axes[1].axvline(res.bandwidth_rad_s, color=c, ls=":", lw=1)
axes[0].set(xlabel="frequency (rad/s)", ylabel=r"$\|T - \hat g\,\mathbf{1}\mathbf{1}^T\|_2$",
            title="incoherence (solid) and Lemma 1 bound (dashed)")
axes[1].axhline(0.1, color="0.5", lw=0.8)
axes[1].set(xlabel="frequency (rad/s)", ylabel="relative incoherence",
            title="coherence bandwidth (dotted) at tolerance 0.1")
axes[0].legend()
axes[1].legend()
plt.show()

# %%
# How does the band grow with stiffness? Sweep the scale over three decades and compare
# the bandwidth with the frequency of the slowest electromechanical mode,
# :math:`\sqrt{\lambda_2(L)/\bar m}`: at low stiffness the band grows about linearly with
# the scale (the lemma's :math:`\lambda_2/\omega` regime); once the network is stiff it
# follows the slowest mode, a square-root law.

scales = np.logspace(0, 3, 10)
bandwidth, slow_mode = [], []
for scale in scales:
    system = nc.NetworkSystem.from_laplacian(scale * L, nodal=nodes)
    bandwidth.append(nc.coherence(system, np.logspace(-3, 3, 200)).bandwidth_rad_s)
    slow_mode.append(np.sqrt(system.lambda2 / nodes.params["m"].mean()))

fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
ax.loglog(scales, bandwidth, "o-", label="coherence bandwidth (tol 0.1)")
ax.loglog(scales, slow_mode, "k--", label=r"slowest mode $\sqrt{\lambda_2/\bar m}$")
ax.set(xlabel="Laplacian scale", ylabel="rad/s")
ax.legend()
plt.show()
