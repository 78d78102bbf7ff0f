"""
Step sizes for gradient descent on two-layer linear networks
============================================================

In the manner of the step-size comparison (Figure 2) of Xu, Min, Tarmoun, Mallada & Vidal,
*Local Polyak-Lojasiewicz and descent lemma of gradient descent for overparametrized linear
models* (TMLR 2025), on the setting of its Appendix G.2: :math:`X` (5 x 5) with singular values
in [1.8, 2.3], :math:`W_1, W_2 \\sim N(0, 1/h)`, :math:`Y = XW_1W_2^T + \\text{noise}`.

The loss :math:`\\tfrac12\\|Y - XW_1W_2^T\\|_F^2` has no global smoothness constant, so the
classical step :math:`1/K` (:math:`K = \\sigma_{\\max}^2(X)`, right for the convex problem in
:math:`W = W_1W_2^T`) carries no guarantee for the factorised one. Theorem 3.1 gives local
constants :math:`\\mu_t, K_t` from the current weights; the step with
:math:`\\eta_t K_t = 1` (:func:`~netcoh.learning.linear_net_gd.local_step`) is certified at
every iteration. Compared: that step, the constant step :math:`\\eta_{\\max}/2` that
Theorem 3.2 certifies from the start, the paper's schedule (19) started there
(:func:`~netcoh.learning.linear_net_gd.adaptive_step`), and the classical :math:`1/K`, on a
small-noise and a large-noise target.
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import ortho_group

from netcoh.exceptions import SolverError
from netcoh.learning import linear_net as ln
from netcoh.learning import linear_net_gd as lgd
from netcoh.learning import simulate_gd


def problem(noise, h, seed):
    rng = np.random.default_rng(seed)
    X = ortho_group.rvs(5, random_state=seed) * rng.uniform(1.8, 2.3, 5)
    W1, W2 = rng.standard_normal((5, h)) / np.sqrt(h), rng.standard_normal((5, h)) / np.sqrt(h)
    dyn = ln.LinearNet(X, X @ W1 @ W2.T + noise * rng.standard_normal((5, 5)), h)
    return dyn, dyn.pack(U=W1, V=W2)


fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
for ax, (noise, h, seed) in zip(axes, [(0.1, 40, 0), (1.0, 200, 2)]):
    dyn, theta0 = problem(noise, h, seed)
    _, K = lgd.smoothness_constants(dyn.X)
    e_max = lgd.eta_max(dyn, theta0)
    steps = {
        r"local step, $\eta_t K_t = 1$": dict(eta=None,
                                              schedule=lambda t, th, d=dyn: lgd.local_step(d, th)),
        r"constant $\eta_{\max}/2$": dict(eta=0.5 * e_max),
        r"schedule (19) from $\eta_{\max}/2$": dict(eta=None,
                                                    schedule=lgd.adaptive_step(dyn, 0.5 * e_max)),
        r"classical $1/K$": dict(eta=1.0 / K),
    }
    for name, kw in steps.items():
        label = name.replace("$", "").replace("\\", "")
        try:
            traj = simulate_gd(dyn, theta0, kw["eta"], 300, schedule=kw.get("schedule"))
        except SolverError as err:
            print(f"noise {noise}: {label}: {err}")
            continue
        print(f"noise {noise}: {label}: loss after 300 steps {traj.loss[-1]:.2e} "
              f"(steps {np.nanmin(traj.eta):.3g} to {np.nanmax(traj.eta):.3g})")
        ax.semilogy(traj.t, traj.loss / traj.loss[0], label=name)
    ax.set_title(f"noise {noise}, width {h}")
    ax.set_xlabel("iteration")
axes[0].set_ylabel("loss / initial loss")
axes[0].set_ylim(1e-32, 10)
axes[0].legend(fontsize=8)
fig.tight_layout()
plt.show()
