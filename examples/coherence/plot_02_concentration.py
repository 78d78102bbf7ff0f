"""
Concentration on 4 / ln 5
=========================

Large networks of random nodes behave like one deterministic machine (Min & Mallada,
CDC 2019). Take consensus nodes :math:`g_i(s) = k_i/s` with :math:`k_i \\sim U(1, 5)`,
coupled statically (:math:`f(s) = 1`) on a ring lattice where every node talks to its
:math:`k \\approx 0.15\\,n` nearest neighbours on each side. After an impulse
:math:`u = \\delta(t)\\,\\mathbf 1` every node converges to the harmonic mean of the gains,
and as :math:`n` grows the harmonic mean concentrates on the *harmonic expectation*

.. math::

   g_E(s) = \\bigl(\\mathbb E[g^{-1}(s, k)]\\bigr)^{-1}
          = \\frac{1}{s\\,\\mathbb E[1/k]} = \\frac{4/\\ln 5}{s},

so the impulse responses approach the step :math:`4/\\ln 5 \\approx 2.485`. This reproduces
Fig. 2 of the paper for :math:`n = 20, 50, 100, 500`.
"""

import matplotlib.pyplot as plt
import numpy as np

import netcoh as nc

TARGET = 4 / np.log(5)
rng = np.random.default_rng(0)
t = np.linspace(0.0, 1.5, 151)


def consensus_nodes(n, rng):
    """``n`` i.i.d. consensus nodes k_i / s with k_i ~ U(1, 5)."""
    k = rng.uniform(1.0, 5.0, n)
    # raw coefficient arrays (highest power first): num = k_i, den = s
    return nc.NodalDynamics(num=k[:, None], den=np.c_[np.ones(n), np.zeros(n)])


# %%
# Impulse responses of every node, for four network sizes. Each network settles to the
# harmonic mean of its own gains, which fluctuates around :math:`4/\ln 5` by
# :math:`O(1/\sqrt n)`: the printed consensus values approach it as n grows.

fig, axes = plt.subplots(1, 4, figsize=(12, 3.4), sharey=True, constrained_layout=True)
for ax, n in zip(axes, (20, 50, 100, 500)):
    L = nc.laplacian.ring_lattice(n, max(1, round(0.15 * n)))
    system = nc.NetworkSystem.from_laplacian(L, nodal=consensus_nodes(n, rng),
                                             coupling=nc.nodal.static_gain(1.0))
    resp = nc.impulse_response(system, np.ones(n), t)
    ax.plot(resp.t, resp.outputs, color="0.55", lw=0.5)
    ax.axhline(TARGET, color="tab:red", ls="--", lw=1.5, label=r"$4/\ln 5$")
    ax.set(title=f"n = {n}", xlabel="time", ylim=(0, 5.2))
    print(f"n = {n:3d}: consensus value {resp.outputs[-1].mean():.4f} "
          f"(4/ln 5 = {TARGET:.4f})")
axes[0].set_ylabel("node output $y_i(t)$")
axes[0].legend(loc="upper right")

# %%
# How fast? :func:`netcoh.concentration` draws many random networks per size and measures
# the largest deviation of the harmonic mean from the harmonic expectation over a set of
# frequencies; it shrinks at the Monte-Carlo rate :math:`O(1/\sqrt n)`.

sizes = [10, 30, 100, 300, 1000, 3000]
s = 1j * np.logspace(-1, 1, 9)
res = nc.concentration(consensus_nodes, sizes, s, n_repeats=30, n_reference=400_000, rng=7)
print(res.to_frame())
print(f"fitted log-log slope: {res.rate:.2f} (theory -0.5)")

fig, ax = plt.subplots(figsize=(5.5, 3.8), constrained_layout=True)
ax.loglog(res.sizes, res.mean_deviation, "o-", label="mean over 30 draws")
ax.loglog(res.sizes, res.mean_deviation[0] * np.sqrt(res.sizes[0] / res.sizes), "k:",
          label=r"$\propto 1/\sqrt{n}$")
ax.set(xlabel="network size n", ylabel=r"$\sup_s |\bar g_n(s) - g_E(s)|$")
ax.legend()
plt.show()
